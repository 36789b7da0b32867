//! Holds and blocks in the database: a hold taken, extended, let go of, ended
//! by staff or run out, and a slot blocked and unblocked. Each runs in the
//! write transaction it is given and records its row in the audit trail there;
//! the caller's `SqlStore` method only opens the transaction.

use chrono::{DateTime, SecondsFormat, Utc};
use protocol::{AuditAction, SlotId, Version};

use super::audit::AuditRow;
use super::connect::Backend;
use super::rows::occupancy_of;
use super::waitlist::{self, freed};
use super::writer::Writer;
use super::{Offering, Refusal, offered_to};
use crate::Result;
use crate::audit::Origin;

/// A row about `slot` that, when `holder` is a waitlist offer, names its entry
/// too. The holder name itself is never written: it identifies a connection.
fn hold_row(action: AuditAction, slot: &SlotId, holder: &str) -> AuditRow {
    let row = AuditRow::slot(action, slot);
    match offered_to(holder) {
        Some(entry) => row.entry(entry),
        None => row,
    }
}

/// What a hold's row says of it: until when it lasts.
fn until(expires: DateTime<Utc>) -> String {
    format!("until {}", expires.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Records a hold, unless the slot is booked, blocked or held.
pub(super) async fn hold(
    mut w: Writer,
    slot: &SlotId,
    holder: &str,
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
    origin: &Origin,
) -> Result<Result<Version, Refusal>> {
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
    w.audit(now, origin, AuditRow::slot(AuditAction::Held, slot).detail(until(expires)));
    Ok(Ok(w.commit().await?))
}

/// Moves the end of `holder`'s live hold of `slot` to `expires`.
pub(super) async fn extend(
    mut w: Writer,
    slot: &SlotId,
    holder: &str,
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
    origin: &Origin,
) -> Result<Option<Version>> {
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
    if changed != 1 {
        return Ok(None);
    }
    // Logged like the hold itself, so other instances learn the new end the
    // same way.
    w.held(slot, holder, expires);
    w.audit(now, origin, AuditRow::slot(AuditAction::HoldExtended, slot).detail(until(expires)));
    Ok(Some(w.commit().await?))
}

/// Ends `holder`'s hold of `slot`, recorded as `action` (let go of, ended by
/// staff, or run out).
pub(super) async fn release(
    mut w: Writer,
    slot: &SlotId,
    holder: &str,
    offering: Offering,
    origin: &Origin,
    action: AuditAction,
) -> Result<Option<Version>> {
    let ended = sqlx::query("DELETE FROM holds WHERE slot_id = $1 AND holder = $2")
        .bind(&slot.0)
        .bind(holder)
        .execute(w.conn())
        .await?
        .rows_affected();
    if ended != 1 {
        return Ok(None);
    }
    w.audit(offering.now, origin, hold_row(action, slot, holder));
    freed(&mut w, slot, offering).await?;
    Ok(Some(w.commit().await?))
}

/// Ends whoever's hold of `slot` (staff).
pub(super) async fn end(
    mut w: Writer,
    slot: &SlotId,
    offering: Offering,
    origin: &Origin,
) -> Result<Option<Version>> {
    let holder: Option<String> = sqlx::query_scalar("DELETE FROM holds WHERE slot_id = $1 RETURNING holder")
        .bind(&slot.0)
        .fetch_optional(w.conn())
        .await?;
    let Some(holder) = holder else { return Ok(None) };
    w.audit(offering.now, origin, hold_row(AuditAction::HoldEnded, slot, &holder));
    freed(&mut w, slot, offering).await?;
    Ok(Some(w.commit().await?))
}

/// Ends whoever's hold of `slot` that ran out by `offering.now`; an offer that
/// ran out counts against its entry, which lapses at the second.
pub(super) async fn expire(mut w: Writer, slot: &SlotId, offering: Offering) -> Result<Option<Version>> {
    let holder: Option<String> =
        sqlx::query_scalar("DELETE FROM holds WHERE slot_id = $1 AND expires_at <= $2 RETURNING holder")
            .bind(&slot.0)
            .bind(offering.now.timestamp())
            .fetch_optional(w.conn())
            .await?;
    let Some(holder) = holder else { return Ok(None) };
    let system = Origin::system();
    w.audit(offering.now, &system, hold_row(AuditAction::Expired, slot, &holder));
    if let Some(entry) = offered_to(&holder)
        && waitlist::ran_out(w.conn(), entry, offering.now).await?
    {
        let lapsed = AuditRow::of(AuditAction::Lapsed).entry(entry).detail("its offers ran out unanswered");
        w.audit(offering.now, &system, lapsed);
    }
    let version = freed(&mut w, slot, offering).await?;
    w.commit().await?;
    Ok(Some(version))
}

/// Ends the holds no live connection can own, at start-up (see
/// `Store::release_orphaned_holds`).
pub(super) async fn release_orphaned(mut w: Writer, backend: Backend, offering: Offering) -> Result<Version> {
    // On a database of this process alone, no hold's connection outlived the
    // last run; on a shared one, other instances' holds are live. A waitlist
    // offer belongs to no connection: it lives until it runs out.
    let sql = match backend {
        Backend::Sqlite => {
            "DELETE FROM holds WHERE holder NOT LIKE 'wait/%' OR expires_at <= $1
             RETURNING slot_id, holder, expires_at"
        }
        Backend::Postgres => "DELETE FROM holds WHERE expires_at <= $1 RETURNING slot_id, holder, expires_at",
    };
    let ended: Vec<(String, String, i64)> =
        sqlx::query_as(sql).bind(offering.now.timestamp()).fetch_all(w.conn()).await?;
    let system = Origin::system();
    for (slot, holder, expires) in ended {
        let slot = SlotId(slot);
        let row = if expires <= offering.now.timestamp() {
            hold_row(AuditAction::Expired, &slot, &holder)
        } else {
            hold_row(AuditAction::Released, &slot, &holder).detail("its page was lost with a server restart")
        };
        w.audit(offering.now, &system, row);
        freed(&mut w, &slot, offering).await?;
    }
    w.commit().await
}

/// Blocks `slot`, ending whoever's hold of it, unless it is booked or blocked.
pub(super) async fn block(
    mut w: Writer,
    slot: &SlotId,
    at: DateTime<Utc>,
    origin: &Origin,
) -> Result<Result<Version, Refusal>> {
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
    let holder: Option<String> = sqlx::query_scalar("DELETE FROM holds WHERE slot_id = $1 RETURNING holder")
        .bind(&slot.0)
        .fetch_optional(w.conn())
        .await?;
    sqlx::query("INSERT INTO blocks (slot_id, blocked_at) VALUES ($1, $2)")
        .bind(&slot.0)
        .bind(at.timestamp())
        .execute(w.conn())
        .await?;
    w.blocked(slot);
    let row = match holder {
        Some(holder) => hold_row(AuditAction::Blocked, slot, &holder).detail("its hold ended"),
        None => AuditRow::slot(AuditAction::Blocked, slot),
    };
    w.audit(at, origin, row);
    Ok(Ok(w.commit().await?))
}

/// Unblocks `slot`; `None` when it was not blocked.
pub(super) async fn unblock(
    mut w: Writer,
    slot: &SlotId,
    offering: Offering,
    origin: &Origin,
) -> Result<Option<Version>> {
    let unblocked = sqlx::query("DELETE FROM blocks WHERE slot_id = $1")
        .bind(&slot.0)
        .execute(w.conn())
        .await?
        .rows_affected();
    if unblocked != 1 {
        return Ok(None);
    }
    w.audit(offering.now, origin, AuditRow::slot(AuditAction::Unblocked, slot));
    freed(&mut w, slot, offering).await?;
    Ok(Some(w.commit().await?))
}
