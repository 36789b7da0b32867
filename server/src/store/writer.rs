//! One write transaction: it takes the schedule's version row first, which orders
//! every writer of the database (on PostgreSQL, of every server instance) one
//! after the other, so versions follow commit order and the checks a writer makes
//! cannot be overtaken. Each change it makes is logged with its version, and on
//! commit the version row is advanced and, on a shared database, the other
//! instances are notified.

use chrono::{DateTime, Utc};
use protocol::{SlotId, Version};
use sqlx::{Any, AnyConnection, Transaction};

use super::audit::{self, AuditRow, Pending};
use super::text::placeholders;
use crate::Result;
use crate::audit::Origin;

/// The PostgreSQL channel that carries the version of every commit.
pub(super) const CHANNEL: &str = "booking_changes";

/// One logged change, as the `changes` table stores it.
#[derive(Debug)]
struct Entry {
    version: Version,
    slot_id: Option<String>,
    status: &'static str,
    holder: Option<String>,
    hold_expires: Option<i64>,
    booking_id: Option<i64>,
}

/// A write transaction in progress.
pub(super) struct Writer {
    tx: Transaction<'static, Any>,
    version: Version,
    entries: Vec<Entry>,
    audit: Vec<Pending>,
    notify: bool,
    /// When it began, for the commit latency.
    started: std::time::Instant,
}

impl Writer {
    /// Begins a write: waits for the version row, so that nobody else writes
    /// until this transaction ends.
    pub(super) async fn begin(pool: &sqlx::AnyPool, notify: bool) -> Result<Self> {
        let started = std::time::Instant::now();
        let mut tx = pool.begin().await?;
        // An update, not a read: it takes the row lock on PostgreSQL and the write
        // lock on SQLite, before anything is checked.
        let version: i64 = sqlx::query_scalar(
            "UPDATE schedule_version SET version = version WHERE id = 1 RETURNING version",
        )
        .fetch_one(&mut *tx)
        .await?;
        Ok(Self { tx, version: version as Version, entries: Vec::new(), audit: Vec::new(), notify, started })
    }

    /// The connection to run this transaction's statements on.
    pub(super) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    fn log(
        &mut self,
        slot: Option<&SlotId>,
        status: &'static str,
        holder: Option<&str>,
        hold_expires: Option<DateTime<Utc>>,
        booking_id: Option<i64>,
    ) -> Version {
        self.version += 1;
        self.entries.push(Entry {
            version: self.version,
            slot_id: slot.map(|s| s.0.clone()),
            status,
            holder: holder.map(str::to_owned),
            hold_expires: hold_expires.map(|t| t.timestamp()),
            booking_id,
        });
        self.version
    }

    /// Logs that `slot` is free now; returns its version.
    pub(super) fn free(&mut self, slot: &SlotId) -> Version {
        self.log(Some(slot), "free", None, None, None)
    }

    /// Logs that `holder` holds `slot` until `expires`.
    pub(super) fn held(&mut self, slot: &SlotId, holder: &str, expires: DateTime<Utc>) -> Version {
        self.log(Some(slot), "held", Some(holder), Some(expires), None)
    }

    /// Logs that booking `id` holds `slot`.
    pub(super) fn booked(&mut self, slot: &SlotId, id: i64) -> Version {
        self.log(Some(slot), "booked", None, None, Some(id))
    }

    /// Logs that staff blocked `slot`.
    pub(super) fn blocked(&mut self, slot: &SlotId) -> Version {
        self.log(Some(slot), "blocked", None, None, None)
    }

    /// Logs a change of the whole schedule.
    pub(super) fn reload(&mut self) -> Version {
        self.log(None, "reload", None, None, None)
    }

    /// Records in the audit trail that `origin` did what `row` says at `at`;
    /// written with the change, when it commits.
    pub(super) fn audit(&mut self, at: DateTime<Utc>, origin: &Origin, row: AuditRow) {
        self.audit.push(audit::pending(at, origin, row));
    }

    /// Writes the log, the audit rows and the new version, notifies, and
    /// commits. Returns the version after the transaction.
    pub(super) async fn commit(mut self) -> Result<Version> {
        audit::append(&mut self.tx, &self.audit).await?;
        if self.entries.is_empty() {
            self.tx.commit().await?;
            crate::metrics::committed(self.started);
            return Ok(self.version);
        }
        // Bound parameters per statement are limited; a chunk stays far below.
        for chunk in self.entries.chunks(2000) {
            let sql = format!(
                "INSERT INTO changes (version, slot_id, status, holder, hold_expires, booking_id) VALUES {}",
                placeholders(chunk.len(), 6)
            );
            let mut insert = sqlx::query(&sql);
            for e in chunk {
                insert = insert
                    .bind(e.version as i64)
                    .bind(e.slot_id.as_deref())
                    .bind(e.status)
                    .bind(e.holder.as_deref())
                    .bind(e.hold_expires)
                    .bind(e.booking_id);
            }
            insert.execute(&mut *self.tx).await?;
        }
        sqlx::query("UPDATE schedule_version SET version = $1 WHERE id = 1")
            .bind(self.version as i64)
            .execute(&mut *self.tx)
            .await?;
        if self.notify {
            // Delivered to the listeners when, and only when, this commits.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(self.version.to_string())
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await?;
        crate::metrics::committed(self.started);
        Ok(self.version)
    }
}
