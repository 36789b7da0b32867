//! Domain types carried inside messages: the clinic, its doctors and their slots.

use std::collections::BTreeMap;

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
    /// The clinic's display name, in its default language.
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
    /// How many times the holder may extend its hold (`extendHold`), each time
    /// by `holdSeconds`.
    #[serde(default)]
    pub hold_extensions: u32,
    /// How long a slot offered to a waiting patient stays theirs alone, in
    /// seconds; 0 from servers older than the waitlist.
    #[serde(default)]
    pub offer_seconds: u32,
    /// The BCP 47 tag of the language `name` and every doctor's plain `name`
    /// and `specialty` are written in, such as `ru`; empty from servers older
    /// than languages.
    #[serde(default)]
    pub default_language: String,
    /// The clinic's name in each language it has one in (the default language
    /// included), by BCP 47 tag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
}

impl Clinic {
    /// The clinic's name for a reader of `language` (a BCP 47 tag): its own
    /// text, or that of its base language (`en` for `en-GB`), or the default.
    pub fn name_in(&self, language: &str) -> &str {
        in_language(&self.names, language).map_or(&self.name, String::as_str)
    }
}
/// One doctor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Doctor {
    /// Stable identifier, referenced by slots.
    pub id: DoctorId,
    /// The doctor's display name, in the clinic's default language.
    pub name: String,
    /// What the doctor does, such as "Therapist", in the clinic's default
    /// language.
    pub specialty: String,
    /// The doctor's name and specialty in each language the clinic has texts
    /// in (the default language included), by BCP 47 tag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub texts: BTreeMap<String, DoctorText>,
}

impl Doctor {
    /// The doctor's name and specialty for a reader of `language` (a BCP 47
    /// tag): their own texts, or those of its base language, or the default.
    pub fn text_in(&self, language: &str) -> DoctorText {
        in_language(&self.texts, language)
            .cloned()
            .unwrap_or_else(|| DoctorText { name: self.name.clone(), specialty: self.specialty.clone() })
    }
}

/// A doctor's texts in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorText {
    /// The doctor's display name.
    pub name: String,
    /// What the doctor does.
    pub specialty: String,
}

/// The entry of `texts` for `language`, or for its base language (the part
/// before the first `-`). Tags compare without regard to case, as BCP 47 has it.
fn in_language<'a, T>(texts: &'a BTreeMap<String, T>, language: &str) -> Option<&'a T> {
    let find = |tag: &str| texts.iter().find(|(k, _)| k.eq_ignore_ascii_case(tag)).map(|(_, v)| v);
    find(language).or_else(|| find(language.split('-').next().unwrap_or(language)))
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
    /// When the hold ends unless it is extended or the slot booked first
    /// (RFC 3339, UTC); present only while the slot is `held`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_until: Option<DateTime<Utc>>,
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
    /// The revision of the appointment, for the `SEQUENCE` of a calendar file:
    /// 0 when booked, one more after every reschedule and after the cancel.
    #[serde(default)]
    pub sequence: u32,
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
    /// Whether staff marked the patient as not having come.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_show: bool,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn doctor() -> Doctor {
        let text =
            |name: &str, specialty: &str| DoctorText { name: name.into(), specialty: specialty.into() };
        Doctor {
            id: DoctorId("therapist".into()),
            name: "Елена Соколова".into(),
            specialty: "Терапевт".into(),
            texts: BTreeMap::from([
                ("en".into(), text("Dr. Elena Sokolova", "Therapist")),
                ("ru".into(), text("Елена Соколова", "Терапевт")),
            ]),
        }
    }

    #[test]
    fn a_doctor_reads_in_the_language_asked_its_base_language_or_the_default() {
        let doctor = doctor();
        assert_eq!(doctor.text_in("en").specialty, "Therapist");
        assert_eq!(doctor.text_in("EN-gb").name, "Dr. Elena Sokolova", "the base language, any case");
        assert_eq!(doctor.text_in("de").specialty, "Терапевт", "the default language");
        let older = Doctor { texts: BTreeMap::new(), ..doctor };
        assert_eq!(older.text_in("en").specialty, "Терапевт", "a server older than languages");
    }

    #[test]
    fn the_clinic_is_named_in_the_language_asked_or_the_default() {
        let clinic = Clinic {
            name: "Городская клиника".into(),
            time_zone: "Europe/Moscow".into(),
            min_notice_minutes: 0,
            hold_seconds: 120,
            hold_extensions: 2,
            offer_seconds: 600,
            default_language: "ru".into(),
            names: BTreeMap::from([("en".into(), "City Clinic".into())]),
        };
        assert_eq!(clinic.name_in("en-US"), "City Clinic");
        assert_eq!(clinic.name_in("fr"), "Городская клиника");
    }
}
