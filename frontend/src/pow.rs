//! The robot check as plain data: asking the server for a proof-of-work
//! challenge, solving it a short slice at a time, and keeping the solution until
//! a booking spends it. The browser side (`solver`) only supplies the clock and
//! yields between slices, so all of this is unit-tested natively.

use std::ops::Range;

use protocol::{ClientMessage, PowChallenge, Proof, ServerMessage};

/// How long a solution is used after its challenge arrived. The server accepts
/// one for fifteen minutes; the page measures on its own clock, from when the
/// challenge arrived, so that a wrong clock on the patient's computer does not
/// matter, and stops early to leave room for a slow network.
pub const FRESH_MS: f64 = 10.0 * 60_000.0;

/// How long one slice of solving should keep the page busy. Long enough that
/// the pauses between slices cost little, short enough that typing in the form
/// never feels slow.
pub const SLICE_TARGET_MS: f64 = 25.0;

/// The counters tried in the first slice, before the page knows its own speed.
const FIRST_SLICE: u32 = 4;

/// The most counters one slice may try, whatever the clock says.
const MOST_PER_SLICE: u32 = 2_000;

/// Where the page is with its robot check.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Work {
    /// Nothing asked for yet, or the last solution was spent.
    #[default]
    Idle,
    /// Asked the server for a challenge; the answer has not come yet.
    Asking {
        /// The request id of the `challenge`.
        request_id: String,
    },
    /// Solving a challenge.
    Solving {
        /// The challenge being solved.
        challenge: PowChallenge,
        /// The next counter to try.
        next: u32,
        /// How many counters the next slice tries.
        slice: u32,
        /// When the challenge arrived (page clock, milliseconds).
        since_ms: f64,
    },
    /// Solved; the proof waits for a booking.
    Ready {
        /// The proof to send with `book`.
        proof: Proof,
        /// When its challenge arrived (page clock, milliseconds).
        since_ms: f64,
    },
    /// The server would not give a challenge; asked again on the next attempt.
    Failed {
        /// What the server said.
        message: String,
    },
}

/// What a server reply meant for the robot check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answered {
    /// A challenge arrived: start solving it.
    Solve {
        /// The challenge's nonce, which names it while it is solved.
        nonce: String,
    },
    /// The server refused to give one.
    Failed {
        /// What it said, for people.
        message: String,
    },
}

/// What one slice of solving came to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stepped {
    /// Not solved yet: yield to the browser, then go on.
    Continue,
    /// Solved, after this many milliseconds of solving.
    Solved(f64),
    /// The challenge is no longer the one the page works on: stop.
    Stopped,
}

/// The robot check of one page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pow {
    /// Where the check is.
    pub work: Work,
    /// How long the last solution took to find, in milliseconds.
    pub solved_in_ms: Option<f64>,
}

impl Pow {
    /// The `challenge` to send when the page has no usable solution and none is
    /// on its way; `None` when nothing needs asking.
    pub fn start(&mut self, now_ms: f64, request_id: String) -> Option<ClientMessage> {
        self.drop_stale(now_ms);
        match self.work {
            Work::Idle | Work::Failed { .. } => {
                self.work = Work::Asking { request_id: request_id.clone() };
                Some(ClientMessage::Challenge { request_id })
            }
            Work::Asking { .. } | Work::Solving { .. } | Work::Ready { .. } => None,
        }
    }

    /// Takes a server reply; `None` when it was not for the robot check.
    pub fn on_reply(&mut self, reply: &ServerMessage, now_ms: f64) -> Option<Answered> {
        let Work::Asking { request_id } = &self.work else { return None };
        if reply.request_id() != Some(request_id.as_str()) {
            return None;
        }
        match reply {
            ServerMessage::Challenge { challenge, .. } => {
                let nonce = challenge.parameters.nonce.clone();
                self.work = Work::Solving {
                    challenge: challenge.clone(),
                    next: 0,
                    slice: FIRST_SLICE,
                    since_ms: now_ms,
                };
                Some(Answered::Solve { nonce })
            }
            ServerMessage::Error { message, .. } => {
                self.work = Work::Failed { message: message.clone() };
                Some(Answered::Failed { message: message.clone() })
            }
            _ => {
                let message = "The clinic sent an unexpected answer.".to_owned();
                self.work = Work::Failed { message: message.clone() };
                Some(Answered::Failed { message })
            }
        }
    }

    /// Tries the next slice of counters of the challenge named `nonce`, timing it
    /// with `clock` (milliseconds), and sizes the following slice so that it
    /// takes about `SLICE_TARGET_MS`.
    pub fn step(&mut self, nonce: &str, mut clock: impl FnMut() -> f64) -> Stepped {
        let Work::Solving { challenge, next, slice, since_ms } = &mut self.work else {
            return Stepped::Stopped;
        };
        if challenge.parameters.nonce != nonce {
            return Stepped::Stopped;
        }
        let counters = slice_range(*next, *slice);
        let began = clock();
        let found = challenge.solve_within(counters.clone());
        let ended = clock();
        match found {
            Some(solution) => {
                let took = ended - *since_ms;
                let proof = Proof { challenge: challenge.clone(), solution };
                self.work = Work::Ready { proof, since_ms: *since_ms };
                self.solved_in_ms = Some(took);
                Stepped::Solved(took)
            }
            // Every counter was tried: the challenge has no solution (it cannot
            // be one of the server's); a fresh one is asked for next time.
            None if counters.end == u32::MAX => {
                let message = "The check that you are not a robot could not be done.".to_owned();
                self.work = Work::Failed { message };
                Stepped::Stopped
            }
            None => {
                *next = counters.end;
                *slice = next_slice(*slice, ended - began);
                Stepped::Continue
            }
        }
    }

    /// The solution to send with a booking, while it is fresh. A stale one is
    /// forgotten, so that `start` asks for a new one.
    pub fn ready(&mut self, now_ms: f64) -> Option<Proof> {
        self.drop_stale(now_ms);
        match &self.work {
            Work::Ready { proof, .. } => Some(proof.clone()),
            _ => None,
        }
    }

    /// A booking with the solution of challenge `nonce` went through, or the
    /// server refused that solution: it buys nothing more.
    pub fn spend(&mut self, nonce: &str) {
        if matches!(&self.work, Work::Ready { proof, .. } if proof.challenge.parameters.nonce == nonce) {
            self.work = Work::Idle;
        }
    }

    /// The connection dropped: a challenge asked for will not come. One being
    /// solved, or solved, stays good, since the server checks it by its signature.
    pub fn on_disconnect(&mut self) {
        if matches!(self.work, Work::Asking { .. }) {
            self.work = Work::Idle;
        }
    }

    /// A word for where the check is, for the page's `data-pow` attribute.
    pub fn phase(&self) -> &'static str {
        match self.work {
            Work::Idle => "idle",
            Work::Asking { .. } => "asking",
            Work::Solving { .. } => "solving",
            Work::Ready { .. } => "ready",
            Work::Failed { .. } => "failed",
        }
    }

    fn drop_stale(&mut self, now_ms: f64) {
        if matches!(self.work, Work::Ready { since_ms, .. } if now_ms - since_ms > FRESH_MS) {
            self.work = Work::Idle;
        }
    }
}

/// The counters of a slice of `len` starting at `next`, stopping at the last one.
fn slice_range(next: u32, len: u32) -> Range<u32> {
    next..next.saturating_add(len.max(1))
}

/// How many counters the next slice should try, given that `slice` of them took
/// `took_ms`: scaled towards `SLICE_TARGET_MS`, at most doubling at once so that
/// one coarse clock reading cannot make a slice freeze the page.
pub fn next_slice(slice: u32, took_ms: f64) -> u32 {
    let wanted = if took_ms <= 0.0 {
        f64::from(slice) * 2.0
    } else {
        (f64::from(slice) * SLICE_TARGET_MS / took_ms).min(f64::from(slice) * 2.0)
    };
    (wanted as u32).clamp(1, MOST_PER_SLICE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::PowParameters;

    /// A challenge of `cost` hashes per counter whose only solution is counter
    /// `answer`: its prefix is the whole key of that counter.
    fn challenge(answer: u32, cost: u32) -> PowChallenge {
        let mut challenge = PowChallenge {
            parameters: PowParameters {
                algorithm: "SHA-256".into(),
                cost,
                expires_at: None,
                key_length: 32,
                key_prefix: String::new(),
                key_signature: None,
                nonce: "0123456789abcdef".into(),
                salt: "fedcba9876543210".into(),
            },
            signature: "signed".into(),
        };
        let key = challenge.solve_within(answer..answer + 1).expect("an empty prefix matches").derived_key;
        challenge.parameters.key_prefix = key;
        challenge
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

    #[test]
    fn a_tiny_challenge_is_solved_in_slices_and_its_solution_is_kept() {
        let challenge = challenge(57, 3);
        let mut pow = Pow::default();
        assert_eq!(pow.start(0.0, "c1".into()), Some(ClientMessage::Challenge { request_id: "c1".into() }));
        assert_eq!(pow.start(0.0, "c2".into()), None, "one challenge at a time");
        let nonce = challenge.parameters.nonce.clone();
        assert_eq!(pow.on_reply(&answer("c1", &challenge), 1_000.0), Some(Answered::Solve { nonce }));

        let mut clock = ticking(5.0);
        let mut slices = 0;
        let took = loop {
            slices += 1;
            match pow.step("0123456789abcdef", &mut clock) {
                Stepped::Continue => assert_eq!(pow.phase(), "solving"),
                Stepped::Solved(took) => break took,
                Stepped::Stopped => panic!("stopped while solving"),
            }
        };
        assert!(slices > 1, "solved in several slices, not {slices}");
        assert!(took > 0.0);
        assert_eq!(pow.solved_in_ms, Some(took));
        let proof = pow.ready(2_000.0).expect("a fresh proof");
        assert_eq!(proof.solution.counter, 57);
        assert_eq!(proof.challenge, challenge);
        assert_eq!(pow.start(2_000.0, "c3".into()), None, "a ready proof needs no new challenge");
    }

    #[test]
    fn a_spent_solution_makes_the_next_booking_ask_for_a_new_challenge() {
        let challenge = challenge(0, 1);
        let mut pow = Pow::default();
        pow.start(0.0, "c1".into());
        pow.on_reply(&answer("c1", &challenge), 0.0);
        assert!(matches!(pow.step("0123456789abcdef", ticking(1.0)), Stepped::Solved(_)));
        pow.spend("some other challenge");
        assert!(pow.ready(1.0).is_some(), "only the solution used is spent");
        pow.spend("0123456789abcdef");
        assert_eq!(pow.ready(1.0), None);
        assert!(matches!(pow.start(1.0, "c2".into()), Some(ClientMessage::Challenge { .. })));
    }

    #[test]
    fn a_stale_solution_is_not_sent_and_a_new_challenge_is_asked_for() {
        let challenge = challenge(0, 1);
        let mut pow = Pow::default();
        pow.start(0.0, "c1".into());
        pow.on_reply(&answer("c1", &challenge), 0.0);
        pow.step("0123456789abcdef", ticking(1.0));
        assert!(pow.ready(FRESH_MS - 1.0).is_some());
        assert_eq!(pow.ready(FRESH_MS + 1.0), None);
        assert!(pow.start(FRESH_MS + 1.0, "c2".into()).is_some());
    }

    #[test]
    fn a_slice_for_a_replaced_challenge_stops_and_changes_nothing() {
        let mut pow = Pow::default();
        assert_eq!(pow.step("anything", ticking(1.0)), Stepped::Stopped, "nothing to solve");
        pow.start(0.0, "c1".into());
        pow.on_reply(&answer("c1", &challenge(3, 1)), 0.0);
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
        assert_eq!(pow.on_reply(&refused, 0.0), Some(Answered::Failed { message: "slow down".into() }));
        assert_eq!(pow.phase(), "failed");
        assert!(pow.start(0.0, "c2".into()).is_some());
        pow.on_disconnect();
        assert_eq!(pow.phase(), "idle", "the answer to c2 will never come");
        assert!(pow.start(0.0, "c3".into()).is_some());
    }

    #[test]
    fn slices_grow_towards_the_target_time_but_never_jump() {
        assert_eq!(next_slice(4, 0.0), 8, "a clock too coarse to see the slice doubles it");
        assert_eq!(next_slice(4, 1.0), 8, "a quick slice at most doubles");
        assert_eq!(next_slice(40, SLICE_TARGET_MS), 40);
        assert_eq!(next_slice(40, SLICE_TARGET_MS * 4.0), 10, "a slow slice shrinks");
        assert_eq!(next_slice(1, 10_000.0), 1, "never below one counter");
        assert_eq!(next_slice(MOST_PER_SLICE, 1.0), MOST_PER_SLICE);
    }
}
