//! Durable storage of the schedule behind a narrow trait, so that the engine runs
//! the same on SQLite (the embedded default) and on other databases.

mod sqlite;

pub use sqlite::SqliteStore;

use std::future::Future;

use chrono::{DateTime, Utc};
use protocol::{DoctorId, Patient, SlotId, Version};

use crate::Result;
use crate::clinic::SlotDef;

/// A slot as stored, with whether an active booking holds it.
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
    /// Whether an active booking holds the slot.
    pub booked: bool,
}

/// What the store holds from some instant on.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The current schedule version.
    pub version: Version,
    /// Slots starting at or after the instant asked for, ordered by start.
    pub slots: Vec<StoredSlot>,
}

/// A booking to commit.
#[derive(Debug, Clone)]
pub struct NewBooking<'a> {
    /// The slot to book.
    pub slot_id: &'a SlotId,
    /// The code given to the patient; unique among all bookings.
    pub code: &'a str,
    /// Who the booking is for.
    pub patient: &'a Patient,
    /// The client's request id, kept for tracing a booking back to its request.
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
/// transaction that also advances the version, and returns the new version.
pub trait Store: Send + Sync + 'static {
    /// The version and every slot starting at or after `from`.
    fn load(&self, from: DateTime<Utc>) -> impl Future<Output = Result<Loaded>> + Send;

    /// Adds the slots not yet stored. The version advances when any slot was added
    /// or when `always_advance` asks for it; the current version is returned.
    fn add_slots(
        &self,
        slots: &[SlotDef],
        always_advance: bool,
    ) -> impl Future<Output = Result<Version>> + Send;

    /// Commits a batch of bookings in one transaction (one durable write for all of
    /// them), the database refusing a second active booking of a slot. Each booking
    /// gets its own outcome; the versions of those committed follow each other in
    /// the order given. An `Err` means nothing was committed.
    fn book_many(
        &self,
        bookings: &[NewBooking<'_>],
    ) -> impl Future<Output = Result<Vec<Result<Version, BookError>>>> + Send;

    /// Cancels every active booking at `at`, adds missing slots and advances the version.
    fn reset(&self, slots: &[SlotDef], at: DateTime<Utc>) -> impl Future<Output = Result<Version>> + Send;
}
