//! The staff console at `/staff`: log in with the admin token, then the
//! schedule with who booked each slot, staff actions, the reset, and the
//! patients on the waitlist.

use leptos::prelude::*;

use super::{Frame, Page, Schedule};
use crate::Ctx;
use crate::components::{ResetDialog, StaffPanel, StaffWaitlistPanel};
use crate::staff::StaffDesk;
use crate::staff::waitlist::StaffWaitlist;
use crate::state::Reset;

/// The console for the clinic's staff.
#[component]
pub(crate) fn StaffPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // Leaving the console forgets the admin token, so that whoever uses this
    // browser next must type it again to come back.
    on_cleanup(move || {
        ctx.staff.set(StaffDesk::default());
        ctx.staff_waitlist.set(StaffWaitlist::default());
        ctx.reset.set(Reset::Idle);
    });
    let logged_in = move || ctx.staff.with(StaffDesk::logged_in);
    view! {
        <Frame page=Page::Staff>
            <StaffPanel/>
            <Show when=logged_in>
                <Schedule/>
                <StaffWaitlistPanel/>
            </Show>
        </Frame>
        <ResetDialog/>
    }
}
