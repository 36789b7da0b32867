//! Rows as the database returns them, and what they mean to the store.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use protocol::{Patient, SlotId, Version};
use sqlx::AnyConnection;

use super::text::{SLOT_STATE, list};
use super::{Change, Changed, Refusal, StoredBooking, StoredState};
use crate::Result;

/// What keeps others out of a slot.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct Occupancy {
    pub(super) id: String,
    pub(super) booked: i64,
    pub(super) blocked: i64,
    pub(super) holder: Option<String>,
}

impl Occupancy {
    /// Why somebody holding as `holder` may not take the slot, if they may not.
    pub(super) fn refusal(&self, holder: Option<&str>) -> Option<Refusal> {
        if self.booked != 0 {
            Some(Refusal::Booked)
        } else if self.blocked != 0 {
            Some(Refusal::Blocked)
        } else if self.holder.is_some() && self.holder.as_deref() != holder {
            Some(Refusal::Held)
        } else {
            None
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SlotRow {
    pub(super) id: String,
    pub(super) doctor_id: String,
    pub(super) start_at: i64,
    pub(super) end_at: i64,
    pub(super) booked: i64,
    pub(super) blocked: i64,
    pub(super) holder: Option<String>,
    pub(super) hold_expires: Option<i64>,
}

pub(super) fn stored_state(
    booked: bool,
    blocked: bool,
    holder: Option<String>,
    expires: Option<i64>,
) -> StoredState {
    match (booked, blocked, holder, expires) {
        (true, ..) => StoredState::Booked,
        (_, true, ..) => StoredState::Blocked,
        (_, _, Some(holder), Some(expires)) => StoredState::Held { holder, expires: instant(expires) },
        _ => StoredState::Free,
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct BookingRow {
    pub(super) id: i64,
    pub(super) slot_id: String,
    pub(super) code: String,
    pub(super) patient_name: String,
    pub(super) patient_phone: String,
    pub(super) created_at: i64,
    pub(super) cancelled_at: Option<i64>,
    pub(super) sequence: i64,
    pub(super) no_show_at: Option<i64>,
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
            sequence: sequence(r.sequence),
            no_show: r.no_show_at.is_some(),
        }
    }
}

/// A logged change with the booking it names, if any.
#[derive(sqlx::FromRow)]
pub(super) struct ChangeRow {
    pub(super) version: i64,
    pub(super) slot_id: Option<String>,
    pub(super) status: String,
    pub(super) holder: Option<String>,
    pub(super) hold_expires: Option<i64>,
    pub(super) booking_id: Option<i64>,
    pub(super) code: Option<String>,
    pub(super) patient_name: Option<String>,
    pub(super) patient_phone: Option<String>,
    pub(super) created_at: Option<i64>,
    pub(super) sequence: Option<i64>,
    pub(super) no_show_at: Option<i64>,
}

impl ChangeRow {
    pub(super) fn into_change(self) -> Change {
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
                    sequence: sequence(self.sequence.unwrap_or_default()),
                    no_show: self.no_show_at.is_some(),
                })
            }
            _ => None,
        };
        Change { version, what: Changed::Slot { id: slot, state, booking } }
    }
}

/// A stored sequence as the wire carries it.
pub(super) fn sequence(stored: i64) -> u32 {
    u32::try_from(stored).unwrap_or(u32::MAX)
}

pub(super) fn instant(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// The occupancy of each of `slots` that exists, by id.
pub(super) async fn occupancy(
    conn: &mut AnyConnection,
    slots: &[&SlotId],
) -> Result<HashMap<String, Occupancy>> {
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
pub(super) async fn occupancy_of(
    conn: &mut AnyConnection,
    slot: &SlotId,
) -> Result<Result<Occupancy, Refusal>> {
    Ok(occupancy(conn, &[slot]).await?.remove(&slot.0).ok_or(Refusal::NoSuchSlot))
}
