//! One morning at the clinic, through real sockets, on one server or spread
//! over two that share a database: every kind of change of the schedule and
//! the waitlist, made by patients, manage and waitlist links, two members of
//! staff and the server itself. It returns the audit rows that must be there.

use chrono::Duration;
use client::{BookingReply, Client};
use protocol::{
    Actor, AuditAction as A, ClientMessage, DoctorId, Patient, ServerMessage, SlotId, SlotStatus, WaitWindow,
};

use super::{Row, call, ok};
use crate::common::{RITA, TestApp, log_in, log_in_admin, recv};

/// A therapist's slot on the day after the tests' today, by its local time.
pub(super) fn slot(time: &str) -> SlotId {
    SlotId(format!("therapist-20261125-{time}"))
}

/// The patients, one per page.
pub(super) fn patients() -> [Patient; 4] {
    [
        Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() },
        Patient { name: "Boris Orlov".into(), phone: "+7 912 222-33-44".into() },
        Patient { name: "Carl Mendes".into(), phone: "+7 912 555-66-77".into() },
        Patient { name: "Dora Lindqvist".into(), phone: "+7 912 777-88-99".into() },
    ]
}

/// What the scenario leaves behind: the rows it must have written, oldest
/// first, and what the filters of the tests need.
pub(super) struct Trail {
    /// Every row, oldest first.
    pub(super) rows: Vec<Row>,
    /// The admin's console, on the first server, for reading the history.
    pub(super) admin: Client,
    /// The instant the waitlist part began.
    pub(super) waitlist_since: chrono::DateTime<chrono::Utc>,
    /// The code of the booking that was rescheduled and cancelled.
    pub(super) moved_code: String,
    /// The secrets handed out, which no row may show.
    pub(super) secrets: Vec<String>,
}

/// Holds `slot` from `client`.
async fn hold(client: &mut Client, slot: &SlotId) {
    let slot_id = slot.clone();
    let reply = call(client, |request_id| ClientMessage::Hold { request_id, slot_id }).await;
    assert!(matches!(reply, ServerMessage::HoldResult { ok: true, .. }), "{reply:?}");
}

/// Books `slot` for `who`: the code and the manage link's secret.
async fn book(client: &mut Client, slot: &SlotId, who: &Patient) -> (String, String) {
    match client.book(slot.clone(), who.clone()).await.unwrap() {
        BookingReply::Booked { code, manage_token: Some(token) } => (code, token),
        other => panic!("expected to book {slot}, got {other:?}"),
    }
}

/// Cancels the booking behind a manage link.
async fn cancel(client: &mut Client, manage_token: &str) {
    let manage_token = manage_token.to_owned();
    ok(client, |request_id| ClientMessage::Cancel { request_id, manage_token }).await;
}

/// Waits until `client` is told that `slot` is `status` now.
async fn until_status(client: &mut Client, slot: &SlotId, status: SlotStatus) {
    loop {
        if let ServerMessage::Update { slot: seen, .. } = recv(client).await
            && seen.id == *slot
            && seen.status == status
        {
            return;
        }
    }
}

/// Joins the therapist's waitlist for the slots' day: the link's secret.
async fn join(client: &mut Client, who: &Patient) -> String {
    let day = "2026-11-25".parse().unwrap();
    let window = WaitWindow { from_day: day, to_day: day, from_time: None, to_time: None };
    client.join_waitlist(DoctorId("therapist".into()), window, who.clone()).await.unwrap().expect("joined")
}

/// The id staff see for the waiting entry of `who`.
async fn entry_of(console: &mut Client, who: &Patient) -> u64 {
    let waiting = console.staff_waitlist().await.unwrap();
    waiting.iter().find(|w| w.patient.name == who.name).expect("the entry is waiting").id
}

/// Runs the scenario: patients' pages and the admin on `first`, the other
/// pages, the manage links and the receptionist Rita on `second` (which may
/// be `first` itself).
pub(super) async fn run(first: &TestApp, second: &TestApp) -> Trail {
    let [anna, boris, carl, dora] = patients();
    let patient = || Actor::Patient;
    let rita = || Actor::Staff { name: RITA.0.into() };
    let mut rows = Vec::new();
    let mut secrets = Vec::new();
    let (mut admin, _) = first.connect_with_state().await;
    log_in_admin(&mut admin).await;
    let (mut desk, _) = second.connect_with_state().await;
    log_in(&mut desk, RITA).await;

    // A patient holds a slot, extends the hold and books it.
    let (mut page, _) = first.connect_with_state().await;
    hold(&mut page, &slot("0900")).await;
    let slot_id = slot("0900");
    let extended = call(&mut page, |request_id| ClientMessage::ExtendHold { request_id, slot_id }).await;
    assert!(matches!(extended, ServerMessage::HoldResult { ok: true, .. }), "{extended:?}");
    let (moved_code, moved_manage) = book(&mut page, &slot("0900"), &anna).await;
    secrets.push(moved_manage.clone());
    rows.push(Row::new(patient(), A::Held).slot("0900"));
    rows.push(Row::new(patient(), A::HoldExtended).slot("0900"));
    rows.push(Row::new(patient(), A::Booked).slot("0900").code(&moved_code));

    // Another page holds a slot and closes: its hold is let go of.
    let (mut closing, _) = second.connect_with_state().await;
    hold(&mut closing, &slot("0930")).await;
    closing.close().await.unwrap();
    until_status(&mut desk, &slot("0930"), SlotStatus::Free).await;
    rows.push(Row::new(patient(), A::Held).slot("0930"));
    rows.push(Row::new(patient(), A::Released).slot("0930"));

    // A hold runs out.
    let (mut idle, _) = first.connect_with_state().await;
    hold(&mut idle, &slot("1000")).await;
    first.advance(Duration::seconds(121));
    first.state().engine().tick().await.unwrap();
    rows.push(Row::new(patient(), A::Held).slot("1000"));
    rows.push(Row::new(Actor::System, A::Expired).slot("1000"));

    // Staff cancel a booking.
    let (cancelled_code, cancelled_manage) = book(&mut page, &slot("1030"), &boris).await;
    secrets.push(cancelled_manage);
    until_status(&mut desk, &slot("1030"), SlotStatus::Booked).await;
    ok(&mut desk, |request_id| ClientMessage::StaffCancel { request_id, slot_id: slot("1030") }).await;
    rows.push(Row::new(patient(), A::Booked).slot("1030").code(&cancelled_code));
    rows.push(Row::new(rita(), A::Cancelled).slot("1030").code(&cancelled_code));

    // The first booking's manage link moves it, then cancels it.
    let (mut link, _) = second.connect_with_state().await;
    let manage_token = moved_manage.clone();
    let moved = call(&mut link, |request_id| ClientMessage::Reschedule {
        request_id,
        manage_token,
        slot_id: slot("1100"),
    })
    .await;
    assert!(matches!(moved, ServerMessage::Booking { .. }), "{moved:?}");
    cancel(&mut link, &moved_manage).await;
    rows.push(Row::new(Actor::ManageLink, A::Rescheduled).slot("1100").other("0900").code(&moved_code));
    rows.push(Row::new(Actor::ManageLink, A::Cancelled).slot("1100").code(&moved_code));

    // Staff block and unblock a slot, and end somebody's hold.
    ok(&mut desk, |request_id| ClientMessage::Block { request_id, slot_id: slot("1130") }).await;
    ok(&mut desk, |request_id| ClientMessage::Unblock { request_id, slot_id: slot("1130") }).await;
    let (mut holding, _) = first.connect_with_state().await;
    hold(&mut holding, &slot("1200")).await;
    until_status(&mut desk, &slot("1200"), SlotStatus::Held).await;
    ok(&mut desk, |request_id| ClientMessage::EndHold { request_id, slot_id: slot("1200") }).await;
    rows.push(Row::new(rita(), A::Blocked).slot("1130"));
    rows.push(Row::new(rita(), A::Unblocked).slot("1130"));
    rows.push(Row::new(patient(), A::Held).slot("1200"));
    rows.push(Row::new(rita(), A::HoldEnded).slot("1200"));

    // The waitlist: a patient joins, is offered a freed slot and turns it
    // down, is offered another and takes it.
    first.advance(Duration::seconds(60));
    let waitlist_since = *first.now.lock().unwrap();
    let (mut waiting, _) = first.connect_with_state().await;
    let token = join(&mut waiting, &carl).await;
    secrets.push(token.clone());
    let carl_entry = entry_of(&mut desk, &carl).await;
    let (declined_code, declined_manage) = book(&mut page, &slot("1230"), &anna).await;
    cancel(&mut link, &declined_manage).await;
    assert_eq!(waiting.decline_offer(&token).await.unwrap(), Ok(()));
    rows.push(Row::new(patient(), A::Joined).entry(carl_entry));
    rows.push(Row::new(patient(), A::Booked).slot("1230").code(&declined_code));
    rows.push(Row::new(Actor::ManageLink, A::Cancelled).slot("1230").code(&declined_code));
    rows.push(Row::new(Actor::System, A::Offered).slot("1230").entry(carl_entry));
    rows.push(Row::new(Actor::WaitlistLink, A::Declined).slot("1230").entry(carl_entry));
    let (freed_code, freed_manage) = book(&mut page, &slot("1400"), &anna).await;
    cancel(&mut link, &freed_manage).await;
    let BookingReply::Booked { code: taken_code, manage_token: Some(taken_manage) } =
        waiting.accept_offer(&token).await.unwrap()
    else {
        panic!("the offer is taken")
    };
    secrets.extend([declined_manage, freed_manage, taken_manage]);
    rows.push(Row::new(patient(), A::Booked).slot("1400").code(&freed_code));
    rows.push(Row::new(Actor::ManageLink, A::Cancelled).slot("1400").code(&freed_code));
    rows.push(Row::new(Actor::System, A::Offered).slot("1400").entry(carl_entry));
    rows.push(Row::new(Actor::WaitlistLink, A::Booked).slot("1400").code(&taken_code).entry(carl_entry));

    // One patient widens her days, then leaves the waitlist; staff take
    // another off it.
    let leaving = join(&mut waiting, &dora).await;
    secrets.push(leaving.clone());
    let dora_entry = entry_of(&mut desk, &dora).await;
    let (from_day, to_day) = ("2026-11-25".parse().unwrap(), "2026-11-26".parse().unwrap());
    let wider = WaitWindow { from_day, to_day, from_time: None, to_time: None };
    assert!(waiting.change_waitlist(&leaving, wider).await.unwrap().is_ok(), "the window changes");
    assert_eq!(waiting.leave_waitlist(&leaving).await.unwrap(), Ok(()));
    let (mut other, _) = second.connect_with_state().await;
    let removed = join(&mut other, &boris).await;
    secrets.push(removed);
    let boris_entry = entry_of(&mut desk, &boris).await;
    assert_eq!(desk.staff_remove_waiting(boris_entry).await.unwrap(), Ok(()));
    rows.push(Row::new(patient(), A::Joined).entry(dora_entry));
    rows.push(Row::new(Actor::WaitlistLink, A::WindowChanged).entry(dora_entry));
    rows.push(Row::new(Actor::WaitlistLink, A::Left).entry(dora_entry));
    rows.push(Row::new(patient(), A::Joined).entry(boris_entry));
    rows.push(Row::new(rita(), A::Removed).entry(boris_entry));

    // The admin resets the schedule: the booking taken from the offer goes.
    admin.reset().await.unwrap();
    while !matches!(recv(&mut admin).await, ServerMessage::InitialState(_)) {}
    let admin_actor = Actor::Staff { name: crate::common::ADMIN.0.into() };
    // The booking's own history says who cancelled it.
    rows.push(Row::new(admin_actor.clone(), A::Cancelled).slot("1400").code(&taken_code).detail("reset"));
    rows.push(Row::new(admin_actor, A::Reset).detail("bookings cancelled: 1; waitlist entries removed: 0"));

    Trail { rows, admin, waitlist_since, moved_code, secrets }
}
