//! Durable storage of the schedule behind a narrow trait, so that the engine runs
//! the same on SQLite (the embedded default) and on other databases.

mod sqlite;

pub use sqlite::SqliteStore;

use std::future::Future;

use chrono::{DateTime, Utc};
use protocol::{DoctorId, Patient, SlotId, Version};

use crate::Result;
use crate::clinic::SlotDef;

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
    /// The client's request id, for answering a retry with the same booking.
    pub request_id: &'a str,
    /// When the booking was made.
    pub at: DateTime<Utc>,
}

/// Why one booking of a batch was not committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// An active booking already holds the slot (the database's constraint said so).
    #[error("the slot is already booked")]
    SlotTaken,
    /// The booking code is in use; try again with another one.
    #[error("the booking code is in use")]
    CodeTaken,
}

/// The schedule's durable home. Every method that changes the schedule commits one
/// transaction that also advances the version by one per changed slot, and returns
/// the new version.
pub trait Store: Send + Sync + 'static {
    /// The version, every slot starting at or after `from`, and their bookings.
    fn load(&self, from: DateTime<Utc>) -> impl Future<Output = Result<Loaded>> + Send;

    /// Adds the slots not yet stored and updates the times of unbooked ones. The
    /// version advances when any slot was added or when `always_advance` asks for
    /// it; the current version is returned.
    fn add_slots(
        &self,
        slots: &[SlotDef],
        always_advance: bool,
    ) -> impl Future<Output = Result<Version>> + Send;

    /// Commits a batch of bookings in one transaction (one durable write for all of
    /// them), the database refusing a second active booking of a slot; a hold on a
    /// booked slot ends with it. Each booking gets its own outcome; the versions
    /// of those committed follow each other in the order given. An `Err` means
    /// nothing was committed.
    /// A committed booking's outcome is its version and its row id.
    fn book_many(
        &self,
        bookings: &[NewBooking<'_>],
    ) -> impl Future<Output = Result<Vec<Result<(Version, i64), BookError>>>> + Send;

    /// Records a hold; `None` when the slot is held already.
    fn hold(
        &self,
        slot: &SlotId,
        holder: &str,
        expires: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Ends the hold of a slot; `None` when there was none.
    fn release(&self, slot: &SlotId) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Ends every hold (at start-up: their holders' connections are gone) and
    /// returns the version.
    fn release_all(&self) -> impl Future<Output = Result<Version>> + Send;

    /// The booking whose manage secret hashes to `hash`.
    fn booking_by_hash(&self, hash: &str) -> impl Future<Output = Result<Option<StoredBooking>>> + Send;

    /// The active booking a request with this id made of this slot.
    fn booking_by_request(
        &self,
        request_id: &str,
        slot: &SlotId,
    ) -> impl Future<Output = Result<Option<StoredBooking>>> + Send;

    /// Cancels an active booking; `None` when it was not active.
    fn cancel(&self, booking: i64, at: DateTime<Utc>)
    -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Moves an active booking to another slot in one statement, so it ends on
    /// exactly one of the two; the version advances by two (old slot, new slot).
    /// `Err(SlotTaken)` when the target has an active booking.
    fn reschedule(
        &self,
        booking: i64,
        to: &SlotId,
    ) -> impl Future<Output = Result<Result<Version, BookError>>> + Send;

    /// Blocks a slot; `None` when it was blocked already.
    fn block(&self, slot: &SlotId, at: DateTime<Utc>)
    -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Unblocks a slot; `None` when it was not blocked.
    fn unblock(&self, slot: &SlotId) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Cancels every active booking at `at`, ends holds and blocks, adds missing
    /// slots and advances the version.
    fn reset(&self, slots: &[SlotDef], at: DateTime<Utc>) -> impl Future<Output = Result<Version>> + Send;
}
