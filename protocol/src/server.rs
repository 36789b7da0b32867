//! The messages the server sends: answers to requests, the schedule and its
//! changes, and what only staff consoles or a waitlist link's page receive.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    AuditEntry, BookingCode, BookingDetails, BookingFailure, ErrorCode, ManageToken, PowChallenge, Schedule,
    Slot, SlotId, StaffAccount, StaffBooking, StaffRole, StaffWaiting, Version, WaitToken, WaitlistEntry,
};

/// A message the server sends to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ServerMessage {
    /// The whole schedule; sent on connect and to everyone after a reset.
    /// A client replaces all it knows with it.
    InitialState(Schedule),
    /// The answer to a resuming client (`hello`, or `/ws?lastVersion=`) whose
    /// version the server can still bring up to date: the `update`s after it
    /// follow, up to `version`, and then the live ones.
    Resumed {
        /// The version the client holds once the updates that follow are applied.
        version: Version,
    },
    /// One slot changed; `version` is the schedule version after the change.
    Update {
        /// The schedule version this change produced.
        version: Version,
        /// The slot as it is now.
        slot: Slot,
    },
    /// The answer to one `book`, sent to its sender only.
    BookingResult {
        /// The `requestId` of the `book` this answers.
        request_id: String,
        /// Whether the slot is now booked for this client's patient.
        ok: bool,
        /// The code the patient quotes to the clinic; present when `ok`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        booking_code: Option<BookingCode>,
        /// The secret of the booking's private manage link; present when `ok`
        /// (absent when a retried request is answered after the server restarted,
        /// since the server keeps only its hash).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        manage_token: Option<ManageToken>,
        /// Why the booking was refused; present when not `ok`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<BookingFailure>,
    },
    /// The answer to a `hold` or an `extendHold`, to its sender only.
    HoldResult {
        /// The `requestId` of the `hold` or `extendHold`.
        request_id: String,
        /// Whether this connection now holds the slot (for `extendHold`: whether
        /// the hold was extended).
        ok: bool,
        /// When the hold ends unless it is extended or the slot booked first;
        /// present when `ok`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<DateTime<Utc>>,
        /// Why the hold was refused; present when not `ok`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<BookingFailure>,
    },
    /// A booking, to the holder of its manage link: the answer to `lookup` and to
    /// a successful `reschedule`.
    Booking {
        /// The `requestId` answered.
        request_id: String,
        /// The booking as it is now.
        booking: BookingDetails,
    },
    /// The answer to `cancel`, staff actions, `leaveWaitlist`, `declineOffer`,
    /// and to a failed `lookup`, `reschedule`, `watchWaitlist` or
    /// `changeWaitlist`.
    ActionResult {
        /// The `requestId` answered.
        request_id: String,
        /// Whether it was done.
        ok: bool,
        /// Why not; present when not `ok`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<BookingFailure>,
    },
    /// The answer to `staffLogin` and `staffResume`: this connection is a
    /// staff console now.
    StaffSession {
        /// The `requestId` answered.
        request_id: String,
        /// The session's secret, for `staffResume`; it ends at `expiresAt`, on
        /// `staffLogout`, or when the account is removed.
        session: String,
        /// The account's login name.
        name: String,
        /// What it may do.
        role: StaffRole,
        /// When the session ends (RFC 3339, UTC).
        expires_at: DateTime<Utc>,
    },
    /// To a staff console whose session ended while it was connected (logged
    /// out elsewhere, run out, or its account removed): it gets no more staff
    /// messages and must log in again.
    StaffEnded {},
    /// The answer to `staffHistory`: the matching audit rows, newest first.
    StaffHistory {
        /// The `requestId` answered.
        request_id: String,
        /// The rows.
        entries: Vec<AuditEntry>,
    },
    /// The answer to `staffAccounts`: every account, by name.
    StaffAccounts {
        /// The `requestId` answered.
        request_id: String,
        /// The accounts.
        accounts: Vec<StaffAccount>,
    },
    /// To a staff console after `staffSession`: every active booking with its
    /// patient, as of `version`.
    StaffState {
        /// The schedule version these bookings are as of.
        version: Version,
        /// Every active booking.
        bookings: Vec<StaffBooking>,
    },
    /// To staff consoles only, right after the `update` of the same version: who
    /// now holds the slot's booking, if anyone.
    StaffUpdate {
        /// The version of the matching `update`.
        version: Version,
        /// The slot that changed.
        slot_id: SlotId,
        /// Its active booking, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        booking: Option<StaffBooking>,
    },
    /// The answer to `challenge`: the proof of work to do before booking.
    Challenge {
        /// The `requestId` of the `challenge`.
        request_id: String,
        /// What to solve.
        challenge: PowChallenge,
    },
    /// The answer to `joinWaitlist`, to its sender only.
    JoinResult {
        /// The `requestId` of the `joinWaitlist`.
        request_id: String,
        /// Whether the patient is on the waitlist now.
        ok: bool,
        /// The secret of the entry's private waitlist link; present when `ok`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait_token: Option<WaitToken>,
        /// Why not; present when not `ok`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<BookingFailure>,
    },
    /// A waitlist entry, to the holder of its link: the answer to
    /// `watchWaitlist` and `changeWaitlist` (with their `requestId`), and, to a
    /// connection watching it, the entry again whenever an offer to it is made
    /// or ends (without one).
    Waitlist {
        /// The `requestId` answered; absent when the server tells of a change.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        /// The entry as it is now.
        entry: WaitlistEntry,
    },
    /// The answer to `staffWaitlist`: every waiting entry, in the order offers
    /// go to them (doctor, then joining).
    StaffWaitlist {
        /// The `requestId` answered.
        request_id: String,
        /// The entries.
        entries: Vec<StaffWaiting>,
    },
    /// A request could not be processed. The connection stays usable.
    Error {
        /// What kind of failure this is, for programs.
        code: ErrorCode,
        /// What went wrong, for people.
        message: String,
        /// The `requestId` of the message this answers, when it had one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
}

impl ServerMessage {
    /// The `type` names the server may send. A client that meets a type not
    /// listed here talks to a newer server, and can skip the message instead of
    /// failing (see the compatibility promise in `README.md`).
    pub const TYPES: &'static [&'static str] = &[
        "initialState",
        "resumed",
        "update",
        "bookingResult",
        "holdResult",
        "booking",
        "actionResult",
        "staffSession",
        "staffEnded",
        "staffHistory",
        "staffAccounts",
        "staffState",
        "staffUpdate",
        "challenge",
        "joinResult",
        "waitlist",
        "staffWaitlist",
        "error",
    ];

    /// The request this message answers, for replies that name one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::BookingResult { request_id, .. }
            | Self::HoldResult { request_id, .. }
            | Self::Booking { request_id, .. }
            | Self::ActionResult { request_id, .. }
            | Self::Challenge { request_id, .. }
            | Self::JoinResult { request_id, .. }
            | Self::StaffWaitlist { request_id, .. }
            | Self::StaffSession { request_id, .. }
            | Self::StaffHistory { request_id, .. }
            | Self::StaffAccounts { request_id, .. } => Some(request_id),
            Self::Error { request_id, .. } | Self::Waitlist { request_id, .. } => request_id.as_deref(),
            Self::InitialState(_)
            | Self::Resumed { .. }
            | Self::Update { .. }
            | Self::StaffState { .. }
            | Self::StaffUpdate { .. }
            | Self::StaffEnded {} => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ServerMessage;

    #[test]
    fn every_type_the_server_may_send_is_listed_and_nothing_else() {
        // serde names every variant it knows when it meets a type it does not.
        let error = serde_json::from_str::<ServerMessage>(r#"{"type": "noSuchType", "payload": {}}"#)
            .expect_err("an unknown type does not decode")
            .to_string();
        let (_, expected) = error.split_once("expected one of ").expect("serde lists the known types");
        let mut known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let mut listed = ServerMessage::TYPES.to_vec();
        known.sort_unstable();
        listed.sort_unstable();
        assert_eq!(listed, known);
    }
}
