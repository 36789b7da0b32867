//! Bookings cost a proof of work that buys one booking, and one phone number or
//! one address can make only a few.

use std::time::Instant;

use client::BookingReply;
use protocol::{BookingFailure, ClientMessage, PowSolution, Proof};

use super::*;

/// Asks for `n` challenges and solves them side by side, as a bot would; also
/// says how long one took on average, in CPU time.
async fn proofs(client: &mut Client, n: usize) -> (Vec<Proof>, Duration) {
    let mut challenges = Vec::new();
    for _ in 0..n {
        let request_id = client.request_id();
        match client.call(ClientMessage::Challenge { request_id }).await.unwrap() {
            ServerMessage::Challenge { challenge, .. } => challenges.push(challenge),
            other => panic!("expected a challenge, got {other:?}"),
        }
    }
    let solving: Vec<_> = challenges
        .into_iter()
        .map(|challenge| {
            tokio::task::spawn_blocking(move || {
                let started = Instant::now();
                let solution = challenge.solve().expect("solvable");
                (Proof { challenge, solution }, started.elapsed())
            })
        })
        .collect();
    let mut proofs = Vec::new();
    let mut spent = Duration::ZERO;
    for solved in solving {
        let (proof, took) = solved.await.unwrap();
        proofs.push(proof);
        spent += took;
    }
    (proofs, spent / n as u32)
}

async fn book(client: &mut Client, slot: &SlotId, who: Patient, proof: Option<Proof>) -> BookingReply {
    let request_id = client.request_id();
    client
        .book_with(ClientMessage::Book { request_id, slot_id: slot.clone(), patient: who, proof })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_booking_needs_a_proof_of_work_and_each_proof_buys_one_booking() {
    let app = spawn_defaults().await;
    let slots = bookable(&app).await;
    let mut bot = connect_from(&app, MALLORY).await;

    assert_eq!(
        book(&mut bot, &slots[0], someone(1), None).await,
        BookingReply::Refused(BookingFailure::ChallengeFailed)
    );
    let (mut proofs, each) = proofs(&mut bot, 2).await;
    let guessed = "0".repeat(proofs[0].solution.derived_key.len());
    let forged = Proof {
        solution: PowSolution { derived_key: guessed, ..proofs[0].solution.clone() },
        ..proofs[0].clone()
    };
    assert_eq!(
        book(&mut bot, &slots[0], someone(1), Some(forged)).await,
        BookingReply::Refused(BookingFailure::ChallengeFailed)
    );
    let mut cheaper = proofs[0].clone();
    cheaper.challenge.parameters.cost = 1;
    assert_eq!(
        book(&mut bot, &slots[0], someone(1), Some(cheaper)).await,
        BookingReply::Refused(BookingFailure::ChallengeFailed),
        "the parameters are signed"
    );

    let proof = proofs.remove(0);
    assert!(matches!(
        book(&mut bot, &slots[0], someone(1), Some(proof.clone())).await,
        BookingReply::Booked { .. }
    ));
    // Spent: not on this slot, not on another, not from another connection.
    assert_eq!(
        book(&mut bot, &slots[1], someone(2), Some(proof.clone())).await,
        BookingReply::Refused(BookingFailure::ChallengeFailed)
    );
    let mut elsewhere = connect_from(&app, MALLORY + 1).await;
    assert_eq!(
        book(&mut elsewhere, &slots[1], someone(2), Some(proof)).await,
        BookingReply::Refused(BookingFailure::ChallengeFailed)
    );
    // A refusal spends nothing: a patient who lost a race books the next slot
    // with the same proof.
    let proof = proofs.remove(0);
    assert_eq!(
        book(&mut elsewhere, &slots[0], someone(3), Some(proof.clone())).await,
        BookingReply::Refused(BookingFailure::AlreadyBooked)
    );
    assert!(matches!(
        book(&mut elsewhere, &slots[1], someone(3), Some(proof)).await,
        BookingReply::Booked { .. }
    ));

    let work = Limits::DEFAULT.challenge_work;
    println!(
        "proof of work at the default ({work} thousand hashes at most): {each:.2?} per solution (solved two \
         side by side, each on a core of its own when the machine is otherwise idle), so a bot's 100 \
         bookings cost about {:.0} CPU-seconds",
        each.as_secs_f64() * 100.0
    );
}

#[tokio::test]
async fn one_phone_number_and_one_address_can_book_only_a_few_appointments() {
    let app = spawn_defaults().await;
    let slots = bookable(&app).await;
    let limits = Limits::DEFAULT;
    let mut bot = connect_from(&app, MALLORY).await;
    let per_hour = limits.bookings_per_address_per_hour as usize;
    let (mut proofs, _) = proofs(&mut bot, per_hour).await;

    // The same phone, with names made up each time.
    let mut slot = slots.iter();
    for i in 0..limits.bookings_per_phone {
        let who = Patient { name: format!("Name {i}"), ..someone(1) };
        let reply = book(&mut bot, slot.next().unwrap(), who, proofs.pop()).await;
        assert!(matches!(reply, BookingReply::Booked { .. }), "{reply:?}");
    }
    let proof = proofs.pop();
    let reply =
        book(&mut bot, slot.next().unwrap(), Patient { name: "Name 9".into(), ..someone(1) }, proof.clone())
            .await;
    assert_eq!(reply, BookingReply::Refused(BookingFailure::LimitReached));
    proofs.extend(proof);

    // Other phones, until the address has booked its hour's worth.
    for i in limits.bookings_per_phone..per_hour {
        let reply = book(&mut bot, slot.next().unwrap(), someone(100 + i as u32), proofs.pop()).await;
        assert!(matches!(reply, BookingReply::Booked { .. }), "booking {i}: {reply:?}");
    }
    let (extra, _) = super::bookings::proofs(&mut bot, 1).await;
    let reply = book(&mut bot, slot.next().unwrap(), someone(999), extra.into_iter().next()).await;
    assert_eq!(reply, BookingReply::Refused(BookingFailure::TooManyBookings));

    // Another address is not affected, and the hour passes.
    let mut patient = connect_from(&app, 12).await;
    let late = &slots[slots.len() - 2..];
    assert!(matches!(
        patient.book(late[0].clone(), someone(5000)).await.unwrap(),
        BookingReply::Booked { .. }
    ));
    app.advance(chrono::Duration::minutes(61));
    assert!(matches!(bot.book(late[1].clone(), someone(5001)).await.unwrap(), BookingReply::Booked { .. }));
}
