//! Golden tests: every example in `README.md` decodes to a known value and that
//! value encodes back to the same JSON, so the documentation cannot drift from
//! the code. The waitlist's examples are pinned in `golden/waitlist.rs`, those of
//! no-shows and erasure in `golden/records.rs`, those of staff logins and
//! accounts in `golden/staff.rs`, those of the audit trail in `golden/audit.rs`.

// A crate root resolves modules beside itself, so the path is named.
#[path = "golden/audit.rs"]
mod audit;
#[path = "golden/records.rs"]
mod records;
#[path = "golden/staff.rs"]
mod staff;
#[path = "golden/waitlist.rs"]
mod waitlist;

use std::collections::BTreeMap;

use booking_protocol::{
    BookingDetails, BookingFailure, BookingStatus, ClientMessage, Clinic, Doctor, DoctorId, DoctorText,
    ErrorCode, Patient, PowChallenge, PowParameters, PowSolution, Proof, Schedule, ServerMessage, Slot,
    SlotId, SlotStatus, StaffBooking, WaitWindow,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

const README: &str = include_str!("../README.md");

/// The JSON block that follows the heading "### {title}" in the README.
fn example(title: &str) -> Value {
    let heading = format!("### {title}\n");
    let after = README.split_once(&heading).unwrap_or_else(|| panic!("README has no section {title}")).1;
    let block = after
        .split_once("```json\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .unwrap_or_else(|| panic!("section {title} has no json example"))
        .0;
    serde_json::from_str(block).unwrap_or_else(|e| panic!("example {title} is not JSON: {e}"))
}

fn assert_golden<T>(title: &str, expected: T)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = example(title);
    let decoded: T = serde_json::from_value(json.clone())
        .unwrap_or_else(|e| panic!("example {title} does not decode: {e}"));
    assert_eq!(decoded, expected, "example {title} decodes to another value");
    let encoded = serde_json::to_value(&expected).expect("encodes");
    assert_eq!(encoded, json, "{title} encodes to other JSON than its example");
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("valid instant")
}

fn slot(id: &str, start: &str, end: &str, status: SlotStatus) -> Slot {
    Slot {
        id: SlotId(id.into()),
        doctor_id: DoctorId("therapist".into()),
        start: at(start),
        end: at(end),
        status,
        held_until: None,
    }
}

/// The challenge of the README's examples.
fn challenge() -> PowChallenge {
    PowChallenge {
        parameters: PowParameters {
            algorithm: "SHA-256".into(),
            cost: 10,
            expires_at: Some(1_795_504_200),
            key_length: 32,
            key_prefix: "4c1e07d2a9b35f6e8d0c71a2b4f69e3d".into(),
            key_signature: Some("0b6f3a…".into()),
            nonce: "5d2c9a7e1f3b4c6d8e0a2b4c6d8e0f1a".into(),
            salt: "a1b2c3d4e5f60718293a4b5c6d7e8f90".into(),
        },
        signature: "e3b0c4…".into(),
    }
}

#[test]
fn book_example_round_trips() {
    assert_golden(
        "`book`",
        ClientMessage::Book {
            request_id: "7f3a9d1c2b4e86a05d1e9c3b7a2f4e60".into(),
            slot_id: SlotId("therapist-20261125-0900".into()),
            patient: Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() },
            proof: Some(Proof {
                challenge: challenge(),
                solution: PowSolution {
                    counter: 1_472_103,
                    derived_key: "4c1e07d2a9b35f6e8d0c71a2b4f69e3d5a…".into(),
                },
            }),
        },
    );
}

#[test]
fn challenge_examples_round_trip() {
    assert_golden("`challenge`", ClientMessage::Challenge { request_id: "q-1".into() });
    assert_golden(
        "`challenge` (answer)",
        ServerMessage::Challenge { request_id: "q-1".into(), challenge: challenge() },
    );
}

#[test]
fn a_book_without_a_proof_still_decodes() {
    let json =
        r#"{"type":"book","payload":{"requestId":"r","slotId":"s","patient":{"name":"A","phone":"12345"}}}"#;
    let decoded: ClientMessage = serde_json::from_str(json).unwrap();
    assert!(matches!(decoded, ClientMessage::Book { proof: None, .. }));
}

#[test]
fn reset_example_round_trips() {
    assert_golden("`reset`", ClientMessage::Reset { request_id: "a-1".into() });
}

#[test]
fn initial_state_example_round_trips() {
    assert_golden(
        "`initialState`",
        ServerMessage::InitialState(Schedule {
            version: 42,
            clinic: Clinic {
                name: "Городская клиника".into(),
                time_zone: "Europe/Moscow".into(),
                min_notice_minutes: 30,
                hold_seconds: 120,
                hold_extensions: 2,
                offer_seconds: 600,
                default_language: "ru".into(),
                names: BTreeMap::from([
                    ("en".into(), "City Clinic".into()),
                    ("ru".into(), "Городская клиника".into()),
                ]),
            },
            doctors: vec![Doctor {
                id: DoctorId("therapist".into()),
                name: "Елена Соколова".into(),
                specialty: "Терапевт".into(),
                texts: BTreeMap::from([
                    ("en".into(), text("Dr. Elena Sokolova", "Therapist")),
                    ("ru".into(), text("Елена Соколова", "Терапевт")),
                ]),
            }],
            slots: vec![
                slot(
                    "therapist-20261125-0900",
                    "2026-11-25T06:00:00Z",
                    "2026-11-25T06:30:00Z",
                    SlotStatus::Free,
                ),
                slot(
                    "therapist-20261125-0930",
                    "2026-11-25T06:30:00Z",
                    "2026-11-25T07:00:00Z",
                    SlotStatus::Booked,
                ),
                Slot {
                    held_until: Some(at("2026-11-24T07:12:00Z")),
                    ..slot(
                        "therapist-20261125-1000",
                        "2026-11-25T07:00:00Z",
                        "2026-11-25T07:30:00Z",
                        SlotStatus::Held,
                    )
                },
            ],
        }),
    );
}

fn text(name: &str, specialty: &str) -> DoctorText {
    DoctorText { name: name.into(), specialty: specialty.into() }
}

#[test]
fn a_schedule_of_a_server_older_than_languages_extensions_and_the_waitlist_still_decodes() {
    let json = r#"{"version":1,"clinic":{"name":"C","timeZone":"UTC"},
        "doctors":[{"id":"d","name":"D","specialty":"S"}],
        "slots":[{"id":"s","doctorId":"d","start":"2026-11-25T06:00:00Z","end":"2026-11-25T06:30:00Z","status":"held"}]}"#;
    let schedule: Schedule = serde_json::from_str(json).unwrap();
    assert_eq!((schedule.clinic.hold_extensions, schedule.clinic.default_language.as_str()), (0, ""));
    assert_eq!(schedule.clinic.offer_seconds, 0);
    assert!(schedule.clinic.names.is_empty() && schedule.doctors[0].texts.is_empty());
    assert_eq!(schedule.slots[0].held_until, None);
    assert_eq!(schedule.doctors[0].text_in("en").specialty, "S");
    let booking = r#"{"code":"K","slot":{"id":"s","doctorId":"d","start":"2026-11-25T06:00:00Z",
        "end":"2026-11-25T06:30:00Z","status":"booked"},"patient":{"name":"A","phone":"12345"},"status":"active"}"#;
    assert_eq!(serde_json::from_str::<BookingDetails>(booking).unwrap().sequence, 0);
}

#[test]
fn update_example_round_trips() {
    assert_golden(
        "`update`",
        ServerMessage::Update {
            version: 43,
            slot: slot(
                "therapist-20261125-0900",
                "2026-11-25T06:00:00Z",
                "2026-11-25T06:30:00Z",
                SlotStatus::Booked,
            ),
        },
    );
    assert_golden(
        "`update` (held)",
        ServerMessage::Update {
            version: 44,
            slot: Slot {
                held_until: Some(at("2026-11-24T07:14:00Z")),
                ..slot(
                    "therapist-20261125-0900",
                    "2026-11-25T06:00:00Z",
                    "2026-11-25T06:30:00Z",
                    SlotStatus::Held,
                )
            },
        },
    );
}

#[test]
fn booking_result_examples_round_trip() {
    assert_golden(
        "`bookingResult`",
        ServerMessage::BookingResult {
            request_id: "r-1".into(),
            ok: true,
            booking_code: Some("K7M2-QX4P".into()),
            manage_token: Some("9f2c4e0b7a1d3e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7".into()),
            reason: None,
        },
    );
    assert_golden(
        "`bookingResult` (refused)",
        ServerMessage::BookingResult {
            request_id: "r-2".into(),
            ok: false,
            booking_code: None,
            manage_token: None,
            reason: Some(BookingFailure::AlreadyBooked),
        },
    );
}

#[test]
fn error_example_round_trips() {
    assert_golden(
        "`error`",
        ServerMessage::Error {
            code: ErrorCode::Forbidden,
            message: "Not allowed.".into(),
            request_id: Some("a-1".into()),
        },
    );
}

#[test]
fn resuming_examples_round_trip() {
    assert_golden("`hello`", ClientMessage::Hello { last_version: 42 });
    assert_golden("`resumed`", ServerMessage::Resumed { version: 45 });
}

fn token() -> String {
    "9f2c…c6d7".into()
}

fn id(s: &str) -> SlotId {
    SlotId(s.into())
}

#[test]
fn hold_and_release_examples_round_trip() {
    assert_golden(
        "`hold`",
        ClientMessage::Hold { request_id: "h-1".into(), slot_id: id("therapist-20261125-0900") },
    );
    assert_golden(
        "`extendHold`",
        ClientMessage::ExtendHold { request_id: "h-2".into(), slot_id: id("therapist-20261125-0900") },
    );
    assert_golden("`release`", ClientMessage::Release { slot_id: id("therapist-20261125-0900") });
    assert_golden(
        "`holdResult`",
        ServerMessage::HoldResult {
            request_id: "h-1".into(),
            ok: true,
            expires_at: Some(at("2026-11-24T07:12:00Z")),
            reason: None,
        },
    );
    assert_golden(
        "`holdResult` (refused extension)",
        ServerMessage::HoldResult {
            request_id: "h-4".into(),
            ok: false,
            expires_at: None,
            reason: Some(BookingFailure::TooManyExtensions),
        },
    );
}

#[test]
fn manage_link_examples_round_trip() {
    assert_golden("`lookup`", ClientMessage::Lookup { request_id: "l-1".into(), manage_token: token() });
    assert_golden("`cancel`", ClientMessage::Cancel { request_id: "c-1".into(), manage_token: token() });
    assert_golden(
        "`reschedule`",
        ClientMessage::Reschedule {
            request_id: "m-1".into(),
            manage_token: token(),
            slot_id: id("dentist-20261126-1030"),
        },
    );
    assert_golden(
        "`booking`",
        ServerMessage::Booking {
            request_id: "l-1".into(),
            booking: BookingDetails {
                code: "K7M2-QX4P".into(),
                slot: slot(
                    "therapist-20261125-0900",
                    "2026-11-25T06:00:00Z",
                    "2026-11-25T06:30:00Z",
                    SlotStatus::Booked,
                ),
                patient: Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() },
                status: BookingStatus::Active,
                sequence: 1,
            },
        },
    );
    assert_golden(
        "`actionResult`",
        ServerMessage::ActionResult {
            request_id: "c-1".into(),
            ok: false,
            reason: Some(BookingFailure::Cancelled),
        },
    );
}

#[test]
fn staff_examples_round_trip() {
    assert_golden(
        "`staffCancel`, `block`, `unblock`, `endHold`",
        ClientMessage::Block { request_id: "s-1".into(), slot_id: id("surgeon-20261125-0800") },
    );
    assert_golden(
        "`staffState`",
        ServerMessage::StaffState {
            version: 57,
            bookings: vec![StaffBooking {
                slot_id: id("therapist-20261125-0900"),
                code: "K7M2-QX4P".into(),
                patient: Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() },
                booked_at: at("2026-11-24T07:10:02Z"),
                no_show: false,
            }],
        },
    );
    assert_golden(
        "`staffUpdate`",
        ServerMessage::StaffUpdate { version: 58, slot_id: id("therapist-20261125-0900"), booking: None },
    );
}

#[test]
fn every_client_type_name_is_listed() {
    let s = String::new;
    for msg in [
        ClientMessage::Book {
            request_id: s(),
            slot_id: SlotId(s()),
            patient: Patient { name: s(), phone: s() },
            proof: None,
        },
        ClientMessage::Challenge { request_id: s() },
        ClientMessage::Reset { request_id: s() },
        ClientMessage::Hold { request_id: s(), slot_id: SlotId(s()) },
        ClientMessage::ExtendHold { request_id: s(), slot_id: SlotId(s()) },
        ClientMessage::Release { slot_id: SlotId(s()) },
        ClientMessage::Lookup { request_id: s(), manage_token: s() },
        ClientMessage::Cancel { request_id: s(), manage_token: s() },
        ClientMessage::Reschedule { request_id: s(), manage_token: s(), slot_id: SlotId(s()) },
        ClientMessage::StaffLogin { request_id: s(), name: s(), password: s() },
        ClientMessage::StaffResume { request_id: s(), session: s() },
        ClientMessage::StaffLogout { request_id: s() },
        ClientMessage::StaffAccounts { request_id: s() },
        ClientMessage::AddStaff {
            request_id: s(),
            name: s(),
            role: booking_protocol::StaffRole::Admin,
            password: s(),
        },
        ClientMessage::RemoveStaff { request_id: s(), name: s() },
        ClientMessage::StaffCancel { request_id: s(), slot_id: SlotId(s()) },
        ClientMessage::Block { request_id: s(), slot_id: SlotId(s()) },
        ClientMessage::Unblock { request_id: s(), slot_id: SlotId(s()) },
        ClientMessage::EndHold { request_id: s(), slot_id: SlotId(s()) },
        ClientMessage::Hello { last_version: 1 },
        ClientMessage::JoinWaitlist {
            request_id: s(),
            doctor_id: DoctorId(s()),
            window: WaitWindow {
                from_day: NaiveDate::MIN,
                to_day: NaiveDate::MIN,
                from_time: None,
                to_time: None,
            },
            patient: Patient { name: s(), phone: s() },
            proof: None,
        },
        ClientMessage::WatchWaitlist { request_id: s(), wait_token: s() },
        ClientMessage::ChangeWaitlist {
            request_id: s(),
            wait_token: s(),
            window: WaitWindow {
                from_day: NaiveDate::MIN,
                to_day: NaiveDate::MIN,
                from_time: None,
                to_time: None,
            },
        },
        ClientMessage::LeaveWaitlist { request_id: s(), wait_token: s() },
        ClientMessage::AcceptOffer { request_id: s(), wait_token: s() },
        ClientMessage::DeclineOffer { request_id: s(), wait_token: s() },
        ClientMessage::StaffWaitlist { request_id: s() },
        ClientMessage::StaffRemoveWaiting { request_id: s(), entry_id: 1 },
    ] {
        let json = serde_json::to_value(&msg).expect("encodes");
        let name = json["type"].as_str().expect("has a type");
        assert!(ClientMessage::TYPES.contains(&name), "{name} missing from TYPES");
        assert_eq!(msg.request_id().is_some(), json["payload"].get("requestId").is_some(), "{name}");
    }
}
