//! Golden tests of the waitlist messages: each README example decodes to a known
//! value and encodes back to the same JSON.

use booking_protocol::{
    BookingFailure, ClientMessage, DoctorId, Offer, Patient, PowSolution, Proof, ServerMessage, Slot,
    SlotStatus, StaffWaiting, WaitStatus, WaitWindow, WaitlistEntry,
};
use chrono::{NaiveDate, NaiveTime};

use super::{assert_golden, at, challenge, id, slot};

fn day(s: &str) -> NaiveDate {
    s.parse().expect("valid date")
}

fn time(s: &str) -> NaiveTime {
    s.parse().expect("valid time")
}

/// The window of the README's examples: three days, mornings only.
fn mornings() -> WaitWindow {
    WaitWindow {
        from_day: day("2026-11-25"),
        to_day: day("2026-11-27"),
        from_time: Some(time("09:00:00")),
        to_time: Some(time("12:00:00")),
    }
}

fn anna() -> Patient {
    Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() }
}

fn wait_token() -> String {
    "b41d…07e2".into()
}

fn therapist() -> DoctorId {
    DoctorId("therapist".into())
}

/// The slot offered in the README's examples, held until the offer ends.
fn offered_slot() -> Slot {
    Slot {
        held_until: Some(at("2026-11-24T07:30:00Z")),
        ..slot("therapist-20261125-0930", "2026-11-25T06:30:00Z", "2026-11-25T07:00:00Z", SlotStatus::Held)
    }
}

#[test]
fn join_waitlist_example_round_trips() {
    assert_golden(
        "`joinWaitlist`",
        ClientMessage::JoinWaitlist {
            request_id: "w-1".into(),
            doctor_id: therapist(),
            window: mornings(),
            patient: anna(),
            proof: Some(Proof {
                challenge: challenge(),
                solution: PowSolution {
                    counter: 1_472_103,
                    derived_key: "4c1e07d2a9b35f6e8d0c71a2b4f69e3d5a…".into(),
                },
            }),
        },
    );
    assert_golden(
        "`joinResult`",
        ServerMessage::JoinResult {
            request_id: "w-1".into(),
            ok: true,
            wait_token: Some("b41d6a0e9c2f4b7d81e3a5c7f9021b4d6e8fa0c2e4b6d8f0a1c3e5b7d9f1a3c5".into()),
            reason: None,
        },
    );
    assert_golden(
        "`joinResult` (refused)",
        ServerMessage::JoinResult {
            request_id: "w-7".into(),
            ok: false,
            wait_token: None,
            reason: Some(BookingFailure::AlreadyWaiting),
        },
    );
}

#[test]
fn waitlist_link_request_examples_round_trip() {
    assert_golden(
        "`watchWaitlist`",
        ClientMessage::WatchWaitlist { request_id: "w-2".into(), wait_token: wait_token() },
    );
    assert_golden(
        "`changeWaitlist`",
        ClientMessage::ChangeWaitlist {
            request_id: "w-3".into(),
            wait_token: wait_token(),
            window: WaitWindow {
                from_day: day("2026-11-25"),
                to_day: day("2026-11-30"),
                from_time: None,
                to_time: None,
            },
        },
    );
    assert_golden(
        "`leaveWaitlist`",
        ClientMessage::LeaveWaitlist { request_id: "w-4".into(), wait_token: wait_token() },
    );
    assert_golden(
        "`acceptOffer`",
        ClientMessage::AcceptOffer { request_id: "w-5".into(), wait_token: wait_token() },
    );
    assert_golden(
        "`declineOffer`",
        ClientMessage::DeclineOffer { request_id: "w-6".into(), wait_token: wait_token() },
    );
    assert_golden(
        "`actionResult` (no offer)",
        ServerMessage::ActionResult {
            request_id: "w-6".into(),
            ok: false,
            reason: Some(BookingFailure::NoOffer),
        },
    );
}

#[test]
fn waitlist_entry_examples_round_trip() {
    let waiting = WaitlistEntry {
        doctor_id: therapist(),
        window: mornings(),
        patient: anna(),
        status: WaitStatus::Waiting,
        place: Some(2),
        offer: None,
        booking_code: None,
        joined_at: at("2026-11-24T07:10:02Z"),
    };
    let answer = ServerMessage::Waitlist { request_id: Some("w-2".into()), entry: waiting.clone() };
    assert_eq!(answer.request_id(), Some("w-2"), "an answer names its request");
    assert_golden("`waitlist`", answer);

    let offered = WaitlistEntry {
        status: WaitStatus::Offered,
        place: Some(1),
        offer: Some(Offer { slot: offered_slot(), expires_at: at("2026-11-24T07:30:00Z") }),
        ..waiting
    };
    let push = ServerMessage::Waitlist { request_id: None, entry: offered };
    assert_eq!(push.request_id(), None, "a pushed entry answers no request");
    assert_golden("`waitlist` (offered)", push);
}

#[test]
fn everyone_else_sees_an_offer_as_a_held_slot() {
    let update = ServerMessage::Update { version: 46, slot: offered_slot() };
    assert_golden("`update` (offered)", update);
    let json = super::example("`update` (offered)").to_string();
    for private in ["Anna", "+7", "place", "offer", "waitlist"] {
        assert!(!json.contains(private), "the update says nothing of {private}");
    }
}

#[test]
fn staff_waitlist_examples_round_trip() {
    assert_golden("`staffWaitlist`", ClientMessage::StaffWaitlist { request_id: "s-2".into() });
    assert_golden(
        "`staffRemoveWaiting`",
        ClientMessage::StaffRemoveWaiting { request_id: "s-3".into(), entry_id: 17 },
    );
    assert_golden(
        "`staffWaitlist` (answer)",
        ServerMessage::StaffWaitlist {
            request_id: "s-2".into(),
            entries: vec![
                StaffWaiting {
                    id: 17,
                    doctor_id: therapist(),
                    window: mornings(),
                    patient: anna(),
                    joined_at: at("2026-11-24T07:10:02Z"),
                    offered_slot: Some(id("therapist-20261125-0930")),
                    offer_expires_at: Some(at("2026-11-24T07:30:00Z")),
                },
                StaffWaiting {
                    id: 18,
                    doctor_id: therapist(),
                    window: WaitWindow {
                        from_day: day("2026-11-25"),
                        to_day: day("2026-11-26"),
                        from_time: None,
                        to_time: None,
                    },
                    patient: Patient { name: "Ivan Smirnov".into(), phone: "+7 903 111-22-33".into() },
                    joined_at: at("2026-11-24T07:15:40Z"),
                    offered_slot: None,
                    offer_expires_at: None,
                },
            ],
        },
    );
}

#[test]
fn a_window_holds_its_days_and_the_hours_from_its_start_up_to_its_end() {
    let window = mornings();
    assert!(window.contains(day("2026-11-25"), time("09:00:00")), "the first day at the first hour");
    assert!(window.contains(day("2026-11-27"), time("11:30:00")), "the last day is included");
    assert!(!window.contains(day("2026-11-27"), time("12:00:00")), "a slot starting at toTime is out");
    assert!(!window.contains(day("2026-11-25"), time("08:59:00")), "before fromTime is out");
    assert!(!window.contains(day("2026-11-28"), time("10:00:00")), "after toDay is out");
    let all_day = WaitWindow { from_time: None, to_time: None, ..window };
    assert!(all_day.contains(day("2026-11-26"), time("18:30:00")), "no hours given: any time of day");
}

#[test]
fn a_window_out_of_order_is_not_valid() {
    assert!(mornings().is_valid());
    let backwards = WaitWindow { from_day: day("2026-11-27"), to_day: day("2026-11-25"), ..mornings() };
    assert!(!backwards.is_valid(), "days out of order");
    let empty_hours = WaitWindow { from_time: Some(time("12:00:00")), ..mornings() };
    assert!(!empty_hours.is_valid(), "fromTime must come before toTime");
    let one_day = WaitWindow { to_day: day("2026-11-25"), from_time: None, ..mornings() };
    assert!(one_day.is_valid(), "a single day, only an end hour");
    let seconds = WaitWindow { from_time: Some(time("09:00:30")), ..mornings() };
    assert!(!seconds.is_valid(), "hours in whole minutes");
}
