//! Domain types carried inside messages: the clinic, its doctors and their slots.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The schedule version: grows by one with every change and is never reset.
pub type Version = u64;

/// The code a patient quotes to the clinic for a booking, such as `K7M2-QX4P`.
pub type BookingCode = String;

/// The secret of a booking's private manage link (at least 128 random bits,
/// URL-safe). Whoever holds it can see, cancel and reschedule that booking; the
/// server keeps only its hash.
pub type ManageToken = String;

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
    /// Slots starting sooner than this many minutes from now can be neither held
    /// nor booked.
    #[serde(default)]
    pub min_notice_minutes: u32,
    /// How long opening the booking form holds a slot, in seconds.
    #[serde(default)]
    pub hold_seconds: u32,
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

/// The state of a slot as everyone may see it; it never says who booked or holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SlotStatus {
    /// Nobody has booked it.
    Free,
    /// Somebody is filling in the booking form for it right now.
    Held,
    /// A patient has booked it.
    Booked,
    /// Staff took it out of the schedule.
    Blocked,
}

/// Whether a booking still holds its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BookingStatus {
    /// The appointment stands.
    Active,
    /// The appointment was cancelled; its slot is no longer held by it.
    Cancelled,
}

/// One booking as its patient sees it through the manage link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingDetails {
    /// The code to quote to the clinic.
    pub code: BookingCode,
    /// The appointment's slot.
    pub slot: Slot,
    /// Who the appointment is for.
    pub patient: Patient,
    /// Whether it still stands.
    pub status: BookingStatus,
}

/// One active booking as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffBooking {
    /// The booked slot.
    pub slot_id: SlotId,
    /// The booking code.
    pub code: BookingCode,
    /// Who the appointment is for.
    pub patient: Patient,
    /// When it was booked (RFC 3339, UTC).
    pub booked_at: DateTime<Utc>,
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

/// What is wrong with a patient's details, by the one rule the server and every
/// client share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientProblem {
    /// The name is empty, longer than 100 characters, or has control characters.
    Name,
    /// The phone is not 5 to 15 digits, optionally with a leading `+` and
    /// spaces, dashes, dots or parentheses between them (32 characters at most).
    Phone,
}

impl Patient {
    /// The details with surrounding blanks trimmed, or what is wrong with them.
    /// The server refuses a booking with `invalidPatient` exactly when this
    /// fails, so a client that checks first never sends one it would refuse.
    pub fn normalized(&self) -> Result<Patient, PatientProblem> {
        let name = self.name.trim();
        let phone = self.phone.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(PatientProblem::Name);
        }
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let shape = phone.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.') || (c == '+' && i == 0)
        });
        if !(5..=15).contains(&digits) || phone.len() > 32 || !shape {
            return Err(PatientProblem::Phone);
        }
        Ok(Patient { name: name.to_owned(), phone: phone.to_owned() })
    }
}
