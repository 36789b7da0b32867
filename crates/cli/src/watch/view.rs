//! What `watch` shows: which days and doctors, the schedule as a grid of the
//! slots of each day (a row per start time, a column per doctor), and a line
//! per change when the output is not a terminal.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use protocol::{Doctor, Schedule, Slot, SlotStatus, Version};

use super::live::Link;
use crate::output::{Paint, Style, day_name, local_day, local_time, pad, zone};

/// Which part of the schedule to show.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    /// Only these doctors, by id (all when empty).
    pub(crate) doctors: Vec<String>,
    /// Only the first this many days.
    pub(crate) days: Option<usize>,
}

impl Filter {
    fn shows_doctor(&self, id: &str) -> bool {
        self.doctors.is_empty() || self.doctors.iter().any(|d| d == id)
    }

    /// The clinic's local days shown: those with slots of the doctors shown,
    /// the first `days` of them.
    pub(crate) fn days(&self, schedule: &Schedule) -> Vec<NaiveDate> {
        let zone = zone(schedule);
        let days: BTreeSet<NaiveDate> = schedule
            .slots
            .iter()
            .filter(|slot| self.shows_doctor(&slot.doctor_id.0))
            .map(|slot| local_day(slot.start, zone))
            .collect();
        days.into_iter().take(self.days.unwrap_or(usize::MAX)).collect()
    }

    /// Whether `slot` is shown.
    pub(crate) fn shows(&self, schedule: &Schedule, slot: &Slot) -> bool {
        self.shows_doctor(&slot.doctor_id.0)
            && self.days(schedule).contains(&local_day(slot.start, zone(schedule)))
    }

    /// The schedule with only the doctors and slots shown.
    pub(crate) fn apply(&self, schedule: &Schedule) -> Schedule {
        let mut shown = schedule.clone();
        shown.doctors.retain(|doctor| self.shows_doctor(&doctor.id.0));
        shown.slots.retain(|slot| self.shows(schedule, slot));
        shown
    }
}

/// How a slot looks: its state as a word, and its colour.
pub(crate) fn state(slot: &Slot, now: DateTime<Utc>) -> (&'static str, Style) {
    if slot.start <= now {
        return ("past", Style::Dim);
    }
    match slot.status {
        SlotStatus::Free => ("free", Style::Green),
        SlotStatus::Held => ("held", Style::Yellow),
        SlotStatus::Booked => ("booked", Style::Red),
        SlotStatus::Blocked => ("blocked", Style::Grey),
    }
}

/// Everything the grid needs besides the schedule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Look<'a> {
    pub(crate) paint: Paint,
    pub(crate) language: &'a str,
    /// States only, without slot ids.
    pub(crate) compact: bool,
    pub(crate) now: DateTime<Utc>,
}

/// The link indicator: `● live · version 57`.
pub(crate) fn link_line(link: Link, version: Version, paint: Paint) -> String {
    match link {
        Link::Live => format!("{} · version {version}", paint.paint(Style::Green, "● live")),
        Link::Reconnecting => {
            format!("{} · version {version}", paint.paint(Style::Yellow, "○ reconnecting…"))
        }
    }
}

/// The whole view, line by line.
pub(crate) fn render(schedule: &Schedule, filter: &Filter, link: Link, look: Look<'_>) -> Vec<String> {
    let zone = zone(schedule);
    let paint = look.paint;
    let mut lines = vec![
        format!(
            "{}  ·  {}  ·  {}",
            paint.paint(Style::Bold, schedule.clinic.name_in(look.language)),
            zone.name(),
            link_line(link, schedule.version, paint)
        ),
        String::new(),
    ];
    for day in filter.days(schedule) {
        let slots: Vec<&Slot> = schedule
            .slots
            .iter()
            .filter(|slot| filter.shows_doctor(&slot.doctor_id.0) && local_day(slot.start, zone) == day)
            .collect();
        let doctors: Vec<&Doctor> =
            schedule.doctors.iter().filter(|d| slots.iter().any(|slot| slot.doctor_id == d.id)).collect();
        let cell = |slot: &Slot| {
            let (word, _) = state(slot, look.now);
            if look.compact { word.to_owned() } else { format!("{} {word}", slot.id) }
        };
        let widths: Vec<usize> = doctors
            .iter()
            .map(|doctor| {
                let name = doctor.text_in(look.language).name.chars().count();
                let cells =
                    slots.iter().filter(|s| s.doctor_id == doctor.id).map(|s| cell(s).chars().count());
                cells.chain([name]).max().unwrap_or(0)
            })
            .collect();
        lines.push(paint.paint(Style::Bold, &day_name(day)));
        let mut header = "       ".to_owned();
        for (doctor, width) in doctors.iter().zip(&widths) {
            header.push_str(&pad(&doctor.text_in(look.language).name, *width + 2));
        }
        lines.push(header.trim_end().to_owned());
        let starts: BTreeSet<DateTime<Utc>> = slots.iter().map(|slot| slot.start).collect();
        for start in starts {
            let mut row = format!("  {}  ", local_time(start, zone));
            for (doctor, width) in doctors.iter().zip(&widths) {
                match slots.iter().find(|s| s.start == start && s.doctor_id == doctor.id) {
                    Some(slot) => {
                        let (_, style) = state(slot, look.now);
                        row.push_str(&paint.paint(style, &pad(&cell(slot), *width)));
                        row.push_str("  ");
                    }
                    None => row.push_str(&" ".repeat(width + 2)),
                }
            }
            lines.push(row.trim_end().to_owned());
        }
        lines.push(String::new());
    }
    let legend: Vec<String> = [
        ("free", Style::Green),
        ("held", Style::Yellow),
        ("booked", Style::Red),
        ("blocked", Style::Grey),
        ("past", Style::Dim),
    ]
    .iter()
    .map(|(word, style)| paint.paint(*style, word))
    .collect();
    lines.push(format!("{}   (Ctrl-C to quit)", legend.join(" · ")));
    lines
}

/// One change as a line of its own, for output that is not redrawn:
/// `v58  Wed 25 Nov 2026 09:30  Dr. Elena Sokolova  therapist-20261125-0930  booked`.
pub(crate) fn change_line(schedule: &Schedule, slot: &Slot, version: Version, look: Look<'_>) -> String {
    let zone = zone(schedule);
    let doctor = schedule
        .doctors
        .iter()
        .find(|d| d.id == slot.doctor_id)
        .map_or_else(|| slot.doctor_id.to_string(), |d| d.text_in(look.language).name);
    let (word, style) = state(slot, look.now);
    format!(
        "v{version}  {} {}  {doctor}  {}  {}",
        day_name(local_day(slot.start, zone)),
        local_time(slot.start, zone),
        slot.id,
        look.paint.paint(style, word)
    )
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
