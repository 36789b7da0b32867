//! The robot check as plain data: asking the server for a proof-of-work
//! challenge, solving it a short slice at a time, and keeping the solution until
//! a booking spends it. The browser side (`solver`) only supplies the clock and
//! yields between slices, so all of this is unit-tested natively.

use crate::say::Say;
use std::ops::Range;

use protocol::{ClientMessage, PowChallenge, Proof, ServerMessage};

/// How long a challenge is worked on, and its solution used, after it arrived.
/// The server accepts one for fifteen minutes; the page measures on its own
/// clock, from when the challenge arrived, so that a wrong clock on the
/// patient's computer does not matter, and stops early to leave room for a slow
/// network.
pub const FRESH_MS: f64 = 10.0 * 60_000.0;

/// How long one slice of solving should keep the page busy. Long enough that
/// the pauses between slices cost little, short enough that typing in the form
/// never feels slow.
pub const SLICE_TARGET_MS: f64 = 25.0;

/// The hashes tried in the first slice, before the page knows its own speed: a
/// few milliseconds even on a slow phone. Slices are measured in hashes rather
/// than counters because the server chooses how many hashes a counter costs.
const FIRST_SLICE_HASHES: u32 = 4_000;

/// The most hashes one slice may do, whatever the clock says: a few times the
/// target on a fast computer, so that a clock too coarse to time the slices
/// cannot make one freeze the page, yet far above what the target needs.
const MOST_HASHES_PER_SLICE: u32 = 500_000;

/// Where the page is with its robot check.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Work {
    /// Nothing asked for yet, or the last solution was spent or went stale.
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
    /// The server would not give a challenge, or gave one without a solution;
    /// asked again on the next attempt.
    Failed {
        /// What went wrong, for people.
        problem: Say,
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
        problem: Say,
    },
}

/// What one slice of solving came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Stepped {
    /// Not solved yet: yield to the browser, then go on.
    Continue,
    /// Solved, after this many milliseconds of solving.
    Solved(f64),
    /// The challenge went stale before it was solved (a slow phone, or a
    /// background tab whose timers the browser slowed down) and was dropped:
    /// a new one is needed.
    Stale,
    /// The challenge has no solution; a patient waiting for it must be told.
    Failed(Say),
    /// The challenge is no longer the one the page works on: stop.
    Stopped,
}

/// What a booking that waits for the robot check should do now.
#[derive(Debug, Clone, PartialEq)]
pub enum ForBooking {
    /// Go out with this proof.
    Send(Proof),
    /// There is no usable solution and none on its way: send this `challenge`
    /// and keep waiting.
    Ask(ClientMessage),
    /// A fresh challenge is asked for or being solved: keep waiting.
    Wait,
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
    /// The `challenge` to send when the page has no usable solution and no
    /// fresh one on its way; `None` when nothing needs asking. A challenge that
    /// went stale, solved or not, is replaced.
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
                    slice: first_slice(challenge.parameters.cost),
                    since_ms: now_ms,
                };
                Some(Answered::Solve { nonce })
            }
            ServerMessage::Error { code, .. } => {
                let problem = Say::Error(*code);
                self.work = Work::Failed { problem };
                Some(Answered::Failed { problem })
            }
            _ => {
                let problem = Say::Unexpected;
                self.work = Work::Failed { problem };
                Some(Answered::Failed { problem })
            }
        }
    }

    /// Tries the next slice of counters of the challenge named `nonce`, timing it
    /// with `clock` (milliseconds), and sizes the following slice so that it
    /// takes about `SLICE_TARGET_MS`. A challenge that went stale is dropped
    /// unsolved rather than worked on for a solution nobody could use.
    pub fn step(&mut self, nonce: &str, mut clock: impl FnMut() -> f64) -> Stepped {
        let Work::Solving { challenge, next, slice, since_ms } = &mut self.work else {
            return Stepped::Stopped;
        };
        if challenge.parameters.nonce != nonce {
            return Stepped::Stopped;
        }
        let began = clock();
        if began - *since_ms > FRESH_MS {
            self.work = Work::Idle;
            return Stepped::Stale;
        }
        let counters = slice_range(*next, *slice);
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
                let problem = Say::RobotCheckUnavailable;
                self.work = Work::Failed { problem };
                Stepped::Failed(problem)
            }
            None => {
                *slice = next_slice(*slice, ended - began, challenge.parameters.cost);
                *next = counters.end;
                Stepped::Continue
            }
        }
    }

    /// The solution to send with a booking, while it is fresh. A stale one, or
    /// a stale challenge still being solved, is forgotten, so that `start` asks
    /// for a new one.
    pub fn ready(&mut self, now_ms: f64) -> Option<Proof> {
        self.drop_stale(now_ms);
        match &self.work {
            Work::Ready { proof, .. } => Some(proof.clone()),
            _ => None,
        }
    }

    /// What a booking that waits for the check should do: go out with a fresh
    /// solution, or else make sure a fresh challenge is on its way (asking with
    /// `request_id` when none is), so that the wait always has an end.
    pub fn for_booking(&mut self, now_ms: f64, request_id: String) -> ForBooking {
        if let Some(proof) = self.ready(now_ms) {
            return ForBooking::Send(proof);
        }
        match self.start(now_ms, request_id) {
            Some(challenge) => ForBooking::Ask(challenge),
            None => ForBooking::Wait,
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

    /// Forgets a challenge, solved or not, that arrived more than `FRESH_MS`
    /// ago: its solution would be refused, or would come too late to use.
    fn drop_stale(&mut self, now_ms: f64) {
        let (Work::Solving { since_ms, .. } | Work::Ready { since_ms, .. }) = self.work else { return };
        if now_ms - since_ms > FRESH_MS {
            self.work = Work::Idle;
        }
    }
}

/// The counters of a slice of `len` starting at `next`, stopping at the last one.
fn slice_range(next: u32, len: u32) -> Range<u32> {
    next..next.saturating_add(len.max(1))
}

/// The counters that come to `hashes` hashes at `cost` hashes a counter, at
/// least one.
fn counters_for(hashes: u32, cost: u32) -> u32 {
    (hashes / cost.max(1)).max(1)
}

/// How many counters the first slice of a challenge of `cost` tries.
pub fn first_slice(cost: u32) -> u32 {
    counters_for(FIRST_SLICE_HASHES, cost)
}

/// How many counters the next slice should try, given that `slice` of them took
/// `took_ms` at `cost` hashes a counter: scaled towards `SLICE_TARGET_MS`, at
/// most doubling at once so that one coarse clock reading cannot make a slice
/// freeze the page, and never more than `MOST_HASHES_PER_SLICE` hashes.
pub fn next_slice(slice: u32, took_ms: f64, cost: u32) -> u32 {
    let wanted = if took_ms <= 0.0 {
        f64::from(slice) * 2.0
    } else {
        (f64::from(slice) * SLICE_TARGET_MS / took_ms).min(f64::from(slice) * 2.0)
    };
    (wanted as u32).clamp(1, counters_for(MOST_HASHES_PER_SLICE, cost))
}

#[cfg(test)]
mod tests;
