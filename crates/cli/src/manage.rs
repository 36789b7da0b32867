//! The patient's commands: booking a slot, and showing, cancelling or moving a
//! booking through its manage link.

use client::{BookingReply, Client};
use protocol::{
    BookingDetails, BookingStatus, ClientMessage, Patient, PatientProblem, Schedule, ServerMessage, SlotId,
};
use serde_json::json;

use crate::address::{Server, manage_link};
use crate::connection::{open, slot};
use crate::failure::Failure;
use crate::output::{Output, doctor_of, when};

/// `booking book`: books `slot` for the patient and prints the code and the
/// manage link.
pub(crate) async fn book(out: &Output, url: &str, slot_id: &str, patient: Patient) -> Result<(), Failure> {
    let server = Server::parse(url)?;
    // The server refuses exactly what this refuses; checking first spares the
    // proof of work of a booking that cannot succeed.
    let patient = patient.normalized().map_err(|problem| {
        let mut failure = Failure::refused(protocol::BookingFailure::InvalidPatient);
        if let Failure::Refused { message, .. } = &mut failure {
            *message = match problem {
                PatientProblem::Name => "Please give the patient's name (at most 100 characters).".into(),
                PatientProblem::Phone => {
                    "Please give a phone number: 5 to 15 digits, such as +7 912 345-67-89.".into()
                }
            };
        }
        failure
    })?;
    let (mut client, schedule) = open(&server).await?;
    let reply = client.book(SlotId(slot_id.to_owned()), patient).await?;
    let _ = client.close().await;
    let (code, token) = match reply {
        BookingReply::Booked { code, manage_token } => (code, manage_token),
        BookingReply::Refused(reason) => return Err(Failure::refused(reason)),
    };
    let link = token.as_deref().map(|token| server.manage_link(token));
    // The slot as the schedule had it before, now booked.
    let slot = slot(&schedule, slot_id).map(|slot| protocol::Slot {
        status: protocol::SlotStatus::Booked,
        held_until: None,
        ..slot.clone()
    });
    let slot = slot.as_ref();
    if out.json {
        out.json_line(&json!({
            "ok": true,
            "code": code,
            "slot": slot,
            "slotId": slot_id,
            "manageLink": link,
            "manageToken": token,
        }));
        return Ok(());
    }
    out.text(&format!("Booked. Booking code: {code}"));
    if let Some(slot) = slot {
        out.text(&format!("  {}, {}", when(&schedule, slot), doctor_of(&schedule, slot, &out.language)));
    }
    match link {
        Some(link) => out.text(&format!("  Manage it (see, move, cancel) at: {link}")),
        None => out.text("  The server gave no manage link for this retried booking."),
    }
    Ok(())
}

/// `booking show`: the booking behind a manage link.
pub(crate) async fn show(out: &Output, link: &str) -> Result<(), Failure> {
    let (server, token) = manage_link(link)?;
    let (mut client, schedule) = open(&server).await?;
    let booking = lookup(&mut client, &token).await?;
    let _ = client.close().await;
    print_booking(out, &schedule, &booking, "");
    Ok(())
}

/// `booking cancel`: cancels the booking behind a manage link.
pub(crate) async fn cancel(out: &Output, link: &str) -> Result<(), Failure> {
    let (server, token) = manage_link(link)?;
    let (mut client, schedule) = open(&server).await?;
    let request_id = client.request_id();
    match client.call(ClientMessage::Cancel { request_id, manage_token: token.clone() }).await? {
        ServerMessage::ActionResult { ok: true, .. } => {}
        ServerMessage::ActionResult { ok: false, reason: Some(reason), .. } => {
            return Err(Failure::refused(reason));
        }
        other => return Err(Failure::unexpected("cancel", &other)),
    }
    let booking = lookup(&mut client, &token).await?;
    let _ = client.close().await;
    print_booking(out, &schedule, &booking, "Cancelled. ");
    Ok(())
}

/// `booking move`: moves the booking behind a manage link to `slot_id`.
pub(crate) async fn reschedule(out: &Output, link: &str, slot_id: &str) -> Result<(), Failure> {
    let (server, token) = manage_link(link)?;
    let (mut client, schedule) = open(&server).await?;
    let request_id = client.request_id();
    let message =
        ClientMessage::Reschedule { request_id, manage_token: token, slot_id: SlotId(slot_id.to_owned()) };
    let booking = match client.call(message).await? {
        ServerMessage::Booking { booking, .. } => booking,
        ServerMessage::ActionResult { ok: false, reason: Some(reason), .. } => {
            return Err(Failure::refused(reason));
        }
        other => return Err(Failure::unexpected("reschedule", &other)),
    };
    let _ = client.close().await;
    print_booking(out, &schedule, &booking, "Moved. ");
    Ok(())
}

/// The booking behind `token`.
async fn lookup(client: &mut Client, token: &str) -> Result<BookingDetails, Failure> {
    let request_id = client.request_id();
    match client.call(ClientMessage::Lookup { request_id, manage_token: token.to_owned() }).await? {
        ServerMessage::Booking { booking, .. } => Ok(booking),
        ServerMessage::ActionResult { ok: false, reason: Some(reason), .. } => Err(Failure::refused(reason)),
        other => Err(Failure::unexpected("lookup", &other)),
    }
}

/// Prints a booking: as `{"ok":true,"booking":…}`, or for people after
/// `headline`.
fn print_booking(out: &Output, schedule: &Schedule, booking: &BookingDetails, headline: &str) {
    if out.json {
        out.json_line(&json!({ "ok": true, "booking": booking }));
        return;
    }
    let status = match booking.status {
        BookingStatus::Active => "active",
        BookingStatus::Cancelled => "cancelled",
    };
    out.text(&format!("{headline}Booking {} ({status})", booking.code));
    out.text(&format!("  When:    {}", when(schedule, &booking.slot)));
    out.text(&format!("  Doctor:  {}", doctor_of(schedule, &booking.slot, &out.language)));
    out.text(&format!("  Patient: {}, {}", booking.patient.name, booking.patient.phone));
    out.text(&format!("  Slot:    {}", booking.slot.id));
}
