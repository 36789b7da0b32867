//! Golden tests: every example in `README.md` decodes to a known value and that
//! value encodes back to the same JSON, so the documentation cannot drift from
//! the code.

use chrono::{DateTime, Utc};
use protocol::{
    BookingFailure, ClientMessage, Clinic, Doctor, DoctorId, ErrorCode, Patient, Schedule, ServerMessage,
    Slot, SlotId, SlotStatus,
};
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
    }
}

#[test]
fn book_example_round_trips() {
    assert_golden(
        "`book`",
        ClientMessage::Book {
            request_id: "r-1".into(),
            slot_id: SlotId("therapist-20261125-0900".into()),
            patient: Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() },
        },
    );
}

#[test]
fn reset_example_round_trips() {
    assert_golden("`reset`", ClientMessage::Reset { admin_token: "s3cret".into() });
}

#[test]
fn initial_state_example_round_trips() {
    assert_golden(
        "`initialState`",
        ServerMessage::InitialState(Schedule {
            version: 42,
            clinic: Clinic { name: "City Clinic".into(), time_zone: "Europe/Moscow".into() },
            doctors: vec![Doctor {
                id: DoctorId("therapist".into()),
                name: "Dr. Ivanova".into(),
                specialty: "Therapist".into(),
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
            ],
        }),
    );
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
}

#[test]
fn booking_result_examples_round_trip() {
    assert_golden(
        "`bookingResult`",
        ServerMessage::BookingResult {
            request_id: "r-1".into(),
            ok: true,
            booking_code: Some("K7M2-QX4P".into()),
            reason: None,
        },
    );
    assert_golden(
        "`bookingResult` (refused)",
        ServerMessage::BookingResult {
            request_id: "r-2".into(),
            ok: false,
            booking_code: None,
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
            message: "The admin token is not valid.".into(),
            request_id: None,
        },
    );
}

#[test]
fn every_client_type_name_is_listed() {
    for msg in [
        ClientMessage::Book {
            request_id: String::new(),
            slot_id: SlotId(String::new()),
            patient: Patient { name: String::new(), phone: String::new() },
        },
        ClientMessage::Reset { admin_token: String::new() },
    ] {
        let json = serde_json::to_value(&msg).expect("encodes");
        let name = json["type"].as_str().expect("has a type");
        assert!(ClientMessage::TYPES.contains(&name), "{name} missing from TYPES");
    }
}
