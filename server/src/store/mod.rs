//! Durable storage of the schedule behind a narrow trait, so that the engine runs
//! the same on SQLite (the embedded default) and on PostgreSQL (several server
//! instances on one database).
//!
//! The database is the authority. Every change commits in one transaction that
//! takes the next schedule version(s) and records what it did in the `changes`
//! log, and the rules of the schedule (one booking per slot, holds and blocks
//! keep others out) are checked inside that transaction, so an engine whose
//! picture of the schedule is a moment out of date still cannot break them.

mod audit;
mod book;
mod connect;
mod contract;
mod holds;
mod listen;
mod manage;
mod records;
mod rows;
mod slots;
mod sql;
mod text;
mod waitlist;
mod writer;

pub use audit::AuditRow;
pub(crate) use audit::{append_rows as append_audit_rows, lock_writers};
pub use connect::Backend;
pub use contract::Store;
pub use records::Erased;
pub use sql::SqlStore;

use chrono::{DateTime, Utc};
use protocol::{DoctorId, Patient, SlotId, Version, WaitStatus, WaitWindow};

/// What holds a stored slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredState {
    /// Nothing.
    Free,
    /// An active booking.
    Booked,
    /// A hold by `holder` until `expires`.
    Held {
        /// Who holds it.
        holder: String,
        /// When the hold ends.
        expires: DateTime<Utc>,
    },
    /// A staff block.
    Blocked,
}

/// A slot as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSlot {
    /// Slot id.
    pub id: SlotId,
    /// The doctor's id.
    pub doctor_id: DoctorId,
    /// UTC start.
    pub start: DateTime<Utc>,
    /// UTC end.
    pub end: DateTime<Utc>,
    /// What holds it.
    pub state: StoredState,
}

/// What the store holds from some instant on.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The current schedule version.
    pub version: Version,
    /// Slots starting at or after the instant asked for, ordered by start.
    pub slots: Vec<StoredSlot>,
    /// The active bookings of those slots.
    pub bookings: Vec<StoredBooking>,
}

/// One booking as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBooking {
    /// Row id.
    pub id: i64,
    /// The slot it holds (or held, when cancelled).
    pub slot_id: SlotId,
    /// The booking code.
    pub code: String,
    /// Who it is for.
    pub patient: Patient,
    /// When it was made.
    pub booked_at: DateTime<Utc>,
    /// Whether it still holds its slot.
    pub active: bool,
    /// Its revision: 0 when booked, one more with every reschedule and with
    /// the cancel.
    pub sequence: u32,
    /// Whether staff marked its patient as not having come.
    pub no_show: bool,
}

/// A booking to commit.
#[derive(Debug, Clone)]
pub struct NewBooking<'a> {
    /// The slot to book.
    pub slot_id: &'a SlotId,
    /// The code given to the patient; unique among all bookings.
    pub code: &'a str,
    /// SHA-256 (hex) of the manage-link secret.
    pub manage_hash: &'a str,
    /// Who the booking is for.
    pub patient: &'a Patient,
    /// A hash of the client's request id with the slot and the patient (never
    /// the id itself), for answering a retry of the same request.
    pub retry_key: &'a str,
    /// The nonce of the proof of work that paid for it, if one was asked for;
    /// no two bookings share one.
    pub proof: Option<&'a str>,
    /// The holder name of the booking connection: its own hold does not keep it
    /// out, anybody else's does.
    pub holder: &'a str,
    /// When the booking was made.
    pub at: DateTime<Utc>,
    /// Who books it, and from where, for the audit trail.
    pub origin: &'a crate::audit::Origin,
}

/// The moment a slot may turn free, with what the waitlist needs to offer it
/// in the same transaction: a slot that turns free while somebody waits for it
/// is held for the first of them instead, so it is never free in between.
#[derive(Debug, Clone, Copy)]
pub struct Offering {
    /// Now.
    pub now: DateTime<Utc>,
    /// When an offer made now runs out.
    pub until: DateTime<Utc>,
    /// Only slots starting after this are offered (the clinic's minimum
    /// notice: a slot starting sooner could not be booked).
    pub earliest: DateTime<Utc>,
    /// The clinic's time zone, in which waitlist windows are meant.
    pub zone: chrono_tz::Tz,
}

/// The prefix of the holder name of a hold that is a waitlist offer; the
/// entry's id follows.
pub const OFFER_HOLDER: &str = "wait/";

/// The holder name of the offer to waitlist entry `id`.
pub fn offer_holder(id: i64) -> String {
    format!("{OFFER_HOLDER}{id}")
}

/// The waitlist entry a holder name offers to, when it is an offer.
pub fn offered_to(holder: &str) -> Option<i64> {
    holder.strip_prefix(OFFER_HOLDER)?.parse().ok()
}

/// A waitlist entry to add.
#[derive(Debug, Clone)]
pub struct NewWaiting<'a> {
    /// The doctor waited for.
    pub doctor_id: &'a DoctorId,
    /// When the patient can come.
    pub window: &'a WaitWindow,
    /// Who waits (normalized).
    pub patient: &'a Patient,
    /// SHA-256 (hex) of the waitlist link's secret.
    pub token_hash: &'a str,
    /// When the patient joined.
    pub at: DateTime<Utc>,
    /// How many entries one phone number may have waiting at once.
    pub per_phone: usize,
    /// The nonce of the proof of work that pays for joining, if one was asked
    /// for; it then pays for nothing else, on any instance.
    pub proof: Option<&'a str>,
    /// Who joins, and from where, for the audit trail.
    pub origin: &'a crate::audit::Origin,
}

/// A waitlist entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredWaiting {
    /// Row id; the order of joining.
    pub id: i64,
    /// The doctor waited for.
    pub doctor_id: DoctorId,
    /// When the patient can come.
    pub window: WaitWindow,
    /// Who waits.
    pub patient: Patient,
    /// When the patient joined.
    pub joined_at: DateTime<Utc>,
    /// Waiting (or offered: see `offer`), booked, left or removed.
    pub status: WaitStatus,
    /// The place among those waiting for the same doctor, while waiting.
    pub place: Option<u32>,
    /// The slot held for this entry now, and until when.
    pub offer: Option<(SlotId, DateTime<Utc>)>,
    /// The code of the booking taken from an offer, when booked.
    pub booking_code: Option<String>,
}

/// Why the schedule's rules, checked in the database, refused a change. The
/// engine decides what each means to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// There is no such slot.
    #[error("no such slot")]
    NoSuchSlot,
    /// The slot has an active booking.
    #[error("booked")]
    Booked,
    /// Staff blocked the slot.
    #[error("blocked")]
    Blocked,
    /// Somebody else holds the slot.
    #[error("held")]
    Held,
    /// The booking is no longer active.
    #[error("not active")]
    NotActive,
    /// The proof of work paid for a booking already.
    #[error("proof spent")]
    ProofSpent,
    /// The phone number has as many waitlist entries waiting as it may.
    #[error("already waiting")]
    AlreadyWaiting,
    /// The waitlist entry is no longer waiting, or has no live offer.
    #[error("no offer")]
    NoOffer,
}

/// Why one booking of a batch was not committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// The schedule's rules refused it: booked, held by somebody else, blocked.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// The booking code is in use; try again with another one.
    #[error("the booking code is in use")]
    CodeTaken,
}

/// One committed change, as the `changes` log keeps it: enough for another
/// server instance to apply it to its own picture of the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The version this change produced.
    pub version: Version,
    /// What changed.
    pub what: Changed,
}

/// What one change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// One slot is now in this state; `booking` is its active booking when booked.
    Slot {
        /// The slot.
        id: SlotId,
        /// Its state after the change.
        state: StoredState,
        /// The booking that holds it, when `state` is `Booked`.
        booking: Option<StoredBooking>,
    },
    /// Many slots changed at once (a reset, a new day, a new configuration): read
    /// the whole schedule again.
    Reload,
}

/// What the store tells an engine about changes committed by others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A change with this version was committed.
    Committed(Version),
    /// Notifications may have been missed (the listening connection was lost and
    /// is back): look for changes since the last one seen.
    CatchUp,
}
