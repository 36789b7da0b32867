//! Every way a slot turns free offers it to the patient waiting for it, in the
//! same change: nobody else ever sees it free in between.

use chrono::Duration;
use client::Client;
use protocol::{BookingFailure, ClientMessage, ServerMessage, SlotId, SlotStatus};

use super::{Page, anna, book, call, cancel, carl, days, hold, slot, staff, update_of};
use crate::common::{TestApp, spawn_app};

/// How the slot turns free.
#[derive(Debug, Clone, Copy)]
enum Freeing {
    Cancel,
    RescheduleAway,
    StaffCancel,
    Unblock,
    StaffEndsHold,
    Release,
    PageClosed,
    HoldRunsOut,
}

/// The slot that turns free, in Anna's window.
fn wanted() -> SlotId {
    slot("therapist-20261125-0900")
}

/// A staff action on the wanted slot, which must be done.
async fn staff_does(console: &mut Client, make: fn(String, SlotId) -> ClientMessage) {
    let reply = call(console, |request_id| make(request_id, wanted())).await;
    assert!(matches!(reply, ServerMessage::ActionResult { ok: true, .. }), "{reply:?}");
}

/// Carl's page holding the wanted slot.
async fn holding(app: &TestApp) -> Client {
    let (mut carl_page, _) = app.connect_with_state().await;
    hold(&mut carl_page, &wanted()).await.expect("a free slot is held");
    carl_page
}

/// Puts the wanted slot in the state `how` frees it from, with Anna waiting
/// and a plain page looking, then frees it: Anna's page must be offered it and
/// the plain page must see it go from taken straight to held for her.
async fn offered_when(how: Freeing) {
    let app = spawn_app().await;
    let mut console = staff(&app).await;
    let (mut anna_page, _) = Page::open(&app, days("2026-11-25", "2026-11-26"), anna()).await;
    let (mut plain, _) = app.connect_with_state().await;
    let mut kept = Vec::new();

    match how {
        Freeing::Cancel => {
            let (mut carl_page, _) = app.connect_with_state().await;
            let (_, manage) = book(&mut carl_page, &wanted(), carl()).await;
            cancel(&mut carl_page, &manage).await;
        }
        Freeing::RescheduleAway => {
            let (mut carl_page, _) = app.connect_with_state().await;
            let (_, manage_token) = book(&mut carl_page, &wanted(), carl()).await;
            let slot_id = slot("therapist-20261127-0900");
            let reply = call(&mut carl_page, |request_id| ClientMessage::Reschedule {
                request_id,
                manage_token,
                slot_id,
            })
            .await;
            assert!(matches!(reply, ServerMessage::Booking { .. }), "{reply:?}");
        }
        Freeing::StaffCancel => {
            let (mut carl_page, _) = app.connect_with_state().await;
            book(&mut carl_page, &wanted(), carl()).await;
            staff_does(&mut console, |request_id, slot_id| ClientMessage::StaffCancel {
                request_id,
                slot_id,
            })
            .await;
        }
        Freeing::Unblock => {
            staff_does(&mut console, |request_id, slot_id| ClientMessage::Block { request_id, slot_id })
                .await;
            staff_does(&mut console, |request_id, slot_id| ClientMessage::Unblock { request_id, slot_id })
                .await;
        }
        Freeing::StaffEndsHold => {
            kept.push(holding(&app).await);
            staff_does(&mut console, |request_id, slot_id| ClientMessage::EndHold { request_id, slot_id })
                .await;
        }
        Freeing::Release => {
            let mut carl_page = holding(&app).await;
            carl_page.send(&ClientMessage::Release { slot_id: wanted() }).await.unwrap();
            kept.push(carl_page);
        }
        Freeing::PageClosed => drop(holding(&app).await),
        Freeing::HoldRunsOut => {
            kept.push(holding(&app).await);
            app.advance(Duration::seconds(120));
        }
    }

    let until = anna_page.offered(&wanted()).await;
    let mut seen = Vec::new();
    while seen.last() != Some(&(SlotStatus::Held, Some(until))) {
        let (_, slot) = update_of(&mut plain, &wanted()).await;
        seen.push((slot.status, slot.held_until));
    }
    assert!(seen.iter().all(|(status, _)| *status != SlotStatus::Free), "{how:?}: seen free: {seen:?}");
    assert_eq!(hold(&mut plain, &wanted()).await, Err(BookingFailure::Held), "{how:?}: held for Anna");
    anna_page.accept().await;
}

#[tokio::test]
async fn a_cancelled_booking_is_offered() {
    offered_when(Freeing::Cancel).await;
}

#[tokio::test]
async fn the_slot_a_booking_moves_away_from_is_offered() {
    offered_when(Freeing::RescheduleAway).await;
}

#[tokio::test]
async fn a_booking_staff_cancel_is_offered() {
    offered_when(Freeing::StaffCancel).await;
}

#[tokio::test]
async fn a_slot_staff_unblock_is_offered() {
    offered_when(Freeing::Unblock).await;
}

#[tokio::test]
async fn a_slot_whose_hold_staff_end_is_offered() {
    offered_when(Freeing::StaffEndsHold).await;
}

#[tokio::test]
async fn a_slot_released_by_the_patient_closing_the_form_is_offered() {
    offered_when(Freeing::Release).await;
}

#[tokio::test]
async fn a_slot_held_by_a_page_that_closes_is_offered() {
    offered_when(Freeing::PageClosed).await;
}

#[tokio::test]
async fn a_slot_whose_hold_runs_out_is_offered() {
    offered_when(Freeing::HoldRunsOut).await;
}
