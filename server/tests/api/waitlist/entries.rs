//! An entry besides its offers: leaving, staff's list and removal, a changed
//! window, and wrong links counted like wrong manage links.

use client::{BookingReply, Client};
use protocol::{BookingFailure, ClientMessage, DoctorId, ErrorCode, ServerMessage, WaitStatus};

use super::{Page, anna, book, boris, call, cancel, carl, days, dora, hours, slot, staff};
use crate::common::{TestApp, spawn_app, test_now};

/// Carl's booking of the 25th at 9:00, and his connection and manage link.
async fn carl_booked(app: &TestApp) -> (Client, String) {
    let (mut carl_page, _) = app.connect_with_state().await;
    let (_, manage) = book(&mut carl_page, &slot("therapist-20261125-0900"), carl()).await;
    (carl_page, manage)
}

#[tokio::test]
async fn leaving_with_an_offer_passes_it_to_the_next_patient() {
    let app = spawn_app().await;
    let (mut carl_page, manage) = carl_booked(&app).await;
    let (mut anna_page, _) = Page::open(&app, days("2026-11-25", "2026-11-25"), anna()).await;
    let (mut boris_page, _) = Page::open(&app, days("2026-11-25", "2026-11-25"), boris()).await;
    cancel(&mut carl_page, &manage).await;
    let freed = slot("therapist-20261125-0900");
    anna_page.offered(&freed).await;

    let token = anna_page.token.clone();
    let left = anna_page.client.leave_waitlist(&token).await.unwrap();

    assert_eq!(left, Ok(()));
    let gone = anna_page.pushed().await;
    assert_eq!((gone.status, gone.place, gone.offer), (WaitStatus::Left, None, None));
    boris_page.offered(&freed).await;
    assert_eq!(boris_page.watch().await.place, Some(1), "first in line once Anna left");
    assert_eq!(anna_page.client.leave_waitlist(&token).await.unwrap(), Err(BookingFailure::WrongState));
    let taken = anna_page.client.accept_offer(&token).await.unwrap();
    assert_eq!(taken, BookingReply::Refused(BookingFailure::NoOffer));
    assert_eq!(anna_page.watch().await.status, WaitStatus::Left, "the link still shows the entry");
}

#[tokio::test]
async fn staff_list_who_waits_with_their_offers_and_take_entries_off_which_passes_an_offer_on() {
    let app = spawn_app().await;
    let (mut carl_page, manage) = carl_booked(&app).await;
    let window = days("2026-11-25", "2026-11-26");
    let (mut anna_page, _) = Page::open(&app, window, anna()).await;
    let (mut boris_page, _) = Page::open(&app, window, boris()).await;
    let (mut other, _) = app.connect_with_state().await;
    let dentist = other.join_waitlist(DoctorId("dentist".into()), window, dora()).await.unwrap();
    assert!(dentist.is_ok(), "{dentist:?}");
    cancel(&mut carl_page, &manage).await;
    let freed = slot("therapist-20261125-0900");
    let until = anna_page.offered(&freed).await;
    let mut console = staff(&app).await;

    let listed = console.staff_waitlist().await.unwrap();

    let rows: Vec<_> = listed
        .iter()
        .map(|e| {
            (e.doctor_id.0.as_str(), e.patient.name.as_str(), e.offered_slot.as_ref(), e.offer_expires_at)
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("dentist", "Dora Lindqvist", None, None),
            ("therapist", "Anna Petrova", Some(&freed), Some(until)),
            ("therapist", "Boris Orlov", None, None),
        ],
        "by doctor, then in the order of joining"
    );
    assert!(listed.iter().all(|e| e.window == window && e.joined_at == test_now()));
    assert_eq!(listed[1].patient, anna(), "staff see the phone too");
    for refused in
        [other.staff_waitlist().await.map(|_| ()), other.staff_remove_waiting(listed[1].id).await.map(|_| ())]
    {
        assert!(
            matches!(refused, Err(client::Error::Server { code: ErrorCode::Forbidden, .. })),
            "{refused:?}"
        );
    }
    assert_eq!(anna_page.watch().await.status, WaitStatus::Offered, "a refused removal changed nothing");

    assert_eq!(console.staff_remove_waiting(listed[1].id).await.unwrap(), Ok(()));

    let removed = anna_page.pushed().await;
    assert_eq!((removed.status, removed.place, removed.offer), (WaitStatus::Removed, None, None));
    let passed = boris_page.offered(&freed).await;
    let left: Vec<_> =
        console.staff_waitlist().await.unwrap().into_iter().map(|e| (e.id, e.offered_slot)).collect();
    assert_eq!(left, [(listed[0].id, None), (listed[2].id, Some(freed.clone()))]);
    assert_eq!(console.staff_waitlist().await.unwrap()[1].offer_expires_at, Some(passed));
    assert_eq!(console.staff_remove_waiting(listed[1].id).await.unwrap(), Err(BookingFailure::WrongState));
    assert_eq!(console.staff_remove_waiting(9_999_999).await.unwrap(), Err(BookingFailure::NotFound));
}

#[tokio::test]
async fn a_changed_window_keeps_the_entry_in_its_place_and_is_the_one_offers_follow() {
    let app = spawn_app().await;
    let (mut carl_page, manage) = carl_booked(&app).await;
    let (mut anna_page, _) = Page::open(&app, days("2026-11-27", "2026-11-27"), anna()).await;
    let (mut boris_page, _) = Page::open(&app, days("2026-11-26", "2026-11-26"), boris()).await;
    let (mut dora_page, _) = Page::open(&app, days("2026-11-26", "2026-11-26"), dora()).await;
    let token = boris_page.token.clone();
    let wider = hours("2026-11-25", "2026-11-26", "09:00", "12:00");

    let changed = boris_page.client.change_waitlist(&token, wider).await.unwrap().unwrap();

    assert_eq!((changed.window, changed.place, changed.status), (wider, Some(2), WaitStatus::Waiting));
    assert_eq!(changed.joined_at, test_now(), "still joined when it joined");
    assert_eq!(dora_page.watch().await.place, Some(3), "nobody overtook anybody");
    let backwards = days("2026-11-26", "2026-11-25");
    let refused = boris_page.client.change_waitlist(&token, backwards).await.unwrap();
    assert_eq!(refused, Err(BookingFailure::InvalidWindow));
    let outside = days("2026-11-25", "2026-12-02");
    assert_eq!(
        boris_page.client.change_waitlist(&token, outside).await.unwrap(),
        Err(BookingFailure::InvalidWindow)
    );
    assert_eq!(boris_page.watch().await.window, wider, "a refused change changed nothing");
    cancel(&mut carl_page, &manage).await;
    boris_page.offered(&slot("therapist-20261125-0900")).await;
    let anna_token = anna_page.token.clone();
    assert_eq!(anna_page.client.leave_waitlist(&anna_token).await.unwrap(), Ok(()));
    let after_leaving = anna_page.client.change_waitlist(&anna_token, wider).await.unwrap();
    assert_eq!(after_leaving, Err(BookingFailure::WrongState), "only a waiting entry changes");
    assert_eq!(boris_page.watch().await.place, Some(1), "places move up when somebody ahead leaves");
}

#[tokio::test]
async fn wrong_waitlist_links_count_as_wrong_secrets_until_the_address_is_stopped() {
    let app = spawn_app().await;
    let (mut page, _) = Page::open(&app, days("2026-11-25", "2026-11-25"), anna()).await;
    // From an address of its own, so that the patient's page is not stopped
    // with it.
    let from = client::ConnectOptions { local_ip: Some([127, 0, 0, 2].into()), ..Default::default() };
    let mut guesser = Client::connect_with(&app.ws_url(), from).await.unwrap();
    assert!(matches!(crate::common::recv(&mut guesser).await, ServerMessage::InitialState(_)));
    let window = days("2026-11-25", "2026-11-26");
    let guess = |n: u32| format!("guessed-link-{n}");

    let mut answers = Vec::new();
    for n in 0..crate::common::test_limits().failed_secrets_per_min {
        let (request_id, wait_token) = (guesser.request_id(), guess(n));
        let message = match n % 6 {
            0 => ClientMessage::WatchWaitlist { request_id, wait_token },
            1 => ClientMessage::ChangeWaitlist { request_id, wait_token, window },
            2 => ClientMessage::LeaveWaitlist { request_id, wait_token },
            3 => ClientMessage::AcceptOffer { request_id, wait_token },
            4 => ClientMessage::DeclineOffer { request_id, wait_token },
            // Wrong manage links draw on the same budget.
            _ => ClientMessage::Lookup { request_id, manage_token: wait_token },
        };
        answers.push(guesser.call(message).await.unwrap());
    }
    let right = page.token.clone();
    let stopped =
        call(&mut guesser, |request_id| ClientMessage::WatchWaitlist { request_id, wait_token: right }).await;

    for answer in &answers {
        let not_found = matches!(
            answer,
            ServerMessage::ActionResult { ok: false, reason: Some(BookingFailure::NotFound), .. }
                | ServerMessage::BookingResult { ok: false, reason: Some(BookingFailure::NotFound), .. }
        );
        assert!(not_found, "a wrong link is not found: {answer:?}");
    }
    assert!(
        matches!(stopped, ServerMessage::Error { code: ErrorCode::RateLimited, .. }),
        "past the budget even a right link is refused unchecked: {stopped:?}"
    );
    assert_eq!(page.watch().await.status, WaitStatus::Waiting, "the patient's own address is not stopped");
}
