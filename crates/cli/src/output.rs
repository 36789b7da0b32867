//! Printing: plain text for people, with colours only on a terminal that
//! wants them, or one JSON object per line for scripts; and the clinic's
//! local times and names that both use.

use std::io::{IsTerminal, Write};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use protocol::{Schedule, Slot};
use serde_json::{Value, json};

use crate::failure::Failure;

/// How a command prints what it did.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    /// JSON for scripts instead of text for people.
    pub(crate) json: bool,
    /// The colours to use (none when off).
    pub(crate) paint: Paint,
    /// The language of the clinic's and doctors' names.
    pub(crate) language: String,
}

impl Output {
    /// Output as asked, with colours when stdout is a terminal and `NO_COLOR`
    /// is unset or empty (<https://no-color.org>).
    pub(crate) fn new(json: bool, language: String) -> Self {
        let wanted = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let paint = Paint { on: !json && wanted && std::io::stdout().is_terminal() };
        Self { json, paint, language }
    }

    /// Prints one JSON object as one line.
    pub(crate) fn json_line(&self, value: &Value) {
        self.text(&value.to_string());
    }

    /// Prints text and a newline to stdout, flushed at once (`watch` prints
    /// to scripts that read it as it comes).
    pub(crate) fn text(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        // A closed stdout (the reader went away) is no reason to stop a
        // command that has already done its work.
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    /// Says why a command failed: as JSON on stdout for scripts, or as a
    /// sentence on stderr for people.
    pub(crate) fn failure(&self, failure: &Failure) {
        if self.json {
            self.json_line(&json!({
                "ok": false,
                "reason": failure.reason(),
                "message": failure.message(),
            }));
        } else {
            eprintln!("booking: {}", failure.message());
        }
    }
}

/// A colour or emphasis for a piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Green,
    Yellow,
    Red,
    Grey,
    Dim,
    Bold,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Self::Green => "32",
            Self::Yellow => "33",
            Self::Red => "31",
            Self::Grey => "90",
            Self::Dim => "2",
            Self::Bold => "1",
        }
    }
}

/// ANSI colours, or plain text when off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Paint {
    /// Whether to colour at all.
    pub(crate) on: bool,
}

impl Paint {
    /// `text` in `style`.
    pub(crate) fn paint(self, style: Style, text: &str) -> String {
        if self.on { format!("\x1b[{}m{text}\x1b[0m", style.code()) } else { text.to_owned() }
    }
}

/// The clinic's time zone (UTC when the server names one this program does
/// not know).
pub(crate) fn zone(schedule: &Schedule) -> Tz {
    schedule.clinic.time_zone.parse().unwrap_or(Tz::UTC)
}

/// The clinic's local day of an instant.
pub(crate) fn local_day(at: DateTime<Utc>, zone: Tz) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// An instant's local time of day, such as `09:30`.
pub(crate) fn local_time(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%H:%M").to_string()
}

/// A local day as people read it, such as `Wed 25 Nov 2026`.
pub(crate) fn day_name(day: NaiveDate) -> String {
    day.format("%a %-d %b %Y").to_string()
}

/// A slot's doctor, by name and specialty in `language`, such as
/// `Dr. Elena Sokolova (Therapist)`; the id when the schedule has no such
/// doctor.
pub(crate) fn doctor_of(schedule: &Schedule, slot: &Slot, language: &str) -> String {
    match schedule.doctors.iter().find(|d| d.id == slot.doctor_id) {
        Some(doctor) => {
            let text = doctor.text_in(language);
            format!("{} ({})", text.name, text.specialty)
        }
        None => slot.doctor_id.to_string(),
    }
}

/// When a slot is, as people read it: `Wed 25 Nov 2026 09:30–10:00 (Europe/Moscow)`.
pub(crate) fn when(schedule: &Schedule, slot: &Slot) -> String {
    let zone = zone(schedule);
    format!(
        "{} {}–{} ({})",
        day_name(local_day(slot.start, zone)),
        local_time(slot.start, zone),
        local_time(slot.end, zone),
        zone.name()
    )
}

/// `text` padded with spaces to `width` characters (as a terminal counts them
/// for the scripts this clinic's names are written in).
pub(crate) fn pad(text: &str, width: usize) -> String {
    let count = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(count)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_wrap_text_only_when_on() {
        assert_eq!(Paint { on: false }.paint(Style::Green, "free"), "free");
        assert_eq!(Paint { on: true }.paint(Style::Red, "booked"), "\x1b[31mbooked\x1b[0m");
    }

    #[test]
    fn local_times_are_in_the_clinic_zone() {
        let zone: Tz = "Europe/Moscow".parse().unwrap();
        let at: DateTime<Utc> = "2026-11-24T21:30:00Z".parse().unwrap();
        assert_eq!(local_time(at, zone), "00:30");
        assert_eq!(day_name(local_day(at, zone)), "Wed 25 Nov 2026");
    }

    #[test]
    fn padding_counts_characters_not_bytes() {
        assert_eq!(pad("Соколова", 10), "Соколова  ");
        assert_eq!(pad("long name", 4), "long name");
    }
}
