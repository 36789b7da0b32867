//! Golden tests of staff logins, sessions and accounts: logging in by name and
//! password or resuming a session, logging out, the admins' management of
//! accounts, and the answers to them.

use booking_protocol::{ClientMessage, ErrorCode, ServerMessage, StaffAccount, StaffRole};

use super::{assert_golden, at};

/// The session secret of the README's examples.
const SESSION: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

#[test]
fn staff_login_and_resume_examples_round_trip() {
    assert_golden(
        "`staffLogin`",
        ClientMessage::StaffLogin {
            request_id: "a-2".into(),
            name: "rita".into(),
            password: "correct horse battery".into(),
        },
    );
    assert_golden(
        "`staffResume`",
        ClientMessage::StaffResume { request_id: "a-3".into(), session: SESSION.into() },
    );
    assert_golden("`staffLogout`", ClientMessage::StaffLogout { request_id: "a-4".into() });
}

#[test]
fn staff_session_and_its_end_examples_round_trip() {
    assert_golden(
        "`staffSession`",
        ServerMessage::StaffSession {
            request_id: "a-2".into(),
            session: SESSION.into(),
            name: "rita".into(),
            role: StaffRole::Receptionist,
            expires_at: at("2026-11-24T19:10:00Z"),
        },
    );
    assert_golden("`staffEnded`", ServerMessage::StaffEnded {});
}

#[test]
fn staff_account_examples_round_trip() {
    assert_golden("`staffAccounts`", ClientMessage::StaffAccounts { request_id: "a-5".into() });
    assert_golden(
        "`addStaff`",
        ClientMessage::AddStaff {
            request_id: "a-6".into(),
            name: "nina".into(),
            role: StaffRole::Receptionist,
            password: "violet-lamp-41".into(),
        },
    );
    assert_golden(
        "`removeStaff`",
        ClientMessage::RemoveStaff { request_id: "a-7".into(), name: "nina".into() },
    );
    assert_golden(
        "`staffAccounts` (answer)",
        ServerMessage::StaffAccounts {
            request_id: "a-5".into(),
            accounts: vec![
                StaffAccount {
                    name: "admin".into(),
                    role: StaffRole::Admin,
                    created_at: at("2026-11-20T08:00:00Z"),
                },
                StaffAccount {
                    name: "rita".into(),
                    role: StaffRole::Receptionist,
                    created_at: at("2026-11-20T08:05:00Z"),
                },
            ],
        },
    );
    assert_golden(
        "`error` (refused staff change)",
        ServerMessage::Error {
            code: ErrorCode::InvalidMessage,
            message: "Refused: a password needs at least 12 characters.".into(),
            request_id: Some("a-6".into()),
        },
    );
}
