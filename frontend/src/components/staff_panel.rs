//! The staff console's login by name and password, and, on the schedule, the
//! chosen slot's details with its patient, the actions on it and its history.

use leptos::prelude::*;
use protocol::SlotStatus;

use super::booking_dialog::describe;
use super::console::ConsoleHead;
use crate::i18n::{t, use_i18n};
use crate::say::Say;
use crate::staff::audit::Subject;
use crate::staff::{Action, Desk};
use crate::{Ctx, request_id, time};

/// The login form, or the console's head once logged in.
#[component]
pub(crate) fn StaffPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let desk = move || ctx.staff.with(|s| s.desk.clone());
    let said = move || ctx.staff.with(|s| s.said);
    let problem = move || said().filter(|s| *s != Say::LoggedOut).map(|say| say.text(i18n.get_locale()));
    let logged_out = move || said() == Some(Say::LoggedOut);
    let login = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (typed_name, typed_password) = (name.get_untracked(), password.get_untracked());
        if typed_name.trim().is_empty() || typed_password.is_empty() {
            super::focus(if typed_name.trim().is_empty() { "#staff-name" } else { "#staff-password" });
            return;
        }
        let message =
            ctx.staff.try_update(|s| s.login(typed_name.trim().to_owned(), typed_password, request_id()));
        if let Some(message) = message
            && !ctx.connection.send(message)
        {
            ctx.staff.update(|s| {
                s.desk = Desk::LoggedOut;
                s.said = Some(Say::NotConnected);
            });
        }
        password.set(String::new());
    };
    view! {
        <section class="staff" id="staff">
            {move || match desk() {
                Desk::In => view! { <ConsoleHead/> }.into_any(),
                state => {
                    let waiting = state != Desk::LoggedOut;
                    view! {
                        <form class="card form narrow" on:submit=login aria-labelledby="staff-login-title" novalidate>
                            <h2 id="staff-login-title">{t!(i18n, staff_console)}</h2>
                            <p class="hint">{t!(i18n, staff_hint)}</p>
                            <Show when=logged_out>
                                <p class="done" role="status" id="staff-logged-out">{t!(i18n, say_logged_out)}</p>
                            </Show>
                            <label for="staff-name">{t!(i18n, staff_name_label)}</label>
                            <input id="staff-name" type="text" autocomplete="username" autocapitalize="none"
                                spellcheck="false" required disabled=waiting
                                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                            <label for="staff-password">{t!(i18n, staff_password_label)}</label>
                            <input id="staff-password" type="password" autocomplete="current-password" required
                                disabled=waiting aria-describedby=move || problem().map(|_| "staff-problem")
                                prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                            <Show when=move || problem().is_some()>
                                <p class="problem" role="alert" id="staff-problem">{problem}</p>
                            </Show>
                            <div class="actions">
                                <button type="submit" class="primary" id="staff-login" disabled=waiting>
                                    {match state {
                                        Desk::Resuming => t!(i18n, staff_resuming).into_any(),
                                        Desk::LoggingIn => t!(i18n, logging_in).into_any(),
                                        _ => t!(i18n, log_in).into_any(),
                                    }}
                                </button>
                            </div>
                        </form>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

/// The chosen slot's details and actions, on the schedule.
#[component]
pub(crate) fn SlotDetails() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let act = move |action: Action| {
        let Some(slot) = ctx.staff.with_untracked(|s| s.selected.clone()) else { return };
        let message = ctx.staff.try_update(|s| s.act(action, slot, request_id()));
        if let Some(message) = message {
            ctx.connection.send(message);
        }
    };
    let history = move |_| {
        let Some(slot) = ctx.staff.with_untracked(|s| s.selected.clone()) else { return };
        let ask = ctx.audit.try_update(|a| a.open(Subject::Slot(slot), request_id()));
        if let Some(ask) = ask {
            ctx.connection.send(ask);
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
                <div class="actions start">
                    <button type="button" class="secondary" id="staff-slot-history" disabled=!ctx.live()
                        on:click=history>{t!(i18n, slot_history)}</button>
                    <button type="button" class="link-button" on:click=move |_| ctx.staff.update(|s| s.selected = None)>{t!(i18n, close)}</button>
                </div>
            </div>
        })
    };
    view! {
        <p class="hint">{t!(i18n, schedule_hint)}</p>
        {details}
    }
}
