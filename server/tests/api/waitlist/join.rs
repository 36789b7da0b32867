//! Joining a waitlist: what is refused and why, what a good join gives back,
//! and the places of those waiting for the same doctor.

use client::Client;
use protocol::{BookingFailure, ClientMessage, DoctorId, Patient, WaitStatus, WaitToken, WaitWindow};
use server::Limits;

use super::{Page, anna, boris, days, dora, hours, therapist};
use crate::common::{Options, spawn_app, spawn_with, test_limits};

/// Joins with a freshly solved proof; the link's secret, or why not.
async fn try_join(
    client: &mut Client,
    doctor: &str,
    window: WaitWindow,
    who: Patient,
) -> Result<WaitToken, BookingFailure> {
    client.join_waitlist(DoctorId(doctor.into()), window, who).await.unwrap()
}

/// A `joinWaitlist` for the therapist with the proof given.
fn join_message(client: &mut Client, proof: Option<protocol::Proof>) -> ClientMessage {
    ClientMessage::JoinWaitlist {
        request_id: client.request_id(),
        doctor_id: therapist(),
        window: days("2026-11-25", "2026-11-27"),
        patient: anna(),
        proof,
    }
}

#[tokio::test]
async fn a_join_is_refused_for_an_unknown_doctor_a_bad_window_or_a_bad_patient() {
    let app = spawn_app().await;
    let (mut client, _) = app.connect_with_state().await;
    let week = days("2026-11-25", "2026-11-27");

    let mut refused_window = async |window| try_join(&mut client, "therapist", window, anna()).await;
    let windows = [
        days("2026-11-27", "2026-11-25"),
        hours("2026-11-25", "2026-11-25", "14:00", "09:00"),
        hours("2026-11-25", "2026-11-25", "14:00", "14:00"),
        // The schedule shows 24 to 30 November.
        days("2026-11-23", "2026-11-25"),
        days("2026-11-29", "2026-12-01"),
    ];
    let mut bad_windows = Vec::new();
    for window in windows {
        bad_windows.push(refused_window(window).await);
    }
    let unknown = try_join(&mut client, "dermatologist", week, anna()).await;
    let nameless = Patient { name: "  ".into(), ..anna() };
    let no_name = try_join(&mut client, "therapist", week, nameless).await;
    let phoneless = Patient { phone: "call me".into(), ..anna() };
    let no_phone = try_join(&mut client, "therapist", week, phoneless).await;

    assert_eq!(unknown, Err(BookingFailure::NotFound));
    assert_eq!(bad_windows, vec![Err(BookingFailure::InvalidWindow); 5]);
    assert_eq!(
        (no_name, no_phone),
        (Err(BookingFailure::InvalidPatient), Err(BookingFailure::InvalidPatient))
    );
    let (_, whole_schedule) = Page::open(&app, days("2026-11-24", "2026-11-30"), anna()).await;
    assert_eq!(whole_schedule.place, Some(1), "the days shown, first and last included, make a window");
}

#[tokio::test]
async fn a_join_without_a_good_proof_of_work_is_refused() {
    let app = spawn_app().await;
    let (mut client, _) = app.connect_with_state().await;

    let none = join_message(&mut client, None);
    let without = client.join_waitlist_with(none).await.unwrap();
    let mut forged = client.proof().await.unwrap();
    forged.solution.derived_key = "0".repeat(forged.solution.derived_key.len());
    let forged = join_message(&mut client, Some(forged));
    let with_forged = client.join_waitlist_with(forged).await.unwrap();
    let proof = client.proof().await.unwrap();
    let first = join_message(&mut client, Some(proof.clone()));
    let paid = client.join_waitlist_with(first).await.unwrap();
    let again = join_message(&mut client, Some(proof));
    let spent = client.join_waitlist_with(again).await.unwrap();

    assert_eq!(without, Err(BookingFailure::ChallengeFailed), "no proof");
    assert_eq!(with_forged, Err(BookingFailure::ChallengeFailed), "a wrong solution");
    assert!(paid.is_ok(), "a good proof pays for one join: {paid:?}");
    assert_eq!(spent, Err(BookingFailure::ChallengeFailed), "and only one");
}

#[tokio::test]
async fn a_phone_waits_only_so_often_and_an_address_joins_within_its_booking_budget() {
    let limits = Limits { bookings_per_phone: 2, bookings_per_address_per_hour: 3, ..test_limits() };
    let app = spawn_with(Options { limits, ..Options::default() }).await;
    let (mut client, _) = app.connect_with_state().await;
    let week = days("2026-11-25", "2026-11-27");

    let first = try_join(&mut client, "therapist", week, anna()).await;
    let second = try_join(&mut client, "dentist", week, anna()).await;
    // The same number written another way is the same phone.
    let same_phone = Patient { name: "A. Petrova".into(), phone: "+7 (912) 3456789".into() };
    let third = try_join(&mut client, "surgeon", week, same_phone).await;
    let other_phone = try_join(&mut client, "surgeon", week, boris()).await;
    let over_budget = try_join(&mut client, "surgeon", week, dora()).await;
    let booking = client.book(super::slot("dentist-20261126-0900"), dora()).await.unwrap();

    assert!(first.is_ok() && second.is_ok(), "{first:?} {second:?}");
    assert_eq!(third, Err(BookingFailure::AlreadyWaiting), "two entries waiting for this phone already");
    assert!(other_phone.is_ok(), "a refusal took nothing from the budget: {other_phone:?}");
    assert_eq!(over_budget, Err(BookingFailure::TooManyBookings), "three joins this hour from this address");
    assert_eq!(booking, client::BookingReply::Refused(BookingFailure::TooManyBookings), "joins spent it");
}

#[tokio::test]
async fn a_good_join_gives_a_link_to_an_entry_waiting_in_the_order_of_joining() {
    let app = spawn_app().await;
    let window = hours("2026-11-25", "2026-11-27", "09:00", "13:00");

    let (mut first, entry) = Page::open(&app, window, anna()).await;
    let (_second, second_entry) = Page::open(&app, days("2026-11-26", "2026-11-26"), boris()).await;
    let (mut other, _) = app.connect_with_state().await;
    let dentist = try_join(&mut other, "dentist", window, dora()).await.unwrap();
    let elsewhere = other.watch_waitlist(&dentist).await.unwrap().unwrap();

    assert!(first.token.len() >= 22, "a secret of at least 128 bits: {}", first.token);
    assert_eq!((entry.doctor_id, entry.window, entry.patient), (therapist(), window, anna()));
    assert_eq!(
        (entry.status, entry.place, entry.offer, entry.booking_code),
        (WaitStatus::Waiting, Some(1), None, None)
    );
    assert_eq!(entry.joined_at, crate::common::test_now());
    assert_eq!((second_entry.status, second_entry.place), (WaitStatus::Waiting, Some(2)), "second in line");
    assert_eq!(elsewhere.place, Some(1), "each doctor has a line of their own");
    assert_eq!(first.watch().await.place, Some(1), "a later joiner does not move the first");
    let wrong = other.watch_waitlist("not-a-link").await.unwrap();
    assert_eq!(wrong, Err(BookingFailure::NotFound));
}
