//! The calendar files read back by a real iCalendar parser (the `icalendar`
//! crate): every kind the manage page makes, long Russian and English words
//! that need folding, and the characters that need escaping.

use chrono::{DateTime, Utc};
use icalendar::parser::{read_calendar, unfold};
use icalendar::{Calendar, CalendarDateTime, Component, DatePerhapsTime, EventLike, EventStatus};
use protocol::{BookingDetails, BookingStatus, DoctorId, Patient, ServerMessage, Slot, SlotId, SlotStatus};

use super::*;
use crate::manage::{Manage, ManageLink, Step};

const SITE: &str = "https://clinic.example";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn booking(start: &str, end: &str, status: BookingStatus) -> BookingDetails {
    revision(start, end, status, 0)
}

fn revision(start: &str, end: &str, status: BookingStatus, sequence: u32) -> BookingDetails {
    BookingDetails {
        code: "K7M2-QX4P".into(),
        slot: Slot {
            id: SlotId(start.into()),
            doctor_id: DoctorId("d".into()),
            start: at(start),
            end: at(end),
            status: SlotStatus::Booked,
            held_until: None,
        },
        patient: Patient { name: "Анна Петрова".into(), phone: "+7 912 345-67-89".into() },
        status,
        sequence,
    }
}

const WORDS: Words<'static> = Words {
    summary: "Терапевт – Елена Соколова",
    location: "Городская клиника",
    description: "Код записи K7M2-QX4P",
};

/// One property of the event as the parser read it.
#[derive(Debug)]
struct Property {
    name: String,
    params: Vec<(String, Option<String>)>,
    value: String,
}

/// Checks the file's physical lines, reads it with the parser, and returns the
/// typed calendar and the properties of its one event.
fn read(file: &str) -> (Calendar, Vec<Property>) {
    physical_lines(file);
    let unfolded = unfold(file);
    let parsed =
        read_calendar(&unfolded).unwrap_or_else(|e| panic!("the parser refused the file: {e}\n{file}"));
    assert_eq!(parsed.components.len(), 1, "one event in the calendar");
    let event = &parsed.components[0];
    assert_eq!(event.name.as_str(), "VEVENT");
    assert!(event.components.is_empty(), "the event holds no alarm or other component");
    for name in
        ["UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "STATUS", "SUMMARY", "ORGANIZER", "ATTENDEE"]
    {
        let count = event.properties.iter().filter(|p| p.name.as_str() == name).count();
        assert_eq!(count, 1, "{name} appears once\n{file}");
    }
    for name in ["VERSION", "PRODID", "METHOD"] {
        let count = parsed.properties.iter().filter(|p| p.name.as_str() == name).count();
        assert_eq!(count, 1, "{name} appears once in the calendar\n{file}");
    }
    let properties = event
        .properties
        .iter()
        .map(|p| Property {
            name: p.name.as_str().to_owned(),
            params: p
                .params
                .iter()
                .map(|q| (q.key.as_str().to_owned(), q.val.as_ref().map(|v| v.as_str().to_owned())))
                .collect(),
            value: p.val.as_str().to_owned(),
        })
        .collect();
    let typed: Calendar = file.parse().unwrap();
    (typed, properties)
}

/// The file's physical lines: each ends in CRLF, holds at most 75 octets and
/// no other line break, and a folded line goes on after one space.
fn physical_lines(file: &str) -> Vec<&str> {
    assert!(file.ends_with("\r\n"), "the file ends with CRLF");
    let lines: Vec<&str> = file[..file.len() - 2].split("\r\n").collect();
    for line in &lines {
        assert!(line.len() <= LINE_OCTETS, "{} octets: {line:?}", line.len());
        assert!(!line.contains(['\r', '\n']), "a bare line break in {line:?}");
        assert!(!line.is_empty(), "an empty line");
    }
    assert!(!lines[0].starts_with(' '), "the file starts with a folded line");
    lines
}

fn value<'a>(event: &'a [Property], name: &str) -> &'a str {
    event.iter().find(|p| p.name == name).map(|p| p.value.as_str()).unwrap_or_default()
}

fn param<'a>(event: &'a [Property], name: &str, key: &str) -> Option<&'a str> {
    let property = event.iter().find(|p| p.name == name)?;
    property.params.iter().find(|(k, _)| k == key)?.1.as_deref()
}

fn utc(when: Option<DatePerhapsTime>) -> DateTime<Utc> {
    match when {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(at))) => at,
        other => panic!("not a UTC instant: {other:?}"),
    }
}

#[test]
fn a_new_booking_is_a_request_with_sequence_zero_in_utc() {
    let booked = booking("2026-11-25T06:00:00Z", "2026-11-25T06:30:00Z", BookingStatus::Active);
    let file =
        calendar(&Appointment::of(&booked, SITE, "Городская клиника", WORDS), at("2026-11-24T07:00:00Z"));
    let (typed, event) = read(&file);
    assert_eq!(typed.property_value("METHOD"), Some("REQUEST"));
    assert_eq!(typed.property_value("VERSION"), Some("2.0"));
    let entry = typed.events().next().unwrap();
    assert_eq!(entry.get_uid(), Some("K7M2-QX4P@clinic.example"));
    assert_eq!(entry.get_sequence(), Some(0));
    assert_eq!(entry.get_status(), Some(EventStatus::Confirmed));
    assert_eq!(utc(entry.get_start()), at("2026-11-25T06:00:00Z"));
    assert_eq!(utc(entry.get_end()), at("2026-11-25T06:30:00Z"));
    assert_eq!(entry.get_timestamp(), Some(at("2026-11-24T07:00:00Z")));
    assert_eq!(entry.get_summary(), Some(WORDS.summary));
    assert_eq!(entry.get_location(), Some(WORDS.location));
    assert_eq!(entry.get_description(), Some(WORDS.description));
    assert_eq!(value(&event, "ORGANIZER"), "https://clinic.example/");
    assert_eq!(param(&event, "ORGANIZER", "CN"), Some("Городская клиника"));
    assert_eq!(value(&event, "ATTENDEE"), "tel:+79123456789");
    let attendee = &entry.get_attendees()[0];
    assert_eq!(attendee.cn.as_deref(), Some("Анна Петрова"));
    assert_eq!(attendee.rsvp, Some(false));
    assert_eq!(param(&event, "ATTENDEE", "PARTSTAT"), Some("ACCEPTED"));
    assert_eq!(Appointment::of(&booked, SITE, "", WORDS).file_name(), "appointment-K7M2-QX4P.ics");
}

#[test]
fn the_manage_links_files_keep_one_uid_and_raise_the_sequence_through_moves_and_the_cancel() {
    // The manage link's logic as the page runs it, with the server's answers:
    // the booking at revision 0, two moves, and the cancel, whose answer
    // carries no booking; a file after each.
    let now = at("2026-11-24T07:00:00Z");
    let file = |link: &ManageLink| {
        let Manage::Shown { booking, .. } = &link.state else { panic!("no booking shown") };
        calendar(&Appointment::of(booking, SITE, "Clinic", WORDS), now)
    };
    let mut link = ManageLink::new("secret-manage-token".into());
    link.lookup("l1".into());
    let first = revision("2026-11-25T06:00:00Z", "2026-11-25T06:30:00Z", BookingStatus::Active, 0);
    link.on_reply(&ServerMessage::Booking { request_id: "l1".into(), booking: first });
    let mut files = vec![file(&link)];
    let moves =
        [("2026-11-26T09:00:00Z", "2026-11-26T09:30:00Z"), ("2026-11-27T11:30:00Z", "2026-11-27T12:00:00Z")];
    for (sequence, (start, end)) in (1..).zip(moves) {
        link.step(Step::ConfirmMove { to: SlotId(start.into()) });
        let id = format!("m{sequence}");
        assert!(link.reschedule(id.clone()).is_some());
        let moved = revision(start, end, BookingStatus::Active, sequence);
        assert!(link.on_reply(&ServerMessage::Booking { request_id: id, booking: moved }).is_some());
        files.push(file(&link));
    }
    link.step(Step::ConfirmCancel);
    assert!(link.cancel("c1".into()).is_some());
    link.on_reply(&ServerMessage::ActionResult { request_id: "c1".into(), ok: true, reason: None });
    files.push(file(&link));

    let mut seen = Vec::new();
    for text in &files {
        assert!(!text.contains("secret-manage-token"), "the manage token is in a file:\n{text}");
        let (typed, _) = read(text);
        let entry = typed.events().next().unwrap();
        seen.push((
            typed.property_value("METHOD").unwrap().to_owned(),
            entry.get_uid().unwrap().to_owned(),
            entry.get_sequence().unwrap(),
            entry.get_status().unwrap(),
            utc(entry.get_start()),
        ));
    }
    let uid = "K7M2-QX4P@clinic.example".to_owned();
    let request = "REQUEST".to_owned();
    assert_eq!(
        seen,
        [
            (request.clone(), uid.clone(), 0, EventStatus::Confirmed, at("2026-11-25T06:00:00Z")),
            (request.clone(), uid.clone(), 1, EventStatus::Confirmed, at("2026-11-26T09:00:00Z")),
            (request, uid.clone(), 2, EventStatus::Confirmed, at("2026-11-27T11:30:00Z")),
            ("CANCEL".to_owned(), uid, 3, EventStatus::Cancelled, at("2026-11-27T11:30:00Z")),
        ]
    );
}

#[test]
fn a_cancellation_names_the_organizer_and_attendee_and_holds_no_alarm() {
    let cancelled = revision("2026-11-25T06:00:00Z", "2026-11-25T06:30:00Z", BookingStatus::Cancelled, 2);
    let appointment = Appointment::of(&cancelled, SITE, "City Clinic", WORDS);
    let (typed, event) = read(&calendar(&appointment, at("2026-11-24T07:00:00Z")));
    assert_eq!(typed.property_value("METHOD"), Some("CANCEL"));
    assert_eq!(param(&event, "ORGANIZER", "CN"), Some("City Clinic"));
    assert_eq!(value(&event, "ATTENDEE"), "tel:+79123456789");
    assert_eq!(appointment.file_name(), "appointment-K7M2-QX4P-cancelled.ics");
}

#[test]
fn long_russian_and_english_words_are_folded_at_75_octets_and_read_back_whole() {
    let russian = "Первичный приём у врача-терапевта с измерением давления, \
                   ЭКГ и консультацией; возьмите паспорт, полис ОМС и результаты анализов. "
        .repeat(3);
    let english = "First visit to the general practitioner, with blood pressure, ECG and advice; \
                   bring your passport and the results of earlier tests. "
        .repeat(3);
    let mixed = format!("Ёжик {} ё", "ab".repeat(40));
    let words = Words { summary: &russian, location: &english, description: &mixed };
    let booked = booking("2026-11-25T06:00:00Z", "2026-11-25T06:30:00Z", BookingStatus::Active);
    let long_name = "Константин Константинопольский-Преображенский".repeat(2);
    let mut appointment = Appointment::of(&booked, SITE, &long_name, words);
    appointment.patient = &long_name;
    let file = calendar(&appointment, at("2026-11-24T07:00:00Z"));
    let lines = physical_lines(&file);
    assert!(lines.iter().filter(|l| l.starts_with(' ')).count() > 10, "the long lines were folded");
    assert!(lines.iter().any(|l| l.len() == LINE_OCTETS || l.len() == LINE_OCTETS - 1), "lines are filled");
    let (typed, event) = read(&file);
    let entry = typed.events().next().unwrap();
    assert_eq!(entry.get_summary(), Some(russian.as_str()));
    assert_eq!(entry.get_location(), Some(english.as_str()));
    assert_eq!(entry.get_description(), Some(mixed.as_str()));
    assert_eq!(param(&event, "ORGANIZER", "CN"), Some(long_name.as_str()));
    assert_eq!(entry.get_attendees()[0].cn.as_deref(), Some(long_name.as_str()));
}

#[test]
fn folding_fills_each_line_and_never_splits_a_character() {
    // Every length and mix of one-, two-, three- and four-octet characters
    // around the fold: each physical line holds as many whole characters as
    // fit, and unfolding gives the line back.
    for pattern in ["a", "я", "€", "𝄞", "aя", "я€a", "𝄞яa"] {
        for count in 1..200 {
            let line: String = pattern.chars().cycle().take(count).collect();
            let mut out = String::new();
            fold(&line, &mut out);
            let physical = physical_lines(&out);
            assert!(physical[1..].iter().all(|l| l.starts_with(' ')), "a folded line goes on after a space");
            for pair in physical.windows(2) {
                let next = pair[1][1..].chars().next().unwrap();
                assert!(pair[0].len() + next.len_utf8() > LINE_OCTETS, "a line was broken early: {pair:?}");
            }
            assert_eq!(unfold(&out), format!("{line}\r\n"));
        }
    }
}

#[test]
fn text_is_escaped_so_that_the_parser_reads_back_what_the_page_wrote() {
    let tricky = "a\\b; c, d: \"e\"\nf\r\ng\rh\ti\u{7}j \\n k";
    let words = Words { summary: tricky, location: "Room 5; 2nd floor, left", description: "\\" };
    let booked = booking("2026-11-25T06:00:00Z", "2026-11-25T06:30:00Z", BookingStatus::Active);
    let file = calendar(&Appointment::of(&booked, SITE, "Clinic", words), at("2026-11-24T07:00:00Z"));
    assert!(file.contains("SUMMARY:a\\\\b\\; c\\, d: \"e\"\\nf\\ng\\nh\ti"), "{file}");
    let (typed, _) = read(&file);
    let entry = typed.events().next().unwrap();
    // The line breaks of every kind read back as one newline; the bell, which
    // TEXT cannot hold, is left out.
    assert_eq!(entry.get_summary(), Some("a\\b; c, d: \"e\"\nf\ng\nh\tij \\n k"));
    assert_eq!(entry.get_location(), Some("Room 5; 2nd floor, left"));
    assert_eq!(entry.get_description(), Some("\\"));
}

#[test]
fn names_in_parameters_are_quoted_with_the_rfc_6868_escapes() {
    let mut booked = booking("2026-11-25T06:00:00Z", "2026-11-25T06:30:00Z", BookingStatus::Active);
    booked.patient.name = "Anna \"Annie\" O'Neil; ^_^, MD: \u{1}".into();
    let file =
        calendar(&Appointment::of(&booked, SITE, "Clinic: \"Health\"", WORDS), at("2026-11-24T07:00:00Z"));
    let (_, event) = read(&file);
    assert_eq!(param(&event, "ATTENDEE", "CN"), Some("Anna ^'Annie^' O'Neil; ^^_^^, MD:"));
    assert_eq!(param(&event, "ORGANIZER", "CN"), Some("Clinic: ^'Health^'"));
    assert_eq!(param(&event, "ATTENDEE", "RSVP"), Some("FALSE"));
    assert_eq!(value(&event, "ATTENDEE"), "tel:+79123456789");
}

#[test]
fn empty_location_and_description_are_left_out_and_an_empty_name_has_no_cn() {
    let booked = booking("2026-11-25T06:00:00Z", "2026-11-25T06:30:00Z", BookingStatus::Active);
    let words = Words { summary: "Visit", location: "", description: "  " };
    let file = calendar(&Appointment::of(&booked, SITE, "", words), at("2026-11-24T07:00:00Z"));
    let (_, event) = read(&file);
    assert!(event.iter().all(|p| !matches!(p.name.as_str(), "LOCATION" | "DESCRIPTION")));
    assert_eq!(param(&event, "ORGANIZER", "CN"), None);
    assert!(file.contains("\r\nORGANIZER:https://clinic.example/\r\n"), "{file}");
}

#[test]
fn the_uid_is_the_code_at_the_pages_host_and_tells_clinics_apart() {
    assert_eq!(uid("K7M2-QX4P", "https://Clinic.Example"), "K7M2-QX4P@clinic.example");
    assert_eq!(uid("K7M2-QX4P", "http://127.0.0.1:8080"), "K7M2-QX4P@127.0.0.1:8080");
    assert_ne!(uid("K7M2-QX4P", "https://one.example"), uid("K7M2-QX4P", "https://two.example"));
    let booked = booking("2026-11-25T06:00:00Z", "2026-11-25T06:30:00Z", BookingStatus::Active);
    let file = calendar(&Appointment::of(&booked, "http://127.0.0.1:8080", "C", WORDS), Utc::now());
    let (typed, _) = read(&file);
    assert_eq!(typed.events().next().unwrap().get_uid(), Some("K7M2-QX4P@127.0.0.1:8080"));
}

#[test]
fn a_phone_becomes_a_global_tel_uri_or_a_local_one_in_the_clinics_context() {
    assert_eq!(phone_address("+7 (912) 345-67-89", SITE), "tel:+79123456789");
    assert_eq!(phone_address(" +44 20 7946 0958", SITE), "tel:+442079460958");
    assert_eq!(phone_address("8 912 345.67.89", SITE), "tel:89123456789;phone-context=clinic.example");
    assert_eq!(
        phone_address("12345", "http://Clinic.Example:8080"),
        "tel:12345;phone-context=clinic.example"
    );
}
