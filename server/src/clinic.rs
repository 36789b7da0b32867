//! The clinic's configuration (TOML) and the slots generated from it; `texts`
//! is its texts in several languages.

mod texts;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use protocol::{Clinic, Doctor, DoctorId, DoctorText, SlotId};
use serde::Deserialize;

use crate::{Error, Result};

pub use texts::{Texts, canonical_tag};

/// The demo clinic used when no `--config` is given.
pub const DEMO_CONFIG: &str = include_str!("../clinic.toml");

/// A clinic as its configuration file describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicConfig {
    /// The clinic's display name, in one or more languages.
    pub name: Texts,
    /// The BCP 47 tag of the clinic's own language, in which every text must be
    /// given; `en` when the file names none (files older than languages).
    #[serde(default = "default_language")]
    pub default_language: String,
    /// IANA time zone of the clinic's days and hours.
    pub time_zone: Tz,
    /// How many days, today included, can be booked.
    pub horizon_days: u32,
    /// Slots starting sooner than this can be neither held nor booked.
    #[serde(default)]
    pub min_notice_minutes: u32,
    /// How long opening the booking form holds a slot, in seconds.
    #[serde(default = "default_hold_seconds")]
    pub hold_seconds: u32,
    /// How long a slot offered to a waiting patient stays theirs alone, in
    /// seconds, before it passes to the next.
    #[serde(default = "default_offer_seconds")]
    pub offer_seconds: u32,
    /// Local dates the whole clinic is closed.
    #[serde(default)]
    pub days_off: Vec<NaiveDate>,
    /// Default length of one appointment in minutes.
    pub slot_minutes: u32,
    /// Default weekly working hours.
    #[serde(default)]
    pub hours: WeeklyHours,
    /// The doctors, in display order.
    pub doctors: Vec<DoctorConfig>,
}

fn default_hold_seconds() -> u32 {
    120
}

fn default_offer_seconds() -> u32 {
    600
}

fn default_language() -> String {
    "en".to_owned()
}

/// One doctor in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoctorConfig {
    /// Stable id; slot ids and bookings refer to it.
    pub id: String,
    /// Display name, in one or more languages.
    pub name: Texts,
    /// Display specialty, in one or more languages.
    pub specialty: Texts,
    /// This doctor's appointment length, when not the clinic's.
    #[serde(default)]
    pub slot_minutes: Option<u32>,
    /// This doctor's weekly hours, when not the clinic's.
    #[serde(default)]
    pub hours: Option<WeeklyHours>,
    /// Local dates this doctor does not work.
    #[serde(default)]
    pub days_off: Vec<NaiveDate>,
}

/// Working periods per weekday; a weekday left out is a day off.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    #[serde(default)]
    mon: Vec<Period>,
    #[serde(default)]
    tue: Vec<Period>,
    #[serde(default)]
    wed: Vec<Period>,
    #[serde(default)]
    thu: Vec<Period>,
    #[serde(default)]
    fri: Vec<Period>,
    #[serde(default)]
    sat: Vec<Period>,
    #[serde(default)]
    sun: Vec<Period>,
}

impl WeeklyHours {
    /// The working periods of one weekday.
    pub fn on(&self, day: Weekday) -> &[Period] {
        match day {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }

    fn all(&self) -> impl Iterator<Item = &Period> {
        [&self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun].into_iter().flatten()
    }
}

/// A local working period written `"HH:MM-HH:MM"`, as minutes since midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Period {
    /// Start, minutes after local midnight.
    pub from: u32,
    /// End, minutes after local midnight (up to 24:00).
    pub to: u32,
}

impl TryFrom<String> for Period {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a period written HH:MM-HH:MM");
        let minutes = |t: &str| -> Option<u32> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
        };
        let (from, to) = s.split_once('-').ok_or_else(bad)?;
        let (from, to) = (minutes(from).ok_or_else(bad)?, minutes(to).ok_or_else(bad)?);
        if from >= to {
            return Err(format!("`{s}` ends before it starts"));
        }
        Ok(Self { from, to })
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
        let mut config: Self = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        config.resolve_texts().map_err(Error::Config)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the language tags and that every text has the default language,
    /// and spells every text as a table by canonical tag.
    fn resolve_texts(&mut self) -> Result<(), String> {
        let language = canonical_tag(&self.default_language).map_err(|e| format!("default_language: {e}"))?;
        self.default_language = language.clone();
        self.name = Texts::ByLanguage(self.name.resolve(&language, "the clinic's name")?);
        for doctor in &mut self.doctors {
            let id = doctor.id.clone();
            doctor.name = Texts::ByLanguage(doctor.name.resolve(&language, &format!("the name of `{id}`"))?);
            doctor.specialty =
                Texts::ByLanguage(doctor.specialty.resolve(&language, &format!("the specialty of `{id}`"))?);
        }
        Ok(())
    }

    /// The built-in demo clinic.
    pub fn demo() -> Self {
        Self::parse(DEMO_CONFIG).expect("the built-in demo clinic is valid")
    }

    fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(Error::Config(m));
        if self.doctors.is_empty() {
            return fail("at least one doctor is needed".into());
        }
        if !(1..=366).contains(&self.horizon_days) {
            return fail("horizon_days must be between 1 and 366".into());
        }
        if !(10..=3600).contains(&self.hold_seconds) {
            return fail("hold_seconds must be between 10 and 3600".into());
        }
        if !(10..=86_400).contains(&self.offer_seconds) {
            return fail("offer_seconds must be between 10 and 86400".into());
        }
        let mut ids: Vec<&str> = self.doctors.iter().map(|d| d.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != self.doctors.len() {
            return fail("doctor ids must be unique".into());
        }
        for doctor in &self.doctors {
            let valid_id = !doctor.id.is_empty()
                && doctor.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid_id {
                return fail(format!("doctor id `{}` may use only letters, digits, '-' and '_'", doctor.id));
            }
            if !(5..=480).contains(&self.slot_minutes_of(doctor)) {
                return fail(format!("slot_minutes of `{}` must be between 5 and 480", doctor.id));
            }
            for day in [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ] {
                let mut periods = self.hours_of(doctor).on(day).to_vec();
                periods.sort_by_key(|p| p.from);
                if periods.windows(2).any(|w| w[0].to > w[1].from) {
                    return fail(format!("the working periods of `{}` overlap on {day}", doctor.id));
                }
            }
        }
        if self.doctors.iter().all(|d| self.hours_of(d).all().next().is_none()) {
            return fail("nobody has working hours".into());
        }
        Ok(())
    }

    fn slot_minutes_of(&self, doctor: &DoctorConfig) -> u32 {
        doctor.slot_minutes.unwrap_or(self.slot_minutes)
    }

    fn hours_of<'a>(&'a self, doctor: &'a DoctorConfig) -> &'a WeeklyHours {
        doctor.hours.as_ref().unwrap_or(&self.hours)
    }

    /// A text in the default language (every text has one, once parsed).
    fn in_default(&self, texts: &Texts) -> String {
        texts.get(&self.default_language).unwrap_or_default().to_owned()
    }

    /// The clinic as the wire shows it: its name in the default language and in
    /// every language it has one in. It allows no extension of holds; the
    /// engine says how many it does.
    pub fn clinic(&self) -> Clinic {
        let names =
            self.name.languages().map(|l| (l.to_owned(), self.name.get(l).unwrap_or_default().to_owned()));
        Clinic {
            name: self.in_default(&self.name),
            time_zone: self.time_zone.name().to_owned(),
            min_notice_minutes: self.min_notice_minutes,
            hold_seconds: self.hold_seconds,
            hold_extensions: 0,
            offer_seconds: self.offer_seconds,
            default_language: self.default_language.clone(),
            names: names.collect(),
        }
    }

    /// The doctors as the wire shows them: name and specialty in the default
    /// language, and both in every language either is given in (the default
    /// language's standing in for the one not given).
    pub fn doctors(&self) -> Vec<Doctor> {
        self.doctors
            .iter()
            .map(|d| {
                let (name, specialty) = (self.in_default(&d.name), self.in_default(&d.specialty));
                let texts: BTreeMap<String, DoctorText> = d
                    .name
                    .languages()
                    .chain(d.specialty.languages())
                    .map(|l| {
                        let text = DoctorText {
                            name: d.name.get(l).map_or_else(|| name.clone(), str::to_owned),
                            specialty: d.specialty.get(l).map_or_else(|| specialty.clone(), str::to_owned),
                        };
                        (l.to_owned(), text)
                    })
                    .collect();
                Doctor { id: DoctorId(d.id.clone()), name, specialty, texts }
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
        let mut slots = Vec::new();
        for date in first.iter_days().take(self.horizon_days as usize) {
            if self.days_off.contains(&date) {
                continue;
            }
            for doctor in &self.doctors {
                if doctor.days_off.contains(&date) {
                    continue;
                }
                let length = self.slot_minutes_of(doctor);
                for period in self.hours_of(doctor).on(date.weekday()) {
                    let mut from = period.from;
                    while from + length <= period.to {
                        if let Some((start, end)) = self.utc_bounds(date, from, length) {
                            let local = format!("{}-{:02}{:02}", date.format("%Y%m%d"), from / 60, from % 60);
                            slots.push(SlotDef {
                                id: SlotId(format!("{}-{local}", doctor.id)),
                                doctor_id: DoctorId(doctor.id.clone()),
                                start,
                                end,
                            });
                        }
                        from += length;
                    }
                }
            }
        }
        let order: std::collections::HashMap<&str, usize> =
            self.doctors.iter().enumerate().map(|(i, d)| (d.id.as_str(), i)).collect();
        slots.sort_by_key(|s| (s.start, order.get(s.doctor_id.0.as_str()).copied()));
        slots
    }

    /// The UTC bounds of the slot starting `from` minutes after local midnight on
    /// `date`, or `None` when a clock change makes that local time not exist that
    /// day. A slot lasts `length` minutes of real time even when the clocks change
    /// during it.
    fn utc_bounds(&self, date: NaiveDate, from: u32, length: u32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let local = date.and_time(NaiveTime::from_num_seconds_from_midnight_opt(from * 60, 0)?);
        let start = self.time_zone.from_local_datetime(&local).earliest()?.with_timezone(&Utc);
        Some((start, start + Duration::minutes(i64::from(length))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn ids(slots: &[SlotDef], doctor: &str) -> Vec<String> {
        slots.iter().filter(|s| s.doctor_id.0 == doctor).map(|s| s.id.0.clone()).collect()
    }

    #[test]
    fn the_demo_clinic_follows_each_doctors_hours_breaks_and_slot_length() {
        let clinic = ClinicConfig::demo();
        // Tuesday 24 November 2026.
        let slots = clinic.slots_from(date(2026, 11, 24));
        let tuesday: Vec<_> = slots.iter().filter(|s| s.id.0.contains("-20261124-")).collect();
        let therapist = ids(&slots, "therapist");
        assert_eq!(therapist[0], "therapist-20261124-0900");
        assert_eq!(tuesday.iter().filter(|s| s.doctor_id.0 == "therapist").count(), 16, "two 4-hour periods");
        assert!(!therapist.contains(&"therapist-20261124-1300".to_owned()), "lunch break");
        let dentist: Vec<_> = tuesday.iter().filter(|s| s.doctor_id.0 == "dentist").collect();
        assert_eq!(dentist.len(), 5 + 5, "45-minute slots: 09:00…12:00 and 14:00…17:00");
        assert!(dentist.iter().all(|s| s.end - s.start == Duration::minutes(45)));
        assert!(tuesday.iter().all(|s| s.doctor_id.0 != "surgeon"), "the surgeon does not work Tuesdays");
        let first = &slots[0];
        assert_eq!(first.start.to_rfc3339(), "2026-11-24T06:00:00+00:00", "09:00 in Moscow");
        assert!(slots.windows(2).all(|w| w[0].start <= w[1].start));
    }

    #[test]
    fn days_off_of_the_clinic_and_of_a_doctor_have_no_slots() {
        let mut clinic = ClinicConfig::demo();
        clinic.doctors[0].days_off = vec![date(2026, 12, 30)];
        let slots = clinic.slots_from(date(2026, 12, 29));
        assert!(!slots.iter().any(|s| s.id.0.contains("-20261231-")), "the clinic is closed");
        assert!(!ids(&slots, "therapist").iter().any(|id| id.contains("-20261230-")));
        assert!(ids(&slots, "dentist").iter().any(|id| id.contains("-20261230-")));
    }

    fn berlin_night_clinic() -> ClinicConfig {
        let text = r#"
            name = "Night Clinic"
            time_zone = "Europe/Berlin"
            horizon_days = 1
            slot_minutes = 30
            [hours]
            sun = ["01:00-04:00"]
            [[doctors]]
            id = "d"
            name = "D"
            specialty = "S"
        "#;
        ClinicConfig::parse(text).unwrap()
    }

    #[test]
    fn a_local_hour_skipped_in_spring_gets_no_slot() {
        // On 2026-03-29 Berlin clocks jump from 02:00 to 03:00.
        let slots = berlin_night_clinic().slots_from(date(2026, 3, 29));
        let local: Vec<_> = slots.iter().map(|s| s.id.0.rsplit('-').next().unwrap().to_owned()).collect();
        assert_eq!(local, ["0100", "0130", "0300", "0330"]);
        assert_eq!(slots[0].start.to_rfc3339(), "2026-03-29T00:00:00+00:00", "01:00 CET");
        assert_eq!(slots[2].start.to_rfc3339(), "2026-03-29T01:00:00+00:00", "03:00 CEST");
        assert!(slots.iter().all(|s| s.end - s.start == Duration::minutes(30)));
    }

    #[test]
    fn a_local_hour_repeated_in_autumn_is_booked_once_at_its_first_occurrence() {
        // On 2026-10-25 Berlin clocks go back from 03:00 to 02:00.
        let slots = berlin_night_clinic().slots_from(date(2026, 10, 25));
        let local: Vec<_> = slots.iter().map(|s| s.id.0.rsplit('-').next().unwrap().to_owned()).collect();
        assert_eq!(local, ["0100", "0130", "0200", "0230", "0300", "0330"]);
        assert_eq!(slots[2].start.to_rfc3339(), "2026-10-25T00:00:00+00:00", "02:00 CEST, the first one");
        assert_eq!(slots[4].start.to_rfc3339(), "2026-10-25T02:00:00+00:00", "03:00 CET");
        let unique: std::collections::HashSet<_> = slots.iter().map(|s| &s.id).collect();
        assert_eq!(unique.len(), slots.len());
    }

    #[test]
    fn the_benchmark_clinic_stays_valid() {
        let bench = ClinicConfig::parse(include_str!("../../bench/clinic.toml")).unwrap();
        assert_eq!(bench.slots_from(date(2026, 11, 24)).len(), 20 * 7 * 96);
    }

    #[test]
    fn configuration_mistakes_are_reported() {
        for (from, to) in [
            ("\"09:00-13:00\", \"14:00-18:00\"]\ntue", "\"09:00-13:00\", \"12:00-18:00\"]\ntue"),
            ("Europe/Moscow", "Mars/Olympus"),
            ("id = \"dentist\"", "id = \"therapist\""),
            ("sat = [\"10:00-15:00\"]", "sat = [\"15:00-10:00\"]"),
            ("slot_minutes = 45", "slot_minutes = 2"),
            ("hold_seconds = 120", "hold_seconds = 0"),
        ] {
            let bad = DEMO_CONFIG.replacen(from, to, 1);
            assert_ne!(bad, DEMO_CONFIG, "{from} is in the demo file");
            assert!(ClinicConfig::parse(&bad).is_err(), "{to} must be refused");
        }
    }
}
