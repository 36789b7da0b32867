//! Golden tests of the audit trail's messages: the staff console's
//! `staffHistory` request and its answer.

use booking_protocol::{Actor, AuditAction, AuditEntry, ClientMessage, HistoryQuery, ServerMessage};

use super::{assert_golden, at, id};

#[test]
fn staff_history_example_round_trips() {
    assert_golden(
        "`staffHistory`",
        ClientMessage::StaffHistory {
            request_id: "s-6".into(),
            query: HistoryQuery {
                booking_code: Some("K7M2-QX4P".into()),
                since: Some(at("2026-11-24T00:00:00Z")),
                limit: Some(50),
                ..HistoryQuery::default()
            },
        },
    );
}

/// A row of the example's booking, with what every row of it has.
fn row(id: u64, when: &str, actor: Actor, action: AuditAction, slot: &str, address: &str) -> AuditEntry {
    AuditEntry {
        id,
        at: at(when),
        actor,
        action,
        slot_id: Some(super::id(slot)),
        other_slot_id: None,
        booking_code: Some("K7M2-QX4P".into()),
        entry_id: None,
        address: Some(address.into()),
        detail: None,
    }
}

#[test]
fn staff_history_answer_example_round_trips() {
    let rita = Actor::Staff { name: "rita".into() };
    let moved = AuditEntry {
        other_slot_id: Some(id("therapist-20261125-0900")),
        ..row(
            398,
            "2026-11-24T07:20:12Z",
            Actor::ManageLink,
            AuditAction::Rescheduled,
            "therapist-20261125-0930",
            "2001:db8:5:7::/64",
        )
    };
    assert_golden(
        "`staffHistory` (answer)",
        ServerMessage::StaffHistory {
            request_id: "s-6".into(),
            entries: vec![
                row(
                    412,
                    "2026-11-24T07:31:05Z",
                    rita,
                    AuditAction::Cancelled,
                    "therapist-20261125-0930",
                    "192.0.2.10",
                ),
                moved,
                row(
                    350,
                    "2026-11-24T07:10:41Z",
                    Actor::Patient,
                    AuditAction::Booked,
                    "therapist-20261125-0900",
                    "192.0.2.7",
                ),
            ],
        },
    );
}
