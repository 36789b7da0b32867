//! Bookings cost a proof of work that buys one booking, and one phone number or
//! one address can make only a few.

use std::time::Instant;

use client::BookingReply;
use protocol::{BookingFailure, ClientMessage, PowSolution, Proof};

use super::*;

/// The CPU time this thread has used, from `/proc/thread-self/stat` (in clock
/// ticks of 10 ms); `None` where that cannot be read.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Asks for `n` challenges and solves them side by side, as a bot would; also
/// says how much CPU time one took on average (wall time where the CPU time
/// cannot be read), which other tests running meanwhile do not change.
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
                let (started, cpu) = (Instant::now(), thread_cpu());
                let solution = challenge.solve().expect("solvable");
                let took = match (cpu, thread_cpu()) {
                    (Some(before), Some(after)) => after - before,
                    _ => started.elapsed(),
                };
                (Proof { challenge, solution }, took)
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
    let mut longer = proofs[0].clone();
    longer.challenge.parameters.expires_at = longer.challenge.parameters.expires_at.map(|t| t + 86_400);
    assert_eq!(
        book(&mut bot, &slots[0], someone(1), Some(longer)).await,
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
    // A refused attempt spends its proof too, so that refusals cost as much as
    // bookings; only a mistyped phone number does not (it costs the server
    // nothing).
    let proof = proofs.remove(0);
    let typo = Patient { phone: "call me".into(), ..someone(3) };
    assert_eq!(
        book(&mut elsewhere, &slots[1], typo, Some(proof.clone())).await,
        BookingReply::Refused(BookingFailure::InvalidPatient)
    );
    assert_eq!(
        book(&mut elsewhere, &slots[0], someone(3), Some(proof.clone())).await,
        BookingReply::Refused(BookingFailure::AlreadyBooked)
    );
    assert_eq!(
        book(&mut elsewhere, &slots[1], someone(3), Some(proof)).await,
        BookingReply::Refused(BookingFailure::ChallengeFailed)
    );

    let work = Limits::DEFAULT.challenge_work;
    println!(
        "proof of work at the default ({work} thousand hashes at most): {each:.2?} of CPU per solution, \
         so a bot's 100 bookings cost about {:.0} CPU-seconds",
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
    // One proof per attempt: a refused attempt spends its proof too.
    let (mut proofs, _) = proofs(&mut bot, per_hour + 1).await;

    // The same phone, with names made up each time.
    let mut slot = slots.iter();
    for i in 0..limits.bookings_per_phone {
        let who = Patient { name: format!("Name {i}"), ..someone(1) };
        let reply = book(&mut bot, slot.next().unwrap(), who, proofs.pop()).await;
        assert!(matches!(reply, BookingReply::Booked { .. }), "{reply:?}");
    }
    let same_phone = Patient { name: "Name 9".into(), ..someone(1) };
    let reply = book(&mut bot, slot.next().unwrap(), same_phone, proofs.pop()).await;
    assert_eq!(reply, BookingReply::Refused(BookingFailure::LimitReached));

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
