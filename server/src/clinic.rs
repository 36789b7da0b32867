//! The clinic's configuration (TOML) and the slots generated from it.

use std::path::Path;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use protocol::{Clinic, Doctor, DoctorId, SlotId};
use serde::Deserialize;

use crate::{Error, Result};

/// The demo clinic used when no `--config` is given.
pub const DEMO_CONFIG: &str = include_str!("../clinic.toml");

/// A clinic as its configuration file describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicConfig {
    /// The clinic's display name.
    pub name: String,
    /// IANA time zone of the clinic's days and hours.
    pub time_zone: Tz,
    /// How many days, today included, can be booked.
    pub horizon_days: u32,
    /// Length of one appointment in minutes.
    pub slot_minutes: u32,
    /// Weekdays the clinic works.
    pub working_days: Vec<WeekdayName>,
    /// Local opening time.
    pub open: LocalTime,
    /// Local closing time; the last slot ends by then.
    pub close: LocalTime,
    /// Local breaks without appointments.
    #[serde(default)]
    pub breaks: Vec<Break>,
    /// The doctors, in display order.
    pub doctors: Vec<DoctorConfig>,
}

/// One doctor in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoctorConfig {
    /// Stable id; slot ids and bookings refer to it.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Display specialty.
    pub specialty: String,
}

/// A break in the working day.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Break {
    /// Local start of the break.
    pub start: LocalTime,
    /// Local end of the break.
    pub end: LocalTime,
}

/// A local time of day written `"HH:MM"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct LocalTime(pub NaiveTime);

impl TryFrom<String> for LocalTime {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        NaiveTime::parse_from_str(&s, "%H:%M")
            .map(LocalTime)
            .map_err(|_| format!("`{s}` is not a time of day written HH:MM"))
    }
}

/// A day of the week written `mon` … `sun`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct WeekdayName(pub Weekday);

impl TryFrom<String> for WeekdayName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse::<Weekday>()
            .map(WeekdayName)
            .map_err(|_| format!("`{s}` is not a day of the week (mon … sun)"))
    }
}

/// A slot as the configuration defines it, before any booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotDef {
    /// Stable id built from the doctor and the local start.
    pub id: SlotId,
    /// The doctor the slot belongs to.
    pub doctor_id: DoctorId,
    /// UTC start.
    pub start: DateTime<Utc>,
    /// UTC end.
    pub end: DateTime<Utc>,
}

impl ClinicConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text)
    }

    /// Parses and checks configuration text.
    pub fn parse(text: &str) -> Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// The built-in demo clinic.
    pub fn demo() -> Self {
        Self::parse(DEMO_CONFIG).expect("the built-in demo clinic is valid")
    }

    fn validate(&self) -> Result<()> {
        let fail = |m: &str| Err(Error::Config(m.to_owned()));
        if self.doctors.is_empty() {
            return fail("at least one doctor is needed");
        }
        if !(5..=480).contains(&self.slot_minutes) {
            return fail("slot_minutes must be between 5 and 480");
        }
        if !(1..=366).contains(&self.horizon_days) {
            return fail("horizon_days must be between 1 and 366");
        }
        if self.open >= self.close {
            return fail("open must be before close");
        }
        if self.breaks.iter().any(|b| b.start >= b.end) {
            return fail("every break must start before it ends");
        }
        let mut ids: Vec<&str> = self.doctors.iter().map(|d| d.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != self.doctors.len() {
            return fail("doctor ids must be unique");
        }
        let valid_id = |id: &str| {
            !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !self.doctors.iter().all(|d| valid_id(&d.id)) {
            return fail("doctor ids may use only letters, digits, '-' and '_'");
        }
        Ok(())
    }

    /// The clinic as the wire shows it.
    pub fn clinic(&self) -> Clinic {
        Clinic { name: self.name.clone(), time_zone: self.time_zone.name().to_owned() }
    }

    /// The doctors as the wire shows them.
    pub fn doctors(&self) -> Vec<Doctor> {
        self.doctors
            .iter()
            .map(|d| Doctor {
                id: DoctorId(d.id.clone()),
                name: d.name.clone(),
                specialty: d.specialty.clone(),
            })
            .collect()
    }

    /// The clinic's local date at `now`.
    pub fn local_date(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.time_zone).date_naive()
    }

    /// The UTC instant at which the local day `date` begins.
    pub fn day_start(&self, date: NaiveDate) -> DateTime<Utc> {
        // Midnight may not exist on a day when clocks jump forward at 00:00; the
        // first existing minute of that day is where it begins then.
        (0..=180)
            .find_map(|m| {
                let t = date.and_time(NaiveTime::MIN) + Duration::minutes(m);
                self.time_zone.from_local_datetime(&t).earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| date.and_time(NaiveTime::MIN).and_utc())
    }

    /// Every slot of the bookable days starting with the local day `first`,
    /// ordered by start, then doctor.
    pub fn slots_from(&self, first: NaiveDate) -> Vec<SlotDef> {
        let minutes = |t: LocalTime| t.0.num_seconds_from_midnight() / 60;
        let time_at = |m: u32| NaiveTime::from_num_seconds_from_midnight_opt(m * 60, 0);
        let (open, close) = (minutes(self.open), minutes(self.close));
        let mut slots = Vec::new();
        for date in first.iter_days().take(self.horizon_days as usize) {
            if !self.working_days.iter().any(|d| d.0 == date.weekday()) {
                continue;
            }
            let mut from = open;
            while from + self.slot_minutes <= close {
                let to = from + self.slot_minutes;
                let in_break = self.breaks.iter().any(|b| from < minutes(b.end) && to > minutes(b.start));
                let bounds = time_at(from).and_then(|t| self.utc_bounds(date, t));
                if let (false, Some((start, end))) = (in_break, bounds) {
                    let local = format!("{}-{:02}{:02}", date.format("%Y%m%d"), from / 60, from % 60);
                    slots.extend(self.doctors.iter().map(|d| SlotDef {
                        id: SlotId(format!("{}-{local}", d.id)),
                        doctor_id: DoctorId(d.id.clone()),
                        start,
                        end,
                    }));
                }
                from = to;
            }
        }
        slots
    }

    /// The UTC bounds of the slot starting at local `start` on `date`, or `None`
    /// when a clock change makes that local time not exist that day. A slot lasts
    /// `slot_minutes` of real time even when the clocks change during it.
    fn utc_bounds(&self, date: NaiveDate, start: NaiveTime) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = self.time_zone.from_local_datetime(&date.and_time(start)).earliest()?;
        let start = start.with_timezone(&Utc);
        Some((start, start + Duration::minutes(i64::from(self.slot_minutes))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_clinic_has_three_doctors_with_half_hour_slots_for_a_week() {
        let clinic = ClinicConfig::demo();
        assert_eq!(clinic.doctors.len(), 3);
        let first = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let slots = clinic.slots_from(first);
        // 09:00–18:00 less the 13:00–14:00 break is 16 half hours, for 3 doctors on 7 days.
        assert_eq!(slots.len(), 16 * 3 * 7);
        let first_slot = &slots[0];
        assert_eq!(first_slot.id.0, "therapist-20261124-0900");
        assert_eq!(first_slot.start.to_rfc3339(), "2026-11-24T06:00:00+00:00");
        assert_eq!(first_slot.end - first_slot.start, Duration::minutes(30));
        assert!(slots.windows(2).all(|w| w[0].start <= w[1].start));
        assert!(!slots.iter().any(|s| s.id.0.ends_with("-1300") || s.id.0.ends_with("-1330")));
    }

    #[test]
    fn a_local_hour_that_does_not_exist_gets_no_slot() {
        let mut clinic = ClinicConfig::demo();
        clinic.time_zone = chrono_tz::Europe::Berlin;
        clinic.open = LocalTime(NaiveTime::from_hms_opt(1, 0, 0).unwrap());
        clinic.close = LocalTime(NaiveTime::from_hms_opt(4, 0, 0).unwrap());
        clinic.breaks.clear();
        clinic.horizon_days = 1;
        // On 2026-03-29 Berlin clocks jump from 02:00 to 03:00.
        let slots = clinic.slots_from(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap());
        let therapist: Vec<_> = slots.iter().filter(|s| s.doctor_id.0 == "therapist").collect();
        assert_eq!(therapist.len(), 4, "01:00, 01:30, 03:00 and 03:30 only");
        assert!(therapist.iter().all(|s| s.end - s.start == Duration::minutes(30)));
    }

    #[test]
    fn configuration_mistakes_are_reported() {
        let bad = DEMO_CONFIG.replace("open = \"09:00\"", "open = \"19:00\"");
        assert!(ClinicConfig::parse(&bad).is_err());
        let bad = DEMO_CONFIG.replace("Europe/Moscow", "Mars/Olympus");
        assert!(ClinicConfig::parse(&bad).is_err());
        let bad = DEMO_CONFIG.replace("id = \"dentist\"", "id = \"therapist\"");
        assert!(ClinicConfig::parse(&bad).is_err());
    }
}
