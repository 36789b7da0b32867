//! Changes to bookings made after booking: a cancel, a reschedule, and the
//! reset that cancels them all. Each runs in the write transaction it is given
//! and records its row in the audit trail there.

use chrono::{DateTime, Utc};
use protocol::{AuditAction, SlotId, Version};

use super::audit::AuditRow;
use super::rows::occupancy_of;
use super::slots::insert_missing;
use super::waitlist::freed;
use super::writer::Writer;
use super::{Offering, Refusal};
use crate::Result;
use crate::audit::Origin;
use crate::clinic::SlotDef;

/// Cancels an active booking; `None` when it was not active.
pub(super) async fn cancel(
    mut w: Writer,
    booking: i64,
    offering: Offering,
    origin: &Origin,
) -> Result<Option<Version>> {
    let slot: Option<String> = sqlx::query_scalar(
        "UPDATE bookings SET cancelled_at = $1, sequence = sequence + 1
         WHERE id = $2 AND cancelled_at IS NULL RETURNING slot_id",
    )
    .bind(offering.now.timestamp())
    .bind(booking)
    .fetch_optional(w.conn())
    .await?;
    let Some(slot) = slot.map(SlotId) else { return Ok(None) };
    w.audit(offering.now, origin, AuditRow::slot(AuditAction::Cancelled, &slot).booking(booking));
    // A booked slot is neither held nor blocked, so it is free now.
    freed(&mut w, &slot, offering).await?;
    Ok(Some(w.commit().await?))
}

/// Moves an active booking to `to` (see `Store::reschedule`).
pub(super) async fn reschedule(
    mut w: Writer,
    booking: i64,
    to: &SlotId,
    holder: &str,
    offering: Offering,
    origin: &Origin,
) -> Result<Result<(Version, u32), Refusal>> {
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
    let row = AuditRow::slot(AuditAction::Rescheduled, to).other_slot(&from).booking(booking);
    w.audit(offering.now, origin, row);
    freed(&mut w, &from, offering).await?;
    w.booked(to, booking);
    Ok(Ok((w.commit().await?, sequence)))
}

/// Cancels every active booking, ends holds and blocks, takes every waiting
/// entry off the waitlist and adds missing slots: a `cancelled` row for each
/// booking (so that its own history says who cancelled it), then one row that
/// says how many.
pub(super) async fn reset(
    mut w: Writer,
    slots: &[SlotDef],
    at: DateTime<Utc>,
    origin: &Origin,
) -> Result<Version> {
    let mut bookings: Vec<(i64, String)> = sqlx::query_as(
        "UPDATE bookings SET cancelled_at = $1, sequence = sequence + 1 WHERE cancelled_at IS NULL
         RETURNING id, slot_id",
    )
    .bind(at.timestamp())
    .fetch_all(w.conn())
    .await?;
    bookings.sort_unstable();
    let cancelled = bookings.len();
    for (id, slot) in bookings {
        let row = AuditRow::slot(AuditAction::Cancelled, &SlotId(slot)).booking(id).detail("reset");
        w.audit(at, origin, row);
    }
    sqlx::query("DELETE FROM holds").execute(w.conn()).await?;
    sqlx::query("DELETE FROM blocks").execute(w.conn()).await?;
    let removed =
        sqlx::query("UPDATE waitlist SET status = 'removed', ended_at = $1 WHERE status = 'waiting'")
            .bind(at.timestamp())
            .execute(w.conn())
            .await?
            .rows_affected();
    insert_missing(w.conn(), slots).await?;
    w.reload();
    let detail = format!("bookings cancelled: {cancelled}; waitlist entries removed: {removed}");
    w.audit(at, origin, AuditRow::of(AuditAction::Reset).detail(detail));
    w.commit().await
}
