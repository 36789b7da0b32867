//! The wire contract between the booking server and its clients.
//!
//! Every frame on the server's `/ws` WebSocket is one JSON text message shaped
//! `{"type": "<name>", "payload": {...}}` with camelCase names. A client decodes
//! what the server sends as a [`ServerMessage`] and encodes its requests as a
//! [`ClientMessage`], with any serde format crate (serde_json here):
//!
//! ```
//! use booking_protocol::{ClientMessage, Patient, ServerMessage, SlotId, SlotStatus};
//!
//! // Somebody booked a slot: every connected client gets this `update`.
//! let frame = r#"{"type": "update", "payload": {"version": 43, "slot": {
//!     "id": "therapist-20261125-0900", "doctorId": "therapist",
//!     "start": "2026-11-25T06:00:00Z", "end": "2026-11-25T06:30:00Z",
//!     "status": "booked"}}}"#;
//! let ServerMessage::Update { version, slot } = serde_json::from_str(frame)? else {
//!     panic!("not an update");
//! };
//! assert_eq!((version, slot.status), (43, SlotStatus::Booked));
//!
//! // Asking to book another slot (`proof` is the solved proof-of-work challenge
//! // the server asks for first; the `booking-client` crate does all of this).
//! let book = ClientMessage::Book {
//!     request_id: "5f0c2a9e41d87b36-1".into(),
//!     slot_id: SlotId("therapist-20261125-0930".into()),
//!     patient: Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() },
//!     proof: None,
//! };
//! let text = serde_json::to_string(&book)?;
//! assert!(text.starts_with(r#"{"type":"book","payload":{"requestId":"5f0c2a9e41d87b36-1""#));
//! assert_eq!(serde_json::from_str::<ClientMessage>(&text)?, book);
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! To follow the schedule, feed every server message to a [`Replica`]: it keeps
//! a copy of the schedule, applies updates in version order and says when
//! updates were missed. The feature `solver` adds the solver of the server's
//! proof-of-work challenge (`PowChallenge::solve`).
//!
//! The server, the WASM frontend and the Rust client all use these types, so a
//! change to the schema is a compile error on every side at once. `README.md`
//! beside this crate documents each message with an example (the golden tests in
//! `tests/golden.rs` pin those examples), and says which changes the wire format
//! may see without breaking clients.

#![deny(missing_docs)]

mod domain;
mod failure;
mod pow;
mod replica;
mod server;
mod staff;
mod waitlist;

pub use failure::{BookingFailure, ErrorCode};
pub use pow::{PowChallenge, PowParameters, PowSolution, Proof};
pub use replica::{Applied, Replica};
pub use server::ServerMessage;
pub use staff::{Actor, AuditAction, AuditEntry, HistoryQuery, StaffAccount, StaffRole};
pub use waitlist::{Offer, StaffWaiting, WaitStatus, WaitToken, WaitWindow, WaitlistEntry};

pub use domain::{
    BookingCode, BookingDetails, BookingStatus, Clinic, Doctor, DoctorId, DoctorText, ManageToken, Patient,
    PatientProblem, Schedule, Slot, SlotId, SlotStatus, StaffBooking, Version,
};

use serde::{Deserialize, Serialize};

/// A message a client sends to the server.
// `book` carries its proof of work inline, which makes it the largest variant;
// a message is decoded, handled and dropped, so its size costs nothing that
// boxing would save.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ClientMessage {
    /// Ask to book one slot for a patient.
    Book {
        /// Chosen by the client and echoed in the matching `bookingResult`. It
        /// must be unpredictable (at least 64 random bits): a retry with the same
        /// id, slot and patient gets the first answer again.
        request_id: String,
        /// The slot to book, as given in `initialState`.
        slot_id: SlotId,
        /// Who the appointment is for; sent back to nobody but this client.
        patient: Patient,
        /// A solved `challenge`, when the server asks for proof of work (it
        /// does by default); each solution buys one attempt.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proof: Option<Proof>,
    },
    /// Ask for a proof-of-work challenge to solve before booking.
    Challenge {
        /// Echoed in the `challenge` reply.
        request_id: String,
    },
    /// Restore the configured schedule, cancelling every booking. Admins only;
    /// everyone then gets a new `initialState`.
    Reset {
        /// Echoed in an `error` when refused.
        request_id: String,
    },
    /// Hold a slot while the patient fills in the booking form, so nobody else can
    /// take it meanwhile. A connection holds one slot at a time.
    Hold {
        /// Echoed in the `holdResult`.
        request_id: String,
        /// The slot to hold.
        slot_id: SlotId,
    },
    /// Give the patient more time: move the end of this connection's own live
    /// hold of a slot `holdSeconds` later, as often as `holdExtensions` allows.
    ExtendHold {
        /// Echoed in the `holdResult`.
        request_id: String,
        /// The slot this connection holds.
        slot_id: SlotId,
    },
    /// Let go of a held slot (the patient closed the form).
    Release {
        /// The slot this connection holds.
        slot_id: SlotId,
    },
    /// Show the booking behind a manage link.
    Lookup {
        /// Echoed in the reply.
        request_id: String,
        /// The secret from the manage link.
        manage_token: ManageToken,
    },
    /// Cancel the booking behind a manage link; its slot turns free for everyone.
    Cancel {
        /// Echoed in the `actionResult`.
        request_id: String,
        /// The secret from the manage link.
        manage_token: ManageToken,
    },
    /// Move the booking behind a manage link to another free slot, atomically.
    Reschedule {
        /// Echoed in the reply.
        request_id: String,
        /// The secret from the manage link.
        manage_token: ManageToken,
        /// The free slot to move to.
        slot_id: SlotId,
    },
    /// Log this connection in as a member of staff: the answer is a
    /// `staffSession`, then the `staffState`, and from then on staff updates.
    StaffLogin {
        /// Echoed in the `staffSession`, or in the `error` when refused.
        request_id: String,
        /// The account's login name.
        name: String,
        /// Its password.
        password: String,
    },
    /// Log this connection in with the session a `staffSession` gave (after a
    /// reconnect or a reload), with the same answers as `staffLogin`.
    StaffResume {
        /// Echoed in the `staffSession`, or in the `error` when refused.
        request_id: String,
        /// The `session` of the `staffSession`.
        session: String,
    },
    /// End this connection's staff session, here and on every other connection
    /// that uses it.
    StaffLogout {
        /// Echoed in the `actionResult`.
        request_id: String,
    },
    /// Staff: mark the booking of a slot that has started as a no-show, or
    /// take the mark back.
    StaffNoShow {
        /// Echoed in the `actionResult`.
        request_id: String,
        /// The booked slot.
        slot_id: SlotId,
        /// Whether the patient did not come.
        no_show: bool,
    },
    /// Staff: rows of the audit trail.
    StaffHistory {
        /// Echoed in the `staffHistory`.
        request_id: String,
        /// Which rows.
        query: HistoryQuery,
    },
    /// Admins: erase the name and phone of one booking, on its patient's
    /// request; the booking, its code and its history stay.
    StaffErase {
        /// Echoed in the `actionResult`.
        request_id: String,
        /// The booking's code.
        booking_code: BookingCode,
    },
    /// Admins: every staff account.
    StaffAccounts {
        /// Echoed in the `staffAccounts`.
        request_id: String,
    },
    /// Admins: make a staff account.
    AddStaff {
        /// Echoed in the `actionResult`.
        request_id: String,
        /// Its login name: 1 to 64 letters, digits, `.`, `_` or `-`.
        name: String,
        /// What it may do.
        role: StaffRole,
        /// Its password: at least 12 characters.
        password: String,
    },
    /// Admins: remove a staff account; its sessions end at once.
    RemoveStaff {
        /// Echoed in the `actionResult`.
        request_id: String,
        /// Its login name.
        name: String,
    },
    /// Staff: cancel the booking of a slot.
    StaffCancel {
        /// Echoed in the `actionResult`.
        request_id: String,
        /// The booked slot.
        slot_id: SlotId,
    },
    /// Staff: take a free slot out of the schedule.
    Block {
        /// Echoed in the `actionResult`.
        request_id: String,
        /// The slot to block.
        slot_id: SlotId,
    },
    /// Staff: put a blocked slot back into the schedule.
    Unblock {
        /// Echoed in the `actionResult`.
        request_id: String,
        /// The blocked slot.
        slot_id: SlotId,
    },
    /// Staff: end whoever's hold of a slot; it turns free for everyone.
    EndHold {
        /// Echoed in the `actionResult`.
        request_id: String,
        /// The held slot.
        slot_id: SlotId,
    },
    /// Join a doctor's waitlist: when a slot in the window turns free, it is
    /// held for the first patient waiting for it. Paid for like a booking.
    JoinWaitlist {
        /// Echoed in the `joinResult`.
        request_id: String,
        /// The doctor to wait for.
        doctor_id: DoctorId,
        /// When the patient can come.
        window: WaitWindow,
        /// Who waits; sent back to nobody but this client and staff.
        patient: Patient,
        /// A solved `challenge`, when the server asks for proof of work.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proof: Option<Proof>,
    },
    /// Show the waitlist entry behind a waitlist link, and from then on send
    /// this connection a `waitlist` message whenever an offer to it is made or
    /// ends.
    WatchWaitlist {
        /// Echoed in the reply.
        request_id: String,
        /// The secret from the waitlist link.
        wait_token: WaitToken,
    },
    /// Change the window of a waiting entry; its place stays.
    ChangeWaitlist {
        /// Echoed in the reply.
        request_id: String,
        /// The secret from the waitlist link.
        wait_token: WaitToken,
        /// The new window.
        window: WaitWindow,
    },
    /// Leave the waitlist; a live offer passes on to the next patient.
    LeaveWaitlist {
        /// Echoed in the `actionResult`.
        request_id: String,
        /// The secret from the waitlist link.
        wait_token: WaitToken,
    },
    /// Book the slot offered to this entry, for the entry's patient.
    AcceptOffer {
        /// Echoed in the `bookingResult`.
        request_id: String,
        /// The secret from the waitlist link.
        wait_token: WaitToken,
    },
    /// Turn down the live offer: it passes to the next patient waiting, and
    /// this entry keeps waiting for another slot.
    DeclineOffer {
        /// Echoed in the `actionResult`.
        request_id: String,
        /// The secret from the waitlist link.
        wait_token: WaitToken,
    },
    /// Staff: every entry waiting now, with its patient and live offer.
    StaffWaitlist {
        /// Echoed in the `staffWaitlist`.
        request_id: String,
    },
    /// Staff: take an entry off the waitlist; a live offer passes on.
    StaffRemoveWaiting {
        /// Echoed in the `actionResult`.
        request_id: String,
        /// The entry's id, as `staffWaitlist` gives it.
        entry_id: u64,
    },
    /// Say which schedule version this client holds, after it noticed missed
    /// updates: the server answers with `resumed` and the updates after that
    /// version, or with a fresh `initialState` when it no longer has them.
    Hello {
        /// The version of the last schedule change this client applied; 0 when it
        /// has none.
        last_version: Version,
    },
}

impl ClientMessage {
    /// The `type` names a client may send, for telling an unknown type from a
    /// known type with a malformed payload.
    pub const TYPES: &'static [&'static str] = &[
        "book",
        "challenge",
        "reset",
        "hold",
        "extendHold",
        "release",
        "lookup",
        "cancel",
        "reschedule",
        "staffLogin",
        "staffResume",
        "staffLogout",
        "staffNoShow",
        "staffHistory",
        "staffErase",
        "staffAccounts",
        "addStaff",
        "removeStaff",
        "staffCancel",
        "block",
        "unblock",
        "endHold",
        "hello",
        "joinWaitlist",
        "watchWaitlist",
        "changeWaitlist",
        "leaveWaitlist",
        "acceptOffer",
        "declineOffer",
        "staffWaitlist",
        "staffRemoveWaiting",
    ];

    /// The client's request id, for messages that carry one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Book { request_id, .. }
            | Self::Challenge { request_id, .. }
            | Self::Hold { request_id, .. }
            | Self::ExtendHold { request_id, .. }
            | Self::Lookup { request_id, .. }
            | Self::Cancel { request_id, .. }
            | Self::Reschedule { request_id, .. }
            | Self::StaffCancel { request_id, .. }
            | Self::Block { request_id, .. }
            | Self::Unblock { request_id, .. }
            | Self::EndHold { request_id, .. }
            | Self::JoinWaitlist { request_id, .. }
            | Self::WatchWaitlist { request_id, .. }
            | Self::ChangeWaitlist { request_id, .. }
            | Self::LeaveWaitlist { request_id, .. }
            | Self::AcceptOffer { request_id, .. }
            | Self::DeclineOffer { request_id, .. }
            | Self::StaffWaitlist { request_id, .. }
            | Self::StaffRemoveWaiting { request_id, .. }
            | Self::Reset { request_id }
            | Self::StaffLogin { request_id, .. }
            | Self::StaffResume { request_id, .. }
            | Self::StaffLogout { request_id }
            | Self::StaffNoShow { request_id, .. }
            | Self::StaffHistory { request_id, .. }
            | Self::StaffErase { request_id, .. }
            | Self::StaffAccounts { request_id }
            | Self::AddStaff { request_id, .. }
            | Self::RemoveStaff { request_id, .. } => Some(request_id),
            Self::Release { .. } | Self::Hello { .. } => None,
        }
    }
}
