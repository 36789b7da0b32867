//! The store on SQL: one code path for SQLite and PostgreSQL through sqlx's `Any`
//! driver. Only the connection set-up (`connect`), the migrations and the
//! notifications (`listen`) differ between the two; every statement here is
//! written once, in SQL both accept, with the text helpers of `text` and the
//! rows of `rows`.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use protocol::{AuditAction, AuditEntry, DoctorId, HistoryQuery, SlotId, Version, WaitStatus, WaitWindow};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Any, AnyPool, Executor};
use tokio::sync::mpsc;

use super::audit::{self, AuditRow};
use super::connect::Backend;
use super::rows::{BookingRow, ChangeRow, SlotRow, instant, stored_state};
use super::slots::insert_missing;
use super::text::{BOOKING_COLUMNS, SLOT_STATE};
use super::waitlist::{self, EntryKey, freed};
use super::writer::Writer;
use super::{
    BookError, Change, Loaded, NewBooking, NewWaiting, Offering, Refusal, Signal, Store, StoredBooking,
    StoredSlot, StoredWaiting, connect, holds, listen, manage,
};
use crate::Result;
use crate::audit::Origin;
use crate::clinic::SlotDef;

/// The schedule in a SQL database.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    url: String,
}

impl SqlStore {
    /// Opens the database at `url` (`sqlite://PATH`, created when missing, or
    /// `postgres://…`) and applies the migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let (pool, backend) = connect::open(url).await?;
        Ok(Self { pool, backend, url: url.to_owned() })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connections, for the staff accounts' own statements (`crate::staff`).
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection, waiting for them to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) async fn writer(&self) -> Result<Writer> {
        Writer::begin(&self.pool, self.backend == Backend::Postgres).await
    }

    /// A read transaction that sees one instant of the database throughout.
    async fn snapshot(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").await?;
        }
        Ok(tx)
    }
}

/// The version now, read through `executor`.
async fn current_version<'e>(executor: impl sqlx::Executor<'e, Database = Any>) -> Result<Version> {
    let version: i64 =
        sqlx::query_scalar("SELECT version FROM schedule_version WHERE id = 1").fetch_one(executor).await?;
    Ok(version as Version)
}

impl Store for SqlStore {
    fn shared(&self) -> bool {
        self.backend == Backend::Postgres
    }

    async fn load(&self, from: DateTime<Utc>) -> Result<Loaded> {
        let mut tx = self.snapshot().await?;
        let version = current_version(&mut *tx).await?;
        let rows: Vec<SlotRow> = sqlx::query_as(&format!(
            "SELECT s.id, s.doctor_id, s.start_at, s.end_at, {SLOT_STATE}, h.expires_at AS hold_expires
             FROM slots s LEFT JOIN holds h ON h.slot_id = s.id
             WHERE s.start_at >= $1 ORDER BY s.start_at, s.id"
        ))
        .bind(from.timestamp())
        .fetch_all(&mut *tx)
        .await?;
        let bookings: Vec<BookingRow> = sqlx::query_as(&format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings b WHERE b.cancelled_at IS NULL
             AND b.slot_id IN (SELECT id FROM slots WHERE start_at >= $1)"
        ))
        .bind(from.timestamp())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let slots = rows
            .into_iter()
            .map(|r| StoredSlot {
                id: SlotId(r.id),
                doctor_id: DoctorId(r.doctor_id),
                start: instant(r.start_at),
                end: instant(r.end_at),
                state: stored_state(r.booked != 0, r.blocked != 0, r.holder, r.hold_expires),
            })
            .collect();
        Ok(Loaded { version, slots, bookings: bookings.into_iter().map(Into::into).collect() })
    }

    async fn version(&self) -> Result<Version> {
        current_version(&self.pool).await
    }

    async fn changes_since(&self, after: Version, upto: Option<Version>) -> Result<Option<Vec<Change>>> {
        let mut tx = self.snapshot().await?;
        let current = current_version(&mut *tx).await?;
        let last = upto.map_or(current, |u| u.min(current));
        let rows: Vec<ChangeRow> = sqlx::query_as(
            "SELECT c.version, c.slot_id, c.status, c.holder, c.hold_expires, c.booking_id,
                    b.code, b.patient_name, b.patient_phone, b.created_at, b.sequence, b.no_show_at
             FROM changes c LEFT JOIN bookings b ON b.id = c.booking_id
             WHERE c.version > $1 AND c.version <= $2 ORDER BY c.version",
        )
        .bind(after as i64)
        .bind(last as i64)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        // Every version in between must be there; a pruned log has a hole.
        let complete = rows.len() as u64 == last.saturating_sub(after)
            && rows.iter().zip(after + 1..).all(|(row, v)| row.version as Version == v);
        Ok(complete.then(|| rows.into_iter().map(ChangeRow::into_change).collect()))
    }

    async fn prune_changes(&self, upto: Version) -> Result<()> {
        sqlx::query("DELETE FROM changes WHERE version <= $1").bind(upto as i64).execute(&self.pool).await?;
        Ok(())
    }

    async fn listen(&self) -> Result<Option<mpsc::Receiver<Signal>>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        // Named after the process, so that an operator can tell the listening
        // connection of each instance apart in pg_stat_activity.
        let name = format!("booking-listener-{}", std::process::id());
        let options = PgConnectOptions::from_str(&self.url)?.application_name(&name);
        let (signals, receiver) = mpsc::channel(64);
        // The first subscription is made here, so that a server that starts
        // cannot miss a change made right after.
        let listener = listen::subscribe(&options).await?;
        tokio::spawn(listen::listen(options, listener, signals));
        Ok(Some(receiver))
    }

    async fn add_slots(&self, slots: &[SlotDef], always_advance: bool) -> Result<Version> {
        let mut w = self.writer().await?;
        let added = insert_missing(w.conn(), slots).await?;
        if added > 0 || always_advance {
            w.reload();
        }
        w.commit().await
    }

    async fn release_orphaned_holds(&self, offering: Offering) -> Result<Version> {
        holds::release_orphaned(self.writer().await?, self.backend, offering).await
    }

    async fn book_many(&self, bookings: &[NewBooking<'_>]) -> Result<Vec<Result<(Version, i64), BookError>>> {
        let mut w = self.writer().await?;
        let outcomes = super::book::book_many(&mut w, bookings).await?;
        w.commit().await?;
        Ok(outcomes)
    }

    async fn hold(
        &self,
        slot: &SlotId,
        holder: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> Result<Result<Version, Refusal>> {
        holds::hold(self.writer().await?, slot, holder, expires, now, origin).await
    }

    async fn extend_hold(
        &self,
        slot: &SlotId,
        holder: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> Result<Option<Version>> {
        holds::extend(self.writer().await?, slot, holder, expires, now, origin).await
    }

    async fn release(
        &self,
        slot: &SlotId,
        holder: &str,
        offering: Offering,
        origin: &Origin,
        action: AuditAction,
    ) -> Result<Option<Version>> {
        holds::release(self.writer().await?, slot, holder, offering, origin, action).await
    }

    async fn end_hold(&self, slot: &SlotId, offering: Offering, origin: &Origin) -> Result<Option<Version>> {
        holds::end(self.writer().await?, slot, offering, origin).await
    }

    async fn expire(&self, slot: &SlotId, offering: Offering) -> Result<Option<Version>> {
        holds::expire(self.writer().await?, slot, offering).await
    }

    async fn booking_by_hash(&self, hash: &str) -> Result<Option<StoredBooking>> {
        let row: Option<BookingRow> =
            sqlx::query_as(&format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE manage_hash = $1"))
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Into::into))
    }

    async fn booking_by_retry_key(&self, retry_key: &str, slot: &SlotId) -> Result<Option<StoredBooking>> {
        let row: Option<BookingRow> = sqlx::query_as(&format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings
             WHERE request_id = $1 AND slot_id = $2 AND cancelled_at IS NULL"
        ))
        .bind(retry_key)
        .bind(&slot.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Into::into))
    }

    async fn cancel(&self, booking: i64, offering: Offering, origin: &Origin) -> Result<Option<Version>> {
        manage::cancel(self.writer().await?, booking, offering, origin).await
    }

    async fn reschedule(
        &self,
        booking: i64,
        to: &SlotId,
        holder: &str,
        offering: Offering,
        origin: &Origin,
    ) -> Result<Result<(Version, u32), Refusal>> {
        manage::reschedule(self.writer().await?, booking, to, holder, offering, origin).await
    }

    async fn block(
        &self,
        slot: &SlotId,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> Result<Result<Version, Refusal>> {
        holds::block(self.writer().await?, slot, at, origin).await
    }

    async fn unblock(&self, slot: &SlotId, offering: Offering, origin: &Origin) -> Result<Option<Version>> {
        holds::unblock(self.writer().await?, slot, offering, origin).await
    }

    async fn secret(&self, name: &str, make: fn() -> String) -> Result<String> {
        // Whoever inserts first wins; everybody reads the winner's.
        sqlx::query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(name)
            .bind(make())
            .execute(&self.pool)
            .await?;
        let value = sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(value)
    }

    async fn reset(&self, slots: &[SlotDef], at: DateTime<Utc>, origin: &Origin) -> Result<Version> {
        manage::reset(self.writer().await?, slots, at, origin).await
    }

    async fn join_waitlist(&self, entry: &NewWaiting<'_>) -> Result<Result<i64, Refusal>> {
        // A writer's transaction: joins with the same phone take turns, so the
        // limit per phone holds across instances.
        let mut w = self.writer().await?;
        let joined = waitlist::join(&mut w, entry).await?;
        w.commit().await?;
        Ok(joined)
    }

    async fn waiting_by_hash(&self, hash: &str) -> Result<Option<StoredWaiting>> {
        let mut conn = self.pool.acquire().await?;
        waitlist::entry_where(&mut conn, "w.token_hash = $1", EntryKey::Hash(hash)).await
    }

    async fn waiting_by_id(&self, id: i64) -> Result<Option<StoredWaiting>> {
        let mut conn = self.pool.acquire().await?;
        waitlist::entry_where(&mut conn, "w.id = $1", EntryKey::Id(id)).await
    }

    async fn waitlist(&self) -> Result<Vec<StoredWaiting>> {
        waitlist::waiting(&mut *self.pool.acquire().await?).await
    }

    async fn lapse_past_waiting(&self, today: chrono::NaiveDate, at: DateTime<Utc>) -> Result<u64> {
        let mut w = self.writer().await?;
        let lapsed = waitlist::lapse_past(&mut w, today, at).await?;
        w.commit().await?;
        Ok(lapsed)
    }

    async fn change_window(
        &self,
        id: i64,
        window: &WaitWindow,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        if !waitlist::change_window(&mut tx, id, window).await? {
            return Ok(false);
        }
        let row = AuditRow::of(AuditAction::WindowChanged).entry(id);
        audit::append_rows(&mut tx, at, origin, vec![row]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn end_waiting(
        &self,
        id: i64,
        status: WaitStatus,
        offering: Offering,
        origin: &Origin,
    ) -> Result<Option<Version>> {
        let mut w = self.writer().await?;
        if !waitlist::end(w.conn(), id, status, None, offering.now).await? {
            return Ok(None);
        }
        let action = if status == WaitStatus::Removed { AuditAction::Removed } else { AuditAction::Left };
        let row = AuditRow::of(action).entry(id);
        match waitlist::withdraw(w.conn(), id).await? {
            // Its live offer passes on.
            Some(slot) => {
                w.audit(offering.now, origin, AuditRow { slot: Some(slot.clone()), ..row });
                freed(&mut w, &slot, offering).await?;
            }
            None => w.audit(offering.now, origin, row),
        }
        Ok(Some(w.commit().await?))
    }

    async fn decline_offer(&self, id: i64, offering: Offering, origin: &Origin) -> Result<Option<Version>> {
        let mut w = self.writer().await?;
        let Some(slot) = waitlist::withdraw(w.conn(), id).await? else { return Ok(None) };
        w.audit(offering.now, origin, AuditRow::slot(AuditAction::Declined, &slot).entry(id));
        freed(&mut w, &slot, offering).await?;
        Ok(Some(w.commit().await?))
    }

    async fn accept_offer(
        &self,
        id: i64,
        booking: &NewBooking<'_>,
    ) -> Result<Result<(Version, i64), BookError>> {
        let mut w = self.writer().await?;
        let outcome = super::book::book_many(&mut w, std::slice::from_ref(booking)).await?.remove(0);
        let Ok((_, booking_id)) = outcome else { return Ok(outcome) };
        if !waitlist::end(w.conn(), id, WaitStatus::Booked, Some(booking_id), booking.at).await? {
            // Taken off the waitlist meanwhile: its offer went with it.
            return Ok(Err(BookError::Refused(Refusal::NoOffer)));
        }
        w.commit().await?;
        Ok(outcome)
    }

    async fn append_audit(&self, at: DateTime<Utc>, origin: &Origin, rows: Vec<AuditRow>) -> Result<()> {
        audit::append_rows(&mut *self.pool.acquire().await?, at, origin, rows).await
    }

    async fn history(&self, query: &HistoryQuery) -> Result<Vec<AuditEntry>> {
        audit::history(&mut *self.pool.acquire().await?, query).await
    }

    async fn no_show(
        &self,
        s: &SlotId,
        no_show: bool,
        at: DateTime<Utc>,
        o: &Origin,
    ) -> Result<Option<Version>> {
        self.record_no_show(s, no_show, at, o).await
    }

    async fn erase(
        &self,
        code: &str,
        from: DateTime<Utc>,
        at: DateTime<Utc>,
        o: &Origin,
    ) -> Result<Option<Version>> {
        self.erase_on_request(code, from, at, o).await
    }

    async fn erase_past(
        &self,
        b: DateTime<Utc>,
        d: chrono::NaiveDate,
        f: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<super::Erased> {
        self.erase_for_retention(b, d, f, at).await
    }
}
