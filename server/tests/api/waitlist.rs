//! The live waitlist through real sockets: joining, offers made the moment a
//! slot turns free, in turn and exclusively, taken, turned down or run out,
//! and kept across restarts and instances. What the tests share is here: the
//! patients, their windows, the pages watching an entry, and reading what a
//! connection was sent.

mod durable;
mod entries;
mod flow;
mod freeing;
mod instances;
mod join;
mod lapses;
mod windows;

use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use client::{BookingReply, Client};
use protocol::{
    BookingFailure, ClientMessage, DoctorId, Patient, ServerMessage, Slot, SlotId, Version, WaitStatus,
    WaitToken, WaitWindow, WaitlistEntry,
};

use crate::common::{ADMIN, TestApp, recv};

/// The doctor most tests wait for.
fn therapist() -> DoctorId {
    DoctorId("therapist".into())
}

/// A slot by its id, such as `therapist-20261125-0900` (local time in Moscow).
fn slot(id: &str) -> SlotId {
    SlotId(id.into())
}

/// The first patient waiting.
fn anna() -> Patient {
    Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() }
}

/// The second patient waiting.
fn boris() -> Patient {
    Patient { name: "Boris Orlov".into(), phone: "+7 912 222-33-44".into() }
}

/// A third patient waiting.
fn dora() -> Patient {
    Patient { name: "Dora Lindqvist".into(), phone: "+7 912 777-88-99".into() }
}

/// The patient whose booking turns free.
fn carl() -> Patient {
    Patient { name: "Carl Mendes".into(), phone: "+7 912 555-66-77".into() }
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// Whole days, `from` to `to` included.
fn days(from: &str, to: &str) -> WaitWindow {
    WaitWindow { from_day: day(from), to_day: day(to), from_time: None, to_time: None }
}

/// Days, and slots starting at or after `from_time` and before `to_time`
/// (`HH:MM`, local).
fn hours(from: &str, to: &str, from_time: &str, to_time: &str) -> WaitWindow {
    let time = |t: &str| Some(NaiveTime::parse_from_str(t, "%H:%M").unwrap());
    WaitWindow { from_time: time(from_time), to_time: time(to_time), ..days(from, to) }
}

/// Joins the therapist's waitlist; the link's secret.
async fn join(client: &mut Client, window: WaitWindow, who: Patient) -> WaitToken {
    match client.join_waitlist(therapist(), window, who).await.unwrap() {
        Ok(token) => token,
        Err(reason) => panic!("expected to join, refused with {reason:?}"),
    }
}

/// A patient's page: connected, joined, and watching its entry.
struct Page {
    client: Client,
    token: WaitToken,
}

impl Page {
    /// Joins the therapist's waitlist for `window` from a new connection and
    /// watches the entry; the page, and the entry as it was shown.
    async fn open(app: &TestApp, window: WaitWindow, who: Patient) -> (Self, WaitlistEntry) {
        let (mut client, _) = app.connect_with_state().await;
        let token = join(&mut client, window, who).await;
        let mut page = Self { client, token };
        let entry = page.watch().await;
        (page, entry)
    }

    /// Shows the entry (and watches it from now on).
    async fn watch(&mut self) -> WaitlistEntry {
        self.client.watch_waitlist(&self.token).await.unwrap().expect("the entry behind the link")
    }

    /// The next entry the server pushes to this page.
    async fn pushed(&mut self) -> WaitlistEntry {
        tokio::time::timeout(Duration::from_secs(5), self.client.next_waitlist())
            .await
            .expect("an entry pushed within 5 s")
            .unwrap()
    }

    /// The next pushed entry, which must be an offer of `slot`: when it ends.
    async fn offered(&mut self, slot: &SlotId) -> DateTime<Utc> {
        let entry = self.pushed().await;
        offer_of(&entry, slot)
    }

    /// Turns the live offer down; the pushed entry says it waits again.
    async fn decline(&mut self) {
        let token = self.token.clone();
        assert_eq!(self.client.decline_offer(&token).await.unwrap(), Ok(()));
        let entry = self.pushed().await;
        assert_eq!((entry.status, entry.offer), (WaitStatus::Waiting, None), "waiting again");
    }

    /// Takes the live offer: the booking code and manage link's secret.
    async fn accept(&mut self) -> (String, String) {
        let token = self.token.clone();
        match self.client.accept_offer(&token).await.unwrap() {
            BookingReply::Booked { code, manage_token: Some(manage) } => (code, manage),
            other => panic!("expected the offer to be taken, got {other:?}"),
        }
    }

    /// Reads what this page was sent up to the change `version`: none of it
    /// may be an entry pushed to it.
    async fn told_nothing_until(&mut self, version: Version) {
        let seen = messages_until(&mut self.client, version).await;
        let pushed: Vec<_> = seen.iter().filter(|m| matches!(m, ServerMessage::Waitlist { .. })).collect();
        assert!(pushed.is_empty(), "nothing about this entry changed, yet it was sent {pushed:?}");
    }
}

/// The live offer of `slot` an entry shows, checked whole: when it ends.
fn offer_of(entry: &WaitlistEntry, slot: &SlotId) -> DateTime<Utc> {
    assert_eq!(entry.status, WaitStatus::Offered, "{entry:?}");
    let offer = entry.offer.as_ref().expect("an offered entry shows its offer");
    assert_eq!(offer.slot.id, *slot, "the slot offered");
    assert_eq!(offer.slot.status, protocol::SlotStatus::Held, "an offered slot is held");
    assert_eq!(offer.slot.held_until, Some(offer.expires_at), "held until the offer ends");
    offer.expires_at
}

/// Books `slot` for `who`: the code and the manage link's secret.
async fn book(client: &mut Client, slot: &SlotId, who: Patient) -> (String, String) {
    match client.book(slot.clone(), who).await.unwrap() {
        BookingReply::Booked { code, manage_token: Some(token) } => (code, token),
        other => panic!("expected to book {slot}, got {other:?}"),
    }
}

/// Sends a request carrying a fresh request id and waits for its answer.
async fn call(client: &mut Client, make: impl FnOnce(String) -> ClientMessage) -> ServerMessage {
    let request_id = client.request_id();
    client.call(make(request_id)).await.unwrap()
}

/// Cancels the booking behind a manage link.
async fn cancel(client: &mut Client, manage_token: &str) {
    let manage_token = manage_token.to_owned();
    let reply = call(client, |request_id| ClientMessage::Cancel { request_id, manage_token }).await;
    assert!(matches!(reply, ServerMessage::ActionResult { ok: true, .. }), "{reply:?}");
}

/// Holds `slot` from `client`: when the hold ends, or why not.
async fn hold(client: &mut Client, slot: &SlotId) -> Result<DateTime<Utc>, BookingFailure> {
    let slot_id = slot.clone();
    match call(client, |request_id| ClientMessage::Hold { request_id, slot_id }).await {
        ServerMessage::HoldResult { ok: true, expires_at: Some(until), .. } => Ok(until),
        ServerMessage::HoldResult { ok: false, reason: Some(reason), .. } => Err(reason),
        other => panic!("expected a holdResult, got {other:?}"),
    }
}

/// Whether `who` may neither hold nor book `slot` because it is held.
async fn kept_out(client: &mut Client, slot: &SlotId, who: Patient) {
    assert_eq!(hold(client, slot).await, Err(BookingFailure::Held), "no hold of an offered slot");
    let booked = client.book(slot.clone(), who).await.unwrap();
    assert_eq!(booked, BookingReply::Refused(BookingFailure::Held), "no booking of an offered slot");
}

/// The next `update` of `slot`, skipping others: its version and the slot.
async fn update_of(client: &mut Client, slot: &SlotId) -> (Version, Slot) {
    loop {
        if let ServerMessage::Update { version, slot: seen } = recv(client).await
            && seen.id == *slot
        {
            return (version, seen);
        }
    }
}

/// Everything `client` is sent up to and including the `update` of the
/// change `version`, and what belongs to that change: broadcasts reach each
/// connection in version order, so whatever came of an earlier change came
/// before it.
async fn messages_until(client: &mut Client, version: Version) -> Vec<ServerMessage> {
    let mut seen = Vec::new();
    loop {
        let message = recv(client).await;
        let done = matches!(&message, ServerMessage::Update { version: v, .. } if *v >= version);
        seen.push(message);
        if done {
            return seen;
        }
    }
}

/// A change that concerns no waitlist: a surgeon's slot (nobody waits for the
/// surgeon) held and let go by a connection of its own; the version of the
/// last of them. What a connection was sent up to it is everything that came
/// of earlier changes.
async fn landmark(app: &TestApp) -> Version {
    let (mut marker, _) = app.connect_with_state().await;
    let surgeon = slot("surgeon-20261130-0800");
    hold(&mut marker, &surgeon).await.expect("the surgeon's slot is free");
    update_of(&mut marker, &surgeon).await;
    marker.send(&ClientMessage::Release { slot_id: surgeon.clone() }).await.unwrap();
    update_of(&mut marker, &surgeon).await.0
}

/// A connection logged in as staff.
async fn staff(app: &TestApp) -> Client {
    let (mut staff, _) = app.connect_with_state().await;
    staff.staff_login(ADMIN.0, ADMIN.1).await.expect("the admin logs in");
    loop {
        match recv(&mut staff).await {
            ServerMessage::StaffState { .. } => return staff,
            ServerMessage::Error { message, .. } => panic!("staff login: {message}"),
            _ => {}
        }
    }
}
