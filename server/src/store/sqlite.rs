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

    async fn book(&self, booking: NewBooking<'_>) -> Result<Version, BookError> {
        let mut tx = self.pool.begin().await.map_err(crate::Error::from)?;
        let inserted = sqlx::query(
            "INSERT INTO bookings (slot_id, code, patient_name, patient_phone, request_id, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&booking.slot_id.0)
        .bind(booking.code)
        .bind(&booking.patient.name)
        .bind(&booking.patient.phone)
        .bind(booking.request_id)
        .bind(booking.at.timestamp())
        .execute(&mut *tx)
        .await;
        if let Err(sqlx::Error::Database(e)) = &inserted
            && e.is_unique_violation()
        {
            // SQLite names the violated column in the message.
            return Err(if e.message().contains("bookings.code") {
                BookError::CodeTaken
            } else {
                BookError::SlotTaken
            });
        }
        inserted.map_err(crate::Error::from)?;
        let version = advance(&mut tx).await?;
        tx.commit().await.map_err(crate::Error::from)?;
        Ok(version)
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
