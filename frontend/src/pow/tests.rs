//! Tests of the robot check: solving in slices sized by the clock at any cost
//! per counter, keeping and spending the solution, and replacing a challenge
//! that went stale, solved or not, so that a waiting booking never waits forever.

use super::*;
use protocol::PowParameters;

/// The nonce of every challenge made by `challenge`.
const NONCE: &str = "0123456789abcdef";

/// A challenge of `cost` hashes per counter whose only solution is counter
/// `answer`: its prefix is the whole key of that counter.
fn challenge(answer: u32, cost: u32) -> PowChallenge {
    let mut challenge = unprefixed(cost);
    let key = challenge.solve_within(answer..answer + 1).expect("an empty prefix matches").derived_key;
    challenge.parameters.key_prefix = key;
    challenge
}

/// A challenge of `cost` hashes per counter without a prefix yet, which every
/// key matches.
fn unprefixed(cost: u32) -> PowChallenge {
    PowChallenge {
        parameters: PowParameters {
            algorithm: "SHA-256".into(),
            cost,
            expires_at: None,
            key_length: 32,
            key_prefix: String::new(),
            key_signature: None,
            nonce: NONCE.into(),
            salt: "fedcba9876543210".into(),
        },
        signature: "signed".into(),
    }
}

fn answer(request_id: &str, challenge: &PowChallenge) -> ServerMessage {
    ServerMessage::Challenge { request_id: request_id.into(), challenge: challenge.clone() }
}

/// A clock that advances `per_read` milliseconds on every reading.
fn ticking(per_read: f64) -> impl FnMut() -> f64 {
    let mut now = 1_000.0;
    move || {
        now += per_read;
        now
    }
}

/// A clock that reads each of `readings` in turn.
fn reading(readings: &[f64]) -> impl FnMut() -> f64 + '_ {
    let mut readings = readings.iter();
    move || *readings.next().expect("no more clock readings")
}

/// A page that asked for a challenge with `c1` and got `challenge` at `at_ms`.
fn solving(challenge: &PowChallenge, at_ms: f64) -> Pow {
    let mut pow = Pow::default();
    pow.start(at_ms, "c1".into());
    pow.on_reply(&answer("c1", challenge), at_ms);
    pow
}

#[test]
fn a_tiny_challenge_is_solved_in_slices_and_its_solution_is_kept() {
    let challenge = challenge(5_000, 3);
    let mut pow = Pow::default();
    assert_eq!(pow.start(0.0, "c1".into()), Some(ClientMessage::Challenge { request_id: "c1".into() }));
    assert_eq!(pow.start(0.0, "c2".into()), None, "one challenge at a time");
    let nonce = challenge.parameters.nonce.clone();
    assert_eq!(pow.on_reply(&answer("c1", &challenge), 1_000.0), Some(Answered::Solve { nonce }));

    let mut clock = ticking(5.0);
    let mut slices = 0;
    let took = loop {
        slices += 1;
        match pow.step(NONCE, &mut clock) {
            Stepped::Continue => assert_eq!(pow.phase(), "solving"),
            Stepped::Solved(took) => break took,
            other => panic!("{other:?} while solving"),
        }
    };
    assert!(slices > 1, "solved in several slices, not {slices}");
    assert!(took > 0.0);
    assert_eq!(pow.solved_in_ms, Some(took));
    let proof = pow.ready(2_000.0).expect("a fresh proof");
    assert_eq!(proof.solution.counter, 5_000);
    assert_eq!(proof.challenge, challenge);
    assert_eq!(pow.start(2_000.0, "c3".into()), None, "a ready proof needs no new challenge");
}

#[test]
fn a_spent_solution_makes_the_next_booking_ask_for_a_new_challenge() {
    let mut pow = solving(&challenge(0, 1), 0.0);
    assert!(matches!(pow.step(NONCE, ticking(1.0)), Stepped::Solved(_)));
    pow.spend("some other challenge");
    assert!(pow.ready(1.0).is_some(), "only the solution used is spent");
    pow.spend(NONCE);
    assert_eq!(pow.ready(1.0), None);
    assert!(matches!(pow.start(1.0, "c2".into()), Some(ClientMessage::Challenge { .. })));
}

#[test]
fn a_stale_solution_is_not_sent_and_a_new_challenge_is_asked_for() {
    let mut pow = solving(&challenge(0, 1), 0.0);
    pow.step(NONCE, ticking(1.0));
    assert!(pow.ready(FRESH_MS - 1.0).is_some());
    assert_eq!(pow.ready(FRESH_MS + 1.0), None);
    assert!(pow.start(FRESH_MS + 1.0, "c2".into()).is_some());
}

#[test]
fn a_challenge_still_being_solved_when_it_goes_stale_is_replaced() {
    let mut pow = solving(&challenge(100_000, 1), 0.0);
    assert_eq!(pow.step(NONCE, ticking(1.0)), Stepped::Continue);
    assert_eq!(pow.start(FRESH_MS - 1.0, "c2".into()), None, "still fresh: go on solving it");

    let asked = pow.start(FRESH_MS + 1.0, "c3".into());
    assert_eq!(asked, Some(ClientMessage::Challenge { request_id: "c3".into() }));
    assert_eq!(pow.step(NONCE, ticking(1.0)), Stepped::Stopped, "the old solving stops by itself");
    assert_eq!(pow.phase(), "asking");
}

#[test]
fn a_slice_begun_after_the_challenge_went_stale_drops_it_unsolved() {
    let mut pow = solving(&challenge(0, 1), 0.0);
    assert_eq!(
        pow.step(NONCE, reading(&[FRESH_MS + 1.0])),
        Stepped::Stale,
        "not solved, though counter 0 was next"
    );
    assert_eq!(pow.phase(), "idle");
    assert_eq!(pow.solved_in_ms, None);
    assert!(pow.start(FRESH_MS + 1.0, "c2".into()).is_some());
}

#[test]
fn a_booking_waiting_for_a_proof_that_went_stale_while_solving_asks_for_a_new_challenge() {
    let mut pow = solving(&challenge(0, 1), 0.0);
    // The slice began while the challenge was fresh and ended after it was not,
    // as in a background tab whose timers the browser slowed down.
    assert_eq!(pow.step(NONCE, reading(&[FRESH_MS - 1.0, FRESH_MS + 1.0])), Stepped::Solved(FRESH_MS + 1.0));

    let asked = pow.for_booking(FRESH_MS + 2.0, "c2".into());
    assert_eq!(asked, ForBooking::Ask(ClientMessage::Challenge { request_id: "c2".into() }));
    assert_eq!(pow.for_booking(FRESH_MS + 3.0, "c3".into()), ForBooking::Wait, "c2 is on its way");

    let fresh = challenge(1, 1);
    pow.on_reply(&answer("c2", &fresh), FRESH_MS + 4.0);
    assert_eq!(pow.for_booking(FRESH_MS + 5.0, "c4".into()), ForBooking::Wait, "c2 is being solved");
    assert!(matches!(pow.step(NONCE, reading(&[FRESH_MS + 6.0, FRESH_MS + 7.0])), Stepped::Solved(_)));
    match pow.for_booking(FRESH_MS + 8.0, "c5".into()) {
        ForBooking::Send(proof) => assert_eq!(proof.solution.counter, 1),
        other => panic!("the fresh proof is not sent: {other:?}"),
    }
}

#[test]
fn a_booking_waiting_after_the_check_failed_asks_again() {
    let mut pow = Pow::default();
    pow.start(0.0, "c1".into());
    let refused = ServerMessage::Error {
        code: protocol::ErrorCode::RateLimited,
        message: "slow down".into(),
        request_id: Some("c1".into()),
    };
    pow.on_reply(&refused, 0.0);
    assert_eq!(
        pow.for_booking(1.0, "c2".into()),
        ForBooking::Ask(ClientMessage::Challenge { request_id: "c2".into() })
    );
}

#[test]
fn a_challenge_without_a_solution_fails_so_that_a_waiting_patient_is_told() {
    // No key, written in hex, starts with a prefix that is not hex.
    let mut hopeless = unprefixed(1);
    hopeless.parameters.key_prefix = "not hex".into();
    let mut pow = solving(&hopeless, 0.0);
    // Skip to the last counters rather than try four billion.
    if let Work::Solving { next, slice, .. } = &mut pow.work {
        (*next, *slice) = (u32::MAX - 10, 100);
    }
    let Stepped::Failed(problem) = pow.step(NONCE, ticking(1.0)) else { panic!("not failed: {pow:?}") };
    assert_eq!(problem, Say::RobotCheckUnavailable);
    let text = problem.text(crate::i18n::Locale::en);
    assert!(text.contains("could not be done"), "{text}");
    assert_eq!(pow.phase(), "failed");
    assert!(pow.start(2.0, "c2".into()).is_some(), "the next attempt asks again");
}

#[test]
fn a_slice_for_a_replaced_challenge_stops_and_changes_nothing() {
    let mut pow = Pow::default();
    assert_eq!(pow.step("anything", ticking(1.0)), Stepped::Stopped, "nothing to solve");
    let mut pow = solving(&challenge(3, 1), 0.0);
    let before = pow.clone();
    assert_eq!(pow.step("an older challenge", ticking(1.0)), Stepped::Stopped);
    assert_eq!(pow, before);
}

#[test]
fn a_refused_or_lost_challenge_is_asked_for_again() {
    let mut pow = Pow::default();
    pow.start(0.0, "c1".into());
    assert_eq!(pow.on_reply(&answer("other", &challenge(0, 1)), 0.0), None, "not ours");
    let refused = ServerMessage::Error {
        code: protocol::ErrorCode::RateLimited,
        message: "slow down".into(),
        request_id: Some("c1".into()),
    };
    let problem = Say::Error(protocol::ErrorCode::RateLimited);
    assert_eq!(pow.on_reply(&refused, 0.0), Some(Answered::Failed { problem }));
    assert_eq!(pow.work, Work::Failed { problem });
    assert_eq!(pow.phase(), "failed");
    assert!(pow.start(0.0, "c2".into()).is_some());
    pow.on_disconnect();
    assert_eq!(pow.phase(), "idle", "the answer to c2 will never come");
    assert!(pow.start(0.0, "c3".into()).is_some());
}

#[test]
fn slices_grow_towards_the_target_time_but_never_jump() {
    assert_eq!(next_slice(4, 0.0, 1_000), 8, "a clock too coarse to see the slice doubles it");
    assert_eq!(next_slice(4, 1.0, 1_000), 8, "a quick slice at most doubles");
    assert_eq!(next_slice(40, SLICE_TARGET_MS, 1_000), 40);
    assert_eq!(next_slice(40, SLICE_TARGET_MS * 4.0, 1_000), 10, "a slow slice shrinks");
    assert_eq!(next_slice(1, 10_000.0, 1_000), 1, "never below one counter");
}

#[test]
fn the_first_and_the_largest_slices_are_the_same_work_at_any_cost_per_counter() {
    assert_eq!(first_slice(1_000), 4);
    assert_eq!(first_slice(10), 400);
    assert_eq!(first_slice(0), FIRST_SLICE_HASHES, "a cost of 0 hashes once, like 1");
    for cost in [1, 10, 1_000, 100_000_000] {
        let most = counters_for(MOST_HASHES_PER_SLICE, cost);
        assert_eq!(next_slice(most, 0.0, cost), most, "at cost {cost}, a blind clock stops at the cap");
        assert!(u64::from(most) * u64::from(cost) <= u64::from(MOST_HASHES_PER_SLICE.max(cost)));
    }
}

#[test]
fn at_ten_hashes_a_counter_a_fast_computer_still_works_about_the_target_time_per_slice() {
    // Four million hashes a second, at ten hashes a counter: the target needs
    // ten thousand counters a slice, far more than a cost of a thousand did.
    let (cost, ms_per_counter) = (10, 10.0 / 4_000.0);
    let mut slice = first_slice(cost);
    for _ in 0..30 {
        slice = next_slice(slice, f64::from(slice) * ms_per_counter, cost);
    }
    let ms = f64::from(slice) * ms_per_counter;
    assert!((SLICE_TARGET_MS * 0.9..=SLICE_TARGET_MS * 1.1).contains(&ms), "a slice takes {ms} ms");
}
