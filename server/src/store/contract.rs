//! The `Store` trait: every read and write the engine makes of the schedule's
//! durable home, whichever database it is.

use std::future::Future;

use chrono::{DateTime, Utc};
use protocol::{AuditAction, AuditEntry, HistoryQuery, SlotId, Version, WaitStatus, WaitWindow};
use tokio::sync::mpsc;

use super::{
    AuditRow, BookError, Change, Erased, Loaded, NewBooking, NewWaiting, Offering, Refusal, Signal,
    StoredBooking, StoredWaiting,
};
use crate::Result;
use crate::audit::Origin;
use crate::clinic::SlotDef;

/// The schedule's durable home. Every method that changes the schedule commits one
/// transaction that advances the version by one per changed slot (one for a
/// whole-schedule change), records each change in the log `changes_since` reads,
/// and returns the new version. Every change also writes its rows in the audit
/// trail in the same transaction: who made it (`origin`, or the booking's or
/// entry's own; the server itself for what runs out or lapses) and what it did.
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

    /// Records a hold taken at `now`, unless the slot is booked, blocked or
    /// held (by anybody).
    fn hold(
        &self,
        slot: &SlotId,
        holder: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> impl Future<Output = Result<Result<Version, Refusal>>> + Send;

    /// Moves the end of `holder`'s hold of a slot to `expires`, when it holds
    /// the slot and its hold has not run out by `now`; `None` otherwise.
    fn extend_hold(
        &self,
        slot: &SlotId,
        holder: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Ends `holder`'s hold of a slot, recorded as `action` (`released` by its
    /// holder, `expired`, or `holdEnded` by staff); `None` when it had none.
    fn release(
        &self,
        slot: &SlotId,
        holder: &str,
        offering: Offering,
        origin: &Origin,
        action: AuditAction,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Ends a slot's hold whoever holds it, at once (staff); `None` when it had
    /// none.
    fn end_hold(
        &self,
        slot: &SlotId,
        offering: Offering,
        origin: &Origin,
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
        origin: &Origin,
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
        origin: &Origin,
    ) -> impl Future<Output = Result<Result<(Version, u32), Refusal>>> + Send;

    /// Blocks a slot, ending whoever's hold of it, unless it is booked or
    /// blocked already (`Blocked`).
    fn block(
        &self,
        slot: &SlotId,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> impl Future<Output = Result<Result<Version, Refusal>>> + Send;

    /// Unblocks a slot; `None` when it was not blocked.
    fn unblock(
        &self,
        slot: &SlotId,
        offering: Offering,
        origin: &Origin,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// The secret called `name` that every instance on this database shares,
    /// made (at random, by `make`) by the first one to ask.
    fn secret(&self, name: &str, make: fn() -> String) -> impl Future<Output = Result<String>> + Send;

    /// Cancels every active booking at `at` (raising their sequences), ends holds
    /// and blocks, takes every waiting entry off the waitlist, adds missing
    /// slots and advances the version.
    fn reset(
        &self,
        slots: &[SlotDef],
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> impl Future<Output = Result<Version>> + Send;

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

    /// Changes the window of a waiting entry at `at` for `origin`, with its
    /// row in the audit trail; `false` when it is not waiting.
    fn change_window(
        &self,
        id: i64,
        window: &WaitWindow,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Takes a waiting entry off the waitlist as `status` (left or removed);
    /// its live offer, if any, passes on. `None` when it was not waiting;
    /// otherwise the version, advanced when an offer passed on.
    fn end_waiting(
        &self,
        id: i64,
        status: WaitStatus,
        offering: Offering,
        origin: &Origin,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Turns down the entry's live offer: the slot passes to the next patient
    /// waiting for it, or turns free. `None` when it had no live offer.
    fn decline_offer(
        &self,
        id: i64,
        offering: Offering,
        origin: &Origin,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Books the slot offered to entry `id` (whose holder name `booking.holder`
    /// must be), and marks the entry booked, in one transaction.
    fn accept_offer(
        &self,
        id: i64,
        booking: &NewBooking<'_>,
    ) -> impl Future<Output = Result<Result<(Version, i64), BookError>>> + Send;

    /// Appends rows to the audit trail on their own, for what changes nothing
    /// of the schedule (a login, a staff account made).
    fn append_audit(
        &self,
        at: DateTime<Utc>,
        origin: &Origin,
        rows: Vec<AuditRow>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The audit rows `query` asks for, newest first.
    fn history(&self, query: &HistoryQuery) -> impl Future<Output = Result<Vec<AuditEntry>>> + Send;

    /// Marks the active booking of `slot` as a no-show at `at` (or takes the
    /// mark back, when `no_show` is false) for `origin`, logging the slot again
    /// as booked so that every instance reads the booking anew. `None` when the
    /// slot has no active booking; the version, unchanged, when the mark was
    /// so already.
    fn no_show(
        &self,
        slot: &SlotId,
        no_show: bool,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// Erases, on its patient's request, the name and phone of the booking
    /// with `code` (and of the waitlist entry it was booked from) at `at` for
    /// `origin`; its row, code, sequence and history stay. An active booking
    /// of a slot starting at or after `shown_from` is logged again as booked.
    /// `None` when no booking has that code; the version, unchanged, when its
    /// details were erased before.
    fn erase(
        &self,
        code: &str,
        shown_from: DateTime<Utc>,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> impl Future<Output = Result<Option<Version>>> + Send;

    /// The retention job: erases at `at` the name and phone of every booking
    /// whose slot ended before `before`, and of every waitlist entry that ended
    /// before `before` or whose last day is before `before_day`, each with an
    /// audit row of the system's. Active bookings of slots starting at or
    /// after `shown_from` are logged again as booked.
    fn erase_past(
        &self,
        before: DateTime<Utc>,
        before_day: chrono::NaiveDate,
        shown_from: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Erased>> + Send;
}
