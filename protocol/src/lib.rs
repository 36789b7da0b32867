//! The wire contract between the booking server and its clients.
//!
//! Every frame is a JSON text message shaped `{"type": "<name>", "payload": {...}}`
//! with camelCase names. The server, the WASM frontend and any Rust client all use
//! these types, so a change to the schema is a compile error on every side at once.
//! `README.md` beside this crate documents each message with an example, and the
//! golden tests in `tests/golden.rs` pin those examples.

mod domain;

pub use domain::{
    BookingCode, Clinic, Doctor, DoctorId, Patient, Schedule, Slot, SlotId, SlotStatus, Version,
};

use serde::{Deserialize, Serialize};

/// A message a client sends to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ClientMessage {
    /// Ask to book one slot for a patient.
    Book {
        /// Chosen by the client and echoed in the matching `bookingResult`.
        request_id: String,
        /// The slot to book, as given in `initialState`.
        slot_id: SlotId,
        /// Who the appointment is for; sent back to nobody but this client.
        patient: Patient,
    },
    /// Restore the demo schedule, clearing every booking. Staff only.
    Reset {
        /// The server's admin token.
        admin_token: String,
    },
}

impl ClientMessage {
    /// The `type` names a client may send, for telling an unknown type from a
    /// known type with a malformed payload.
    pub const TYPES: &'static [&'static str] = &["book", "reset"];
}

/// A message the server sends to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ServerMessage {
    /// The whole schedule; sent on connect and to everyone after a reset.
    /// A client replaces all it knows with it.
    InitialState(Schedule),
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
        /// Why the booking was refused; present when not `ok`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<BookingFailure>,
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

/// Why a `book` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BookingFailure {
    /// Somebody else holds this slot already.
    AlreadyBooked,
    /// No slot has this id.
    NotFound,
    /// The slot has already started.
    Past,
    /// The patient's name or phone is missing or malformed.
    InvalidPatient,
}

impl BookingFailure {
    /// A sentence a person can read.
    pub fn describe(self) -> &'static str {
        match self {
            Self::AlreadyBooked => "Someone else has just booked this slot.",
            Self::NotFound => "This slot does not exist.",
            Self::Past => "This slot has already started.",
            Self::InvalidPatient => "Please give a name and a valid phone number.",
        }
    }
}

/// The kinds of `error` the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    /// The frame was not valid JSON.
    InvalidJson,
    /// The JSON named a `type` the server does not know.
    UnknownType,
    /// The `type` is known but the payload is missing fields or has ill-typed ones.
    InvalidMessage,
    /// A binary frame; the protocol uses text frames only.
    BinaryFrame,
    /// The admin token was wrong or missing.
    Forbidden,
    /// The server failed; the request may be retried.
    Internal,
}
