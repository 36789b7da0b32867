//! The calendar files the manage page makes, caught in the page and read back
//! by a real iCalendar parser (the `icalendar` crate): the booking, the booking
//! after a move, and its cancellation, which must all be one calendar entry.

use std::str::FromStr;

use anyhow::{Context, Result, bail, ensure};
use e2e::{App, Driver, Session, eventually, require_browser, slot_css};
use icalendar::{Calendar, CalendarDateTime, Component, DatePerhapsTime, EventStatus};

use crate::DESKTOP;

/// Catches the files the page offers: the page makes a blob, points a new
/// link at it, clicks the link and revokes the blob at once, so the script
/// keeps each blob the page creates and, when a link to one is clicked, reads
/// it instead of saving it to disk. A navigation clears it, so it is
/// installed again after each.
const CATCH_DOWNLOADS: &str = "
    window.calendarFiles = [];
    const blobs = new Map();
    const create = URL.createObjectURL;
    URL.createObjectURL = function (blob) {
        const url = create.call(URL, blob);
        blobs.set(url, blob);
        return url;
    };
    const click = HTMLAnchorElement.prototype.click;
    HTMLAnchorElement.prototype.click = function () {
        const blob = blobs.get(this.href);
        if (!blob) {
            return click.call(this);
        }
        const name = this.download;
        blob.text().then(text => window.calendarFiles.push({ name, type: blob.type, text }));
    };";

/// One file the page offered.
#[derive(Debug)]
struct Offered {
    /// The name it would be saved under.
    name: String,
    /// Its media type.
    media_type: String,
    /// Its text.
    text: String,
}

/// Clicks the button `css` and returns the file the page offers for it.
async fn download(session: &Session, css: &str) -> Result<Offered> {
    let count = || async {
        let found = session.browser.execute("return (window.calendarFiles || []).length;", vec![]).await?;
        found.as_u64().context("a count")
    };
    let before = count().await?;
    session.click(css).await?;
    eventually(&format!("{css} offers a file"), || async { Ok(count().await? > before) }).await?;
    let file = session.browser.execute(&format!("return window.calendarFiles[{before}];"), vec![]).await?;
    let field =
        |key: &str| file[key].as_str().map(str::to_owned).with_context(|| format!("the file's {key}"));
    Ok(Offered { name: field("name")?, media_type: field("type")?, text: field("text")? })
}

/// What the parser read in one file.
#[derive(Debug)]
struct Entry {
    method: String,
    uid: String,
    sequence: u32,
    status: EventStatus,
    /// `DTSTART` as written, a UTC instant.
    start: String,
}

/// Reads one calendar file with the parser, after checking its lines: each
/// ends in CRLF and holds at most 75 octets.
fn read(file: &Offered) -> Result<Entry> {
    let text = &file.text;
    ensure!(file.media_type.starts_with("text/calendar"), "the file is {}", file.media_type);
    ensure!(file.name.ends_with(".ics"), "the file is named {}", file.name);
    ensure!(text.ends_with("\r\n"), "the file does not end with CRLF");
    for line in text[..text.len() - 2].split("\r\n") {
        ensure!(line.len() <= 75 && !line.contains(['\r', '\n']), "a bad line: {line:?}");
    }
    let calendar = Calendar::from_str(text).map_err(anyhow::Error::msg).context("parsing the file")?;
    let events: Vec<_> = calendar.events().collect();
    ensure!(events.len() == 1, "{} events in\n{text}", events.len());
    let event = events[0];
    if !matches!(event.get_start(), Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(_)))) {
        bail!("the start is not a UTC instant in\n{text}");
    }
    ensure!(event.get_summary().is_some_and(|s| !s.is_empty()), "no summary in\n{text}");
    ensure!(event.property_value("ORGANIZER").is_some(), "no organizer in\n{text}");
    ensure!(!event.get_attendees().is_empty(), "no attendee in\n{text}");
    Ok(Entry {
        method: calendar.property_value("METHOD").context("METHOD")?.to_owned(),
        uid: event.get_uid().context("UID")?.to_owned(),
        sequence: event.get_sequence().context("SEQUENCE")?,
        status: event.get_status().context("STATUS")?,
        start: event.property_value("DTSTART").context("DTSTART")?.to_owned(),
    })
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn the_calendar_files_of_a_booking_follow_it_through_a_move_to_its_cancellation() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let patient = driver.session(DESKTOP.0, DESKTOP.1).await?;
    patient.open(&app).await?;
    let (_, slot) = patient.first_free_slot().await?;
    patient.fill_booking(&slot, "Анна Петрова", "+7 912 345-67-89").await?;
    patient.confirm().await?;
    let code = patient.wait_booked().await?;
    let link = patient.wait_for("#manage-link").await?.attr("href").await?.context("href")?;
    patient.browser.goto(&link).await?;
    patient.wait_live().await?;
    patient.browser.execute(CATCH_DOWNLOADS, vec![]).await?;
    patient.wait_for(&format!(".appointment[data-slot-id='{slot}']")).await?;
    let booked = download(&patient, "#download-ics").await?;

    patient.click("#start-reschedule").await?;
    let (_, target) = patient.first_free_slot().await?;
    patient.click(&slot_css(&target)).await?;
    patient.click("#confirm-move").await?;
    patient.wait_for(&format!(".appointment[data-slot-id='{target}']")).await?;
    let moved = download(&patient, "#download-ics").await?;

    patient.click("#start-cancel").await?;
    patient.click("#confirm-cancel").await?;
    let cancelled = download(&patient, "#download-cancel-ics").await?;

    // The page raised the revision itself on the cancel; the server's, read
    // again after a reload, must be the same.
    patient.browser.refresh().await?;
    patient.wait_live().await?;
    patient.browser.execute(CATCH_DOWNLOADS, vec![]).await?;
    let reloaded = download(&patient, "#download-cancel-ics").await?;

    let files = [&booked, &moved, &cancelled, &reloaded];
    let entries = files.iter().map(|f| read(f)).collect::<Result<Vec<_>>>()?;
    let uid = format!("{code}@{}", app.addr);
    for (file, entry) in files.iter().zip(&entries) {
        ensure!(entry.uid == uid, "UID {} instead of {uid} in {}", entry.uid, file.name);
    }
    let kinds: Vec<_> = entries.iter().map(|e| (e.method.as_str(), e.sequence, e.status)).collect();
    ensure!(
        kinds
            == [
                ("REQUEST", 0, EventStatus::Confirmed),
                ("REQUEST", 1, EventStatus::Confirmed),
                ("CANCEL", 2, EventStatus::Cancelled),
                ("CANCEL", 2, EventStatus::Cancelled),
            ],
        "methods, sequences and statuses: {kinds:?}"
    );
    ensure!(entries[1].start != entries[0].start, "the moved file keeps the old time");
    ensure!(entries[2].start == entries[1].start, "the cancellation is of another time");
    ensure!(booked.name != cancelled.name, "the cancellation is saved under the booking's name");
    eprintln!("calendar files: {}", files.map(|f| f.name.as_str()).join(", "));
    patient.close().await?;
    Ok(())
}
