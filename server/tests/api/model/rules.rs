//! The reference model of the engine's rules that `model` checks the engine
//! against: the steps a run is made of, and what each slot is after them (the
//! waitlist's part of both is in `waiting`).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use proptest::prelude::*;
use protocol::{BookingFailure, DoctorId, SlotStatus};
use server::engine::BookOutcome;

use super::waiting::{Entry, WaitOp, wait_op};

pub(super) const CLIENTS: u8 = 4;
pub(super) const HOLD: i64 = 120;
pub(super) const NOTICE: i64 = 30;
/// How many times a hold may be extended.
pub(super) const EXTENSIONS: u32 = 2;

/// One step of a run. Slot and booking numbers are taken modulo what exists,
/// with one number past the end meaning "no such slot / a made-up link".
#[derive(Debug, Clone)]
pub(super) enum Op {
    Book {
        client: u8,
        slot: u8,
        valid: bool,
    },
    Retry {
        client: u8,
    },
    Hold {
        client: u8,
        slot: u8,
    },
    /// An extension of the hold of slot `slot`, or (when `None`) of the slot
    /// the client holds, so that extensions are often of a hold of its own.
    Extend {
        client: u8,
        slot: Option<u8>,
    },
    Release {
        client: u8,
        slot: u8,
    },
    Leave {
        client: u8,
    },
    Cancel {
        booking: u8,
    },
    Reschedule {
        client: u8,
        booking: u8,
        slot: u8,
    },
    Staff {
        action: u8,
        slot: u8,
    },
    Expire,
    Reset,
    /// A step of the waitlist.
    Wait(WaitOp),
}

/// A step of a run on a schedule whose first day is `first_day`.
pub(super) fn op(first_day: NaiveDate) -> impl Strategy<Value = Op> {
    let client = 0..CLIENTS;
    prop_oneof![
        6 => (client.clone(), any::<u8>(), prop::bool::weighted(0.9))
            .prop_map(|(client, slot, valid)| Op::Book { client, slot, valid }),
        1 => client.clone().prop_map(|client| Op::Retry { client }),
        5 => (client.clone(), any::<u8>()).prop_map(|(client, slot)| Op::Hold { client, slot }),
        3 => (client.clone(), prop::option::weighted(0.3, any::<u8>()))
            .prop_map(|(client, slot)| Op::Extend { client, slot }),
        2 => (client.clone(), any::<u8>()).prop_map(|(client, slot)| Op::Release { client, slot }),
        1 => client.clone().prop_map(|client| Op::Leave { client }),
        2 => any::<u8>().prop_map(|booking| Op::Cancel { booking }),
        2 => (client, any::<u8>(), any::<u8>())
            .prop_map(|(client, booking, slot)| Op::Reschedule { client, booking, slot }),
        3 => (0..4u8, any::<u8>()).prop_map(|(action, slot)| Op::Staff { action, slot }),
        1 => Just(Op::Expire),
        1 => Just(Op::Reset),
        24 => wait_op(first_day).prop_map(Op::Wait),
    ]
}

/// A slot in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cell {
    Free,
    /// Held by `conn` until `until`, extended `extended` times.
    Held {
        conn: u64,
        until: DateTime<Utc>,
        extended: u32,
    },
    /// Offered to the waitlist entry `entry` (its index in the model) until
    /// `until`: held for it alone.
    Offered {
        entry: usize,
        until: DateTime<Utc>,
    },
    Booked(usize),
    Blocked,
}

impl Cell {
    pub(super) fn status(self) -> SlotStatus {
        match self {
            Self::Free => SlotStatus::Free,
            Self::Held { .. } | Self::Offered { .. } => SlotStatus::Held,
            Self::Booked(_) => SlotStatus::Booked,
            Self::Blocked => SlotStatus::Blocked,
        }
    }

    pub(super) fn held_until(self) -> Option<DateTime<Utc>> {
        match self {
            Self::Held { until, .. } | Self::Offered { until, .. } => Some(until),
            _ => None,
        }
    }
}

/// A booking in the model.
#[derive(Debug, Clone)]
pub(super) struct Booking {
    pub(super) slot: usize,
    pub(super) active: bool,
    pub(super) token: String,
    pub(super) code: String,
}

/// What the rules say the schedule is.
#[derive(Debug, Clone)]
pub(super) struct Model {
    pub(super) now: DateTime<Utc>,
    pub(super) starts: Vec<DateTime<Utc>>,
    /// Each slot's doctor.
    pub(super) doctors: Vec<DoctorId>,
    /// Each slot's start as the clinic's local day and time of day.
    pub(super) locals: Vec<(NaiveDate, NaiveTime)>,
    /// The first day of the schedule (the clinic's today).
    pub(super) first_day: NaiveDate,
    pub(super) cells: Vec<Cell>,
    pub(super) bookings: Vec<Booking>,
    /// Answers kept for retries: request id → slot and answer.
    pub(super) answers: HashMap<String, (usize, BookOutcome)>,
    /// The waitlist, in the order of joining.
    pub(super) entries: Vec<Entry>,
}

impl Model {
    pub(super) fn refuse(&self, slot: usize, conn: u64) -> Option<BookingFailure> {
        let start = self.starts[slot];
        if start <= self.now {
            return Some(BookingFailure::Past);
        }
        if start <= self.now + Duration::minutes(NOTICE) {
            return Some(BookingFailure::TooSoon);
        }
        match self.cells[slot] {
            Cell::Free => None,
            Cell::Held { conn: c, .. } if c == conn => None,
            Cell::Held { .. } | Cell::Offered { .. } => Some(BookingFailure::Held),
            Cell::Booked(_) => Some(BookingFailure::AlreadyBooked),
            Cell::Blocked => Some(BookingFailure::Blocked),
        }
    }

    pub(super) fn hold_of(&self, conn: u64) -> Option<usize> {
        self.cells.iter().position(|c| matches!(c, Cell::Held { conn: c, .. } if *c == conn))
    }

    /// Ends `conn`'s hold, if it has one: the slot turns free, or goes to the
    /// waitlist.
    pub(super) fn end_hold_of(&mut self, conn: u64) {
        if let Some(slot) = self.hold_of(conn) {
            self.free(slot);
        }
    }

    /// Each slot's status and the end of its hold, if held.
    pub(super) fn statuses(&self) -> Vec<(SlotStatus, Option<DateTime<Utc>>)> {
        self.cells.iter().map(|c| (c.status(), c.held_until())).collect()
    }

    /// A hold of slot `slot` by `conn`, or why not: the rules of `hold`.
    pub(super) fn hold(&mut self, slot: usize, conn: u64) -> Result<DateTime<Utc>, BookingFailure> {
        match (self.refuse(slot, conn), self.cells[slot]) {
            (Some(reason), _) => Err(reason),
            (None, Cell::Held { until, .. }) => Ok(until),
            (None, _) => {
                self.end_hold_of(conn);
                let until = self.now + Duration::seconds(HOLD);
                self.cells[slot] = Cell::Held { conn, until, extended: 0 };
                Ok(until)
            }
        }
    }

    /// An extension of `conn`'s hold of slot `slot`, or why not: only its own
    /// live hold, outside the minimum notice, a few times.
    pub(super) fn extend(&mut self, slot: usize, conn: u64) -> Result<DateTime<Utc>, BookingFailure> {
        let (until, extended) = match self.cells[slot] {
            Cell::Held { conn: c, until, extended } if c == conn && until > self.now => (until, extended),
            Cell::Held { conn: c, .. } if c == conn => return Err(BookingFailure::WrongState),
            Cell::Held { .. } | Cell::Offered { .. } => return Err(BookingFailure::Held),
            Cell::Booked(_) => return Err(BookingFailure::AlreadyBooked),
            Cell::Blocked => return Err(BookingFailure::Blocked),
            Cell::Free => return Err(BookingFailure::WrongState),
        };
        if let Some(reason) = self.refuse(slot, conn) {
            return Err(reason);
        }
        if extended >= EXTENSIONS {
            return Err(BookingFailure::TooManyExtensions);
        }
        let until = until + Duration::seconds(HOLD);
        self.cells[slot] = Cell::Held { conn, until, extended: extended + 1 };
        Ok(until)
    }

    /// The active bookings as (slot, code).
    pub(super) fn active(&self) -> BTreeSet<(usize, String)> {
        self.bookings.iter().filter(|b| b.active).map(|b| (b.slot, b.code.clone())).collect()
    }
}
