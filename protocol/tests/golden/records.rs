//! Golden tests of the messages about a booking's records: marking a no-show,
//! erasing a patient's details, and the staff update of a marked booking.

use booking_protocol::{ClientMessage, Patient, ServerMessage, StaffBooking};

use super::{assert_golden, at, id};

#[test]
fn staff_no_show_example_round_trips() {
    assert_golden(
        "`staffNoShow`",
        ClientMessage::StaffNoShow {
            request_id: "s-4".into(),
            slot_id: id("therapist-20261124-0900"),
            no_show: true,
        },
    );
}

#[test]
fn staff_erase_example_round_trips() {
    assert_golden(
        "`staffErase`",
        ClientMessage::StaffErase { request_id: "s-5".into(), booking_code: "K7M2-QX4P".into() },
    );
}

#[test]
fn staff_update_of_a_no_show_example_round_trips() {
    assert_golden(
        "`staffUpdate` (no-show)",
        ServerMessage::StaffUpdate {
            version: 61,
            slot_id: id("therapist-20261124-0900"),
            booking: Some(StaffBooking {
                slot_id: id("therapist-20261124-0900"),
                code: "K7M2-QX4P".into(),
                patient: Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() },
                booked_at: at("2026-11-23T15:02:41Z"),
                no_show: true,
            }),
        },
    );
}
