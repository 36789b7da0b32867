//! Calendar files (iCalendar, RFC 5545) for one appointment, as scheduling
//! messages (iTIP, RFC 5546), made in the browser so the manage link's secret
//! never goes into a URL.
//!
//! A patient may save the file more than once: when booking, after each move,
//! and after cancelling. Calendar programs match the files by `UID` and keep
//! the one with the highest `SEQUENCE`, so every file of a booking carries:
//!
//! - `UID:<booking code>@<the page's host>`: the code is unique within one
//!   clinic's server and the host tells clinics apart; the manage token, a
//!   secret, is never part of it.
//! - `SEQUENCE`: the booking's revision, 0 when booked and raised by the server
//!   on each move and on the cancel.
//! - `METHOD:REQUEST` with `STATUS:CONFIRMED` while the booking stands, and
//!   `METHOD:CANCEL` with `STATUS:CANCELLED` once it is cancelled, which takes
//!   the visit out of the calendar instead of leaving a stale one.
//! - `DTSTART`/`DTEND` as UTC instants (RFC 5545 3.3.5, form 2), which need no
//!   `VTIMEZONE`; calendars show them in the patient's own zone.
//! - `DTSTAMP`: when the file was made.
//!
//! Lines end in CRLF and are folded so that none is longer than 75 octets,
//! counted in UTF-8 and never splitting a character (a Russian letter is two
//! octets). Text values are escaped per RFC 5545 3.3.11 and parameter values
//! per RFC 6868. The words of the file (summary, location, description) come
//! from the page, in the patient's language.
//!
//! # Organizer and attendee
//!
//! RFC 5546 requires an `ORGANIZER` in a `REQUEST` and a `CANCEL`, and at least
//! one `ATTENDEE` in a `REQUEST` (3.2.2, 3.2.5). The clinic has no e-mail
//! address in its data, and these files are not sent by e-mail (iMIP, RFC 6047)
//! but saved by the patient, so nobody reads replies to them. The choices:
//!
//! - Leaving both out breaks RFC 5546: strict consumers refuse the message, and
//!   Outlook, which matches updates and cancellations to meetings, needs an
//!   organizer to treat the file as one (Microsoft's MS-OXCICAL and public
//!   reports of updates that did not apply without it).
//! - Inventing `mailto:noreply@<host>` is what many senders do, but it names a
//!   mailbox that does not exist (or is somebody else's), and a program that
//!   offers Accept/Decline would send the patient's answer to it.
//! - A calendar user address is any URI (RFC 5545 3.3.3); `mailto:` is only the
//!   common case, and Apple's own servers use non-mail addresses.
//!
//! So the organizer is the clinic, by name (`CN`) and by the address of its
//! booking page, which is where it is reached; no program can mail a reply to
//! it. The attendee is the patient, by name and by the phone number the clinic
//! calls, as an RFC 3966 `tel:` URI; `PARTSTAT=ACCEPTED` and `RSVP=FALSE` say
//! that the booking is already accepted and that no reply is expected. The
//! file carries the patient's own name and phone, for the patient's own
//! calendar, and nothing else about them.

use chrono::{DateTime, Utc};
use protocol::{BookingDetails, BookingStatus};

/// The most octets a line may hold, not counting its CRLF (RFC 5545 3.1).
pub const LINE_OCTETS: usize = 75;

/// What a file asks of the calendar that opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Put the appointment in, or update it to this revision.
    Request,
    /// Take the appointment out: it was cancelled.
    Cancel,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }

    fn status(self) -> &'static str {
        match self {
            Method::Request => "CONFIRMED",
            Method::Cancel => "CANCELLED",
        }
    }
}

/// The words of the entry, in the patient's language, composed by the page.
#[derive(Debug, Clone, Copy)]
pub struct Words<'a> {
    /// The entry's title.
    pub summary: &'a str,
    /// Where the visit is; left out when empty.
    pub location: &'a str,
    /// More about the visit; left out when empty.
    pub description: &'a str,
}

/// Everything one calendar file says.
#[derive(Debug, Clone, Copy)]
pub struct Appointment<'a> {
    /// The booking code, which with the host makes the entry's `UID`.
    pub code: &'a str,
    /// The page's origin, such as `https://clinic.example`: its host is the
    /// clinic's part of the `UID`, and it is the clinic's calendar address.
    pub site: &'a str,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// The booking's revision: 0 when booked, raised on each change.
    pub sequence: u32,
    /// Whether the booking stands or was cancelled.
    pub method: Method,
    /// The clinic's name, shown as the organizer.
    pub clinic: &'a str,
    /// The patient's name.
    pub patient: &'a str,
    /// The patient's phone, as the patient typed it.
    pub phone: &'a str,
    /// The words of the entry.
    pub words: Words<'a>,
}

impl<'a> Appointment<'a> {
    /// The file for a booking as the manage link shows it: a request while it
    /// stands, a cancellation once it is cancelled, at the booking's revision.
    pub fn of(booking: &'a BookingDetails, site: &'a str, clinic: &'a str, words: Words<'a>) -> Self {
        Self {
            code: &booking.code,
            site,
            start: booking.slot.start,
            end: booking.slot.end,
            sequence: booking.sequence,
            method: match booking.status {
                BookingStatus::Active => Method::Request,
                BookingStatus::Cancelled => Method::Cancel,
            },
            clinic,
            patient: &booking.patient.name,
            phone: &booking.patient.phone,
            words,
        }
    }

    /// The name to save the file under.
    pub fn file_name(&self) -> String {
        let code: String = self.code.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        match self.method {
            Method::Request => format!("appointment-{code}.ics"),
            Method::Cancel => format!("appointment-{code}-cancelled.ics"),
        }
    }
}

/// The entry's `UID`: the booking code at the page's host, the same in every
/// file of one booking.
pub fn uid(code: &str, site: &str) -> String {
    format!("{code}@{}", host(site).to_ascii_lowercase())
}

/// The host (and port, if any) of an origin such as `https://clinic.example`.
fn host(site: &str) -> &str {
    let rest = site.split_once("://").map_or(site, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

/// The host of an origin without its port.
fn host_name(site: &str) -> &str {
    let host = host(site);
    if host.ends_with(']') {
        return host;
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// A phone number as an RFC 3966 `tel:` URI. A number written with a leading
/// `+` is global; any other is local to the clinic, whose host names the
/// context it is dialled in, as RFC 3966 3 requires.
pub fn phone_address(phone: &str, site: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if phone.trim_start().starts_with('+') {
        format!("tel:+{digits}")
    } else {
        format!("tel:{digits};phone-context={}", host_name(site).to_ascii_lowercase())
    }
}

/// The `.ics` file's text.
pub fn calendar(appointment: &Appointment<'_>, now: DateTime<Utc>) -> String {
    let a = appointment;
    let mut file = String::new();
    let mut line = |content: &str| fold(content, &mut file);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Booking//Appointment//EN");
    line("CALSCALE:GREGORIAN");
    line(&format!("METHOD:{}", a.method.name()));
    line("BEGIN:VEVENT");
    line(&format!("UID:{}", text(&uid(a.code, a.site))));
    line(&format!("DTSTAMP:{}", stamp(now)));
    line(&format!("DTSTART:{}", stamp(a.start)));
    line(&format!("DTEND:{}", stamp(a.end)));
    line(&format!("SEQUENCE:{}", a.sequence));
    line(&format!("STATUS:{}", a.method.status()));
    line(&format!("SUMMARY:{}", text(a.words.summary)));
    for (name, value) in [("LOCATION", a.words.location), ("DESCRIPTION", a.words.description)] {
        if !value.trim().is_empty() {
            line(&format!("{name}:{}", text(value)));
        }
    }
    line(&format!("ORGANIZER{}:{}", common_name(a.clinic), address(a.site)));
    line(&format!(
        "ATTENDEE{};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:{}",
        common_name(a.patient),
        phone_address(a.phone, a.site),
    ));
    line("TRANSP:OPAQUE");
    line("END:VEVENT");
    line("END:VCALENDAR");
    file
}

/// A UTC instant in the iCalendar form `20261125T060000Z`.
fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The clinic's calendar address: its page.
fn address(site: &str) -> String {
    let clean: String = site.trim_end_matches('/').chars().filter(|c| !c.is_control() && *c != ' ').collect();
    format!("{clean}/")
}

/// A TEXT value, escaped per RFC 5545 3.3.11: backslash, semicolon and comma
/// are escaped, a line break of any kind becomes `\n`, and the other control
/// characters, which TEXT cannot hold, are left out (a tab stays).
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The `;CN=` parameter of a name, quoted, with RFC 6868's escapes for the
/// characters a quoted parameter value cannot hold; nothing for an empty name.
fn common_name(name: &str) -> String {
    let name: String = name.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
    let name = name.trim();
    if name.is_empty() {
        return String::new();
    }
    let mut out = String::from(";CN=\"");
    for c in name.chars() {
        match c {
            '^' => out.push_str("^^"),
            '"' => out.push_str("^'"),
            '\n' => out.push_str("^n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Appends one content line, folded so that no physical line is longer than
/// `LINE_OCTETS` octets: a fold is a CRLF and a space, and falls only between
/// characters. A continuation line's leading space counts towards its octets.
fn fold(line: &str, out: &mut String) {
    let mut used = 0;
    for c in line.chars() {
        let octets = c.len_utf8();
        if used + octets > LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += octets;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests;
