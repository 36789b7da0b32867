//! The waitlist kept in the database: a live offer outlives a restart of the
//! server (same slot, same end, and it still runs out and passes on), and a
//! reset of the schedule takes everybody off the list.

use chrono::Duration;
use client::BookingReply;
use protocol::{BookingFailure, ServerMessage, SlotStatus, WaitStatus};

use super::{Page, anna, book, boris, cancel, carl, days, slot, staff};
use crate::common::{TestApp, log_in_admin, recv, spawn_app, test_now};

#[tokio::test]
async fn a_live_offer_outlives_a_restart_and_still_runs_out_and_passes_on() {
    let app = spawn_app().await;
    let freed = slot("therapist-20261125-0900");
    let (mut carl_page, _) = app.connect_with_state().await;
    let (_, manage) = book(&mut carl_page, &freed, carl()).await;
    let (mut anna_page, _) = Page::open(&app, days("2026-11-25", "2026-11-25"), anna()).await;
    let (boris_page, _) = Page::open(&app, days("2026-11-25", "2026-11-26"), boris()).await;
    cancel(&mut carl_page, &manage).await;
    let until = anna_page.offered(&freed).await;
    let tokens = (anna_page.token.clone(), boris_page.token.clone());
    drop((carl_page, anna_page, boris_page));

    let app = TestApp::restart(app.stop().await).await;

    let (plain, schedule) = app.connect_with_state().await;
    let shown = schedule.slots.iter().find(|s| s.id == freed).unwrap();
    assert_eq!((shown.status, shown.held_until), (SlotStatus::Held, Some(until)), "still held for Anna");
    let mut anna_page = Page { client: app.connect_with_state().await.0, token: tokens.0 };
    let mut boris_page = Page { client: app.connect_with_state().await.0, token: tokens.1 };
    let entry = anna_page.watch().await;
    assert_eq!(
        (super::offer_of(&entry, &freed), entry.place),
        (until, Some(1)),
        "the same offer, ending as it did"
    );
    assert_eq!(boris_page.watch().await.status, WaitStatus::Waiting);
    drop(plain);

    app.advance(Duration::seconds(600));

    let ran_out = anna_page.pushed().await;
    assert_eq!((ran_out.status, ran_out.offer), (WaitStatus::Waiting, None));
    let passed = boris_page.offered(&freed).await;
    assert_eq!(passed, until + Duration::seconds(600));
    assert!(matches!(boris_page.accept().await, (code, _) if code.len() == 9));
}

#[tokio::test]
async fn a_reset_takes_everybody_off_the_waitlist_and_frees_offered_slots() {
    let app = spawn_app().await;
    let freed = slot("therapist-20261125-0900");
    let (mut carl_page, _) = app.connect_with_state().await;
    let (_, manage) = book(&mut carl_page, &freed, carl()).await;
    let (mut anna_page, _) = Page::open(&app, days("2026-11-25", "2026-11-25"), anna()).await;
    let (mut boris_page, _) = Page::open(&app, days("2026-11-25", "2026-11-26"), boris()).await;
    cancel(&mut carl_page, &manage).await;
    anna_page.offered(&freed).await;
    let mut console = staff(&app).await;

    log_in_admin(&mut console).await;
    console.reset().await.unwrap();

    let schedule = loop {
        if let ServerMessage::InitialState(schedule) = recv(&mut console).await {
            break schedule;
        }
    };
    let shown = schedule.slots.iter().find(|s| s.id == freed).unwrap();
    assert_eq!((shown.status, shown.held_until), (SlotStatus::Free, None), "the offer went with the reset");
    // The page that was shown the offer is told at once that it is over.
    let told = anna_page.pushed().await;
    assert_eq!((told.status, told.offer), (WaitStatus::Removed, None));
    for page in [&mut anna_page, &mut boris_page] {
        let entry = page.watch().await;
        assert_eq!((entry.status, entry.place, entry.offer), (WaitStatus::Removed, None, None));
    }
    assert_eq!(console.staff_waitlist().await.unwrap(), [], "nobody waits any more");
    let token = anna_page.token.clone();
    let taken = anna_page.client.accept_offer(&token).await.unwrap();
    assert_eq!(taken, BookingReply::Refused(BookingFailure::NoOffer));
    let (_, again) = Page::open(&app, days("2026-11-25", "2026-11-25"), anna()).await;
    assert_eq!((again.place, again.joined_at), (Some(1), test_now()), "a fresh line after the reset");
}
