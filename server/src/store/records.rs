//! What staff record about bookings after the fact, and what is forgotten:
//! no-show marks, the erasure of a patient's name and phone on request, and
//! the retention job that erases them once the appointment is long over.
//! Each change writes its audit rows in its own transaction; the booking's
//! row, code, sequence and history always stay.

use chrono::{DateTime, NaiveDate, Utc};
use protocol::{AuditAction, SlotId, Version};

use super::SqlStore;
use super::audit::AuditRow;
use super::text::list;
use super::writer::Writer;
use crate::Result;
use crate::audit::Origin;

/// What one run of the retention job erased.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    /// How many bookings lost their patient's details.
    pub bookings: u64,
    /// How many waitlist entries lost theirs.
    pub entries: u64,
    /// The version after the last transaction.
    pub version: Version,
}

/// How many bookings (and, apart, waitlist entries) one transaction of the
/// retention job erases at most, so that no write waits long behind it.
const CHUNK: usize = 500;

/// A booking that may be erased, with what decides whether staff consoles
/// must hear of it.
#[derive(sqlx::FromRow)]
struct Candidate {
    id: i64,
    slot_id: String,
    cancelled_at: Option<i64>,
    start_at: i64,
    erased_at: Option<i64>,
}

/// The bookings `b` with their slots `s`, read as `Candidate`s.
const CANDIDATES: &str = "SELECT b.id, b.slot_id, b.cancelled_at, s.start_at, b.erased_at
    FROM bookings b JOIN slots s ON s.id = b.slot_id";

impl SqlStore {
    /// Sets or clears the no-show mark of the active booking of `slot`.
    pub(super) async fn record_no_show(
        &self,
        slot: &SlotId,
        no_show: bool,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> Result<Option<Version>> {
        let mut w = self.writer().await?;
        let found: Option<(i64, Option<i64>)> =
            sqlx::query_as("SELECT id, no_show_at FROM bookings WHERE slot_id = $1 AND cancelled_at IS NULL")
                .bind(&slot.0)
                .fetch_optional(w.conn())
                .await?;
        let Some((id, marked)) = found else { return Ok(None) };
        if marked.is_some() != no_show {
            let update = if no_show {
                sqlx::query("UPDATE bookings SET no_show_at = $1 WHERE id = $2").bind(at.timestamp()).bind(id)
            } else {
                sqlx::query("UPDATE bookings SET no_show_at = NULL WHERE id = $1").bind(id)
            };
            update.execute(w.conn()).await?;
            let action = if no_show { AuditAction::NoShow } else { AuditAction::NoShowUndone };
            w.audit(at, origin, AuditRow::slot(action, slot).booking(id));
            // Logged as booked again: every instance reads the booking anew,
            // with its mark, and tells its staff consoles.
            w.booked(slot, id);
        }
        Ok(Some(w.commit().await?))
    }

    /// Erases the details of the booking with `code`, and of the waitlist
    /// entry it was booked from, on its patient's request.
    pub(super) async fn erase_on_request(
        &self,
        code: &str,
        shown_from: DateTime<Utc>,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> Result<Option<Version>> {
        let mut w = self.writer().await?;
        let found: Option<Candidate> = sqlx::query_as(&format!("{CANDIDATES} WHERE b.code = $1"))
            .bind(code)
            .fetch_optional(w.conn())
            .await?;
        let Some(found) = found else { return Ok(None) };
        // Erased before: nothing more to erase, and nothing to record.
        if found.erased_at.is_none() {
            let booking = found.id;
            erase_bookings(&mut w, &[found], shown_from, at, origin, "on request").await?;
            let entries: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM waitlist WHERE booking_id = $1 AND erased_at IS NULL")
                    .bind(booking)
                    .fetch_all(w.conn())
                    .await?;
            erase_entries(&mut w, &entries, at, origin, "on request").await?;
            let version = w.commit().await?;
            self.forget_old_pages().await;
            return Ok(Some(version));
        }
        Ok(Some(w.commit().await?))
    }

    /// The retention job's erasure, a chunk of rows per transaction.
    pub(super) async fn erase_for_retention(
        &self,
        before: DateTime<Utc>,
        before_day: NaiveDate,
        shown_from: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Erased> {
        let system = Origin::system();
        let mut erased = Erased::default();
        loop {
            let mut w = self.writer().await?;
            // Only rows not erased yet: running on several instances at once,
            // or again, erases nothing twice.
            let bookings: Vec<Candidate> = sqlx::query_as(&format!(
                "{CANDIDATES} WHERE b.erased_at IS NULL AND s.end_at < $1 ORDER BY b.id LIMIT {CHUNK}"
            ))
            .bind(before.timestamp())
            .fetch_all(w.conn())
            .await?;
            let entries: Vec<i64> = sqlx::query_scalar(&format!(
                "SELECT id FROM waitlist WHERE erased_at IS NULL
                   AND ((status <> 'waiting' AND ended_at < $1) OR to_day < $2)
                 ORDER BY id LIMIT {CHUNK}"
            ))
            .bind(before.timestamp())
            .bind(before_day.to_string())
            .fetch_all(w.conn())
            .await?;
            let more = bookings.len() == CHUNK || entries.len() == CHUNK;
            erased.bookings += bookings.len() as u64;
            erased.entries += entries.len() as u64;
            erase_bookings(&mut w, &bookings, shown_from, at, &system, "retention").await?;
            erase_entries(&mut w, &entries, at, &system, "retention").await?;
            erased.version = w.commit().await?;
            if !more {
                if erased.bookings + erased.entries > 0 {
                    self.forget_old_pages().await;
                }
                return Ok(erased);
            }
        }
    }

    /// After an erasure, on SQLite: copies what the write-ahead log holds
    /// into the database file and empties the log, so that the erased name
    /// and phone are not left in it (the file itself overwrites what is
    /// deleted: see `secure_delete` in `connect.rs`). The erasure has
    /// committed whatever becomes of this; a failure is logged, and the log
    /// is emptied at the next erasure or when the server stops. PostgreSQL
    /// keeps old row versions until it vacuums them (see `SECURITY.md`).
    async fn forget_old_pages(&self) {
        if self.backend() != super::Backend::Sqlite {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(self.pool()).await {
            tracing::warn!(error = %e, "could not empty the write-ahead log after an erasure");
        }
    }
}

/// Erases the name and phone of `bookings` (and the retry key, a hash made
/// with them) in `w`, with an audit row for each; the active ones of slots
/// the schedule shows (from `shown_from`) are logged again as booked, so
/// staff consoles see the details go.
async fn erase_bookings(
    w: &mut Writer,
    bookings: &[Candidate],
    shown_from: DateTime<Utc>,
    at: DateTime<Utc>,
    origin: &Origin,
    detail: &str,
) -> Result<()> {
    if bookings.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE bookings SET patient_name = '', patient_phone = '', request_id = '', erased_at = ${}
         WHERE id IN ({})",
        bookings.len() + 1,
        list(bookings.len())
    );
    let mut update = sqlx::query(&sql);
    for booking in bookings {
        update = update.bind(booking.id);
    }
    update.bind(at.timestamp()).execute(w.conn()).await?;
    for booking in bookings {
        let slot = SlotId(booking.slot_id.clone());
        w.audit(at, origin, AuditRow::slot(AuditAction::Erased, &slot).booking(booking.id).detail(detail));
        if booking.cancelled_at.is_none() && booking.start_at >= shown_from.timestamp() {
            w.booked(&slot, booking.id);
        }
    }
    Ok(())
}

/// Erases the name and phone of the waitlist entries `ids` in `w`, with an
/// audit row for each.
async fn erase_entries(
    w: &mut Writer,
    ids: &[i64],
    at: DateTime<Utc>,
    origin: &Origin,
    detail: &str,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE waitlist SET patient_name = '', patient_phone = '', phone_digits = '', erased_at = ${}
         WHERE id IN ({})",
        ids.len() + 1,
        list(ids.len())
    );
    let mut update = sqlx::query(&sql);
    for &id in ids {
        update = update.bind(id);
    }
    update.bind(at.timestamp()).execute(w.conn()).await?;
    for &id in ids {
        w.audit(at, origin, AuditRow::of(AuditAction::Erased).entry(id).detail(detail));
    }
    Ok(())
}
