//! The waitlist: a patient waits for a doctor within a window of days (and,
//! optionally, hours); when a slot in that window turns free, the server holds
//! it for the first patient waiting for it, who alone may book it until the
//! offer runs out. Other clients see only that the slot is `held`.

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::{BookingCode, DoctorId, Patient, Slot, SlotId};

/// The secret of a waitlist entry's private link (at least 128 random bits,
/// URL-safe). Whoever holds it can see the entry, change its window, leave,
/// and take or turn down an offer; the server keeps only its hash.
pub type WaitToken = String;

/// When a patient can come: the clinic's local days from `fromDay` to `toDay`
/// (both included) and, when given, only slots starting at or after `fromTime`
/// and before `toTime` (the clinic's local time of day, in whole minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitWindow {
    /// The first day (`YYYY-MM-DD`, the clinic's date).
    pub from_day: NaiveDate,
    /// The last day, included.
    pub to_day: NaiveDate,
    /// The earliest start of a slot (`HH:MM:SS`), when the patient has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_time: Option<NaiveTime>,
    /// The start a slot must come before (`HH:MM:SS`), when the patient has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_time: Option<NaiveTime>,
}

impl WaitWindow {
    /// Whether a slot starting on local `day` at local `time` is in the window.
    pub fn contains(&self, day: NaiveDate, time: NaiveTime) -> bool {
        self.from_day <= day
            && day <= self.to_day
            && self.from_time.is_none_or(|from| from <= time)
            && self.to_time.is_none_or(|to| time < to)
    }

    /// Whether the window makes sense: its days in order, its hours in whole
    /// minutes and in order too. The server refuses any other with
    /// `invalidWindow`.
    pub fn is_valid(&self) -> bool {
        let whole = |t: Option<NaiveTime>| t.is_none_or(|t| t.second() == 0 && t.nanosecond() == 0);
        self.from_day <= self.to_day
            && whole(self.from_time)
            && whole(self.to_time)
            && match (self.from_time, self.to_time) {
                (Some(from), Some(to)) => from < to,
                _ => true,
            }
    }
}

/// Where a waitlist entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WaitStatus {
    /// Waiting for a slot in its window.
    Waiting,
    /// A slot is held for this patient now: see `offer`.
    Offered,
    /// The patient took an offer; `bookingCode` says which booking.
    Booked,
    /// The patient left the waitlist.
    Left,
    /// Staff took the entry off the waitlist, or the schedule was reset.
    Removed,
    /// The entry ended by itself: its last day is over, or offers to it ran
    /// out unanswered twice (so that nobody keeps slots from others by
    /// waiting and never answering).
    Lapsed,
}

/// A slot held for one waiting patient until `expiresAt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    /// The slot offered, as it is now (`held`).
    pub slot: Slot,
    /// When the offer runs out and passes to the next patient waiting.
    pub expires_at: DateTime<Utc>,
}

/// A waitlist entry as its patient sees it through the waitlist link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistEntry {
    /// The doctor waited for.
    pub doctor_id: DoctorId,
    /// When the patient can come.
    pub window: WaitWindow,
    /// Who waits.
    pub patient: Patient,
    /// Where the entry stands.
    pub status: WaitStatus,
    /// The entry's place among those waiting for the same doctor, first come
    /// first (offers go to the first entry whose window has the slot).
    /// Present while `waiting` or `offered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<u32>,
    /// The live offer; present exactly when `offered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<Offer>,
    /// The code of the booking the patient took; present when `booked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_code: Option<BookingCode>,
    /// When the patient joined (RFC 3339, UTC).
    pub joined_at: DateTime<Utc>,
}

/// One waiting patient as staff see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffWaiting {
    /// The entry's id, for `staffRemoveWaiting`.
    pub id: u64,
    /// The doctor waited for.
    pub doctor_id: DoctorId,
    /// When the patient can come.
    pub window: WaitWindow,
    /// Who waits.
    pub patient: Patient,
    /// When the patient joined (RFC 3339, UTC).
    pub joined_at: DateTime<Utc>,
    /// The slot held for this patient now, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_slot: Option<SlotId>,
    /// When that offer runs out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_expires_at: Option<DateTime<Utc>>,
}
