//! The staff console's confirmation before an action that cannot be undone:
//! cancelling a booking, removing a staff account, erasing a patient's details.
//! The safe choice has the focus; Escape or it closes the dialog and gives the
//! focus back to the button that opened it.

use leptos::html;
use leptos::prelude::*;

use super::booking_dialog::describe;
use super::console::{Ask, Console};
use super::{focus, trap_tab};
use crate::i18n::{Locale, t_string, td_string, use_i18n};
use crate::staff::Action;
use crate::{Ctx, request_id};

/// The title, the text and the confirming button's words of a question.
fn words(ctx: Ctx, ask: &Ask, l: Locale) -> (String, String, String) {
    match ask {
        Ask::Cancel { slot, patient } => (
            td_string!(l, confirm_cancel_title).to_string(),
            td_string!(l, confirm_cancel_text, patient = patient.clone(), slot = describe(ctx, slot, l))
                .to_string(),
            td_string!(l, yes_cancel).to_string(),
        ),
        Ask::Remove(name) => (
            td_string!(l, confirm_remove_title).to_string(),
            td_string!(l, confirm_remove_text, name = name.clone()).to_string(),
            td_string!(l, yes_remove).to_string(),
        ),
        Ask::Erase(code) => (
            td_string!(l, confirm_erase_title).to_string(),
            td_string!(l, confirm_erase_text, code = code.clone()).to_string(),
            td_string!(l, yes_erase).to_string(),
        ),
    }
}

/// The confirmation dialog of the console.
#[component]
pub(crate) fn ConfirmDialog() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let console = expect_context::<Console>();
    let i18n = use_i18n();
    let dialog = NodeRef::<html::Div>::new();
    let close = move || {
        if let Some((_, opener)) = console.ask.get_untracked() {
            focus(&format!("#{opener}"));
        }
        console.ask.set(None);
    };
    let confirm = move |_| {
        let Some((ask, _)) = console.ask.get_untracked() else { return };
        let message = match ask {
            Ask::Cancel { slot, .. } => ctx.staff.try_update(|s| s.act(Action::Cancel, slot, request_id())),
            Ask::Remove(name) => ctx.admin.try_update(|a| a.remove(name, request_id())).flatten(),
            Ask::Erase(code) => ctx.admin.try_update(|a| a.erase(code, request_id())).flatten(),
        };
        if let Some(message) = message {
            ctx.connection.send(message);
        }
        close();
    };
    Effect::new(move |was: Option<bool>| {
        let open = console.ask.with(Option::is_some);
        if open && was != Some(true) {
            focus("#confirm-keep");
        }
        open
    });
    let shown = move || console.ask.get().map(|(ask, _)| words(ctx, &ask, i18n.get_locale()));
    view! {
        {move || shown().map(|(title, text, yes)| view! {
            <div class="backdrop">
                <div class="dialog" id="confirm-dialog" role="alertdialog" aria-modal="true"
                    aria-labelledby="confirm-title" aria-describedby="confirm-text" node_ref=dialog
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
                        "Escape" => close(),
                        "Tab" => {
                            if let Some(dialog) = dialog.get() {
                                trap_tab(&ev, &dialog);
                            }
                        }
                        _ => {}
                    }>
                    <h2 id="confirm-title">{title}</h2>
                    <p id="confirm-text">{text}</p>
                    <div class="actions">
                        <button type="button" class="secondary" id="confirm-keep"
                            on:click=move |_| close()>{move || t_string!(i18n, back)}</button>
                        <button type="button" class="danger" id="confirm-yes" disabled=!ctx.live()
                            on:click=confirm>{yes}</button>
                    </div>
                </div>
            </div>
        })}
    }
}
