//! All the attacks at once, against the defaults, while patients book: every
//! patient books what they chose, sees every change in order, and meets no
//! error. The time each `book` took to be answered is printed (not asserted: the
//! machine is shared and noisy).

use std::time::Instant;

use client::BookingReply;
use client::tungstenite::Message;
use protocol::{Applied, Replica};

use super::*;

const PATIENTS: u8 = 8;

/// Everything an attacker at 127.0.0.`n` can throw at once: a connection per
/// slot grabbing holds, bookings without proof, guessed manage links,
/// challenges never solved, one proof spent again and again, a flood of pings,
/// and connections beyond its share.
async fn attack(app: &TestApp, n: u8, slots: Vec<SlotId>) -> usize {
    let mut thrown = 0;
    let mut grabbers = Vec::new();
    for slot in slots.iter().take(20) {
        let mut grabber = connect_from(app, n).await;
        let _ = hold(&mut grabber, slot).await;
        grabbers.push(grabber);
        thrown += 1;
    }
    let mut spammer = connect_from(app, n).await;
    for (i, slot) in slots.iter().take(20).enumerate() {
        let request_id = spammer.request_id();
        let book = ClientMessage::Book {
            request_id,
            slot_id: slot.clone(),
            patient: someone(i as u32),
            proof: None,
        };
        let _ = spammer.book_with(book).await;
        let request_id = spammer.request_id();
        let _ = spammer.call(ClientMessage::Lookup { request_id, manage_token: format!("{i:064}") }).await;
        thrown += 2;
    }
    // Challenges asked for and never solved, and one solved proof sent again
    // and again for slots that are taken.
    let mut asker = connect_from(app, n).await;
    for _ in 0..30 {
        let request_id = asker.request_id();
        let _ = asker.call(ClientMessage::Challenge { request_id }).await;
        thrown += 1;
    }
    if let Ok(proof) = asker.proof().await {
        for (i, slot) in slots.iter().skip(20).take(10).enumerate() {
            let request_id = asker.request_id();
            let book = ClientMessage::Book {
                request_id,
                slot_id: slot.clone(),
                patient: someone(1000 + i as u32),
                proof: Some(proof.clone()),
            };
            let _ = asker.book_with(book).await;
            thrown += 1;
        }
    }
    let mut pinger = connect_from(app, n).await;
    for _ in 0..300 {
        if pinger.send_raw(Message::Ping(Default::default())).await.is_err() {
            break;
        }
        thrown += 1;
    }
    let options = ConnectOptions { local_ip: Some(address(n)), ..ConnectOptions::default() };
    for _ in 0..100 {
        let _ = Client::connect_with(&app.ws_url(), options).await;
        thrown += 1;
    }
    drop(grabbers);
    thrown
}

/// One patient: holds a slot, books it (solving the proof of work meanwhile),
/// and says how long the `book` took to be answered.
async fn book_one(app: &TestApp, n: u8, slot: SlotId) -> Duration {
    let mut patient = connect_from(app, n).await;
    hold(&mut patient, &slot).await.expect("a patient holds the slot they chose");
    let proof = patient.proof().await.expect("a challenge");
    let request_id = patient.request_id();
    let book =
        ClientMessage::Book { request_id, slot_id: slot, patient: someone(u32::from(n)), proof: Some(proof) };
    let started = Instant::now();
    let reply = patient.book_with(book).await.expect("an answer");
    assert!(matches!(reply, BookingReply::Booked { .. }), "patient {n}: {reply:?}");
    started.elapsed()
}

#[tokio::test]
async fn patients_book_undisturbed_while_every_attack_runs() {
    let app = spawn_defaults().await;
    let slots = bookable(&app).await;
    let (mut watcher, schedule) = app.connect_with_state().await;
    let mut replica = Replica::default();
    replica.apply(ServerMessage::InitialState(schedule));

    let attackers: Vec<_> = (0..3u8)
        .map(|i| {
            let app_url = slots.clone();
            let app = &app;
            async move { attack(app, MALLORY + i, app_url).await }
        })
        .collect();
    let chosen: Vec<SlotId> = slots.iter().rev().take(usize::from(PATIENTS)).cloned().collect();
    let patients: Vec<_> =
        chosen.iter().enumerate().map(|(i, slot)| book_one(&app, 10 + i as u8, slot.clone())).collect();
    let (thrown, waits) =
        tokio::join!(futures_util::future::join_all(attackers), futures_util::future::join_all(patients));

    // The watcher saw every patient's booking, in order, with no gap.
    let mut booked = std::collections::HashSet::new();
    while booked.len() < chosen.len() {
        let message = recv(&mut watcher).await;
        assert!(!matches!(message, ServerMessage::Error { .. }), "{message:?}");
        match replica.apply(message.clone()) {
            Applied::Gap(_) => panic!("the watcher missed an update before {message:?}"),
            _ => {
                if let ServerMessage::Update { slot, .. } = message
                    && slot.status == protocol::SlotStatus::Booked
                    && chosen.contains(&slot.id)
                {
                    booked.insert(slot.id);
                }
            }
        }
    }
    let mut waits = waits;
    waits.sort();
    println!(
        "under attack ({} abusive inputs from {} addresses): {} patients booked; answer to `book` median {:?}, slowest {:?}",
        thrown.iter().sum::<usize>(),
        thrown.len(),
        waits.len(),
        waits[waits.len() / 2],
        waits[waits.len() - 1],
    );
}
