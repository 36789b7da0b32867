//! Holds: one address holds a few slots at once and takes a few per minute, a
//! hold that ended cannot be taken again at once by the same address, staff
//! can end any hold, and more time for a hold is bounded and no way round any
//! of this.

use protocol::{BookingFailure, ClientMessage, ServerMessage, SlotStatus};

use super::*;

#[tokio::test]
async fn one_address_holds_a_few_slots_and_cannot_renew_a_hold_forever() {
    let app = spawn_defaults().await;
    let slots = bookable(&app).await;
    let limits = Limits::DEFAULT;

    // One connection per slot, as the attack did: only a few holds take.
    let mut held = Vec::new();
    let mut refused = 0;
    for slot in slots.iter().take(10) {
        let mut connection = connect_from(&app, MALLORY).await;
        match hold(&mut connection, slot).await {
            Ok(()) => held.push((connection, slot.clone())),
            Err(reason) => {
                assert_eq!(reason, BookingFailure::TooManyHolds);
                refused += 1;
            }
        }
    }
    assert_eq!(held.len(), limits.holds_per_address);
    assert_eq!(refused, 10 - limits.holds_per_address);

    // Letting go and holding again does not renew the hold...
    let (mut connection, slot) = held.pop().unwrap();
    connection.send(&ClientMessage::Release { slot_id: slot.clone() }).await.unwrap();
    let mut watcher = connect_from(&app, 20).await;
    assert_eq!(hold(&mut connection, &slot).await, Err(BookingFailure::HoldCooldown));
    // ...while another patient may hold it at once.
    let mut patient = connect_from(&app, 11).await;
    assert_eq!(hold(&mut patient, &slot).await, Ok(()));

    // A hold that ran out cannot be taken again either, until the cooldown ends.
    let (mut connection, slot) = held.pop().unwrap();
    app.advance(chrono::Duration::seconds(120 + 1));
    loop {
        let update = next_update(&mut watcher).await;
        if update.id == slot && update.status == SlotStatus::Free {
            break;
        }
    }
    assert_eq!(hold(&mut connection, &slot).await, Err(BookingFailure::HoldCooldown));
    app.advance(chrono::Duration::from_std(limits.hold_cooldown).unwrap());
    assert_eq!(hold(&mut connection, &slot).await, Ok(()));
}

#[tokio::test]
async fn hold_and_release_churn_is_cut_off_after_a_few_holds_a_minute() {
    let app = spawn_defaults().await;
    let slots = bookable(&app).await;
    // Several connections, so that no single one meets the message rate first.
    let mut churners = Vec::new();
    for _ in 0..6 {
        churners.push(connect_from(&app, MALLORY).await);
    }
    let mut taken = 0;
    let mut first_refusal = None;
    for (i, slot) in slots.iter().take(30).enumerate() {
        let churner = &mut churners[i % 6];
        match hold(churner, slot).await {
            Ok(()) => {
                taken += 1;
                churner.send(&ClientMessage::Release { slot_id: slot.clone() }).await.unwrap();
            }
            Err(reason) => {
                first_refusal.get_or_insert(reason);
            }
        }
    }
    assert_eq!(taken, Limits::DEFAULT.holds_per_address_per_min as usize);
    assert_eq!(first_refusal, Some(BookingFailure::TooManyHolds));
    // A minute later the address may hold again.
    app.advance(chrono::Duration::seconds(61));
    assert_eq!(hold(&mut churners[0], &slots[29]).await, Ok(()));
}

#[tokio::test]
async fn staff_end_any_hold_and_block_a_held_slot() {
    let app = spawn_defaults().await;
    let slots = bookable(&app).await;
    let (x, y) = (slots[0].clone(), slots[1].clone());
    let mut first = connect_from(&app, MALLORY).await;
    let mut second = connect_from(&app, MALLORY).await;
    assert_eq!(hold(&mut first, &x).await, Ok(()));
    assert_eq!(hold(&mut second, &y).await, Ok(()));

    let mut staff = connect_from(&app, 30).await;
    log_in_admin(&mut staff).await;
    let mut watcher = connect_from(&app, 20).await;

    let request_id = staff.request_id();
    let ended = staff.call(ClientMessage::EndHold { request_id, slot_id: x.clone() }).await.unwrap();
    assert!(matches!(ended, ServerMessage::ActionResult { ok: true, .. }), "{ended:?}");
    let update = next_update(&mut watcher).await;
    assert_eq!((update.id, update.status), (x.clone(), SlotStatus::Free));

    let request_id = staff.request_id();
    let blocked = staff.call(ClientMessage::Block { request_id, slot_id: y.clone() }).await.unwrap();
    assert!(matches!(blocked, ServerMessage::ActionResult { ok: true, .. }), "{blocked:?}");
    let update = next_update(&mut watcher).await;
    assert_eq!((update.id, update.status), (y.clone(), SlotStatus::Blocked));
    let reply = second.book(y, someone(1)).await.unwrap();
    assert_eq!(reply, client::BookingReply::Refused(BookingFailure::Blocked));

    // Ending a hold that is not there is refused, not pretended.
    let request_id = staff.request_id();
    let again = staff.call(ClientMessage::EndHold { request_id, slot_id: x }).await.unwrap();
    assert!(matches!(again, ServerMessage::ActionResult { ok: false, .. }), "{again:?}");
}

/// Asks for more time on a held slot; the refusal, if refused.
async fn extend(client: &mut Client, slot: &SlotId) -> Result<(), BookingFailure> {
    let request_id = client.request_id();
    match client.call(ClientMessage::ExtendHold { request_id, slot_id: slot.clone() }).await.unwrap() {
        ServerMessage::HoldResult { ok: true, .. } => Ok(()),
        ServerMessage::HoldResult { reason: Some(reason), .. } => Err(reason),
        other => panic!("expected a holdResult, got {other:?}"),
    }
}

#[tokio::test]
async fn more_time_is_bounded_and_no_way_round_the_limits_on_holds() {
    let app = spawn_defaults().await;
    let slots = bookable(&app).await;
    let limits = Limits::DEFAULT;
    let (slot, other) = (slots[0].clone(), slots[1].clone());
    let mut connection = connect_from(&app, MALLORY).await;
    let mut accomplice = connect_from(&app, MALLORY).await;
    assert_eq!(hold(&mut connection, &slot).await, Ok(()));

    // Only the holding connection extends, and only so often.
    assert_eq!(extend(&mut accomplice, &slot).await, Err(BookingFailure::Held));
    for _ in 0..limits.hold_extensions {
        assert_eq!(extend(&mut connection, &slot).await, Ok(()));
    }
    assert_eq!(extend(&mut connection, &slot).await, Err(BookingFailure::TooManyExtensions));

    // Counting afresh takes a new hold, which the cooldown keeps from the
    // address, whichever of its connections asks...
    connection.send(&ClientMessage::Release { slot_id: slot.clone() }).await.unwrap();
    assert_eq!(hold(&mut accomplice, &slot).await, Err(BookingFailure::HoldCooldown));
    assert_eq!(hold(&mut connection, &slot).await, Err(BookingFailure::HoldCooldown));
    // ...and an honest patient may take the slot at once.
    let mut patient = connect_from(&app, 11).await;
    assert_eq!(hold(&mut patient, &slot).await, Ok(()));

    // A hold that ran out at its extended end is refused again all the same.
    assert_eq!(hold(&mut connection, &other).await, Ok(()));
    assert_eq!(extend(&mut connection, &other).await, Ok(()));
    let mut watcher = connect_from(&app, 20).await;
    app.advance(chrono::Duration::seconds(2 * 120 + 1));
    loop {
        let update = next_update(&mut watcher).await;
        if update.id == other && update.status == SlotStatus::Free {
            break;
        }
    }
    assert_eq!(hold(&mut connection, &other).await, Err(BookingFailure::HoldCooldown));
}
