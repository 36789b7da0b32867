//! The staff console: log in with the admin token, see who booked each slot, and
//! cancel, block, unblock, end a patient's hold, or reset.

use leptos::prelude::*;
use protocol::SlotStatus;

use super::booking_dialog::describe;
use crate::i18n::{t, use_i18n};
use crate::staff::{Action, Desk};
use crate::state::Reset;
use crate::{Ctx, request_id, time};

/// The console above the schedule.
#[component]
pub(crate) fn StaffPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let token = RwSignal::new(String::new());
    let desk = move || ctx.staff.with(|s| s.desk.clone());
    let said = move || ctx.staff.with(|s| s.said).map(|say| say.text(i18n.get_locale()));
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
                        <h2>{t!(i18n, staff_console)}</h2>
                        <p class="hint">{t!(i18n, staff_hint)}</p>
                        <label for="staff-token">{t!(i18n, admin_token)}</label>
                        <input id="staff-token" type="password" autocomplete="off"
                            prop:value=move || token.get() on:input=move |ev| token.set(event_target_value(&ev))/>
                        <Show when=move || said().is_some()>
                            <p class="problem" role="alert" id="staff-problem">{said}</p>
                        </Show>
                        <div class="actions">
                            <button type="submit" class="primary" id="staff-login" disabled=state == Desk::LoggingIn>
                                {if state == Desk::LoggingIn { t!(i18n, logging_in).into_any() } else { t!(i18n, log_in).into_any() }}
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
    let i18n = use_i18n();
    let count = move || ctx.staff.with(|s| s.bookings.len());
    let said = move || ctx.staff.with(|s| s.said).map(|say| say.text(i18n.get_locale()));
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
        let what = describe(ctx, &slot, i18n.get_locale());
        let busy = ctx.staff.with(|s| s.busy()) || !ctx.live();
        let body = match (status, booking) {
            (Some(SlotStatus::Booked), Some(b)) => {
                let booked_at = time::time_label(b.booked_at.timestamp_millis(), &zone);
                view! {
                    <dl class="facts" id="staff-booking">
                        <dt>{t!(i18n, fact_patient)}</dt><dd id="staff-patient">{b.patient.name}</dd>
                        <dt>{t!(i18n, fact_phone)}</dt><dd><a href=format!("tel:{}", b.patient.phone)>{b.patient.phone.clone()}</a></dd>
                        <dt>{t!(i18n, fact_staff_code)}</dt><dd class="mono">{b.code}</dd>
                        <dt>{t!(i18n, fact_booked_at)}</dt><dd>{booked_at}</dd>
                    </dl>
                    <button type="button" class="danger" id="staff-cancel" disabled=busy on:click=move |_| act(Action::Cancel)>{t!(i18n, cancel_booking)}</button>
                }
                .into_any()
            }
            (Some(SlotStatus::Free), _) => view! {
                <p>{t!(i18n, staff_free)}</p>
                <button type="button" class="secondary" id="staff-block" disabled=busy on:click=move |_| act(Action::Block)>{t!(i18n, block_slot)}</button>
            }
            .into_any(),
            (Some(SlotStatus::Blocked), _) => view! {
                <p>{t!(i18n, staff_blocked)}</p>
                <button type="button" class="secondary" id="staff-unblock" disabled=busy on:click=move |_| act(Action::Unblock)>{t!(i18n, unblock)}</button>
            }
            .into_any(),
            (Some(SlotStatus::Held), _) => view! {
                <p>{t!(i18n, staff_held)}</p>
                <button type="button" class="secondary" id="staff-end-hold" disabled=busy on:click=move |_| act(Action::EndHold)>{t!(i18n, end_hold)}</button>
                <button type="button" class="secondary" id="staff-block" disabled=busy on:click=move |_| act(Action::Block)>{t!(i18n, block_slot)}</button>
            }
            .into_any(),
            _ => view! { <p>{t!(i18n, staff_details_coming)}</p> }.into_any(),
        };
        Some(view! {
            <div class="card selected" id="staff-selected">
                <h3>{what}</h3>
                {body}
                <button type="button" class="link-button" on:click=move |_| ctx.staff.update(|s| s.selected = None)>{t!(i18n, close)}</button>
            </div>
        })
    };
    view! {
        <div class="card console-head">
            <div>
                <h2>{t!(i18n, staff_console)}</h2>
                <p class="hint" id="staff-count">{move || t!(i18n, active_bookings, count = count)}</p>
            </div>
            <button type="button" class="secondary" id="open-reset"
                on:click=move |_| ctx.reset.set(Reset::Asking { problem: None })>{t!(i18n, open_reset)}</button>
        </div>
        <Show when=move || said().is_some()>
            <p class="problem" role="alert" id="staff-said">{said}</p>
        </Show>
        {details}
    }
}
