//! More time for a patient filling in the booking form (`extendHold`), over real
//! sockets: the holder extends its own hold a few times, everyone (and every
//! newcomer or returning client) sees the new end, the hold ends at that end and
//! not before, and nobody else can extend it.

use chrono::{DateTime, Duration, Utc};
use client::{BookingReply, Client};
use protocol::{BookingFailure, ClientMessage, ServerMessage, SlotId, SlotStatus};

use crate::common::*;

/// Holds `slot`; when the hold ends.
async fn hold(client: &mut Client, slot: &SlotId) -> DateTime<Utc> {
    let request_id = client.request_id();
    match client.call(ClientMessage::Hold { request_id, slot_id: slot.clone() }).await.unwrap() {
        ServerMessage::HoldResult { ok: true, expires_at: Some(until), .. } => until,
        other => panic!("expected the hold, got {other:?}"),
    }
}

/// Asks for more time on `slot`; the new end, or why not.
async fn extend(client: &mut Client, slot: &SlotId) -> Result<DateTime<Utc>, BookingFailure> {
    let request_id = client.request_id();
    match client.call(ClientMessage::ExtendHold { request_id, slot_id: slot.clone() }).await.unwrap() {
        ServerMessage::HoldResult { ok: true, expires_at: Some(until), reason: None, .. } => Ok(until),
        ServerMessage::HoldResult { ok: false, expires_at: None, reason: Some(reason), .. } => Err(reason),
        other => panic!("expected a holdResult, got {other:?}"),
    }
}

/// The next `update` of `slot`, skipping others.
async fn next_update_of(client: &mut Client, slot: &SlotId) -> (protocol::Version, protocol::Slot) {
    loop {
        if let ServerMessage::Update { version, slot: seen } = recv(client).await
            && seen.id == *slot
        {
            return (version, seen);
        }
    }
}

#[tokio::test]
async fn the_holder_gets_more_time_and_everyone_sees_the_new_end() {
    let app = spawn_app().await;
    let (mut holder, schedule) = app.connect_with_state().await;
    let (mut watcher, _) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;
    assert_eq!(free_future_slot(&schedule).held_until, None, "a free slot has no hold to end");

    let until = hold(&mut holder, &slot).await;
    let (held_at, held) = next_update_of(&mut watcher, &slot).await;
    assert_eq!((held.status, held.held_until), (SlotStatus::Held, Some(until)));

    let later = extend(&mut holder, &slot).await.expect("the holder gets more time");

    assert_eq!(later, until + Duration::seconds(120), "one more hold time");
    let (version, seen) = next_update_of(&mut watcher, &slot).await;
    assert_eq!(version, held_at + 1, "an extension is a change of its own");
    assert_eq!((seen.status, seen.held_until), (SlotStatus::Held, Some(later)));
    let (_, newcomer) = app.connect_with_state().await;
    let shown = newcomer.slots.iter().find(|s| s.id == slot).unwrap();
    assert_eq!(shown.held_until, Some(later), "the whole schedule shows it too");
    let mut returning = Client::connect_resuming(&app.ws_url(), held_at).await.unwrap();
    assert!(matches!(recv(&mut returning).await, ServerMessage::Resumed { .. }));
    let (_, missed) = next_update_of(&mut returning, &slot).await;
    assert_eq!(missed.held_until, Some(later), "and so does what a returning client missed");
}

#[tokio::test]
async fn a_hold_is_extended_only_so_often_and_a_refusal_changes_nothing() {
    let app = spawn_app().await;
    let (mut holder, schedule) = app.connect_with_state().await;
    let (mut watcher, _) = app.connect_with_state().await;
    let mut slots = free_future_slots(&schedule).map(|s| s.id.clone());
    let (slot, other) = (slots.next().unwrap(), slots.next().unwrap());
    let until = hold(&mut holder, &slot).await;

    let allowed = server::Limits::DEFAULT.hold_extensions;
    for n in 1..=allowed {
        assert_eq!(extend(&mut holder, &slot).await, Ok(until + Duration::seconds(120 * i64::from(n))));
    }
    assert_eq!(extend(&mut holder, &slot).await, Err(BookingFailure::TooManyExtensions));

    // Nothing was broadcast for the refusal: the next update is the next change.
    let mut other_client = app.connect_ws().await;
    hold(&mut other_client, &other).await;
    let mut seen = Vec::new();
    loop {
        let (_, update) = next_update_of_any(&mut watcher).await;
        seen.push(update.id.clone());
        if update.id == other {
            break;
        }
    }
    assert_eq!(seen.len(), 2 + allowed as usize, "the hold, its extensions, then the other hold: {seen:?}");
}

/// The next `update` of any slot.
async fn next_update_of_any(client: &mut Client) -> (protocol::Version, protocol::Slot) {
    loop {
        if let ServerMessage::Update { version, slot } = recv(client).await {
            return (version, slot);
        }
    }
}

/// The updates of `slot` up to the one that frees it.
async fn until_free(client: &mut Client, slot: &SlotId) -> Vec<protocol::Slot> {
    let mut seen = Vec::new();
    while seen.last().is_none_or(|s: &protocol::Slot| s.status != SlotStatus::Free) {
        seen.push(next_update_of(client, slot).await.1);
    }
    seen
}

#[tokio::test]
async fn an_extended_hold_ends_at_its_new_end_and_not_before() {
    let app = spawn_app().await;
    let (mut patient, schedule) = app.connect_with_state().await;
    let (mut unhurried, _) = app.connect_with_state().await;
    let (mut watcher, _) = app.connect_with_state().await;
    let mut slots = free_future_slots(&schedule).map(|s| s.id.clone());
    let (extended, plain) = (slots.next().unwrap(), slots.next().unwrap());
    hold(&mut patient, &extended).await;
    let later = extend(&mut patient, &extended).await.unwrap();
    hold(&mut unhurried, &plain).await;

    // Past the first end: the plain hold ends, and in the same round of expiry
    // the extended one would have, were it not extended.
    app.advance(Duration::seconds(121));
    let ended = until_free(&mut watcher, &plain).await;
    assert_eq!(ended.last().unwrap().held_until, None);
    let latest = extend(&mut patient, &extended).await;
    assert_eq!(latest, Ok(later + Duration::seconds(120)), "still held, so extended once more");

    // Past its latest end it ends like any other.
    app.advance(Duration::seconds(240));
    let seen: Vec<_> = until_free(&mut watcher, &extended).await.iter().map(|s| s.held_until).collect();
    assert_eq!(seen, [latest.ok(), None], "its last extension, then its end");
    assert_eq!(extend(&mut patient, &extended).await, Err(BookingFailure::WrongState), "an ended hold");
}

#[tokio::test]
async fn nobody_extends_a_hold_that_is_not_their_own() {
    let app = spawn_app().await;
    let (mut holder, schedule) = app.connect_with_state().await;
    let (mut other, _) = app.connect_with_state().await;
    let mut slots = free_future_slots(&schedule).map(|s| s.id.clone());
    let (slot, free) = (slots.next().unwrap(), slots.next().unwrap());
    let until = hold(&mut holder, &slot).await;

    assert_eq!(extend(&mut other, &slot).await, Err(BookingFailure::Held), "another connection's hold");
    assert_eq!(extend(&mut other, &free).await, Err(BookingFailure::WrongState), "a slot nobody holds");
    let nowhere = SlotId("no-such-slot".into());
    assert_eq!(extend(&mut other, &nowhere).await, Err(BookingFailure::NotFound));
    let (_, now) = app.connect_with_state().await;
    let shown = now.slots.iter().find(|s| s.id == slot).unwrap();
    assert_eq!(shown.held_until, Some(until), "their attempts moved nothing");

    assert!(matches!(holder.book(slot.clone(), patient()).await.unwrap(), BookingReply::Booked { .. }));
    assert_eq!(extend(&mut holder, &slot).await, Err(BookingFailure::AlreadyBooked), "a booked slot");
}
