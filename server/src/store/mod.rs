//! Durable storage of the schedule behind a narrow trait, so that the engine runs
//! the same on SQLite (the embedded default) and on PostgreSQL (several server
//! instances on one database).
//!
//! The database is the authority. Every change commits in one transaction that
//! takes the next schedule version(s) and records what it did in the `changes`
//! log, and the rules of the schedule (one booking per slot, holds and blocks
//! keep others out) are checked inside that transaction, so an engine whose
//! picture of the schedule is a moment out of date still cannot break them.

mod book;
mod connect;
mod listen;
mod rows;
mod slots;
mod sql;
mod text;
mod waitlist;
mod writer;

pub use connect::Backend;
pub use sql::SqlStore;

use std::future::Future;

use chrono::{DateTime, Utc};
use protocol::{DoctorId, Patient, SlotId, Version, WaitStatus, WaitWindow};
use tokio::sync::mpsc;

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
    /// Its revision: 0 when booked, one more with every reschedule and with
    /// the cancel.
    pub sequence: u32,
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

/// The schedule's durable home. Every method that changes the schedule commits one
/// transaction that advances the version by one per changed slot (one for a
/// whole-schedule change), records each change in the log `changes_since` reads,
/// and returns the new version.
pub trait Store: Send + Sync + 'static {
    /// Whether other processes may write to the same database (so that the engine
    /// must listen for their changes).
    fn shared(&self) -> bool;

    /// The version, every slot starting at or after `from`, and their bookings,
    /// all as of one instant.
    fn load(&self, from: DateTime<Utc>) -> impl Future<Output = Result<Loaded>> + Send;

    /// The current version.
    fn version(&self) -> impl Future<Output = Result<Version>> + Send;

    /// The changes after `after`, in order, up to and including `upto` when given.
    /// `None` when the log no longer reaches back that far (it is pruned), so the
    /// reader must load the whole schedule instead.
    fn changes_since(
        &self,
        after: Version,
        upto: Option<Version>,
    ) -> impl Future<Output = Result<Option<Vec<Change>>>> + Send;

    /// Drops the logged changes up to `upto`.
    fn prune_changes(&self, upto: Version) -> impl Future<Output = Result<()>> + Send;

    /// Notifications of changes committed by others, when the database is shared.
    fn listen(&self) -> impl Future<Output = Result<Option<mpsc::Receiver<Signal>>>> + Send;

    /// Adds the slots not yet stored and updates the times of unbooked ones. The
    /// version advances (one whole-schedule change) when any slot was added or
    /// when `always_advance` asks for it; the current version is returned.
    fn add_slots(
        &self,
        slots: &[SlotDef],
        always_advance: bool,
    ) -> impl Future<Output = Result<Version>> + Send;

    /// Ends the holds no live connection can own, at start-up: on a database of
    /// this process alone every hold, on a shared one those past their expiry.
    /// Returns the version.
    fn release_orphaned_holds(&self, offering: Offering) -> impl Future<Output = Result<Version>> + Send;

    /// Commits a batch of bookings in one transaction (one durable write for all of
    /// them). Each gets its own outcome: refused by the schedule's rules (a slot
    /// booked, blocked, or held by somebody else, or a proof of work spent
    /// before; the database's unique indexes are the last word), or committed,
    /// which ends the slot's hold.
    /// The versions of those committed follow each other in the order given. An
    /// `Err` means nothing was committed.
    /// A committed booking's outcome is its version and its row id.
    fn book_many(
        &self,
        bookings: &[NewBooking<'_>],
    ) -> impl Future<Output = Result<Vec<Result<(Version, i64), BookError>>>> + Send;

    /// Records a hold, unless the slot is booked, blocked or held (by anybody).
    fn hold(
        &self,
        slot: &SlotId,
        holder: &str,
        expires: DateTime<Utc>,
    ) -> impl Future<Output = Result<Result<Version, Refusal>>> + Send;

    /// Moves the end of `holder`'s hold of a slot to `expires`, when it holds
    /// the slot and its hold has not run out by `now`; `None` otherwise.
    fn extend_hold(
        &self,
        slot: &SlotId,
        holder: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Ends `holder`'s hold of a slot; `None` when it had none.
    fn release(
        &self,
        slot: &SlotId,
        holder: &str,
        offering: Offering,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Ends a slot's hold whoever holds it, at once (staff); `None` when it had
    /// none.
    fn end_hold(
        &self,
        slot: &SlotId,
        offering: Offering,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Ends a slot's hold whoever holds it, if it expired by `offering.now`;
    /// `None` when there was no such hold. A waitlist offer that ran out counts
    /// against its entry, which lapses at the second.
    fn expire(
        &self,
        slot: &SlotId,
        offering: Offering,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// The booking whose manage secret hashes to `hash`.
    fn booking_by_hash(&self, hash: &str) -> impl Future<Output = Result<Option<StoredBooking>>> + Send;

    /// The active booking of this slot made by the request with this retry key.
    fn booking_by_retry_key(
        &self,
        retry_key: &str,
        slot: &SlotId,
    ) -> impl Future<Output = Result<Option<StoredBooking>>> + Send;

    /// Cancels an active booking, raising its sequence; `None` when it was not
    /// active.
    fn cancel(
        &self,
        booking: i64,
        offering: Offering,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Moves an active booking to another slot in one transaction, so it ends on
    /// exactly one of the two, and raises its sequence; the version advances by
    /// two (old slot, new slot). Returns the version and the booking's new
    /// sequence. Refused when the target is booked, blocked or held by somebody
    /// other than `holder`, or the booking is no longer active.
    fn reschedule(
        &self,
        booking: i64,
        to: &SlotId,
        holder: &str,
        offering: Offering,
    ) -> impl Future<Output = Result<Result<(Version, u32), Refusal>>> + Send;

    /// Blocks a slot, ending whoever's hold of it, unless it is booked or
    /// blocked already (`Blocked`).
    fn block(
        &self,
        slot: &SlotId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Result<Version, Refusal>>> + Send;

    /// Unblocks a slot; `None` when it was not blocked.
    fn unblock(
        &self,
        slot: &SlotId,
        offering: Offering,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// The secret called `name` that every instance on this database shares,
    /// made (at random, by `make`) by the first one to ask.
    fn secret(&self, name: &str, make: fn() -> String) -> impl Future<Output = Result<String>> + Send;

    /// Cancels every active booking at `at` (raising their sequences), ends holds
    /// and blocks, takes every waiting entry off the waitlist, adds missing
    /// slots and advances the version.
    fn reset(&self, slots: &[SlotDef], at: DateTime<Utc>) -> impl Future<Output = Result<Version>> + Send;

    /// Puts a patient on a doctor's waitlist; refused (`AlreadyWaiting`) when
    /// the phone number has `per_phone` entries waiting already. Returns the
    /// entry's id.
    fn join_waitlist(
        &self,
        entry: &NewWaiting<'_>,
    ) -> impl Future<Output = Result<Result<i64, Refusal>>> + Send;

    /// The waitlist entry whose link's secret hashes to `hash`.
    fn waiting_by_hash(&self, hash: &str) -> impl Future<Output = Result<Option<StoredWaiting>>> + Send;

    /// The waitlist entry with this id.
    fn waiting_by_id(&self, id: i64) -> impl Future<Output = Result<Option<StoredWaiting>>> + Send;

    /// Every entry waiting now, by doctor and in the order of joining.
    fn waitlist(&self) -> impl Future<Output = Result<Vec<StoredWaiting>>> + Send;

    /// Ends, as lapsed, the waiting entries whose last day is before `today`;
    /// returns how many.
    fn lapse_past_waiting(
        &self,
        today: chrono::NaiveDate,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Changes the window of a waiting entry; `false` when it is not waiting.
    fn change_window(&self, id: i64, window: &WaitWindow) -> impl Future<Output = Result<bool>> + Send;

    /// Takes a waiting entry off the waitlist as `status` (left or removed);
    /// its live offer, if any, passes on. `None` when it was not waiting;
    /// otherwise the version, advanced when an offer passed on.
    fn end_waiting(
        &self,
        id: i64,
        status: WaitStatus,
        offering: Offering,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Turns down the entry's live offer: the slot passes to the next patient
    /// waiting for it, or turns free. `None` when it had no live offer.
    fn decline_offer(
        &self,
        id: i64,
        offering: Offering,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Books the slot offered to entry `id` (whose holder name `booking.holder`
    /// must be), and marks the entry booked, in one transaction.
    fn accept_offer(
        &self,
        id: i64,
        booking: &NewBooking<'_>,
    ) -> impl Future<Output = Result<Result<(Version, i64), BookError>>> + Send;
}
