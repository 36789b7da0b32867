//! The staff dialog that resets the schedule with the admin token.

use leptos::html;
use leptos::prelude::*;
use protocol::ClientMessage;

use crate::Ctx;
use crate::i18n::{t, use_i18n};
use crate::say::Say;
use crate::state::Reset;

/// Asks for the admin token and sends `reset`; a wrong token is reported.
#[component]
pub(crate) fn ResetDialog() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let token = RwSignal::new(String::new());
    let input = NodeRef::<html::Input>::new();
    let open = move || ctx.reset.with(|r| matches!(r, Reset::Asking { .. } | Reset::Sending));
    let sending = move || ctx.reset.with(|r| *r == Reset::Sending);
    let problem = move || {
        ctx.reset.with(|r| match r {
            Reset::Asking { problem } => problem.map(|say| say.text(i18n.get_locale())),
            _ => None,
        })
    };
    let close = move || {
        if !sending() {
            ctx.reset.set(Reset::Idle);
        }
    };
    Effect::new(move |_| {
        if open()
            && let Some(el) = input.get()
        {
            let _ = el.focus();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let admin_token = token.get_untracked();
        if admin_token.is_empty() {
            ctx.reset.set(Reset::Asking { problem: Some(Say::EnterAdminToken) });
            return;
        }
        ctx.reset.set(Reset::Sending);
        if !ctx.connection.send(ClientMessage::Reset { admin_token }) {
            ctx.reset.set(Reset::Asking { problem: Some(Say::ResetNotConnected) });
        } else {
            token.set(String::new());
        }
    };
    view! {
        <Show when=open>
            <div class="backdrop">
                <div class="dialog" id="reset-dialog" role="dialog" aria-modal="true" aria-labelledby="reset-title"
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { close() }>
                    <h2 id="reset-title">{t!(i18n, reset_title)}</h2>
                    <p class="what">{t!(i18n, reset_text)}</p>
                    <form class="form" on:submit=submit novalidate>
                        <label for="admin-token">{t!(i18n, admin_token)}</label>
                        <input id="admin-token" type="password" autocomplete="off" node_ref=input disabled=sending
                            prop:value=move || token.get() on:input=move |ev| token.set(event_target_value(&ev))/>
                        <Show when=move || problem().is_some()>
                            <p class="problem" role="alert" id="reset-problem">{problem}</p>
                        </Show>
                        <div class="actions">
                            <button type="button" class="secondary" on:click=move |_| close() disabled=sending>{t!(i18n, cancel)}</button>
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
