//! The store on SQL: one code path for SQLite and PostgreSQL through sqlx's `Any`
//! driver. Only the connection set-up, the migrations and the notifications
//! differ between the two; every statement is written once, in SQL both accept.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use protocol::{BookingFailure, DoctorId, Patient, SlotId, Version};
use sqlx::any::{AnyArguments, AnyPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Connection, Executor};
use tokio::sync::mpsc;

use super::writer::{CHANNEL, Writer};
use super::{
    BookError, Change, Changed, Loaded, NewBooking, Signal, Store, StoredBooking, StoredSlot, StoredState,
};
use crate::clinic::SlotDef;
use crate::{Error, Result};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file, used by this process alone.
    Sqlite,
    /// A PostgreSQL server, possibly shared by several server instances.
    Postgres,
}

impl Backend {
    /// The backend of a database URL, or a configuration error.
    pub fn of(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(Error::Config(format!(
                "unsupported database URL `{}`; use sqlite://PATH or postgres://USER:PASSWORD@HOST/DATABASE",
                redacted(url)
            )))
        }
    }
}

/// A URL with any password replaced, for messages and logs.
pub(crate) fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The schedule in a SQL database.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    url: String,
}

/// `($1, $2, $3), ($4, $5, $6)`: `rows` tuples of `columns` numbered
/// placeholders, which both databases accept.
pub(super) fn placeholders(rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for column in 0..columns {
            if column > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(row * columns + column + 1).to_string());
        }
        out.push(')');
    }
    out
}

/// `$1, $2, …, $n`, for an `IN (…)` list.
fn list(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl SqlStore {
    /// Opens the database at `url` (`sqlite://PATH`, created when missing, or
    /// `postgres://…`) and applies the migrations.
    pub async fn open(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url)?;
        let pool = match backend {
            Backend::Sqlite => {
                create_sqlite(url).await?;
                AnyPoolOptions::new()
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // An acknowledged booking must survive a power cut, not
                            // only a crash.
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .map_err(|e| Error::Config(format!("cannot connect to {}: {e}", redacted(url))))?,
        };
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            // Several instances starting at once take turns: the migrator holds an
            // advisory lock while it works.
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
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
    /// one, logs the slot as free: a held or blocked slot is neither booked nor
    /// anything else.
    async fn free_if_one_row<'q>(
        &self,
        slot: &SlotId,
        statement: Query<'q, Any, AnyArguments<'q>>,
    ) -> Result<Option<Version>> {
        let mut w = self.writer().await?;
        let changed = statement.execute(w.conn()).await?.rows_affected();
        let version = (changed == 1).then(|| w.free(slot));
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

/// Creates the SQLite file (and its directory) when missing and puts it in WAL
/// mode, which stays set in the file.
async fn create_sqlite(url: &str) -> Result<()> {
    let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
    if let Some(dir) = Path::new(options.get_filename()).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let connection = options.journal_mode(SqliteJournalMode::Wal).connect().await?;
    connection.close().await?;
    Ok(())
}

/// What keeps others out of a slot.
#[derive(Debug, sqlx::FromRow)]
struct Occupancy {
    id: String,
    booked: i64,
    blocked: i64,
    holder: Option<String>,
}

impl Occupancy {
    /// Why somebody holding as `holder` may not take the slot, if they may not.
    fn refusal(&self, holder: Option<&str>) -> Option<BookingFailure> {
        if self.booked != 0 {
            Some(BookingFailure::AlreadyBooked)
        } else if self.blocked != 0 {
            Some(BookingFailure::Blocked)
        } else if self.holder.is_some() && self.holder.as_deref() != holder {
            Some(BookingFailure::Held)
        } else {
            None
        }
    }
}

/// What holds each slot `s` (with its hold `h`): whether it has an active
/// booking, whether it is blocked, and who holds it. Integers rather than
/// booleans, which the `Any` driver cannot read from SQLite.
const SLOT_STATE: &str =
    "CASE WHEN EXISTS (SELECT 1 FROM bookings b WHERE b.slot_id = s.id AND b.cancelled_at IS NULL)
             THEN 1 ELSE 0 END AS booked,
        CASE WHEN EXISTS (SELECT 1 FROM blocks k WHERE k.slot_id = s.id) THEN 1 ELSE 0 END AS blocked,
        h.holder";

/// The version now, read through `executor`.
async fn current_version<'e>(executor: impl sqlx::Executor<'e, Database = Any>) -> Result<Version> {
    let version: i64 =
        sqlx::query_scalar("SELECT version FROM schedule_version WHERE id = 1").fetch_one(executor).await?;
    Ok(version as Version)
}

/// The occupancy of each of `slots` that exists, by id.
async fn occupancy(conn: &mut AnyConnection, slots: &[&SlotId]) -> Result<HashMap<String, Occupancy>> {
    if slots.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT s.id, {SLOT_STATE} FROM slots s LEFT JOIN holds h ON h.slot_id = s.id WHERE s.id IN ({})",
        list(slots.len())
    );
    let mut query = sqlx::query_as::<_, Occupancy>(&sql);
    for slot in slots {
        query = query.bind(slot.0.as_str());
    }
    Ok(query.fetch_all(conn).await?.into_iter().map(|o| (o.id.clone(), o)).collect())
}

/// One slot's occupancy; `NotFound` when there is no such slot.
async fn occupancy_of(conn: &mut AnyConnection, slot: &SlotId) -> Result<Result<Occupancy, BookingFailure>> {
    Ok(occupancy(conn, &[slot]).await?.remove(&slot.0).ok_or(BookingFailure::NotFound))
}

/// Inserts the slots not yet stored and moves unbooked ones to their configured
/// times; returns how many were new.
async fn insert_missing(conn: &mut AnyConnection, slots: &[SlotDef]) -> Result<u64> {
    let mut stored: HashMap<String, (i64, i64)> = HashMap::new();
    for chunk in slots.chunks(500) {
        let sql = format!("SELECT id, start_at, end_at FROM slots WHERE id IN ({})", list(chunk.len()));
        let mut query = sqlx::query_as::<_, (String, i64, i64)>(&sql);
        for slot in chunk {
            query = query.bind(slot.id.0.as_str());
        }
        stored.extend(
            query.fetch_all(&mut *conn).await?.into_iter().map(|(id, start, end)| (id, (start, end))),
        );
    }
    let mut added = 0;
    for slot in slots {
        let times = (slot.start.timestamp(), slot.end.timestamp());
        match stored.get(&slot.id.0) {
            Some(&stored) if stored == times => {}
            Some(_) => {
                // A booked slot keeps the times it was booked with.
                sqlx::query(
                    "UPDATE slots SET start_at = $1, end_at = $2 WHERE id = $3
                     AND NOT EXISTS (SELECT 1 FROM bookings WHERE slot_id = $3 AND cancelled_at IS NULL)",
                )
                .bind(times.0)
                .bind(times.1)
                .bind(&slot.id.0)
                .execute(&mut *conn)
                .await?;
            }
            None => {
                let done = sqlx::query(
                    "INSERT INTO slots (id, doctor_id, start_at, end_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                )
                .bind(&slot.id.0)
                .bind(&slot.doctor_id.0)
                .bind(times.0)
                .bind(times.1)
                .execute(&mut *conn)
                .await?;
                added += done.rows_affected();
            }
        }
    }
    Ok(added)
}

#[derive(sqlx::FromRow)]
struct SlotRow {
    id: String,
    doctor_id: String,
    start_at: i64,
    end_at: i64,
    booked: i64,
    blocked: i64,
    holder: Option<String>,
    hold_expires: Option<i64>,
}

fn stored_state(booked: bool, blocked: bool, holder: Option<String>, expires: Option<i64>) -> StoredState {
    match (booked, blocked, holder, expires) {
        (true, ..) => StoredState::Booked,
        (_, true, ..) => StoredState::Blocked,
        (_, _, Some(holder), Some(expires)) => StoredState::Held { holder, expires: instant(expires) },
        _ => StoredState::Free,
    }
}

#[derive(sqlx::FromRow)]
struct BookingRow {
    id: i64,
    slot_id: String,
    code: String,
    patient_name: String,
    patient_phone: String,
    created_at: i64,
    cancelled_at: Option<i64>,
}

impl From<BookingRow> for StoredBooking {
    fn from(r: BookingRow) -> Self {
        Self {
            id: r.id,
            slot_id: SlotId(r.slot_id),
            code: r.code,
            patient: Patient { name: r.patient_name, phone: r.patient_phone },
            booked_at: instant(r.created_at),
            active: r.cancelled_at.is_none(),
        }
    }
}

const BOOKING_COLUMNS: &str = "id, slot_id, code, patient_name, patient_phone, created_at, cancelled_at";

/// A logged change with the booking it names, if any.
#[derive(sqlx::FromRow)]
struct ChangeRow {
    version: i64,
    slot_id: Option<String>,
    status: String,
    holder: Option<String>,
    hold_expires: Option<i64>,
    booking_id: Option<i64>,
    code: Option<String>,
    patient_name: Option<String>,
    patient_phone: Option<String>,
    created_at: Option<i64>,
}

impl ChangeRow {
    fn into_change(self) -> Change {
        let version = self.version as Version;
        let Some(slot) = self.slot_id.map(SlotId) else { return Change { version, what: Changed::Reload } };
        let state = match self.status.as_str() {
            "held" => StoredState::Held {
                holder: self.holder.unwrap_or_default(),
                expires: instant(self.hold_expires.unwrap_or_default()),
            },
            "booked" => StoredState::Booked,
            "blocked" => StoredState::Blocked,
            _ => StoredState::Free,
        };
        let booking = match (self.booking_id, self.code, self.patient_name, self.patient_phone) {
            (Some(id), Some(code), Some(name), Some(phone)) if state == StoredState::Booked => {
                Some(StoredBooking {
                    id,
                    slot_id: slot.clone(),
                    code,
                    patient: Patient { name, phone },
                    booked_at: instant(self.created_at.unwrap_or_default()),
                    active: true,
                })
            }
            _ => None,
        };
        Change { version, what: Changed::Slot { id: slot, state, booking } }
    }
}

fn instant(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
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
                    b.code, b.patient_name, b.patient_phone, b.created_at
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
        let listener = subscribe(&options).await?;
        tokio::spawn(listen(options, listener, signals));
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

    async fn release_orphaned_holds(&self, now: DateTime<Utc>) -> Result<Version> {
        let mut w = self.writer().await?;
        // On a database of this process alone, no hold's connection outlived the
        // last run; on a shared one, other instances' holds are live.
        let sql = match self.backend {
            Backend::Sqlite => "DELETE FROM holds RETURNING slot_id",
            Backend::Postgres => "DELETE FROM holds WHERE expires_at <= $1 RETURNING slot_id",
        };
        let mut query = sqlx::query_scalar::<_, String>(sql);
        if self.backend == Backend::Postgres {
            query = query.bind(now.timestamp());
        }
        for slot in query.fetch_all(w.conn()).await? {
            w.free(&SlotId(slot));
        }
        w.commit().await
    }

    async fn book_many(&self, bookings: &[NewBooking<'_>]) -> Result<Vec<Result<(Version, i64), BookError>>> {
        let mut w = self.writer().await?;
        let slots: Vec<&SlotId> = bookings.iter().map(|b| b.slot_id).collect();
        let occupied = occupancy(w.conn(), &slots).await?;
        // The rules first, in the order given: the first booking of a slot may
        // take it, a later one in the same batch finds it booked.
        let mut taken = std::collections::HashSet::new();
        let decided: Vec<Result<(), BookError>> = bookings
            .iter()
            .map(|b| {
                let refusal = match occupied.get(&b.slot_id.0) {
                    None => Some(BookingFailure::NotFound),
                    Some(_) if taken.contains(&b.slot_id.0) => Some(BookingFailure::AlreadyBooked),
                    Some(o) => o.refusal(Some(b.holder)),
                };
                match refusal {
                    Some(reason) => Err(BookError::Refused(reason)),
                    None => {
                        taken.insert(b.slot_id.0.clone());
                        Ok(())
                    }
                }
            })
            .collect();
        let mut decided = decided;
        // A proof of work buys one booking: one spent before is refused here,
        // and the unique index on proofs stands behind this.
        let proofs: Vec<&str> =
            bookings.iter().zip(&decided).filter(|(_, d)| d.is_ok()).filter_map(|(b, _)| b.proof).collect();
        if !proofs.is_empty() {
            let sql = format!("SELECT proof FROM bookings WHERE proof IN ({})", list(proofs.len()));
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            for proof in &proofs {
                query = query.bind(*proof);
            }
            let mut spent: std::collections::HashSet<String> =
                query.fetch_all(w.conn()).await?.into_iter().collect();
            for (b, d) in bookings.iter().zip(decided.iter_mut()) {
                let Some(proof) = b.proof.filter(|_| d.is_ok()) else { continue };
                // Spent before, or by an earlier booking of this batch.
                if !spent.insert(proof.to_owned()) {
                    *d = Err(BookError::Refused(BookingFailure::ChallengeFailed));
                }
            }
        }
        let candidates: Vec<&NewBooking<'_>> =
            bookings.iter().zip(&decided).filter(|(_, d)| d.is_ok()).map(|(b, _)| b).collect();
        // Each row that went in, by its code (unique): its id and slot.
        let mut inserted: HashMap<String, (i64, String)> = HashMap::new();
        if !candidates.is_empty() {
            // The unique indexes have the last word: a row that would break one
            // (a second active booking, a code in use) is skipped, and RETURNING
            // tells which rows went in.
            let sql = format!(
                "INSERT INTO bookings (slot_id, code, manage_hash, patient_name, patient_phone, request_id, created_at, proof)
                 VALUES {} ON CONFLICT DO NOTHING RETURNING id, slot_id, code",
                placeholders(candidates.len(), 8)
            );
            let mut insert = sqlx::query_as::<_, (i64, String, String)>(&sql);
            for b in &candidates {
                insert = insert
                    .bind(b.slot_id.0.as_str())
                    .bind(b.code)
                    .bind(b.manage_hash)
                    .bind(b.patient.name.as_str())
                    .bind(b.patient.phone.as_str())
                    .bind(b.retry_key)
                    .bind(b.at.timestamp())
                    .bind(b.proof);
            }
            inserted = insert.fetch_all(w.conn()).await?.into_iter().map(|(id, s, c)| (c, (id, s))).collect();
        }
        if !inserted.is_empty() {
            // A booked slot's hold (the booker's own) ends with it.
            let sql = format!("DELETE FROM holds WHERE slot_id IN ({})", list(inserted.len()));
            let mut release = sqlx::query(&sql);
            for (_, slot) in inserted.values() {
                release = release.bind(slot.as_str());
            }
            release.execute(w.conn()).await?;
        }
        let mut outcomes = Vec::with_capacity(bookings.len());
        for (booking, decision) in bookings.iter().zip(decided) {
            if let Err(refused) = decision {
                outcomes.push(Err(refused));
                continue;
            }
            let went_in =
                inserted.get(booking.code).filter(|(_, slot)| *slot == booking.slot_id.0).map(|(id, _)| *id);
            match went_in {
                Some(id) => {
                    // Answers only the first booking that asked for it.
                    inserted.remove(booking.code);
                    outcomes.push(Ok((w.booked(booking.slot_id, id), id)));
                }
                // Skipped by an index: the slot's, the proof's, or (very rarely)
                // the code's.
                None => {
                    let slot_taken: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM bookings WHERE slot_id = $1 AND cancelled_at IS NULL",
                    )
                    .bind(booking.slot_id.0.as_str())
                    .fetch_one(w.conn())
                    .await?;
                    let proof_spent: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM bookings WHERE proof = $1")
                            .bind(booking.proof)
                            .fetch_one(w.conn())
                            .await?;
                    outcomes.push(Err(if slot_taken > 0 {
                        BookError::Refused(BookingFailure::AlreadyBooked)
                    } else if proof_spent > 0 {
                        BookError::Refused(BookingFailure::ChallengeFailed)
                    } else {
                        BookError::CodeTaken
                    }));
                }
            }
        }
        w.commit().await?;
        Ok(outcomes)
    }

    async fn hold(
        &self,
        slot: &SlotId,
        holder: &str,
        expires: DateTime<Utc>,
    ) -> Result<Result<Version, BookingFailure>> {
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

    async fn release(&self, slot: &SlotId, holder: &str) -> Result<Option<Version>> {
        let statement =
            sqlx::query("DELETE FROM holds WHERE slot_id = $1 AND holder = $2").bind(&slot.0).bind(holder);
        self.free_if_one_row(slot, statement).await
    }

    async fn end_hold(&self, slot: &SlotId) -> Result<Option<Version>> {
        self.free_if_one_row(slot, sqlx::query("DELETE FROM holds WHERE slot_id = $1").bind(&slot.0)).await
    }

    async fn expire(&self, slot: &SlotId, now: DateTime<Utc>) -> Result<Option<Version>> {
        let statement = sqlx::query("DELETE FROM holds WHERE slot_id = $1 AND expires_at <= $2")
            .bind(&slot.0)
            .bind(now.timestamp());
        self.free_if_one_row(slot, statement).await
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

    async fn cancel(&self, booking: i64, at: DateTime<Utc>) -> Result<Option<Version>> {
        let mut w = self.writer().await?;
        let slot: Option<String> = sqlx::query_scalar(
            "UPDATE bookings SET cancelled_at = $1 WHERE id = $2 AND cancelled_at IS NULL RETURNING slot_id",
        )
        .bind(at.timestamp())
        .bind(booking)
        .fetch_optional(w.conn())
        .await?;
        // A booked slot is neither held nor blocked, so it is free now.
        let version = slot.map(|slot| w.free(&SlotId(slot)));
        w.commit().await?;
        Ok(version)
    }

    async fn reschedule(
        &self,
        booking: i64,
        to: &SlotId,
        holder: &str,
    ) -> Result<Result<Version, BookingFailure>> {
        let mut w = self.writer().await?;
        let from: Option<String> =
            sqlx::query_scalar("SELECT slot_id FROM bookings WHERE id = $1 AND cancelled_at IS NULL")
                .bind(booking)
                .fetch_optional(w.conn())
                .await?;
        let Some(from) = from.map(SlotId) else { return Ok(Err(BookingFailure::Cancelled)) };
        let occupied = match occupancy_of(w.conn(), to).await? {
            Ok(o) => o,
            Err(reason) => return Ok(Err(reason)),
        };
        if let Some(reason) = occupied.refusal(Some(holder)) {
            return Ok(Err(reason));
        }
        let moved = sqlx::query("UPDATE bookings SET slot_id = $1 WHERE id = $2")
            .bind(&to.0)
            .bind(booking)
            .execute(w.conn())
            .await;
        match moved {
            Ok(_) => {}
            // The index has the last word; nothing was written, so dropping the
            // transaction undoes nothing.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Ok(Err(BookingFailure::AlreadyBooked));
            }
            Err(e) => return Err(e.into()),
        }
        sqlx::query("DELETE FROM holds WHERE slot_id = $1").bind(&to.0).execute(w.conn()).await?;
        w.free(&from);
        w.booked(to, booking);
        Ok(Ok(w.commit().await?))
    }

    async fn block(&self, slot: &SlotId, at: DateTime<Utc>) -> Result<Result<Version, BookingFailure>> {
        let mut w = self.writer().await?;
        let occupied = match occupancy_of(w.conn(), slot).await? {
            Ok(o) => o,
            Err(reason) => return Ok(Err(reason)),
        };
        let refusal = match occupied.refusal(None) {
            Some(BookingFailure::Blocked) => Some(BookingFailure::WrongState),
            // Staff take a held slot from whoever holds it.
            Some(BookingFailure::Held) => None,
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

    async fn unblock(&self, slot: &SlotId) -> Result<Option<Version>> {
        self.free_if_one_row(slot, sqlx::query("DELETE FROM blocks WHERE slot_id = $1").bind(&slot.0)).await
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
        sqlx::query("UPDATE bookings SET cancelled_at = $1 WHERE cancelled_at IS NULL")
            .bind(at.timestamp())
            .execute(w.conn())
            .await?;
        sqlx::query("DELETE FROM holds").execute(w.conn()).await?;
        sqlx::query("DELETE FROM blocks").execute(w.conn()).await?;
        insert_missing(w.conn(), slots).await?;
        w.reload();
        w.commit().await
    }
}

/// A listening connection subscribed to the change channel.
async fn subscribe(options: &PgConnectOptions) -> Result<PgListener> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.clone())
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Forwards notifications to the engine until it stops listening. When the
/// connection is lost, subscribes again, and then tells the engine to catch up
/// from the database, since notifications sent meanwhile are gone.
async fn listen(options: PgConnectOptions, first: PgListener, signals: mpsc::Sender<Signal>) {
    let mut listener = Some(first);
    let mut retry = Duration::from_millis(100);
    loop {
        let mut current = match listener.take() {
            Some(l) => l,
            None => match subscribe(&options).await {
                Ok(l) => {
                    tracing::info!("listening for other instances' changes again");
                    retry = Duration::from_millis(100);
                    if signals.send(Signal::CatchUp).await.is_err() {
                        return;
                    }
                    l
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other instances' changes; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(retry) => {}
                        () = signals.closed() => return,
                    }
                    retry = (retry * 2).min(Duration::from_secs(5));
                    continue;
                }
            },
        };
        loop {
            let received = tokio::select! {
                received = current.try_recv() => received,
                () = signals.closed() => return,
            };
            let signal = match received {
                Ok(Some(n)) => n.payload().parse().map_or(Signal::CatchUp, Signal::Committed),
                Ok(None) => {
                    tracing::warn!("the listening connection was lost");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the listening connection failed");
                    break;
                }
            };
            // A full queue already holds a signal that makes the engine read
            // every change; one more adds nothing.
            match signals.try_send(signal) {
                Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => {}
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_leaves_in_a_message() {
        assert_eq!(redacted("postgres://booking:s3cret@db/booking"), "postgres://booking:***@db/booking");
        assert_eq!(redacted("postgres://booking@db/booking"), "postgres://booking@db/booking");
        assert_eq!(redacted("sqlite://data/booking.db"), "sqlite://data/booking.db");
        let refused = Backend::of("mysql://root:s3cret@db/x").unwrap_err().to_string();
        assert!(!refused.contains("s3cret"), "{refused}");
    }

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(list(3), "$1, $2, $3");
    }
}
