//! The engine's robustness where the store or the schedule changes under it: a
//! failed booking batch must not lose the command that came after it, and
//! ending expired holds must not mistake one slot for another when the schedule
//! is read again meanwhile.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{patient, test_now};
use chrono::{DateTime, Utc};
use protocol::{AuditAction, DoctorId, Patient, SlotId, SlotStatus, Version, WaitStatus, WaitWindow};
use server::ClientKey;
use server::audit::Origin;
use server::clinic::{ClinicConfig, SlotDef};
use server::engine::{Book, BookOutcome, Budgets, EngineHandle, EngineOptions};
use server::store::{
    BookError, Change, Erased, Loaded, NewBooking, NewWaiting, Offering, Refusal, Signal, SqlStore, Store,
    StoredBooking, StoredWaiting,
};
use tokio::sync::mpsc;

/// A store whose look-up of a retried booking and whose release of a hold fail
/// while `failing` is set.
#[derive(Clone)]
struct Flaky {
    inner: SqlStore,
    failing: Arc<AtomicBool>,
}

type R<T> = server::Result<T>;

impl Store for Flaky {
    fn shared(&self) -> bool {
        self.inner.shared()
    }
    async fn load(&self, from: DateTime<Utc>) -> R<Loaded> {
        self.inner.load(from).await
    }
    async fn version(&self) -> R<Version> {
        self.inner.version().await
    }
    async fn changes_since(&self, after: Version, upto: Option<Version>) -> R<Option<Vec<Change>>> {
        self.inner.changes_since(after, upto).await
    }
    async fn prune_changes(&self, upto: Version) -> R<()> {
        self.inner.prune_changes(upto).await
    }
    async fn listen(&self) -> R<Option<mpsc::Receiver<Signal>>> {
        self.inner.listen().await
    }
    async fn add_slots(&self, slots: &[SlotDef], always_advance: bool) -> R<Version> {
        self.inner.add_slots(slots, always_advance).await
    }
    async fn release_orphaned_holds(&self, offering: Offering) -> R<Version> {
        self.inner.release_orphaned_holds(offering).await
    }
    async fn book_many(&self, bookings: &[NewBooking<'_>]) -> R<Vec<Result<(Version, i64), BookError>>> {
        self.inner.book_many(bookings).await
    }
    async fn hold(
        &self,
        slot: &SlotId,
        holder: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> R<Result<Version, Refusal>> {
        self.inner.hold(slot, holder, expires, now, origin).await
    }
    async fn extend_hold(
        &self,
        slot: &SlotId,
        holder: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> R<Option<Version>> {
        self.inner.extend_hold(slot, holder, expires, now, origin).await
    }
    async fn release(
        &self,
        slot: &SlotId,
        holder: &str,
        offering: Offering,
        origin: &Origin,
        action: AuditAction,
    ) -> R<Option<Version>> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(server::Error::Internal("the store failed on purpose"));
        }
        self.inner.release(slot, holder, offering, origin, action).await
    }
    async fn end_hold(&self, slot: &SlotId, offering: Offering, origin: &Origin) -> R<Option<Version>> {
        self.inner.end_hold(slot, offering, origin).await
    }
    async fn expire(&self, slot: &SlotId, offering: Offering) -> R<Option<Version>> {
        self.inner.expire(slot, offering).await
    }
    async fn booking_by_hash(&self, hash: &str) -> R<Option<StoredBooking>> {
        self.inner.booking_by_hash(hash).await
    }
    async fn booking_by_retry_key(&self, retry_key: &str, slot: &SlotId) -> R<Option<StoredBooking>> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(server::Error::Internal("the store failed on purpose"));
        }
        self.inner.booking_by_retry_key(retry_key, slot).await
    }
    async fn cancel(&self, booking: i64, offering: Offering, origin: &Origin) -> R<Option<Version>> {
        self.inner.cancel(booking, offering, origin).await
    }
    async fn reschedule(
        &self,
        booking: i64,
        to: &SlotId,
        holder: &str,
        offering: Offering,
        origin: &Origin,
    ) -> R<Result<(Version, u32), Refusal>> {
        self.inner.reschedule(booking, to, holder, offering, origin).await
    }
    async fn block(&self, slot: &SlotId, at: DateTime<Utc>, origin: &Origin) -> R<Result<Version, Refusal>> {
        self.inner.block(slot, at, origin).await
    }
    async fn unblock(&self, slot: &SlotId, offering: Offering, origin: &Origin) -> R<Option<Version>> {
        self.inner.unblock(slot, offering, origin).await
    }
    async fn secret(&self, name: &str, make: fn() -> String) -> R<String> {
        self.inner.secret(name, make).await
    }
    async fn reset(&self, slots: &[SlotDef], at: DateTime<Utc>, origin: &Origin) -> R<Version> {
        self.inner.reset(slots, at, origin).await
    }
    async fn append_audit(
        &self,
        at: DateTime<Utc>,
        origin: &Origin,
        rows: Vec<server::store::AuditRow>,
    ) -> R<()> {
        self.inner.append_audit(at, origin, rows).await
    }
    async fn history(&self, query: &protocol::HistoryQuery) -> R<Vec<protocol::AuditEntry>> {
        self.inner.history(query).await
    }
    async fn join_waitlist(&self, entry: &NewWaiting<'_>) -> R<Result<i64, Refusal>> {
        self.inner.join_waitlist(entry).await
    }
    async fn waiting_by_hash(&self, hash: &str) -> R<Option<StoredWaiting>> {
        self.inner.waiting_by_hash(hash).await
    }
    async fn waiting_by_id(&self, id: i64) -> R<Option<StoredWaiting>> {
        self.inner.waiting_by_id(id).await
    }
    async fn waitlist(&self) -> R<Vec<StoredWaiting>> {
        self.inner.waitlist().await
    }
    async fn lapse_past_waiting(&self, today: chrono::NaiveDate, at: DateTime<Utc>) -> R<u64> {
        self.inner.lapse_past_waiting(today, at).await
    }
    async fn change_window(&self, id: i64, window: &WaitWindow, at: DateTime<Utc>, o: &Origin) -> R<bool> {
        self.inner.change_window(id, window, at, o).await
    }
    async fn end_waiting(
        &self,
        id: i64,
        status: WaitStatus,
        offering: Offering,
        origin: &Origin,
    ) -> R<Option<Version>> {
        self.inner.end_waiting(id, status, offering, origin).await
    }
    async fn decline_offer(&self, id: i64, offering: Offering, origin: &Origin) -> R<Option<Version>> {
        self.inner.decline_offer(id, offering, origin).await
    }
    async fn accept_offer(&self, id: i64, booking: &NewBooking<'_>) -> R<Result<(Version, i64), BookError>> {
        self.inner.accept_offer(id, booking).await
    }
    async fn no_show(
        &self,
        slot: &SlotId,
        no_show: bool,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> R<Option<Version>> {
        self.inner.no_show(slot, no_show, at, origin).await
    }
    async fn erase(
        &self,
        code: &str,
        shown_from: DateTime<Utc>,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> R<Option<Version>> {
        self.inner.erase(code, shown_from, at, origin).await
    }
    async fn erase_past(
        &self,
        before: DateTime<Utc>,
        before_day: chrono::NaiveDate,
        shown_from: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> R<Erased> {
        self.inner.erase_past(before, before_day, shown_from, at).await
    }
}

struct Rig {
    engine: EngineHandle,
    store: SqlStore,
    failing: Arc<AtomicBool>,
    now: Arc<Mutex<DateTime<Utc>>>,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open(&crate::common::database_url(dir.path())).await.unwrap();
    let failing = Arc::new(AtomicBool::new(false));
    let now = Arc::new(Mutex::new(test_now()));
    let clock_now = now.clone();
    let options = EngineOptions {
        queue: 1024,
        replay: 64,
        idle_timeout: std::time::Duration::from_secs(60),
        fanout_workers: 1,
        fanout_round: std::time::Duration::ZERO,
        budgets: Budgets::UNLIMITED,
        retention_days: 0,
    };
    let flaky = Flaky { inner: store.clone(), failing: failing.clone() };
    let (engine, _task) = server::engine::start(
        flaky,
        Arc::new(ClinicConfig::demo()),
        Arc::new(move || *clock_now.lock().unwrap()),
        options,
    )
    .await
    .unwrap();
    Rig { engine, store, failing, now, _dir: dir }
}

fn client() -> ClientKey {
    ClientKey::of(std::net::Ipv4Addr::LOCALHOST.into())
}

fn patient_origin() -> Origin {
    Origin::new(protocol::Actor::Patient, client())
}

fn book(slot: &SlotId, request_id: &str, patient: Patient) -> Book {
    Book { slot_id: slot.clone(), patient, request_id: request_id.into(), proof: None }
}

/// The free slots bookable at the test's clock, in schedule order.
fn free_slots(engine: &EngineHandle) -> Vec<SlotId> {
    let snapshot = engine.snapshot();
    crate::common::free_future_slots(snapshot.schedule()).map(|s| s.id.clone()).collect()
}

fn status(engine: &EngineHandle, slot: &SlotId) -> SlotStatus {
    let snapshot = engine.snapshot();
    snapshot.schedule().slots.iter().find(|s| &s.id == slot).expect("the slot").status
}

#[tokio::test]
async fn a_booking_batch_that_fails_still_carries_out_the_command_queued_behind_it() {
    let rig = rig().await;
    let slots = free_slots(&rig.engine);
    rig.engine.hold(2, client(), slots[1].clone(), patient_origin()).await.unwrap().expect("held");

    // Booking one slot ends the booker's hold of another, and ending it fails,
    // which fails the batch after its booking was answered. Both commands are in
    // the inbox before the engine runs (this runtime has one thread), so the
    // engine takes the staff request while gathering the batch.
    rig.failing.store(true, Ordering::SeqCst);
    let (booked, staff) = tokio::join!(
        rig.engine.book(2, client(), book(&slots[0], "r-1", patient()), patient_origin()),
        rig.engine.staff_state()
    );
    assert!(matches!(booked, Ok(BookOutcome::Booked(..))), "{booked:?}");
    let (_, bookings) = staff.expect("the command behind the failed batch is answered");
    assert_eq!(bookings.len(), 1);
}

#[tokio::test]
async fn a_failed_look_up_fails_only_its_own_request_and_not_the_rest_of_its_batch() {
    let rig = rig().await;
    let slots = free_slots(&rig.engine);
    let first =
        rig.engine.book(1, client(), book(&slots[0], "r-1", patient()), patient_origin()).await.unwrap();
    assert!(matches!(first, BookOutcome::Booked(..)));

    // A second booking of the booked slot makes the engine look for an earlier
    // booking of the same request, and that look-up fails; the booking batched
    // with it goes through.
    rig.failing.store(true, Ordering::SeqCst);
    let other = Patient { name: "Boris".into(), phone: "+7 900 000-00-01".into() };
    let third = Patient { name: "Vera".into(), phone: "+7 900 000-00-02".into() };
    let (failed, booked) = tokio::join!(
        rig.engine.book(2, client(), book(&slots[0], "r-2", other), patient_origin()),
        rig.engine.book(3, client(), book(&slots[1], "r-3", third), patient_origin()),
    );
    assert!(failed.is_err(), "the failed look-up fails that booking: {failed:?}");
    assert!(matches!(booked, Ok(BookOutcome::Booked(..))), "{booked:?}");
}

#[tokio::test]
async fn expired_holds_end_by_slot_even_when_the_schedule_is_read_again_in_between() {
    let rig = rig().await;
    let slots = free_slots(&rig.engine);
    let (first, second) = (slots[0].clone(), slots[1].clone());
    for (conn, slot) in [(1, &first), (2, &second)] {
        rig.engine.hold(conn, client(), slot.clone(), patient_origin()).await.unwrap().expect("held");
    }

    // Meanwhile the database gains a booked slot that starts before both (as if
    // another process had written it): catching up reads the whole schedule
    // again, and every later slot moves one place down.
    let start = test_now() + chrono::Duration::minutes(61);
    let extra = SlotDef {
        id: SlotId("visiting-early".into()),
        doctor_id: DoctorId("visiting".into()),
        start,
        end: start + chrono::Duration::minutes(5),
    };
    assert!(
        extra.start < rig.engine.snapshot().schedule().slots.iter().find(|s| s.id == first).unwrap().start
    );
    rig.store.add_slots(std::slice::from_ref(&extra), true).await.unwrap();
    let booked = rig
        .store
        .book_many(&[NewBooking {
            slot_id: &extra.id,
            code: "EXTR-A001",
            manage_hash: "extra",
            patient: &patient(),
            retry_key: "extra",
            proof: None,
            holder: "elsewhere",
            at: test_now(),
            origin: &Origin::system(),
        }])
        .await
        .unwrap();
    assert!(booked[0].is_ok());

    *rig.now.lock().unwrap() += chrono::Duration::minutes(10);
    rig.engine.tick().await.unwrap();
    assert_eq!(status(&rig.engine, &first), SlotStatus::Free);
    assert_eq!(status(&rig.engine, &second), SlotStatus::Free, "the second expired hold ended too");
    assert_eq!(status(&rig.engine, &extra.id), SlotStatus::Booked);
}
