//! Domain types carried inside messages: the clinic, its doctors and their slots.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The schedule version: grows by one with every change and is never reset.
pub type Version = u64;

/// The code a patient quotes to the clinic for a booking, such as `K7M2-QX4P`.
pub type BookingCode = String;

/// An opaque slot identifier; clients must not parse it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SlotId(pub String);

/// An opaque doctor identifier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DoctorId(pub String);

impl std::fmt::Display for SlotId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for DoctorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The whole schedule at one version: the payload of `initialState` and of
/// `GET /api/schedule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// The schedule version this snapshot shows.
    pub version: Version,
    /// The clinic the schedule belongs to.
    pub clinic: Clinic,
    /// Every doctor with slots, in display order.
    pub doctors: Vec<Doctor>,
    /// Every bookable-day slot, ordered by start, then doctor.
    pub slots: Vec<Slot>,
}

/// The clinic itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Clinic {
    /// The clinic's display name.
    pub name: String,
    /// The IANA time zone in which the clinic's days and hours are meant,
    /// such as `Europe/Moscow`.
    pub time_zone: String,
}

/// One doctor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Doctor {
    /// Stable identifier, referenced by slots.
    pub id: DoctorId,
    /// The doctor's display name.
    pub name: String,
    /// What the doctor does, such as "Therapist".
    pub specialty: String,
}

/// One appointment slot of one doctor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    /// Stable identifier used by `book`.
    pub id: SlotId,
    /// The doctor this slot belongs to.
    pub doctor_id: DoctorId,
    /// When the appointment starts (RFC 3339, UTC).
    pub start: DateTime<Utc>,
    /// When the appointment ends (RFC 3339, UTC).
    pub end: DateTime<Utc>,
    /// Whether the slot can still be booked.
    pub status: SlotStatus,
}

/// The state of a slot as everyone may see it; it never says who booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SlotStatus {
    /// Nobody has booked it.
    Free,
    /// A patient has booked it.
    Booked,
}

/// Who an appointment is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    /// The patient's full name.
    pub name: String,
    /// A phone number the clinic can call.
    pub phone: String,
}
