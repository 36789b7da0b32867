//! The admins' dialog that resets the schedule, after asking.

use leptos::html;
use leptos::prelude::*;

use super::trap_tab;
use crate::i18n::{t, use_i18n};
use crate::say::Say;
use crate::state::Reset;
use crate::{Ctx, request_id};

/// Asks whether to reset and sends `reset`; a refusal is reported.
#[component]
pub(crate) fn ResetDialog() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let dialog = NodeRef::<html::Div>::new();
    let open = move || ctx.reset.with(|r| matches!(r, Reset::Asking { .. } | Reset::Sending { .. }));
    let sending = move || ctx.reset.with(Reset::sending);
    let problem = move || {
        ctx.reset.with(|r| match r {
            Reset::Asking { problem } => problem.map(|say| say.text(i18n.get_locale())),
            _ => None,
        })
    };
    let close = move || {
        if !sending() {
            ctx.reset.set(Reset::Idle);
            super::focus("#open-reset");
        }
    };
    // The safe choice has the focus when the dialog opens.
    Effect::new(move |was: Option<bool>| {
        let now = open();
        if now && was != Some(true) {
            super::focus("#reset-keep");
        }
        now
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let reset = ctx.reset.try_update(|r| r.send(request_id()));
        if let Some(reset) = reset
            && !ctx.connection.send(reset)
        {
            ctx.reset.set(Reset::Asking { problem: Some(Say::ResetNotConnected) });
        }
    };
    view! {
        <Show when=open>
            <div class="backdrop">
                <div class="dialog" id="reset-dialog" role="dialog" aria-modal="true" aria-labelledby="reset-title"
                    aria-describedby="reset-text" node_ref=dialog
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
                        "Escape" => close(),
                        "Tab" => {
                            if let Some(dialog) = dialog.get() {
                                trap_tab(&ev, &dialog);
                            }
                        }
                        _ => {}
                    }>
                    <h2 id="reset-title">{t!(i18n, reset_title)}</h2>
                    <p class="what" id="reset-text">{t!(i18n, reset_text)}</p>
                    <form class="form" on:submit=submit novalidate>
                        <Show when=move || problem().is_some()>
                            <p class="problem" role="alert" id="reset-problem">{problem}</p>
                        </Show>
                        <div class="actions">
                            <button type="button" class="secondary" id="reset-keep" on:click=move |_| close() disabled=sending>{t!(i18n, cancel)}</button>
                            <button type="submit" class="danger" id="confirm-reset" disabled=sending>
                                {move || if sending() { t!(i18n, resetting).into_any() } else { t!(i18n, reset_button).into_any() }}
                            </button>
                        </div>
                    </form>
                </div>
            </div>
        </Show>
    }
}
