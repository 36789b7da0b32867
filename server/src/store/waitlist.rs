//! The waitlist in the database: entries, and the offers made to them. A slot
//! that turns free is offered in the very transaction that frees it, so exactly
//! one writer (of every instance on the database) makes each offer, and the
//! slot is never freely bookable while somebody waits for it.

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use protocol::{AuditAction, DoctorId, Patient, SlotId, Version, WaitStatus, WaitWindow};
use sqlx::AnyConnection;

use super::audit::AuditRow;
use super::rows::instant;
use super::writer::Writer;
use super::{NewWaiting, OFFER_HOLDER, Offering, Refusal, StoredWaiting, offer_holder};
use crate::audit::Origin;
use crate::{Result, secret};

/// Entries of `waitlist w` read with `place` (an expression or a column's
/// worth of SQL), their live offer (from `holds h`) and their booking's code
/// (from `bookings b`).
fn entries_with(place: &str) -> String {
    format!(
        "SELECT w.id, w.doctor_id, w.from_day, w.to_day, w.from_minute, w.to_minute,
            w.patient_name, w.patient_phone, w.joined_at, w.status, {place} AS place,
            h.slot_id AS offer_slot, h.expires_at AS offer_expires, b.code AS booking_code
        FROM waitlist w
        LEFT JOIN holds h ON h.holder = '{OFFER_HOLDER}' || CAST(w.id AS TEXT)
        LEFT JOIN bookings b ON b.id = w.booking_id"
    )
}

/// One entry's place in its doctor's line, counted for it alone; a list in
/// line order counts as it goes instead.
const PLACE: &str = "(SELECT COUNT(*) FROM waitlist p WHERE p.doctor_id = w.doctor_id
    AND p.status = 'waiting' AND p.id <= w.id)";

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    doctor_id: String,
    from_day: String,
    to_day: String,
    from_minute: Option<i64>,
    to_minute: Option<i64>,
    patient_name: String,
    patient_phone: String,
    joined_at: i64,
    status: String,
    place: i64,
    offer_slot: Option<String>,
    offer_expires: Option<i64>,
    booking_code: Option<String>,
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap_or_default()
}

fn time(minute: Option<i64>) -> Option<NaiveTime> {
    let minute = u32::try_from(minute?).ok()?;
    NaiveTime::from_hms_opt(minute / 60, minute % 60, 0)
}

fn minute(time: Option<NaiveTime>) -> Option<i64> {
    time.map(|t| i64::from(t.hour() * 60 + t.minute()))
}

fn status_name(status: WaitStatus) -> &'static str {
    match status {
        WaitStatus::Waiting | WaitStatus::Offered => "waiting",
        WaitStatus::Booked => "booked",
        WaitStatus::Left => "left",
        WaitStatus::Removed => "removed",
        WaitStatus::Lapsed => "lapsed",
    }
}

impl From<EntryRow> for StoredWaiting {
    fn from(r: EntryRow) -> Self {
        let offer = r.offer_slot.zip(r.offer_expires).map(|(slot, until)| (SlotId(slot), instant(until)));
        let status = match r.status.as_str() {
            "waiting" if offer.is_some() => WaitStatus::Offered,
            "waiting" => WaitStatus::Waiting,
            "booked" => WaitStatus::Booked,
            "left" => WaitStatus::Left,
            "lapsed" => WaitStatus::Lapsed,
            _ => WaitStatus::Removed,
        };
        let waiting = matches!(status, WaitStatus::Waiting | WaitStatus::Offered);
        Self {
            id: r.id,
            doctor_id: DoctorId(r.doctor_id),
            window: WaitWindow {
                from_day: day(&r.from_day),
                to_day: day(&r.to_day),
                from_time: time(r.from_minute),
                to_time: time(r.to_minute),
            },
            patient: Patient { name: r.patient_name, phone: r.patient_phone },
            joined_at: instant(r.joined_at),
            status,
            place: waiting.then(|| u32::try_from(r.place).unwrap_or(u32::MAX)),
            offer: offer.filter(|_| waiting),
            booking_code: r.booking_code,
        }
    }
}

/// Logs `slot` as free, unless somebody waits for it: then it is held for the
/// first entry (in the order of joining) whose window has it, that has no live
/// offer and was never offered this slot, and the hold is logged instead.
/// Called by every statement that frees a slot, in its transaction; the offer
/// is the server's own doing in the audit trail.
pub(super) async fn freed(w: &mut Writer, slot: &SlotId, offering: Offering) -> Result<Version> {
    match first_waiting(w.conn(), slot, offering).await? {
        Some((entry, start)) => {
            let holder = offer_holder(entry);
            // An offer ends when the slot could no longer be booked, at the
            // latest, so it never outlives its slot.
            let until = offering.until.min(start - (offering.earliest - offering.now));
            sqlx::query("INSERT INTO holds (slot_id, holder, expires_at) VALUES ($1, $2, $3)")
                .bind(&slot.0)
                .bind(&holder)
                .bind(until.timestamp())
                .execute(w.conn())
                .await?;
            sqlx::query(
                "INSERT INTO offers (entry_id, slot_id, offered_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(entry)
            .bind(&slot.0)
            .bind(offering.now.timestamp())
            .bind(until.timestamp())
            .execute(w.conn())
            .await?;
            w.audit(offering.now, &Origin::system(), AuditRow::slot(AuditAction::Offered, slot).entry(entry));
            Ok(w.held(slot, &holder, until))
        }
        None => Ok(w.free(slot)),
    }
}

/// The entry a slot that turns free now goes to, if any, and the slot's start.
async fn first_waiting(
    conn: &mut AnyConnection,
    slot: &SlotId,
    offering: Offering,
) -> Result<Option<(i64, DateTime<Utc>)>> {
    let found: Option<(String, i64)> = sqlx::query_as("SELECT doctor_id, start_at FROM slots WHERE id = $1")
        .bind(&slot.0)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((doctor, start)) = found else { return Ok(None) };
    let start = instant(start);
    if start <= offering.earliest {
        return Ok(None);
    }
    let local = start.with_timezone(&offering.zone);
    let entry: Option<i64> = sqlx::query_scalar(
        "SELECT w.id FROM waitlist w
         WHERE w.doctor_id = $1 AND w.status = 'waiting' AND w.from_day <= $2 AND w.to_day >= $2
           AND (w.from_minute IS NULL OR w.from_minute <= $3) AND (w.to_minute IS NULL OR $3 < w.to_minute)
           AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.entry_id = w.id AND o.slot_id = $4)
           AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.holder = $5 || CAST(w.id AS TEXT))
         ORDER BY w.id LIMIT 1",
    )
    .bind(doctor)
    .bind(local.date_naive().to_string())
    .bind(i64::from(local.hour() * 60 + local.minute()))
    .bind(&slot.0)
    .bind(OFFER_HOLDER)
    .fetch_optional(conn)
    .await?;
    Ok(entry.map(|entry| (entry, start)))
}

/// How many offers to an entry may run out unanswered before it lapses.
const LAPSES: i64 = 2;

/// An offer to entry `id` ran out unanswered; at the second, the entry lapses.
/// Returns whether it lapsed now.
pub(super) async fn ran_out(conn: &mut AnyConnection, id: i64, at: DateTime<Utc>) -> Result<bool> {
    let status: Option<String> = sqlx::query_scalar(
        "UPDATE waitlist SET lapses = lapses + 1,
             status = CASE WHEN lapses + 1 >= $1 THEN 'lapsed' ELSE status END,
             ended_at = CASE WHEN lapses + 1 >= $1 THEN $2 ELSE ended_at END
         WHERE id = $3 AND status = 'waiting' RETURNING status",
    )
    .bind(LAPSES)
    .bind(at.timestamp())
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(status.as_deref() == Some("lapsed"))
}

/// Ends, as lapsed, the waiting entries whose last day is before `today`,
/// with a row in the audit trail for each.
pub(super) async fn lapse_past(w: &mut Writer, today: NaiveDate, at: DateTime<Utc>) -> Result<u64> {
    let lapsed: Vec<i64> = sqlx::query_scalar(
        "UPDATE waitlist SET status = 'lapsed', ended_at = $1 WHERE status = 'waiting' AND to_day < $2
         RETURNING id",
    )
    .bind(at.timestamp())
    .bind(today.to_string())
    .fetch_all(w.conn())
    .await?;
    let system = Origin::system();
    for &id in &lapsed {
        w.audit(at, &system, AuditRow::of(AuditAction::Lapsed).entry(id).detail("its days are over"));
    }
    Ok(lapsed.len() as u64)
}

/// Adds an entry, unless its phone waits as often as it may already or its
/// proof of work paid for something before.
pub(super) async fn join(w: &mut Writer, entry: &NewWaiting<'_>) -> Result<Result<i64, Refusal>> {
    if let Some(proof) = entry.proof {
        let spent: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM bookings WHERE proof = $1) + (SELECT COUNT(*) FROM waitlist WHERE proof = $1)",
        )
        .bind(proof)
        .fetch_one(w.conn())
        .await?;
        if spent > 0 {
            return Ok(Err(Refusal::ProofSpent));
        }
    }
    let digits = secret::phone_digits(&entry.patient.phone);
    let waiting: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM waitlist WHERE phone_digits = $1 AND status = 'waiting'")
            .bind(&digits)
            .fetch_one(w.conn())
            .await?;
    if usize::try_from(waiting).unwrap_or(usize::MAX) >= entry.per_phone {
        return Ok(Err(Refusal::AlreadyWaiting));
    }
    let id = sqlx::query_scalar(
        "INSERT INTO waitlist (doctor_id, from_day, to_day, from_minute, to_minute, patient_name,
             patient_phone, phone_digits, token_hash, joined_at, status, proof)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'waiting', $11) RETURNING id",
    )
    .bind(&entry.doctor_id.0)
    .bind(entry.window.from_day.to_string())
    .bind(entry.window.to_day.to_string())
    .bind(minute(entry.window.from_time))
    .bind(minute(entry.window.to_time))
    .bind(&entry.patient.name)
    .bind(&entry.patient.phone)
    .bind(digits)
    .bind(entry.token_hash)
    .bind(entry.at.timestamp())
    .bind(entry.proof)
    .fetch_one(w.conn())
    .await?;
    let row = AuditRow::of(AuditAction::Joined).entry(id).detail(format!("doctor {}", entry.doctor_id.0));
    w.audit(entry.at, entry.origin, row);
    Ok(Ok(id))
}

/// One entry, found by `condition` on `w` with one bound text or integer.
pub(super) async fn entry_where(
    conn: &mut AnyConnection,
    condition: &str,
    key: EntryKey<'_>,
) -> Result<Option<StoredWaiting>> {
    let sql = format!("{} WHERE {condition}", entries_with(PLACE));
    let query = sqlx::query_as::<_, EntryRow>(&sql);
    let query = match key {
        EntryKey::Hash(hash) => query.bind(hash.to_owned()),
        EntryKey::Id(id) => query.bind(id),
    };
    Ok(query.fetch_optional(conn).await?.map(Into::into))
}

/// What an entry is looked up by.
pub(super) enum EntryKey<'a> {
    Hash(&'a str),
    Id(i64),
}

/// Every entry waiting, by doctor, in the order of joining.
pub(super) async fn waiting(conn: &mut AnyConnection) -> Result<Vec<StoredWaiting>> {
    let sql = format!("{} WHERE w.status = 'waiting' ORDER BY w.doctor_id, w.id", entries_with("0"));
    let mut rows: Vec<EntryRow> = sqlx::query_as(&sql).fetch_all(conn).await?;
    let mut place = 0;
    for at in 0..rows.len() {
        place = if at > 0 && rows[at - 1].doctor_id == rows[at].doctor_id { place + 1 } else { 1 };
        rows[at].place = place;
    }
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Changes a waiting entry's window.
pub(super) async fn change_window(conn: &mut AnyConnection, id: i64, window: &WaitWindow) -> Result<bool> {
    let changed = sqlx::query(
        "UPDATE waitlist SET from_day = $1, to_day = $2, from_minute = $3, to_minute = $4
         WHERE id = $5 AND status = 'waiting'",
    )
    .bind(window.from_day.to_string())
    .bind(window.to_day.to_string())
    .bind(minute(window.from_time))
    .bind(minute(window.to_time))
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// Ends a waiting entry as `status` at `at`; `false` when it was not waiting.
pub(super) async fn end(
    conn: &mut AnyConnection,
    id: i64,
    status: WaitStatus,
    booking: Option<i64>,
    at: DateTime<Utc>,
) -> Result<bool> {
    let changed = sqlx::query(
        "UPDATE waitlist SET status = $1, booking_id = $2, ended_at = $3 WHERE id = $4 AND status = 'waiting'",
    )
    .bind(status_name(status))
    .bind(booking)
    .bind(at.timestamp())
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// Ends the live offer to entry `id`, if it has one: the slot it held, which
/// the caller must free (or offer on).
pub(super) async fn withdraw(conn: &mut AnyConnection, id: i64) -> Result<Option<SlotId>> {
    let slot: Option<String> = sqlx::query_scalar("DELETE FROM holds WHERE holder = $1 RETURNING slot_id")
        .bind(offer_holder(id))
        .fetch_optional(conn)
        .await?;
    Ok(slot.map(SlotId))
}
