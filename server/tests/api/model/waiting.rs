//! The waitlist's part of the reference model: its steps, its entries, and
//! the rule every freed slot follows: it is held for the first entry (in the
//! order of joining) of its doctor that is waiting, whose window has the
//! slot's local start, that has no live offer and was never offered this
//! slot; only a slot that could still be booked is offered, and when no entry
//! matches it turns free.

use std::collections::BTreeSet;

use chrono::{DateTime, Days, Duration, NaiveDate, NaiveTime, Utc};
use proptest::prelude::*;
use protocol::{BookingFailure, DoctorId, Patient, WaitStatus, WaitWindow};

use super::rules::{Cell, Model, NOTICE};

/// How long an offer lasts, in seconds: longer than a hold, so that a clock
/// run past the holds' end leaves offers standing.
pub(super) const OFFER: i64 = 300;

/// The doctors a patient may wait for, and one that does not exist.
pub(super) const DOCTORS: [&str; 3] = ["a", "b", "nobody"];

/// One waitlist step. Entry numbers are taken modulo the entries joined, with
/// one number past the end meaning a made-up link (or id).
#[derive(Debug, Clone)]
pub(super) enum WaitOp {
    /// Joins doctor `DOCTORS[doctor]`'s waitlist, with a valid patient or not.
    Join { doctor: u8, window: WaitWindow, valid: bool },
    /// Changes an entry's window.
    Change { entry: u8, window: WaitWindow },
    /// Takes the offer to an entry, or (when `None`) to an entry that has one,
    /// so that most tries are of a live offer.
    Accept { entry: Option<u8> },
    /// Turns an offer down, picked like `Accept`'s.
    Decline { entry: Option<u8> },
    /// The patient leaves the waitlist.
    Leave { entry: u8 },
    /// Staff take an entry off the waitlist, by its id.
    Remove { entry: u8 },
    /// The clock runs past the end of every offer made before.
    RunOut,
}

/// A window around the schedule's days (`first_day` and the next): mostly
/// inside them, sometimes reaching out or out of order, with start times now
/// and then (on the half hours of the clinic's mornings, and one off them).
fn window(first_day: NaiveDate) -> impl Strategy<Value = WaitWindow> {
    // Offsets from the first day: both days, one of them, or (rarely) days
    // out of order or outside the schedule.
    let days = prop_oneof![
        6 => Just((0i64, 1i64)),
        3 => Just((0, 0)),
        3 => Just((1, 1)),
        1 => prop_oneof![Just((1, 0)), Just((-1, 0)), Just((1, 2))],
    ];
    let time = |first: u32| {
        prop_oneof![
            8 => (0..8u32).prop_map(move |n| NaiveTime::from_hms_opt(9 + (first + n) / 2, (first + n) % 2 * 30, 0)),
            1 => Just(NaiveTime::from_hms_opt(10, 15, 0)),
        ]
        .prop_map(Option::unwrap)
    };
    let at = move |offset: i64| {
        let days = Days::new(offset.unsigned_abs());
        if offset < 0 { first_day - days } else { first_day + days }
    };
    (days, prop::option::weighted(0.25, time(0)), prop::option::weighted(0.25, time(1))).prop_map(
        move |((from, to), from_time, to_time)| WaitWindow {
            from_day: at(from),
            to_day: at(to),
            from_time,
            to_time,
        },
    )
}

/// A waitlist step on a schedule whose first day is `first_day`: joins most
/// often, so that offers have somebody to go to.
pub(super) fn wait_op(first_day: NaiveDate) -> impl Strategy<Value = WaitOp> {
    let pick = || prop::option::weighted(0.3, any::<u8>());
    prop_oneof![
        9 => (prop_oneof![9 => 0..2u8, 1 => Just(2u8)], window(first_day), prop::bool::weighted(0.9))
            .prop_map(|(doctor, window, valid)| WaitOp::Join { doctor, window, valid }),
        2 => (any::<u8>(), window(first_day)).prop_map(|(entry, window)| WaitOp::Change { entry, window }),
        3 => pick().prop_map(|entry| WaitOp::Accept { entry }),
        2 => pick().prop_map(|entry| WaitOp::Decline { entry }),
        1 => any::<u8>().prop_map(|entry| WaitOp::Leave { entry }),
        1 => any::<u8>().prop_map(|entry| WaitOp::Remove { entry }),
        1 => Just(WaitOp::RunOut),
    ]
}

/// The entries whose offer is not the same in `after` as in `before` (both
/// as `Model::offers` has them): made, ended, or another.
pub(super) fn changed(
    before: &[(usize, usize, DateTime<Utc>)],
    after: &[(usize, usize, DateTime<Utc>)],
) -> BTreeSet<usize> {
    let offer =
        |offers: &[(usize, usize, DateTime<Utc>)], e: usize| offers.iter().find(|o| o.0 == e).copied();
    before.iter().chain(after).map(|o| o.0).filter(|&e| offer(before, e) != offer(after, e)).collect()
}

/// A waitlist entry in the model.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// Its id in the database (the order of joining).
    pub(super) id: i64,
    /// The secret of its waitlist link.
    pub(super) token: String,
    pub(super) doctor: DoctorId,
    pub(super) window: WaitWindow,
    /// Who waits, as the server keeps it.
    pub(super) patient: Patient,
    pub(super) joined_at: DateTime<Utc>,
    /// Waiting (offered or not: the cells say), booked, left or removed.
    pub(super) status: WaitStatus,
    /// Every slot ever offered to it.
    pub(super) offered: BTreeSet<usize>,
    /// Its booking (an index into the model's), once it took an offer.
    pub(super) booking: Option<usize>,
    /// How many offers to it ran out unanswered.
    pub(super) lapses: u32,
}

impl Model {
    /// Slot `slot` turns free: it is offered to the first entry waiting for
    /// it, or left free.
    pub(super) fn free(&mut self, slot: usize) {
        self.cells[slot] = Cell::Free;
        if let Some(entry) = self.first_waiting(slot) {
            self.entries[entry].offered.insert(slot);
            // An offer ends when the slot could no longer be booked, at the latest.
            let until =
                (self.now + Duration::seconds(OFFER)).min(self.starts[slot] - Duration::minutes(NOTICE));
            self.cells[slot] = Cell::Offered { entry, until };
        }
    }

    /// The entry a slot turning free now goes to, if any.
    pub(super) fn first_waiting(&self, slot: usize) -> Option<usize> {
        if self.starts[slot] <= self.now + Duration::minutes(NOTICE) {
            return None;
        }
        let (day, time) = self.locals[slot];
        (0..self.entries.len()).find(|&e| {
            let entry = &self.entries[e];
            entry.status == WaitStatus::Waiting
                && entry.doctor == self.doctors[slot]
                && entry.window.contains(day, time)
                && !entry.offered.contains(&slot)
                && self.offer_of(e).is_none()
        })
    }

    /// The slot held for entry `entry` now, and until when.
    pub(super) fn offer_of(&self, entry: usize) -> Option<(usize, DateTime<Utc>)> {
        self.cells.iter().enumerate().find_map(|(slot, cell)| match *cell {
            Cell::Offered { entry: e, until } if e == entry => Some((slot, until)),
            _ => None,
        })
    }

    /// Every live offer, by entry: the slot and the offer's end.
    pub(super) fn offers(&self) -> Vec<(usize, usize, DateTime<Utc>)> {
        let offers = self.cells.iter().enumerate().filter_map(|(slot, cell)| match *cell {
            Cell::Offered { entry, until } => Some((entry, slot, until)),
            _ => None,
        });
        let mut offers: Vec<_> = offers.collect();
        offers.sort();
        offers
    }

    /// An entry by number, or `None` for the number past the end.
    pub(super) fn entry_at(&self, n: u8) -> Option<usize> {
        let n = usize::from(n) % (self.entries.len() + 1);
        (n < self.entries.len()).then_some(n)
    }

    /// The entry picked by `pick`, or the first with a live offer when none is
    /// picked (else the first entry, if any).
    pub(super) fn entry_or_offered(&self, pick: Option<u8>) -> Option<usize> {
        match pick {
            Some(n) => self.entry_at(n),
            None => self.offers().first().map(|&(entry, ..)| entry).or(self.entry_at(0)),
        }
    }

    /// Why a patient may not wait with `window`: out of order, or reaching
    /// outside the schedule's days.
    pub(super) fn window_refusal(&self, window: &WaitWindow) -> Option<BookingFailure> {
        let last = self.first_day + Days::new(1);
        let inside = self.first_day <= window.from_day && window.to_day <= last;
        (!window.is_valid() || !inside).then_some(BookingFailure::InvalidWindow)
    }

    /// Why joining doctor `doctor`'s waitlist is refused, if it is.
    pub(super) fn join_refusal(
        &self,
        doctor: &str,
        window: &WaitWindow,
        valid: bool,
    ) -> Option<BookingFailure> {
        if !DOCTORS[..2].contains(&doctor) {
            return Some(BookingFailure::NotFound);
        }
        if !valid {
            return Some(BookingFailure::InvalidPatient);
        }
        self.window_refusal(window)
    }

    /// Where entry `entry` stands among those waiting for its doctor (1 is
    /// next), while it waits.
    pub(super) fn place(&self, entry: usize) -> Option<u32> {
        let this = &self.entries[entry];
        let waiting = |e: &&Entry| e.status == WaitStatus::Waiting && e.doctor == this.doctor;
        let ahead = self.entries[..=entry].iter().filter(waiting).count();
        (this.status == WaitStatus::Waiting).then(|| u32::try_from(ahead).unwrap())
    }

    /// Takes entry `entry` off the waitlist as `status` (left, or removed by
    /// staff): only a waiting one; its live offer passes on.
    pub(super) fn end_waiting(&mut self, entry: usize, status: WaitStatus) -> Result<(), BookingFailure> {
        if self.entries[entry].status != WaitStatus::Waiting {
            return Err(BookingFailure::WrongState);
        }
        self.entries[entry].status = status;
        if let Some((slot, _)) = self.offer_of(entry) {
            self.free(slot);
        }
        Ok(())
    }

    /// Turns down entry `entry`'s live offer: it passes on.
    pub(super) fn decline(&mut self, entry: usize) -> Result<(), BookingFailure> {
        let (slot, _) = self.offer_of(entry).ok_or(BookingFailure::NoOffer)?;
        self.free(slot);
        Ok(())
    }

    /// The slot entry `entry` may take now, or why it may not.
    pub(super) fn acceptable(&self, entry: usize) -> Result<usize, BookingFailure> {
        let (slot, _) = self.offer_of(entry).ok_or(BookingFailure::NoOffer)?;
        if self.starts[slot] <= self.now {
            return Err(BookingFailure::Past);
        }
        Ok(slot)
    }

    /// Changes a waiting entry's window; a live offer stays.
    pub(super) fn change(&mut self, entry: usize, window: WaitWindow) -> Result<(), BookingFailure> {
        if let Some(reason) = self.window_refusal(&window) {
            return Err(reason);
        }
        if self.entries[entry].status != WaitStatus::Waiting {
            return Err(BookingFailure::WrongState);
        }
        self.entries[entry].window = window;
        Ok(())
    }

    /// The clock moves on by `seconds`: every hold and offer that ended by
    /// then ends, in the order of the schedule, each slot turning free or
    /// going to the waitlist.
    pub(super) fn pass(&mut self, seconds: i64) {
        self.now += Duration::seconds(seconds);
        for slot in 0..self.cells.len() {
            if self.cells[slot].held_until().is_some_and(|until| until <= self.now) {
                // An offer that ran out counts against its entry; at the
                // second, the entry lapses.
                if let Cell::Offered { entry, .. } = self.cells[slot] {
                    let entry = &mut self.entries[entry];
                    entry.lapses += 1;
                    if entry.lapses >= 2 && entry.status == WaitStatus::Waiting {
                        entry.status = WaitStatus::Lapsed;
                    }
                }
                self.free(slot);
            }
        }
    }

    /// A reset: every slot free, every booking cancelled, every waiting entry
    /// taken off the waitlist.
    pub(super) fn reset(&mut self) {
        self.cells.fill(Cell::Free);
        self.bookings.iter_mut().for_each(|b| b.active = false);
        self.answers.clear();
        for entry in &mut self.entries {
            if entry.status == WaitStatus::Waiting {
                entry.status = WaitStatus::Removed;
            }
        }
    }
}
