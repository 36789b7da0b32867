//! Why a request was refused, and the kinds of `error` the server sends.

use serde::{Deserialize, Serialize};

/// Why a request about a slot or a booking was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BookingFailure {
    /// Somebody else has booked this slot already.
    AlreadyBooked,
    /// No such slot, or no booking behind this manage link.
    NotFound,
    /// The slot has already started.
    Past,
    /// The patient's name or phone is missing or malformed.
    InvalidPatient,
    /// Somebody else is booking this slot right now.
    Held,
    /// The slot starts too soon to be booked (inside the clinic's minimum notice).
    TooSoon,
    /// Staff have taken this slot out of the schedule.
    Blocked,
    /// The booking was already cancelled.
    Cancelled,
    /// The slot is not in a state that allows this (such as unblocking a slot
    /// that is not blocked).
    WrongState,
    /// This client's network already holds as many slots as it may at once.
    TooManyHolds,
    /// This client's network held this slot a moment ago; for a while others
    /// get their turn to hold it.
    HoldCooldown,
    /// This phone number already has as many upcoming appointments as it may.
    LimitReached,
    /// This client's network has made as many bookings as it may this hour.
    TooManyBookings,
    /// The proof of work is missing, wrong, expired or already used.
    ChallengeFailed,
    /// This hold has been extended as many times as a hold may be.
    TooManyExtensions,
    /// The waitlist window is out of order, or outside the days the schedule
    /// shows.
    InvalidWindow,
    /// There is no live offer to this waitlist entry (it ran out, or passed on).
    NoOffer,
    /// This phone number is already waiting as often as it may.
    AlreadyWaiting,
}

impl BookingFailure {
    /// A sentence a person can read.
    pub fn describe(self) -> &'static str {
        match self {
            Self::AlreadyBooked => "Someone else has just booked this slot.",
            Self::NotFound => "Nothing was found; the link or the slot may be wrong.",
            Self::Past => "This slot has already started.",
            Self::InvalidPatient => "Please give a name and a valid phone number.",
            Self::Held => "Someone else is booking this slot right now.",
            Self::TooSoon => "This slot starts too soon to be booked online; please call the clinic.",
            Self::Blocked => "This slot is not available.",
            Self::Cancelled => "This booking was already cancelled.",
            Self::WrongState => "The slot has changed meanwhile; please look again.",
            Self::TooManyHolds => {
                "Your network is already reserving several slots; finish or close those forms first."
            }
            Self::HoldCooldown => {
                "You reserved this slot a moment ago, so others get a turn now; you can still book it if it stays free."
            }
            Self::LimitReached => {
                "This phone number already has the most upcoming appointments allowed; please call the clinic."
            }
            Self::TooManyBookings => {
                "Too many bookings came from your network this hour; please try later or call the clinic."
            }
            Self::ChallengeFailed => "The check that you are not a robot did not pass; please try again.",
            Self::TooManyExtensions => {
                "This slot cannot be reserved for longer; you can still book it if it stays free."
            }
            Self::InvalidWindow => "Please choose days (and hours) in order, within the schedule shown.",
            Self::NoOffer => {
                "This offer is no longer open; you are still on the waitlist unless it says otherwise."
            }
            Self::AlreadyWaiting => {
                "This phone number is already on as many waitlists as allowed; please call the clinic."
            }
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
    /// Not logged in as staff, a wrong name or password, a session that
    /// ended, or a role that may not do this.
    Forbidden,
    /// Too many messages, or too many wrong secrets; wait before trying again.
    RateLimited,
    /// The server failed; the request may be retried.
    Internal,
}
