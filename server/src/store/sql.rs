//! The store on SQL: one code path for SQLite and PostgreSQL through sqlx's `Any`
//! driver. Only the connection set-up (`connect`), the migrations and the
//! notifications (`listen`) differ between the two; every statement here is
//! written once, in SQL both accept, with the text helpers of `text` and the
//! rows of `rows`.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use protocol::{AuditEntry, DoctorId, HistoryQuery, SlotId, Version, WaitStatus, WaitWindow};
use sqlx::any::AnyArguments;
use sqlx::postgres::PgConnectOptions;
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Executor};
use tokio::sync::mpsc;

use super::audit::{self, AuditRow};
use super::connect::Backend;
use super::rows::{BookingRow, ChangeRow, SlotRow, instant, occupancy_of, stored_state};
use super::slots::insert_missing;
use super::text::{BOOKING_COLUMNS, SLOT_STATE};
use super::waitlist::{self, EntryKey, freed};
use super::writer::Writer;
use super::{
    BookError, Change, Loaded, NewBooking, NewWaiting, Offering, Refusal, Signal, Store, StoredBooking,
    StoredSlot, StoredWaiting, connect, listen, offered_to,
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

    /// Closes every connection, waiting for them to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Runs one statement that ends a hold or a block of `slot` and, when it ended
    /// one, frees the slot (or offers it to the waitlist): a held or blocked slot
    /// is neither booked nor anything else.
    async fn free_if_one_row<'q>(
        &self,
        slot: &SlotId,
        statement: Query<'q, Any, AnyArguments<'q>>,
        offering: Offering,
    ) -> Result<Option<Version>> {
        let mut w = self.writer().await?;
        let changed = statement.execute(w.conn()).await?.rows_affected();
        let version = if changed == 1 { Some(freed(&mut w, slot, offering).await?) } else { None };
        w.commit().await?;
        Ok(version)
    }

    async fn writer(&self) -> Result<Writer> {
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
        let mut w = self.writer().await?;
        // On a database of this process alone, no hold's connection outlived the
        // last run; on a shared one, other instances' holds are live. A waitlist
        // offer belongs to no connection: it lives until it runs out.
        let sql = match self.backend {
            Backend::Sqlite => {
                "DELETE FROM holds WHERE holder NOT LIKE 'wait/%' OR expires_at <= $1 RETURNING slot_id"
            }
            Backend::Postgres => "DELETE FROM holds WHERE expires_at <= $1 RETURNING slot_id",
        };
        let slots =
            sqlx::query_scalar::<_, String>(sql).bind(offering.now.timestamp()).fetch_all(w.conn()).await?;
        for slot in slots {
            freed(&mut w, &SlotId(slot), offering).await?;
        }
        w.commit().await
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
    ) -> Result<Result<Version, Refusal>> {
        let mut w = self.writer().await?;
        let occupied = match occupancy_of(w.conn(), slot).await? {
            Ok(o) => o,
            Err(reason) => return Ok(Err(reason)),
        };
        // Holding again what one holds already is refused too: the engine answers
        // that itself, from memory.
        if let Some(reason) = occupied.refusal(None) {
            return Ok(Err(reason));
        }
        sqlx::query("INSERT INTO holds (slot_id, holder, expires_at) VALUES ($1, $2, $3)")
            .bind(&slot.0)
            .bind(holder)
            .bind(expires.timestamp())
            .execute(w.conn())
            .await?;
        w.held(slot, holder, expires);
        Ok(Ok(w.commit().await?))
    }

    async fn extend_hold(
        &self,
        slot: &SlotId,
        holder: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<Version>> {
        let mut w = self.writer().await?;
        let changed = sqlx::query(
            "UPDATE holds SET expires_at = $1 WHERE slot_id = $2 AND holder = $3 AND expires_at > $4",
        )
        .bind(expires.timestamp())
        .bind(&slot.0)
        .bind(holder)
        .bind(now.timestamp())
        .execute(w.conn())
        .await?
        .rows_affected();
        // Logged like the hold itself, so other instances learn the new end the
        // same way.
        let version = (changed == 1).then(|| w.held(slot, holder, expires));
        w.commit().await?;
        Ok(version)
    }

    async fn release(&self, slot: &SlotId, holder: &str, offering: Offering) -> Result<Option<Version>> {
        let statement =
            sqlx::query("DELETE FROM holds WHERE slot_id = $1 AND holder = $2").bind(&slot.0).bind(holder);
        self.free_if_one_row(slot, statement, offering).await
    }

    async fn end_hold(&self, slot: &SlotId, offering: Offering) -> Result<Option<Version>> {
        let statement = sqlx::query("DELETE FROM holds WHERE slot_id = $1").bind(&slot.0);
        self.free_if_one_row(slot, statement, offering).await
    }

    async fn expire(&self, slot: &SlotId, offering: Offering) -> Result<Option<Version>> {
        let mut w = self.writer().await?;
        let holder: Option<String> =
            sqlx::query_scalar("DELETE FROM holds WHERE slot_id = $1 AND expires_at <= $2 RETURNING holder")
                .bind(&slot.0)
                .bind(offering.now.timestamp())
                .fetch_optional(w.conn())
                .await?;
        let Some(holder) = holder else { return Ok(None) };
        if let Some(entry) = offered_to(&holder) {
            waitlist::ran_out(w.conn(), entry, offering.now).await?;
        }
        let version = freed(&mut w, slot, offering).await?;
        w.commit().await?;
        Ok(Some(version))
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

    async fn cancel(&self, booking: i64, offering: Offering) -> Result<Option<Version>> {
        let mut w = self.writer().await?;
        let slot: Option<String> = sqlx::query_scalar(
            "UPDATE bookings SET cancelled_at = $1, sequence = sequence + 1
             WHERE id = $2 AND cancelled_at IS NULL RETURNING slot_id",
        )
        .bind(offering.now.timestamp())
        .bind(booking)
        .fetch_optional(w.conn())
        .await?;
        // A booked slot is neither held nor blocked, so it is free now.
        let version = match slot {
            Some(slot) => Some(freed(&mut w, &SlotId(slot), offering).await?),
            None => None,
        };
        w.commit().await?;
        Ok(version)
    }

    async fn reschedule(
        &self,
        booking: i64,
        to: &SlotId,
        holder: &str,
        offering: Offering,
    ) -> Result<Result<(Version, u32), Refusal>> {
        let mut w = self.writer().await?;
        let from: Option<String> =
            sqlx::query_scalar("SELECT slot_id FROM bookings WHERE id = $1 AND cancelled_at IS NULL")
                .bind(booking)
                .fetch_optional(w.conn())
                .await?;
        let Some(from) = from.map(SlotId) else { return Ok(Err(Refusal::NotActive)) };
        let occupied = match occupancy_of(w.conn(), to).await? {
            Ok(o) => o,
            Err(reason) => return Ok(Err(reason)),
        };
        if let Some(reason) = occupied.refusal(Some(holder)) {
            return Ok(Err(reason));
        }
        let moved: Result<i64, _> = sqlx::query_scalar(
            "UPDATE bookings SET slot_id = $1, sequence = sequence + 1 WHERE id = $2 RETURNING sequence",
        )
        .bind(&to.0)
        .bind(booking)
        .fetch_one(w.conn())
        .await;
        let sequence = match moved {
            Ok(sequence) => super::rows::sequence(sequence),
            // The index has the last word; nothing was written, so dropping the
            // transaction undoes nothing.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Ok(Err(Refusal::Booked));
            }
            Err(e) => return Err(e.into()),
        };
        sqlx::query("DELETE FROM holds WHERE slot_id = $1").bind(&to.0).execute(w.conn()).await?;
        freed(&mut w, &from, offering).await?;
        w.booked(to, booking);
        Ok(Ok((w.commit().await?, sequence)))
    }

    async fn block(&self, slot: &SlotId, at: DateTime<Utc>) -> Result<Result<Version, Refusal>> {
        let mut w = self.writer().await?;
        let occupied = match occupancy_of(w.conn(), slot).await? {
            Ok(o) => o,
            Err(reason) => return Ok(Err(reason)),
        };
        let refusal = match occupied.refusal(None) {
            // Staff take a held slot from whoever holds it.
            Some(Refusal::Held) => None,
            other => other,
        };
        if let Some(reason) = refusal {
            return Ok(Err(reason));
        }
        sqlx::query("DELETE FROM holds WHERE slot_id = $1").bind(&slot.0).execute(w.conn()).await?;
        sqlx::query("INSERT INTO blocks (slot_id, blocked_at) VALUES ($1, $2)")
            .bind(&slot.0)
            .bind(at.timestamp())
            .execute(w.conn())
            .await?;
        w.blocked(slot);
        Ok(Ok(w.commit().await?))
    }

    async fn unblock(&self, slot: &SlotId, offering: Offering) -> Result<Option<Version>> {
        let statement = sqlx::query("DELETE FROM blocks WHERE slot_id = $1").bind(&slot.0);
        self.free_if_one_row(slot, statement, offering).await
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

    async fn reset(&self, slots: &[SlotDef], at: DateTime<Utc>) -> Result<Version> {
        let mut w = self.writer().await?;
        sqlx::query(
            "UPDATE bookings SET cancelled_at = $1, sequence = sequence + 1 WHERE cancelled_at IS NULL",
        )
        .bind(at.timestamp())
        .execute(w.conn())
        .await?;
        sqlx::query("DELETE FROM holds").execute(w.conn()).await?;
        sqlx::query("DELETE FROM blocks").execute(w.conn()).await?;
        sqlx::query("UPDATE waitlist SET status = 'removed', ended_at = $1 WHERE status = 'waiting'")
            .bind(at.timestamp())
            .execute(w.conn())
            .await?;
        insert_missing(w.conn(), slots).await?;
        w.reload();
        w.commit().await
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
        waitlist::lapse_past(&mut *self.pool.acquire().await?, today, at).await
    }

    async fn change_window(&self, id: i64, window: &WaitWindow) -> Result<bool> {
        waitlist::change_window(&mut *self.pool.acquire().await?, id, window).await
    }

    async fn end_waiting(&self, id: i64, status: WaitStatus, offering: Offering) -> Result<Option<Version>> {
        let mut w = self.writer().await?;
        if !waitlist::end(w.conn(), id, status, None, offering.now).await? {
            return Ok(None);
        }
        if let Some(slot) = waitlist::withdraw(w.conn(), id).await? {
            freed(&mut w, &slot, offering).await?;
        }
        Ok(Some(w.commit().await?))
    }

    async fn decline_offer(&self, id: i64, offering: Offering) -> Result<Option<Version>> {
        let mut w = self.writer().await?;
        let Some(slot) = waitlist::withdraw(w.conn(), id).await? else { return Ok(None) };
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
        let rows: Vec<_> = rows.into_iter().map(|row| audit::pending(at, origin, row)).collect();
        audit::append(&mut *self.pool.acquire().await?, &rows).await
    }

    async fn history(&self, query: &HistoryQuery) -> Result<Vec<AuditEntry>> {
        audit::history(&mut *self.pool.acquire().await?, query).await
    }
}
