//! The booking page at `/`: the schedule, the dialog that books a slot, and
//! the one that joins a doctor's waitlist.

use leptos::prelude::*;

use super::{Frame, Page, Schedule};
use crate::Ctx;
use crate::booking::Booking;
use crate::components::{BookingDialog, JoinDialog};
use crate::join::Join;

/// The schedule for patients to book.
#[component]
pub(crate) fn BookPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // Leaving for another page closes the dialog with it, and lets go of the
    // slot its form held; a booking already sent still gets its answer.
    on_cleanup(move || {
        if let Some(release) = ctx.booking.try_update(Booking::close).flatten() {
            ctx.connection.send(release);
        }
        ctx.join.update(Join::close);
    });
    view! {
        <Frame page=Page::Book>
            <Schedule/>
        </Frame>
        <BookingDialog/>
        <JoinDialog/>
    }
}
