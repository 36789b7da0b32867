//! Entries that end by themselves and offers that stay within their slot:
//! an entry whose offers run out unanswered twice lapses, and so does one whose
//! last day is over; an offer never outlives the slot's last bookable moment;
//! and a join's proof of work pays for nothing else, even after a restart.

use chrono::Duration;
use client::BookingReply;
use protocol::{BookingFailure, ClientMessage, WaitStatus};

use super::{Page, anna, book, boris, cancel, carl, days, slot, therapist};
use crate::common::{TestApp, spawn_app, test_now};

#[tokio::test]
async fn an_entry_whose_offers_run_out_unanswered_twice_lapses_and_the_line_moves_on() {
    let app = spawn_app().await;
    let (first, second) = (slot("therapist-20261125-0900"), slot("therapist-20261125-0930"));
    let (mut carl_page, _) = app.connect_with_state().await;
    let (_, first_booking) = book(&mut carl_page, &first, carl()).await;
    let (_, second_booking) = book(&mut carl_page, &second, carl()).await;
    let (mut anna_page, _) = Page::open(&app, days("2026-11-25", "2026-11-25"), anna()).await;
    let (mut boris_page, _) = Page::open(&app, days("2026-11-25", "2026-11-25"), boris()).await;

    cancel(&mut carl_page, &first_booking).await;
    anna_page.offered(&first).await;
    app.advance(Duration::seconds(600));
    let once = anna_page.pushed().await;
    assert_eq!(
        (once.status, once.place, once.offer),
        (WaitStatus::Waiting, Some(1), None),
        "once: still waiting"
    );
    boris_page.offered(&first).await;

    cancel(&mut carl_page, &second_booking).await;
    anna_page.offered(&second).await;
    app.advance(Duration::seconds(600));
    let twice = anna_page.pushed().await;
    assert_eq!(
        (twice.status, twice.place, twice.offer),
        (WaitStatus::Lapsed, None, None),
        "twice: it lapses"
    );
    // Boris's offer of the first slot ran out at the same moment; the second
    // slot, which Anna let go, is his now, and he is first in line.
    let boris = boris_page.watch().await;
    assert_eq!(super::offer_of(&boris, &second), test_now() + Duration::seconds(1800));
    assert_eq!(boris.place, Some(1));
    let token = anna_page.token.clone();
    let late = anna_page.client.accept_offer(&token).await.unwrap();
    assert_eq!(late, BookingReply::Refused(BookingFailure::NoOffer));
}

#[tokio::test]
async fn an_entry_whose_last_day_is_over_lapses_with_the_day() {
    let app = spawn_app().await;
    let (mut today_page, _) = Page::open(&app, days("2026-11-24", "2026-11-24"), anna()).await;
    let (mut week_page, _) = Page::open(&app, days("2026-11-24", "2026-11-30"), boris()).await;

    app.advance(Duration::days(1));
    app.state().engine().tick().await.unwrap();

    let over = today_page.watch().await;
    assert_eq!((over.status, over.place), (WaitStatus::Lapsed, None), "its days are over");
    let still = week_page.watch().await;
    assert_eq!((still.status, still.place), (WaitStatus::Waiting, Some(1)), "its days go on");
}

#[tokio::test]
async fn an_offer_ends_when_its_slot_can_no_longer_be_booked_at_the_latest() {
    let app = spawn_app().await;
    // 11:00 in Moscow, 50 minutes after the test's start; the clinic wants 30
    // minutes' notice, so it can be booked until 10:30.
    let soon = slot("therapist-20261124-1100");
    let (mut carl_page, _) = app.connect_with_state().await;
    let (_, manage) = book(&mut carl_page, &soon, carl()).await;
    let (mut anna_page, _) = Page::open(&app, days("2026-11-24", "2026-11-24"), anna()).await;
    app.advance(Duration::minutes(15));

    cancel(&mut carl_page, &manage).await;

    let until = anna_page.offered(&soon).await;
    assert_eq!(until, test_now() + Duration::minutes(20), "not the ten minutes of an offer, but until 10:30");
}

#[tokio::test]
async fn a_proof_of_work_that_paid_for_a_join_pays_for_nothing_else_even_after_a_restart() {
    let app = spawn_app().await;
    let (mut client, _) = app.connect_with_state().await;
    let proof = client.proof().await.unwrap();
    let join = |client: &mut client::Client, proof| ClientMessage::JoinWaitlist {
        request_id: client.request_id(),
        doctor_id: therapist(),
        window: days("2026-11-25", "2026-11-27"),
        patient: anna(),
        proof: Some(proof),
    };
    let message = join(&mut client, proof.clone());
    assert!(client.join_waitlist_with(message).await.unwrap().is_ok(), "the proof pays for one join");
    drop(client);

    // A new engine, which has not seen the proof spent: the database has.
    let app = TestApp::restart(app.stop().await).await;
    let (mut client, _) = app.connect_with_state().await;
    let book = ClientMessage::Book {
        request_id: client.request_id(),
        slot_id: slot("therapist-20261125-1000"),
        patient: boris(),
        proof: Some(proof.clone()),
    };
    let booked = client.book_with(book).await.unwrap();
    assert_eq!(booked, BookingReply::Refused(BookingFailure::ChallengeFailed), "not a booking too");
    let message = join(&mut client, proof);
    let joined = client.join_waitlist_with(message).await.unwrap();
    assert_eq!(joined, Err(BookingFailure::ChallengeFailed), "nor a second join");
}
