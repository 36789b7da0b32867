//! The logged-in staff console's head: who is logged in and in what role,
//! logging out, the reset for admins, and the sections of the console.

use leptos::prelude::*;
use protocol::{BookingCode, SlotId};

use crate::i18n::{t, t_string, use_i18n};
use crate::say::staff::role;
use crate::state::Reset;
use crate::{Ctx, remembered, request_id};

/// A section of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    /// The day agenda, and the waitlist under it: where the console opens.
    Agenda,
    /// The schedule, slot by slot, with each slot's details.
    Schedule,
    /// The last day's activity.
    Activity,
    /// Staff accounts and erasure (admins only).
    Staff,
}

impl View {
    fn id(self) -> &'static str {
        match self {
            Self::Agenda => "view-agenda",
            Self::Schedule => "view-schedule",
            Self::Activity => "view-activity",
            Self::Staff => "view-staff",
        }
    }
}

/// What the confirmation dialog asks before an action that cannot be undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ask {
    /// Cancel the booking of a slot.
    Cancel {
        /// The slot.
        slot: SlotId,
        /// The patient's name.
        patient: String,
    },
    /// Remove a staff account.
    Remove(String),
    /// Erase a booking's patient details.
    Erase(BookingCode),
}

/// The console's own state, shared by its sections.
#[derive(Clone, Copy)]
pub(crate) struct Console {
    /// The section shown.
    pub view: RwSignal<View>,
    /// The confirmation asked for, with the id of the element to give the
    /// focus back to when it closes.
    pub ask: RwSignal<Option<(Ask, String)>>,
}

/// Who is logged in, the way out, the reset, and the sections.
#[component]
pub(crate) fn ConsoleHead() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let console = expect_context::<Console>();
    let i18n = use_i18n();
    let count = move || ctx.staff.with(|s| s.bookings.len());
    let admin = move || ctx.staff.with(|s| s.admin());
    let who = move || {
        let l = i18n.get_locale();
        ctx.staff.with(|s| {
            s.me.as_ref().map(|me| {
                t_string!(i18n, staff_who, name = me.name.clone(), role = role(me.role, l)).to_string()
            })
        })
    };
    let said = move || ctx.staff.with(|s| s.said).map(|say| say.text(i18n.get_locale()));
    let logout = move |_| {
        let message = ctx.staff.try_update(|s| s.logout(request_id())).flatten();
        if let Some(message) = message {
            ctx.connection.send(message);
        }
        remembered::save_staff_session(None);
        ctx.staff_waitlist.set(Default::default());
        ctx.audit.set(Default::default());
        ctx.admin.set(Default::default());
        super::focus("#staff-name");
    };
    let tab = move |view: View, label: Signal<String>| {
        view! {
            <button type="button" class="view-tab" id=view.id()
                aria-pressed=move || (console.view.get() == view).to_string()
                on:click=move |_| console.view.set(view)>{label}</button>
        }
    };
    view! {
        <div class="card console-head no-print">
            <div>
                <h2>{t!(i18n, staff_console)}</h2>
                <p class="hint" id="staff-who">{who}</p>
                <p class="hint" id="staff-count">{move || t!(i18n, active_bookings, count = count)}</p>
            </div>
            <div class="actions start">
                <Show when=admin>
                    <button type="button" class="secondary" id="open-reset"
                        on:click=move |_| ctx.reset.set(Reset::Asking { problem: None })>{t!(i18n, open_reset)}</button>
                </Show>
                <button type="button" class="secondary" id="staff-logout" on:click=logout>{t!(i18n, log_out)}</button>
            </div>
        </div>
        <nav class="views no-print" aria-label=move || t_string!(i18n, console_views)>
            {tab(View::Agenda, Signal::derive(move || t_string!(i18n, view_agenda).to_string()))}
            {tab(View::Schedule, Signal::derive(move || t_string!(i18n, view_schedule).to_string()))}
            {tab(View::Activity, Signal::derive(move || t_string!(i18n, view_activity).to_string()))}
            <Show when=admin>
                {tab(View::Staff, Signal::derive(move || t_string!(i18n, view_staff).to_string()))}
            </Show>
        </nav>
        <Show when=move || said().is_some()>
            <p class="problem no-print" role="alert" id="staff-said">{said}</p>
        </Show>
    }
}
