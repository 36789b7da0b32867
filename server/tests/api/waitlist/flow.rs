//! Offers in turn on one server: made at once, exclusive, passed on.

use chrono::Duration;
use client::{BookingReply, Client};
use protocol::{BookingFailure, BookingStatus, ClientMessage, ServerMessage, SlotId, SlotStatus, WaitStatus};

use super::{
    Page, anna, book, boris, cancel, carl, days, dora, kept_out, landmark, offer_of, slot, update_of,
};
use crate::common::{TestApp, spawn_app, test_now};

/// The slot that turns free in these tests, inside both patients' windows.
fn freed() -> SlotId {
    slot("therapist-20261125-0900")
}

/// Carl's booking of the slot, Anna then Boris waiting for days that have it,
/// and a plain page that only looks at the schedule: Carl's connection and
/// manage link, both pages, and the plain client.
async fn two_waiting(app: &TestApp) -> (Client, String, Page, Page, Client) {
    let (mut carl_page, _) = app.connect_with_state().await;
    let (_, manage) = book(&mut carl_page, &freed(), carl()).await;
    let (anna_page, first) = Page::open(app, days("2026-11-25", "2026-11-25"), anna()).await;
    let (boris_page, second) = Page::open(app, days("2026-11-24", "2026-11-26"), boris()).await;
    assert_eq!((first.place, second.place), (Some(1), Some(2)));
    let (plain, _) = app.connect_with_state().await;
    (carl_page, manage, anna_page, boris_page, plain)
}

/// The raw frames `plain` is sent up to the `update` that shows the freed
/// slot `status`.
async fn frames_until(plain: &mut Client, status: SlotStatus) -> Vec<String> {
    let mut frames = Vec::new();
    loop {
        let text = tokio::time::timeout(std::time::Duration::from_secs(5), plain.recv_text())
            .await
            .expect("a message within 5 s")
            .unwrap();
        let done = matches!(
            serde_json::from_str(&text).unwrap(),
            ServerMessage::Update { slot, .. } if slot.id == freed() && slot.status == status
        );
        frames.push(text);
        if done {
            return frames;
        }
    }
}

#[tokio::test]
async fn a_freed_slot_is_offered_to_the_first_patient_waiting_alone_and_booked_when_taken() {
    let app = spawn_app().await;
    let (mut carl_page, manage, mut anna_page, mut boris_page, mut plain) = two_waiting(&app).await;

    cancel(&mut carl_page, &manage).await;

    let until = anna_page.offered(&freed()).await;
    assert_eq!(until, test_now() + Duration::seconds(600), "the clinic's offer time");
    let mut frames = frames_until(&mut plain, SlotStatus::Held).await;
    let (_, seen) = update_of(&mut boris_page.client, &freed()).await;
    assert_eq!((seen.status, seen.held_until), (SlotStatus::Held, Some(until)), "held like an open form");
    let after = landmark(&app).await;
    boris_page.told_nothing_until(after).await;
    kept_out(&mut boris_page.client, &freed(), boris()).await;
    kept_out(&mut plain, &freed(), dora()).await;
    let watched = anna_page.watch().await;
    assert_eq!((offer_of(&watched, &freed()), watched.place), (until, Some(1)), "the link shows it too");

    let (code, manage_token) = anna_page.accept().await;

    frames.extend(frames_until(&mut plain, SlotStatus::Booked).await);
    let taken = anna_page.pushed().await;
    assert_eq!((taken.status, taken.booking_code.as_ref()), (WaitStatus::Booked, Some(&code)));
    assert_eq!((taken.place, &taken.offer), (None, &None), "no longer in line");
    assert_eq!(anna_page.watch().await, taken, "the link shows the booking from now on");
    assert_eq!(update_of(&mut boris_page.client, &freed()).await.1.status, SlotStatus::Booked);
    let looked =
        super::call(&mut plain, |request_id| ClientMessage::Lookup { request_id, manage_token }).await;
    let ServerMessage::Booking { booking, .. } = looked else { panic!("the manage link works: {looked:?}") };
    assert_eq!((booking.code, booking.patient, booking.slot.id), (code, anna(), freed()));
    assert_eq!(booking.status, BookingStatus::Active);
    assert_eq!(boris_page.watch().await.place, Some(1), "Boris is next in line now");
    // The plain page learnt of the slot and nothing of who waits.
    for frame in &frames {
        for secret in ["Anna", "Petrova", "Boris", "Orlov", "345-67-89", "222-33-44", "waitlist", "place"] {
            assert!(!frame.contains(secret), "a plain page was sent {secret:?}: {frame}");
        }
    }
    let statuses: Vec<_> = frames
        .iter()
        .filter_map(|f| match serde_json::from_str(f).unwrap() {
            ServerMessage::Update { slot, .. } if slot.id == freed() => Some((slot.status, slot.held_until)),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, [(SlotStatus::Held, Some(until)), (SlotStatus::Booked, None)], "never free");
}

#[tokio::test]
async fn a_declined_offer_passes_to_the_next_patient_and_then_frees_the_slot_for_everyone() {
    let app = spawn_app().await;
    let (mut carl_page, manage, mut anna_page, mut boris_page, mut plain) = two_waiting(&app).await;
    cancel(&mut carl_page, &manage).await;
    anna_page.offered(&freed()).await;
    assert_eq!(update_of(&mut plain, &freed()).await.1.status, SlotStatus::Held);

    anna_page.decline().await;

    let until = boris_page.offered(&freed()).await;
    let (_, passed) = update_of(&mut plain, &freed()).await;
    assert_eq!((passed.status, passed.held_until), (SlotStatus::Held, Some(until)), "held for the next");
    kept_out(&mut anna_page.client, &freed(), anna()).await;
    let token = anna_page.token.clone();
    let late = anna_page.client.accept_offer(&token).await.unwrap();
    assert_eq!(late, BookingReply::Refused(BookingFailure::NoOffer), "a declined offer is gone");

    boris_page.decline().await;

    let (_, free) = update_of(&mut plain, &freed()).await;
    assert_eq!((free.status, free.held_until), (SlotStatus::Free, None), "nobody else waits for it");
    let after = landmark(&app).await;
    anna_page.told_nothing_until(after).await;
    // Free for anyone now; when it turns free again, neither is offered it twice.
    let (_, manage) = book(&mut plain, &freed(), dora()).await;
    cancel(&mut plain, &manage).await;
    let mut seen = Vec::new();
    while seen.last() != Some(&SlotStatus::Free) {
        seen.push(update_of(&mut plain, &freed()).await.1.status);
    }
    assert_eq!(seen, [SlotStatus::Booked, SlotStatus::Free]);
    let after = landmark(&app).await;
    anna_page.told_nothing_until(after).await;
    boris_page.told_nothing_until(after).await;
    assert_eq!(anna_page.watch().await.status, WaitStatus::Waiting, "still waiting for another slot");
}

#[tokio::test]
async fn an_offer_that_runs_out_passes_on_and_the_last_one_frees_the_slot() {
    let app = spawn_app().await;
    let (mut carl_page, manage, mut anna_page, mut boris_page, mut plain) = two_waiting(&app).await;
    cancel(&mut carl_page, &manage).await;
    let first_end = anna_page.offered(&freed()).await;
    update_of(&mut plain, &freed()).await;

    app.advance(Duration::seconds(599));
    let still = landmark(&app).await;
    anna_page.told_nothing_until(still).await;
    app.advance(Duration::seconds(1));

    let ran_out = anna_page.pushed().await;
    assert_eq!((ran_out.status, ran_out.offer, ran_out.place), (WaitStatus::Waiting, None, Some(1)));
    let second_end = boris_page.offered(&freed()).await;
    assert_eq!(second_end, first_end + Duration::seconds(600), "a whole offer time from when it passed");
    let (_, passed) = update_of(&mut plain, &freed()).await;
    assert_eq!((passed.status, passed.held_until), (SlotStatus::Held, Some(second_end)));
    let token = anna_page.token.clone();
    let late = anna_page.client.accept_offer(&token).await.unwrap();
    assert_eq!(late, BookingReply::Refused(BookingFailure::NoOffer));

    app.advance(Duration::seconds(600));

    let ran_out = boris_page.pushed().await;
    assert_eq!((ran_out.status, ran_out.offer), (WaitStatus::Waiting, None));
    let (_, free) = update_of(&mut plain, &freed()).await;
    assert_eq!((free.status, free.held_until), (SlotStatus::Free, None));
    let after = landmark(&app).await;
    anna_page.told_nothing_until(after).await;
    let (_, manage) = book(&mut plain, &freed(), dora()).await;
    assert!(!manage.is_empty(), "anyone may book it now");
}

#[tokio::test]
async fn an_offer_past_its_end_cannot_be_taken_even_before_it_is_passed_on() {
    let app = spawn_app().await;
    let (mut carl_page, manage, mut anna_page, mut boris_page, _plain) = two_waiting(&app).await;
    cancel(&mut carl_page, &manage).await;
    anna_page.offered(&freed()).await;

    // Taken the very moment the offer ends, before the server's next round of
    // ending what ran out.
    app.advance(Duration::seconds(600));
    let token = anna_page.token.clone();
    let late = anna_page.client.accept_offer(&token).await.unwrap();

    assert_eq!(late, BookingReply::Refused(BookingFailure::NoOffer), "its time is up");
    boris_page.offered(&freed()).await;
    let entry = anna_page.watch().await;
    assert_eq!((entry.status, entry.booking_code), (WaitStatus::Waiting, None));
}
