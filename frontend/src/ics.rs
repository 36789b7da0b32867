//! An iCalendar (RFC 5545) file for one appointment, made in the browser so the
//! manage link's secret never goes into a URL.

use chrono::{DateTime, Utc};

/// What the calendar entry says.
#[derive(Debug, Clone)]
pub struct Appointment<'a> {
    /// The booking code, also the entry's unique id.
    pub code: &'a str,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// The doctor's name.
    pub doctor: &'a str,
    /// The doctor's specialty.
    pub specialty: &'a str,
    /// The clinic's name.
    pub clinic: &'a str,
}

/// Escapes text for an iCalendar value.
fn text(value: &str) -> String {
    value.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace('\n', "\\n")
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The `.ics` file's text.
pub fn calendar(appointment: &Appointment<'_>, now: DateTime<Utc>) -> String {
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Booking//Appointment//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@booking", text(appointment.code)),
        format!("DTSTAMP:{}", stamp(now)),
        format!("DTSTART:{}", stamp(appointment.start)),
        format!("DTEND:{}", stamp(appointment.end)),
        format!("SUMMARY:{}", text(&format!("{} – {}", appointment.specialty, appointment.doctor))),
        format!("LOCATION:{}", text(appointment.clinic)),
        format!("DESCRIPTION:{}", text(&format!("Booking code {}", appointment.code))),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    let mut out = lines.join("\r\n");
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendar_entry_has_the_times_in_utc_and_escaped_text() {
        let appointment = Appointment {
            code: "K7M2-QX4P",
            start: "2026-11-25T06:00:00Z".parse().unwrap(),
            end: "2026-11-25T06:30:00Z".parse().unwrap(),
            doctor: "Dr. Elena Sokolova",
            specialty: "Therapist; general",
            clinic: "City Clinic, Moscow",
        };
        let ics = calendar(&appointment, "2026-11-24T07:00:00Z".parse().unwrap());
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.contains("\r\nDTSTART:20261125T060000Z\r\nDTEND:20261125T063000Z\r\n"));
        assert!(ics.contains("UID:K7M2-QX4P@booking"));
        assert!(ics.contains("LOCATION:City Clinic\\, Moscow"));
        assert!(ics.contains("SUMMARY:Therapist\\; general – Dr. Elena Sokolova"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
    }
}
