//! `booking staff`: a staff login, then one request of the staff console: the
//! day's bookings with patients, cancelling, blocking, unblocking, ending a
//! hold, or a slot's or a booking's audit trail.

use std::io::{BufRead, IsTerminal};

use chrono::{NaiveDate, Utc};
use client::Client;
use protocol::{AuditEntry, ClientMessage, HistoryQuery, Schedule, ServerMessage, SlotId, StaffBooking};
use serde_json::json;

use crate::address::Server;
use crate::cli::{StaffArgs, StaffCommand};
use crate::connection::slot;
use crate::failure::{Failure, camel_case};
use crate::output::{Output, Style, day_name, doctor_of, local_day, local_time, pad, zone};

/// The environment variable a staff password may come from.
const PASSWORD_VARIABLE: &str = "BOOKING_STAFF_PASSWORD";

/// Runs one staff command.
pub(crate) async fn run(out: &Output, args: StaffArgs) -> Result<(), Failure> {
    let password = password(args.password_stdin)?;
    let server = Server::parse(&args.url)?;
    let mut console = Console::open(&server, &args.name, &password).await?;
    let done = match args.command {
        StaffCommand::Today => agenda(out, &console, None),
        StaffCommand::Agenda { day } => agenda(out, &console, day),
        StaffCommand::Cancel { slot } => {
            act(out, &mut console, "cancel", slot, |request_id, slot_id| ClientMessage::StaffCancel {
                request_id,
                slot_id,
            })
            .await
        }
        StaffCommand::Block { slot } => {
            act(out, &mut console, "block", slot, |request_id, slot_id| ClientMessage::Block {
                request_id,
                slot_id,
            })
            .await
        }
        StaffCommand::Unblock { slot } => {
            act(out, &mut console, "unblock", slot, |request_id, slot_id| ClientMessage::Unblock {
                request_id,
                slot_id,
            })
            .await
        }
        StaffCommand::EndHold { slot } => {
            act(out, &mut console, "endHold", slot, |request_id, slot_id| ClientMessage::EndHold {
                request_id,
                slot_id,
            })
            .await
        }
        StaffCommand::History(history) => {
            let query = HistoryQuery {
                slot_id: history.about.slot.map(SlotId),
                booking_code: history.about.code,
                limit: Some(history.limit),
                ..HistoryQuery::default()
            };
            show_history(out, &mut console, query).await
        }
    };
    // Each run logs in afresh, so its session is of no further use; ending it
    // keeps the sessions table to the consoles really open.
    let _ = console.client.staff_logout().await;
    done
}

/// The staff password: from stdin when asked, else from the environment,
/// else asked for at the terminal without showing it.
fn password(from_stdin: bool) -> Result<String, Failure> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::Usage(format!("Cannot read the password from stdin: {e}.")))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    if let Ok(password) = std::env::var(PASSWORD_VARIABLE) {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Staff password: ")
            .map_err(|e| Failure::Usage(format!("Cannot read the password: {e}.")));
    }
    Err(Failure::Usage(format!(
        "No password: set {PASSWORD_VARIABLE}, or pass --password-stdin and pipe it in."
    )))
}

/// A logged-in staff connection, with the schedule and the active bookings.
struct Console {
    client: Client,
    schedule: Schedule,
    bookings: Vec<StaffBooking>,
}

impl Console {
    async fn open(server: &Server, name: &str, password: &str) -> Result<Self, Failure> {
        let mut client =
            Client::connect(&server.ws).await.map_err(|e| Failure::connecting(&server.ws, &e))?;
        client.staff_login(name, password).await.map_err(|e| match Failure::from(e) {
            Failure::Forbidden(_) => Failure::Forbidden(format!("The server refused the login of `{name}`.")),
            other => other,
        })?;
        // Both came before the login's answer or follow it, and wait in order.
        let (mut schedule, mut bookings) = (None, None);
        loop {
            match client.recv().await? {
                ServerMessage::InitialState(s) => schedule = Some(s),
                ServerMessage::StaffState { bookings: b, .. } => bookings = Some(b),
                _ => continue,
            }
            if let (Some(schedule), Some(bookings)) = (&schedule, &bookings) {
                return Ok(Self { client, schedule: schedule.clone(), bookings: bookings.clone() });
            }
        }
    }
}

/// `today` and `agenda`: the day's bookings, by time, with their patients.
fn agenda(out: &Output, console: &Console, day: Option<NaiveDate>) -> Result<(), Failure> {
    let schedule = &console.schedule;
    let zone = zone(schedule);
    let day = day.unwrap_or_else(|| local_day(Utc::now(), zone));
    let mut rows: Vec<_> = console
        .bookings
        .iter()
        .filter_map(|booking| slot(schedule, &booking.slot_id.0).map(|slot| (slot, booking)))
        .filter(|(slot, _)| local_day(slot.start, zone) == day)
        .collect();
    rows.sort_by_key(|(slot, _)| (slot.start, slot.doctor_id.clone()));
    if out.json {
        let bookings: Vec<_> = rows
            .iter()
            .map(|(slot, booking)| {
                json!({
                    "slotId": slot.id,
                    "start": slot.start,
                    "end": slot.end,
                    "doctorId": slot.doctor_id,
                    "code": booking.code,
                    "patient": booking.patient,
                    "bookedAt": booking.booked_at,
                    "noShow": booking.no_show,
                })
            })
            .collect();
        out.json_line(&json!({ "ok": true, "day": day, "timeZone": zone.name(), "bookings": bookings }));
        return Ok(());
    }
    let count = match rows.len() {
        0 => "no bookings".to_owned(),
        1 => "1 booking".to_owned(),
        n => format!("{n} bookings"),
    };
    out.text(&out.paint.paint(Style::Bold, &format!("{} ({}): {count}", day_name(day), zone.name())));
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|(slot, booking)| {
            [
                local_time(slot.start, zone),
                doctor_of(schedule, slot, &out.language),
                booking.patient.name.clone(),
                booking.patient.phone.clone(),
                booking.code.clone(),
                slot.id.to_string(),
            ]
        })
        .collect();
    let widths: Vec<usize> =
        (0..6).map(|i| table.iter().map(|row| row[i].chars().count()).max().unwrap_or(0)).collect();
    for (row, (_, booking)) in table.iter().zip(&rows) {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, width)| pad(cell, *width)).collect();
        let mark = if booking.no_show { out.paint.paint(Style::Red, "  no-show") } else { String::new() };
        out.text(&format!("{}{mark}", cells.join("  ").trim_end()));
    }
    Ok(())
}

/// A staff action on one slot, answered by `actionResult`.
async fn act(
    out: &Output,
    console: &mut Console,
    action: &str,
    slot_id: String,
    message: impl FnOnce(String, SlotId) -> ClientMessage,
) -> Result<(), Failure> {
    let request_id = console.client.request_id();
    match console.client.call(message(request_id, SlotId(slot_id.clone()))).await? {
        ServerMessage::ActionResult { ok: true, .. } => {}
        ServerMessage::ActionResult { ok: false, reason: Some(reason), .. } => {
            return Err(Failure::refused(reason));
        }
        other => return Err(Failure::unexpected(action, &other)),
    }
    if out.json {
        out.json_line(&json!({ "ok": true, "action": action, "slotId": slot_id }));
        return Ok(());
    }
    let done = match action {
        "cancel" => "Cancelled the booking of",
        "block" => "Blocked",
        "unblock" => "Unblocked",
        _ => "Ended the hold of",
    };
    let about = match slot(&console.schedule, &slot_id) {
        Some(slot) => format!(
            "{slot_id}: {}, {}",
            crate::output::when(&console.schedule, slot),
            doctor_of(&console.schedule, slot, &out.language)
        ),
        None => slot_id,
    };
    out.text(&format!("{done} {about}."));
    Ok(())
}

/// `history`: the audit rows asked for, newest first.
async fn show_history(out: &Output, console: &mut Console, query: HistoryQuery) -> Result<(), Failure> {
    let request_id = console.client.request_id();
    let entries = match console.client.call(ClientMessage::StaffHistory { request_id, query }).await? {
        ServerMessage::StaffHistory { entries, .. } => entries,
        other => return Err(Failure::unexpected("staffHistory", &other)),
    };
    if out.json {
        out.json_line(&json!({ "ok": true, "entries": entries }));
        return Ok(());
    }
    if entries.is_empty() {
        out.text("No history.");
    }
    let zone = zone(&console.schedule);
    for entry in &entries {
        out.text(&history_line(entry, zone));
    }
    Ok(())
}

/// One audit row as a line: when (local time), who, what, about what, from where.
fn history_line(entry: &AuditEntry, zone: chrono_tz::Tz) -> String {
    let at = entry.at.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S");
    let actor = match &entry.actor {
        protocol::Actor::Staff { name } => format!("staff {name}"),
        other => serde_json::to_value(other)
            .ok()
            .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
            .unwrap_or_default(),
    };
    let mut line = format!("#{:<5} {at}  {:<14} {:<13}", entry.id, actor, camel_case(&entry.action));
    let parts = [
        entry.slot_id.as_ref().map(|s| s.to_string()),
        entry.other_slot_id.as_ref().map(|s| format!("from {s}")),
        entry.booking_code.clone(),
        entry.entry_id.map(|id| format!("waitlist entry {id}")),
        entry.address.as_ref().map(|a| format!("from address {a}")),
        entry.detail.clone(),
    ];
    for part in parts.into_iter().flatten() {
        line.push_str("  ");
        line.push_str(&part);
    }
    line.trim_end().to_owned()
}
