//! The staff console at `/staff`: log in with name and password, then the
//! day agenda with the waitlist, the schedule slot by slot, the last day's
//! activity, and, for admins, the staff accounts, erasure and the reset.

use leptos::prelude::*;

use super::{Frame, Page, Schedule};
use crate::components::{
    Activity, Agenda, ConfirmDialog, Console, HistoryDialog, ResetDialog, SlotDetails, StaffAccounts,
    StaffPanel, StaffWaitlistPanel, View,
};
use crate::staff::StaffDesk;
use crate::state::Reset;
use crate::{Ctx, remembered, request_id};

/// The console for the clinic's staff.
#[component]
pub(crate) fn StaffPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let console = Console { view: RwSignal::new(View::Agenda), ask: RwSignal::new(None) };
    provide_context(console);
    // A session this tab keeps logs in again by itself: now, when the page is
    // live, else with the connection's first schedule.
    if let Some(session) = remembered::load_staff_session() {
        let resume = ctx.staff.try_update(|s| {
            s.resume_from(session);
            s.resume(request_id())
        });
        if let Some(resume) = resume.flatten() {
            ctx.connection.send(resume);
        }
    }
    // Leaving the console forgets what it showed; the tab keeps the session,
    // so that coming back logs in again, until it logs out or closes.
    on_cleanup(move || {
        ctx.staff.set(StaffDesk::default());
        ctx.staff_waitlist.set(Default::default());
        ctx.audit.set(Default::default());
        ctx.admin.set(Default::default());
        ctx.reset.set(Reset::Idle);
    });
    let logged_in = move || ctx.staff.with(StaffDesk::logged_in);
    let admin = move || ctx.staff.with(StaffDesk::admin);
    view! {
        <Frame page=Page::Staff>
            <StaffPanel/>
            <Show when=logged_in>
                {move || match console.view.get() {
                    View::Schedule => view! { <SlotDetails/> <Schedule/> }.into_any(),
                    View::Activity => view! { <Activity/> }.into_any(),
                    View::Staff if admin() => view! { <StaffAccounts/> }.into_any(),
                    _ => view! { <Agenda/> <StaffWaitlistPanel/> }.into_any(),
                }}
            </Show>
        </Frame>
        <ResetDialog/>
        <HistoryDialog/>
        <ConfirmDialog/>
    }
}
