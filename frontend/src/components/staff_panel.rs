//! The staff console: log in with the admin token, see who booked each slot, and
//! cancel, block, unblock, end a patient's hold, or reset.

use leptos::prelude::*;
use protocol::SlotStatus;

use super::booking_dialog::describe;
use crate::staff::{Action, Desk};
use crate::state::Reset;
use crate::{Ctx, request_id, time};

/// The console above the schedule.
#[component]
pub(crate) fn StaffPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let token = RwSignal::new(String::new());
    let desk = move || ctx.staff.with(|s| s.desk.clone());
    let said = move || ctx.staff.with(|s| s.said.clone());
    let login = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = token.get_untracked();
        if typed.is_empty() {
            return;
        }
        let message = ctx.staff.try_update(|s| s.login(typed));
        if let Some(message) = message {
            ctx.connection.send(message);
        }
        token.set(String::new());
    };
    view! {
        <section class="staff" id="staff">
            {move || match desk() {
                Desk::In => view! { <Console/> }.into_any(),
                state => view! {
                    <form class="card form narrow" on:submit=login>
                        <h2>"Staff console"</h2>
                        <p class="hint">"Patients' names and phones are shown to staff only."</p>
                        <label for="staff-token">"Admin token"</label>
                        <input id="staff-token" type="password" autocomplete="off"
                            prop:value=move || token.get() on:input=move |ev| token.set(event_target_value(&ev))/>
                        <Show when=move || said().is_some()>
                            <p class="problem" role="alert" id="staff-problem">{said}</p>
                        </Show>
                        <div class="actions">
                            <button type="submit" class="primary" id="staff-login" disabled=state == Desk::LoggingIn>
                                {if state == Desk::LoggingIn { "Logging in…" } else { "Log in" }}
                            </button>
                        </div>
                    </form>
                }
                .into_any(),
            }}
        </section>
    }
}

/// The logged-in console: the chosen slot's details and actions.
#[component]
fn Console() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let count = move || ctx.staff.with(|s| s.bookings.len());
    let said = move || ctx.staff.with(|s| s.said.clone());
    let act = move |action: Action| {
        let Some(slot) = ctx.staff.with_untracked(|s| s.selected.clone()) else { return };
        let message = ctx.staff.try_update(|s| s.act(action, slot, request_id()));
        if let Some(message) = message {
            ctx.connection.send(message);
        }
    };
    let details = move || {
        let slot = ctx.staff.with(|s| s.selected.clone())?;
        let status = ctx.board.with(|b| b.status(&slot));
        let booking = ctx.staff.with(|s| s.bookings.get(&slot).cloned());
        let zone = ctx.layout.with(|l| l.time_zone.clone());
        let what = describe(ctx, &slot);
        let busy = ctx.staff.with(|s| s.busy()) || !ctx.live();
        let body = match (status, booking) {
            (Some(SlotStatus::Booked), Some(b)) => {
                let booked_at = time::time_label(b.booked_at.timestamp_millis(), &zone);
                view! {
                    <dl class="facts" id="staff-booking">
                        <dt>"Patient"</dt><dd id="staff-patient">{b.patient.name}</dd>
                        <dt>"Phone"</dt><dd><a href=format!("tel:{}", b.patient.phone)>{b.patient.phone.clone()}</a></dd>
                        <dt>"Code"</dt><dd class="mono">{b.code}</dd>
                        <dt>"Booked at"</dt><dd>{booked_at}</dd>
                    </dl>
                    <button type="button" class="danger" id="staff-cancel" disabled=busy on:click=move |_| act(Action::Cancel)>"Cancel booking"</button>
                }
                .into_any()
            }
            (Some(SlotStatus::Free), _) => view! {
                <p>"Free."</p>
                <button type="button" class="secondary" id="staff-block" disabled=busy on:click=move |_| act(Action::Block)>"Block this slot"</button>
            }
            .into_any(),
            (Some(SlotStatus::Blocked), _) => view! {
                <p>"Blocked: patients cannot book it."</p>
                <button type="button" class="secondary" id="staff-unblock" disabled=busy on:click=move |_| act(Action::Unblock)>"Unblock"</button>
            }
            .into_any(),
            (Some(SlotStatus::Held), _) => view! {
                <p>"A patient is filling in the booking form for it right now. Ending the hold frees the slot for everyone; blocking it ends the hold too."</p>
                <button type="button" class="secondary" id="staff-end-hold" disabled=busy on:click=move |_| act(Action::EndHold)>"End hold"</button>
                <button type="button" class="secondary" id="staff-block" disabled=busy on:click=move |_| act(Action::Block)>"Block this slot"</button>
            }
            .into_any(),
            _ => view! { <p>"Booked; the details are on their way."</p> }.into_any(),
        };
        Some(view! {
            <div class="card selected" id="staff-selected">
                <h3>{what}</h3>
                {body}
                <button type="button" class="link-button" on:click=move |_| ctx.staff.update(|s| s.selected = None)>"Close"</button>
            </div>
        })
    };
    view! {
        <div class="card console-head">
            <div>
                <h2>"Staff console"</h2>
                <p class="hint" id="staff-count">{move || match count() {
                    1 => "1 active booking. Select a slot to see or change it.".to_owned(),
                    n => format!("{n} active bookings. Select a slot to see or change it."),
                }}</p>
            </div>
            <button type="button" class="secondary" id="open-reset"
                on:click=move |_| ctx.reset.set(Reset::Asking { problem: None })>"Reset schedule…"</button>
        </div>
        <Show when=move || said().is_some()>
            <p class="problem" role="alert" id="staff-said">{said}</p>
        </Show>
        {details}
    }
}
