//! The SQLite store: one embedded file in WAL mode, synchronous commits, migrations
//! applied at start-up.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use protocol::{DoctorId, Patient, SlotId, Version};
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::{BookError, Loaded, NewBooking, Store, StoredBooking, StoredSlot, StoredState};
use crate::Result;
use crate::clinic::SlotDef;

/// The schedule in one SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url`, such as
    /// `sqlite://data/booking.db`, and applies the migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // An acknowledged booking must survive a power cut, not only a crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        if let Some(dir) = Path::new(options.get_filename()).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Closes every connection, waiting for them to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Advances the version by `by` and returns the new one.
async fn advance(tx: &mut Transaction<'_, Sqlite>, by: u64) -> Result<Version> {
    let version: i64 = sqlx::query_scalar(
        "UPDATE schedule_version SET version = version + ? WHERE id = 1 RETURNING version",
    )
    .bind(by as i64)
    .fetch_one(&mut **tx)
    .await?;
    Ok(version as Version)
}

/// Runs one statement and, when it changed exactly one row, advances the version:
/// a hold, release, block, unblock or cancellation happened once or not at all.
async fn if_one_row<'q>(
    tx: &mut Transaction<'_, Sqlite>,
    statement: Query<'q, Sqlite, SqliteArguments<'q>>,
) -> Result<Option<Version>> {
    let changed = statement.execute(&mut **tx).await?.rows_affected();
    Ok(if changed == 1 { Some(advance(tx, 1).await?) } else { None })
}

async fn current(tx: &mut Transaction<'_, Sqlite>) -> Result<Version> {
    let version: i64 =
        sqlx::query_scalar("SELECT version FROM schedule_version WHERE id = 1").fetch_one(&mut **tx).await?;
    Ok(version as Version)
}

/// Inserts the slots not yet stored and moves unbooked ones to their configured
/// times; returns how many were new.
async fn insert_missing(tx: &mut Transaction<'_, Sqlite>, slots: &[SlotDef]) -> Result<u64> {
    let mut added = 0;
    for slot in slots {
        let existed: Option<(i64, i64)> = sqlx::query_as("SELECT start_at, end_at FROM slots WHERE id = ?")
            .bind(&slot.id.0)
            .fetch_optional(&mut **tx)
            .await?;
        match existed {
            None => {
                sqlx::query("INSERT INTO slots (id, doctor_id, start_at, end_at) VALUES (?, ?, ?, ?)")
                    .bind(&slot.id.0)
                    .bind(&slot.doctor_id.0)
                    .bind(slot.start.timestamp())
                    .bind(slot.end.timestamp())
                    .execute(&mut **tx)
                    .await?;
                added += 1;
            }
            Some((start, end)) if (start, end) != (slot.start.timestamp(), slot.end.timestamp()) => {
                // A booked slot keeps the times it was booked with.
                sqlx::query(
                    "UPDATE slots SET start_at = ?, end_at = ? WHERE id = ?
                     AND NOT EXISTS (SELECT 1 FROM bookings WHERE slot_id = ? AND cancelled_at IS NULL)",
                )
                .bind(slot.start.timestamp())
                .bind(slot.end.timestamp())
                .bind(&slot.id.0)
                .bind(&slot.id.0)
                .execute(&mut **tx)
                .await?;
            }
            Some(_) => {}
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
    booked: bool,
    blocked: bool,
    holder: Option<String>,
    hold_expires: Option<i64>,
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

fn instant(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// Runs `f` in a transaction that commits only when it succeeds.
macro_rules! in_transaction {
    ($pool:expr, |$tx:ident| $body:block) => {{
        let mut $tx = $pool.begin().await?;
        let result = $body;
        $tx.commit().await?;
        Ok(result)
    }};
}

impl Store for SqliteStore {
    async fn load(&self, from: DateTime<Utc>) -> Result<Loaded> {
        in_transaction!(self.pool, |tx| {
            let version = current(&mut tx).await?;
            let rows: Vec<SlotRow> = sqlx::query_as(
                "SELECT s.id, s.doctor_id, s.start_at, s.end_at,
                        EXISTS (SELECT 1 FROM bookings b WHERE b.slot_id = s.id AND b.cancelled_at IS NULL) AS booked,
                        EXISTS (SELECT 1 FROM blocks k WHERE k.slot_id = s.id) AS blocked,
                        h.holder, h.expires_at AS hold_expires
                 FROM slots s LEFT JOIN holds h ON h.slot_id = s.id
                 WHERE s.start_at >= ? ORDER BY s.start_at, s.rowid",
            )
            .bind(from.timestamp())
            .fetch_all(&mut *tx)
            .await?;
            let bookings: Vec<BookingRow> = sqlx::query_as(&format!(
                "SELECT {BOOKING_COLUMNS} FROM bookings b WHERE b.cancelled_at IS NULL
                 AND b.slot_id IN (SELECT id FROM slots WHERE start_at >= ?)"
            ))
            .bind(from.timestamp())
            .fetch_all(&mut *tx)
            .await?;
            let slots = rows
                .into_iter()
                .map(|r| StoredSlot {
                    id: SlotId(r.id),
                    doctor_id: DoctorId(r.doctor_id),
                    start: instant(r.start_at),
                    end: instant(r.end_at),
                    state: match (r.booked, r.blocked, r.holder, r.hold_expires) {
                        (true, ..) => StoredState::Booked,
                        (_, true, ..) => StoredState::Blocked,
                        (_, _, Some(holder), Some(expires)) => {
                            StoredState::Held { holder, expires: instant(expires) }
                        }
                        _ => StoredState::Free,
                    },
                })
                .collect();
            Loaded { version, slots, bookings: bookings.into_iter().map(Into::into).collect() }
        })
    }

    async fn add_slots(&self, slots: &[SlotDef], always_advance: bool) -> Result<Version> {
        in_transaction!(self.pool, |tx| {
            let added = insert_missing(&mut tx, slots).await?;
            if added > 0 || always_advance { advance(&mut tx, 1).await? } else { current(&mut tx).await? }
        })
    }

    async fn book_many(&self, bookings: &[NewBooking<'_>]) -> Result<Vec<Result<(Version, i64), BookError>>> {
        in_transaction!(self.pool, |tx| {
            // One statement for the whole batch; a row that would break a unique
            // rule (the slot's one active booking, or the code) is skipped, and
            // RETURNING tells which rows went in.
            let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO bookings (slot_id, code, manage_hash, patient_name, patient_phone, request_id, created_at) ",
            );
            insert.push_values(bookings, |mut row, b| {
                row.push_bind(&b.slot_id.0)
                    .push_bind(b.code)
                    .push_bind(b.manage_hash)
                    .push_bind(&b.patient.name)
                    .push_bind(&b.patient.phone)
                    .push_bind(b.request_id)
                    .push_bind(b.at.timestamp());
            });
            insert.push(" ON CONFLICT DO NOTHING RETURNING id, slot_id, code");
            let rows: Vec<(i64, String, String)> = insert.build_query_as().fetch_all(&mut *tx).await?;
            let mut inserted: HashMap<(&str, &str), i64> =
                rows.iter().map(|(id, slot, code)| ((slot.as_str(), code.as_str()), *id)).collect();
            let mut next = if rows.is_empty() {
                current(&mut tx).await?
            } else {
                let mut release = sqlx::QueryBuilder::<Sqlite>::new("DELETE FROM holds WHERE slot_id IN ");
                release.push_tuples(&rows, |mut t, (_, slot, _)| {
                    t.push_bind(slot);
                });
                release.build().execute(&mut *tx).await?;
                advance(&mut tx, rows.len() as u64).await? - rows.len() as Version
            };
            let mut outcomes = Vec::with_capacity(bookings.len());
            for booking in bookings {
                // Each row that went in answers the first booking that asked for it.
                if let Some(id) = inserted.remove(&(booking.slot_id.0.as_str(), booking.code)) {
                    next += 1;
                    outcomes.push(Ok((next, id)));
                    continue;
                }
                // Skipped: either the slot already has an active booking or, very
                // rarely, the code is taken.
                let slot_taken: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM bookings WHERE slot_id = ? AND cancelled_at IS NULL)",
                )
                .bind(&booking.slot_id.0)
                .fetch_one(&mut *tx)
                .await?;
                outcomes.push(Err(if slot_taken { BookError::SlotTaken } else { BookError::CodeTaken }));
            }
            outcomes
        })
    }

    async fn hold(&self, slot: &SlotId, holder: &str, expires: DateTime<Utc>) -> Result<Option<Version>> {
        in_transaction!(self.pool, |tx| {
            if_one_row(
                &mut tx,
                sqlx::query(
                    "INSERT INTO holds (slot_id, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                )
                .bind(&slot.0)
                .bind(holder)
                .bind(expires.timestamp()),
            )
            .await?
        })
    }

    async fn release(&self, slot: &SlotId) -> Result<Option<Version>> {
        in_transaction!(self.pool, |tx| {
            if_one_row(&mut tx, sqlx::query("DELETE FROM holds WHERE slot_id = ?").bind(&slot.0)).await?
        })
    }

    async fn release_all(&self) -> Result<Version> {
        in_transaction!(self.pool, |tx| {
            let gone = sqlx::query("DELETE FROM holds").execute(&mut *tx).await?.rows_affected();
            if gone > 0 { advance(&mut tx, gone).await? } else { current(&mut tx).await? }
        })
    }

    async fn booking_by_hash(&self, hash: &str) -> Result<Option<StoredBooking>> {
        let row: Option<BookingRow> =
            sqlx::query_as(&format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE manage_hash = ?"))
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Into::into))
    }

    async fn booking_by_request(&self, request_id: &str, slot: &SlotId) -> Result<Option<StoredBooking>> {
        let row: Option<BookingRow> = sqlx::query_as(&format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings
             WHERE request_id = ? AND slot_id = ? AND cancelled_at IS NULL"
        ))
        .bind(request_id)
        .bind(&slot.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Into::into))
    }

    async fn cancel(&self, booking: i64, at: DateTime<Utc>) -> Result<Option<Version>> {
        in_transaction!(self.pool, |tx| {
            if_one_row(
                &mut tx,
                sqlx::query("UPDATE bookings SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL")
                    .bind(at.timestamp())
                    .bind(booking),
            )
            .await?
        })
    }

    async fn reschedule(&self, booking: i64, to: &SlotId) -> Result<Result<Version, BookError>> {
        in_transaction!(self.pool, |tx| {
            let moved = sqlx::query("UPDATE bookings SET slot_id = ? WHERE id = ? AND cancelled_at IS NULL")
                .bind(&to.0)
                .bind(booking)
                .execute(&mut *tx)
                .await;
            match moved {
                Ok(done) if done.rows_affected() == 1 => {
                    sqlx::query("DELETE FROM holds WHERE slot_id = ?").bind(&to.0).execute(&mut *tx).await?;
                    Ok(advance(&mut tx, 2).await?)
                }
                Ok(_) => Err(BookError::SlotTaken),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(BookError::SlotTaken),
                Err(e) => return Err(e.into()),
            }
        })
    }

    async fn block(&self, slot: &SlotId, at: DateTime<Utc>) -> Result<Option<Version>> {
        in_transaction!(self.pool, |tx| {
            if_one_row(
                &mut tx,
                sqlx::query("INSERT INTO blocks (slot_id, blocked_at) VALUES (?, ?) ON CONFLICT DO NOTHING")
                    .bind(&slot.0)
                    .bind(at.timestamp()),
            )
            .await?
        })
    }

    async fn unblock(&self, slot: &SlotId) -> Result<Option<Version>> {
        in_transaction!(self.pool, |tx| {
            if_one_row(&mut tx, sqlx::query("DELETE FROM blocks WHERE slot_id = ?").bind(&slot.0)).await?
        })
    }

    async fn reset(&self, slots: &[SlotDef], at: DateTime<Utc>) -> Result<Version> {
        in_transaction!(self.pool, |tx| {
            sqlx::query("UPDATE bookings SET cancelled_at = ? WHERE cancelled_at IS NULL")
                .bind(at.timestamp())
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM holds").execute(&mut *tx).await?;
            sqlx::query("DELETE FROM blocks").execute(&mut *tx).await?;
            insert_missing(&mut tx, slots).await?;
            advance(&mut tx, 1).await?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clinic::ClinicConfig;
    use protocol::Patient;

    fn at() -> DateTime<Utc> {
        "2026-11-24T07:00:00Z".parse().unwrap()
    }

    #[tokio::test]
    async fn a_batch_commits_each_free_slot_once_with_consecutive_versions() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&format!("sqlite://{}/b.db", dir.path().display())).await.unwrap();
        let slots = ClinicConfig::demo().slots_from(at().date_naive());
        assert!(slots.iter().any(|s| s.id.0 == "therapist-20261124-1000"));
        let start = store.add_slots(&slots, false).await.unwrap();
        let patient = Patient { name: "A".into(), phone: "12345".into() };
        let booking = |slot: &'static str, code: &'static str| (SlotId(slot.into()), code, patient.clone());
        let hashes = ["h1", "h2", "h3", "h4"];
        let wanted = [
            booking("therapist-20261124-1000", "AAAA-0001"),
            booking("therapist-20261124-1000", "AAAA-0002"),
            booking("therapist-20261124-1030", "AAAA-0003"),
            booking("dentist-20261124-0945", "AAAA-0003"),
        ];
        let batch: Vec<NewBooking<'_>> = wanted
            .iter()
            .zip(hashes)
            .map(|((slot, code, patient), manage_hash)| NewBooking {
                slot_id: slot,
                code,
                manage_hash,
                patient,
                request_id: "r",
                at: at(),
            })
            .collect();

        let outcomes = store.book_many(&batch).await.unwrap();

        let versions: Vec<_> = outcomes.iter().map(|o| o.map(|(version, _)| version)).collect();
        assert_eq!(
            versions,
            vec![Ok(start + 1), Err(BookError::SlotTaken), Ok(start + 2), Err(BookError::CodeTaken)]
        );
        let loaded = store.load(at()).await.unwrap();
        assert_eq!(loaded.version, start + 2);
        assert_eq!(loaded.slots.iter().filter(|s| s.state == StoredState::Booked).count(), 2);
        assert_eq!(loaded.bookings.len(), 2);
    }
}
