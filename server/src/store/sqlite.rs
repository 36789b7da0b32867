//! The SQLite store: one embedded file in WAL mode, synchronous commits, migrations
//! applied at start-up.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use protocol::{DoctorId, SlotId, Version};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::{BookError, Loaded, NewBooking, Store, StoredSlot};
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

async fn advance(tx: &mut Transaction<'_, Sqlite>) -> Result<Version> {
    let version: i64 = sqlx::query_scalar(
        "UPDATE schedule_version SET version = version + 1 WHERE id = 1 RETURNING version",
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(version as Version)
}

async fn current(tx: &mut Transaction<'_, Sqlite>) -> Result<Version> {
    let version: i64 =
        sqlx::query_scalar("SELECT version FROM schedule_version WHERE id = 1").fetch_one(&mut **tx).await?;
    Ok(version as Version)
}

/// Inserts the slots not yet stored; returns how many were new.
async fn insert_missing(tx: &mut Transaction<'_, Sqlite>, slots: &[SlotDef]) -> Result<u64> {
    let mut added = 0;
    for slot in slots {
        added += sqlx::query(
            "INSERT INTO slots (id, doctor_id, start_at, end_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&slot.id.0)
        .bind(&slot.doctor_id.0)
        .bind(slot.start.timestamp())
        .bind(slot.end.timestamp())
        .execute(&mut **tx)
        .await?
        .rows_affected();
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
}

fn instant(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

impl Store for SqliteStore {
    async fn load(&self, from: DateTime<Utc>) -> Result<Loaded> {
        let mut tx = self.pool.begin().await?;
        let version = current(&mut tx).await?;
        let rows: Vec<SlotRow> = sqlx::query_as(
            "SELECT s.id, s.doctor_id, s.start_at, s.end_at,
                    EXISTS (SELECT 1 FROM bookings b
                            WHERE b.slot_id = s.id AND b.cancelled_at IS NULL) AS booked
             FROM slots s WHERE s.start_at >= ? ORDER BY s.start_at, s.rowid",
        )
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
                booked: r.booked,
            })
            .collect();
        Ok(Loaded { version, slots })
    }

    async fn add_slots(&self, slots: &[SlotDef], always_advance: bool) -> Result<Version> {
        let mut tx = self.pool.begin().await?;
        let added = insert_missing(&mut tx, slots).await?;
        let version =
            if added > 0 || always_advance { advance(&mut tx).await? } else { current(&mut tx).await? };
        tx.commit().await?;
        Ok(version)
    }

    async fn book_many(&self, bookings: &[NewBooking<'_>]) -> Result<Vec<Result<Version, BookError>>> {
        let mut tx = self.pool.begin().await?;
        // One statement for the whole batch; a row that would break a unique rule
        // (the slot's one active booking, or the code) is skipped, and RETURNING
        // tells which rows went in.
        let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
            "INSERT INTO bookings (slot_id, code, patient_name, patient_phone, request_id, created_at) ",
        );
        insert.push_values(bookings, |mut row, b| {
            row.push_bind(&b.slot_id.0)
                .push_bind(b.code)
                .push_bind(&b.patient.name)
                .push_bind(&b.patient.phone)
                .push_bind(b.request_id)
                .push_bind(b.at.timestamp());
        });
        insert.push(" ON CONFLICT DO NOTHING RETURNING slot_id, code");
        let rows: Vec<(String, String)> = insert.build_query_as().fetch_all(&mut *tx).await?;
        let mut inserted: std::collections::HashSet<(&str, &str)> =
            rows.iter().map(|(slot, code)| (slot.as_str(), code.as_str())).collect();
        let first = if inserted.is_empty() {
            current(&mut tx).await?
        } else {
            let last: i64 = sqlx::query_scalar(
                "UPDATE schedule_version SET version = version + ? WHERE id = 1 RETURNING version",
            )
            .bind(rows.len() as i64)
            .fetch_one(&mut *tx)
            .await?;
            last as Version - rows.len() as Version
        };
        let mut outcomes = Vec::with_capacity(bookings.len());
        let mut next = first;
        for booking in bookings {
            // Each row that went in answers the first booking that asked for it.
            if inserted.remove(&(booking.slot_id.0.as_str(), booking.code)) {
                next += 1;
                outcomes.push(Ok(next));
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
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn reset(&self, slots: &[SlotDef], at: DateTime<Utc>) -> Result<Version> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE bookings SET cancelled_at = ? WHERE cancelled_at IS NULL")
            .bind(at.timestamp())
            .execute(&mut *tx)
            .await?;
        insert_missing(&mut tx, slots).await?;
        let version = advance(&mut tx).await?;
        tx.commit().await?;
        Ok(version)
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
        let start = store.add_slots(&slots, false).await.unwrap();
        let patient = Patient { name: "A".into(), phone: "12345".into() };
        let booking = |slot: &'static str, code: &'static str| (SlotId(slot.into()), code, patient.clone());
        let wanted = [
            booking("therapist-20261124-1000", "AAAA-0001"),
            booking("therapist-20261124-1000", "AAAA-0002"),
            booking("dentist-20261124-1000", "AAAA-0003"),
            booking("surgeon-20261124-1000", "AAAA-0003"),
        ];
        let batch: Vec<NewBooking<'_>> = wanted
            .iter()
            .map(|(slot, code, patient)| NewBooking {
                slot_id: slot,
                code,
                patient,
                request_id: "r",
                at: at(),
            })
            .collect();

        let outcomes = store.book_many(&batch).await.unwrap();

        assert_eq!(
            outcomes,
            vec![Ok(start + 1), Err(BookError::SlotTaken), Ok(start + 2), Err(BookError::CodeTaken)]
        );
        let loaded = store.load(at()).await.unwrap();
        assert_eq!(loaded.version, start + 2);
        assert_eq!(loaded.slots.iter().filter(|s| s.booked).count(), 2);
    }
}
