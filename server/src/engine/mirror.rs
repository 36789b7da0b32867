//! The engine's picture of the schedule as plain data: each slot's state, the
//! active bookings with their patients, which of this engine's connections
//! holds what, and how often each has extended its hold. No input or output
//! here (`sync` keeps it in step with the database), so it is tested on its
//! own.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use protocol::{Clinic, Doctor, Slot, SlotId, SlotStatus, StaffBooking, Version};

use super::ConnId;
use crate::secret;
use crate::store::StoredBooking;

/// The parts of the schedule that change only when it is reloaded: the clinic,
/// the doctors and the slots (whose `status` here is not used).
#[derive(Debug)]
pub(super) struct Base {
    pub(super) clinic: Clinic,
    pub(super) doctors: Vec<Doctor>,
    pub(super) slots: Vec<Slot>,
}

/// What holds a slot, in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Free,
    /// Held until `until`, by one of this engine's connections or, when `by` is
    /// `None`, by a connection of another instance (or of an earlier run), or
    /// for the waitlist entry `offer` (an offer belongs to no connection).
    Held {
        by: Option<ConnId>,
        until: DateTime<Utc>,
        offer: Option<i64>,
    },
    Booked,
    Blocked,
}

impl State {
    fn status(self) -> SlotStatus {
        match self {
            Self::Free => SlotStatus::Free,
            Self::Held { .. } => SlotStatus::Held,
            Self::Booked => SlotStatus::Booked,
            Self::Blocked => SlotStatus::Blocked,
        }
    }

    /// The waitlist entry the slot is offered to, if it is.
    pub(super) fn offer(self) -> Option<i64> {
        match self {
            Self::Held { offer, .. } => offer,
            _ => None,
        }
    }

    /// When a hold ends, for a held slot.
    pub(super) fn held_until(self) -> Option<DateTime<Utc>> {
        match self {
            Self::Held { until, .. } => Some(until),
            _ => None,
        }
    }
}

/// An active booking, in memory, for staff.
#[derive(Debug, Clone)]
pub(super) struct Active {
    pub(super) id: i64,
    pub(super) staff: StaffBooking,
}

impl From<StoredBooking> for Active {
    fn from(b: StoredBooking) -> Self {
        let staff = StaffBooking {
            slot_id: b.slot_id,
            code: b.code,
            patient: b.patient,
            booked_at: b.booked_at,
            no_show: b.no_show,
        };
        Self { id: b.id, staff }
    }
}

/// The schedule at `version`, as this engine knows it.
#[derive(Debug)]
pub(super) struct Mirror {
    pub(super) base: Arc<Base>,
    pub(super) version: Version,
    states: Vec<State>,
    index: HashMap<SlotId, usize>,
    active: HashMap<usize, Active>,
    /// The slots of the active bookings of each phone number (by its digits).
    phones: HashMap<String, Vec<usize>>,
    /// The slot each of this engine's connections holds.
    holds: HashMap<ConnId, usize>,
    /// How many times each of those connections extended its current hold;
    /// forgotten when that hold ends, so a new hold starts with none.
    extensions: HashMap<ConnId, u32>,
}

impl Mirror {
    pub(super) fn new(base: Arc<Base>) -> Self {
        Self {
            base,
            version: 0,
            states: Vec::new(),
            index: HashMap::new(),
            active: HashMap::new(),
            phones: HashMap::new(),
            holds: HashMap::new(),
            extensions: HashMap::new(),
        }
    }

    /// A mirror of `base`'s slots in these states (one per slot), at `version`,
    /// with no active bookings yet (`insert_active` adds them).
    pub(super) fn load(base: Arc<Base>, states: Vec<State>, version: Version) -> Self {
        let mut mirror = Self::new(base);
        mirror.index = mirror.base.slots.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        mirror.states = vec![State::Free; states.len()];
        for (at, state) in states.into_iter().enumerate() {
            mirror.set(at, state, None);
        }
        mirror.version = version;
        mirror
    }

    /// How many active bookings of slots starting after `now` the phone number
    /// with these digits has.
    pub(super) fn upcoming_bookings(&self, phone: &str, now: DateTime<Utc>) -> usize {
        self.phones.get(phone).map_or(0, |slots| slots.iter().filter(|&&at| self.start(at) > now).count())
    }

    /// Records the active booking of the slot at `at`.
    pub(super) fn insert_active(&mut self, at: usize, active: Active) {
        self.remove_active(at);
        self.phones.entry(secret::phone_digits(&active.staff.patient.phone)).or_default().push(at);
        self.active.insert(at, active);
    }

    /// Forgets the active booking of the slot at `at`, if it has one.
    fn remove_active(&mut self, at: usize) {
        let Some(active) = self.active.remove(&at) else { return };
        let phone = secret::phone_digits(&active.staff.patient.phone);
        if let Some(slots) = self.phones.get_mut(&phone) {
            slots.retain(|&s| s != at);
            if slots.is_empty() {
                self.phones.remove(&phone);
            }
        }
    }

    /// The position of a slot.
    pub(super) fn at(&self, id: &SlotId) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub(super) fn state(&self, at: usize) -> State {
        self.states[at]
    }

    /// The id of the slot at `at`.
    pub(super) fn id(&self, at: usize) -> &SlotId {
        &self.base.slots[at].id
    }

    /// The slot at `at` with its current status.
    pub(super) fn slot(&self, at: usize) -> Slot {
        let state = self.states[at];
        Slot { status: state.status(), held_until: state.held_until(), ..self.base.slots[at].clone() }
    }

    pub(super) fn start(&self, at: usize) -> DateTime<Utc> {
        self.base.slots[at].start
    }

    /// The active booking of the slot at `at`, as staff see it.
    pub(super) fn booking(&self, at: usize) -> Option<&StaffBooking> {
        self.active.get(&at).map(|a| &a.staff)
    }

    /// The row id of the active booking of the slot at `at`.
    pub(super) fn booking_id(&self, at: usize) -> Option<i64> {
        self.active.get(&at).map(|a| a.id)
    }

    pub(super) fn statuses(&self) -> Vec<SlotStatus> {
        self.states.iter().map(|s| s.status()).collect()
    }

    /// When each held slot's hold ends, by position, in order.
    pub(super) fn held_until(&self) -> Vec<(usize, DateTime<Utc>)> {
        self.held().into_iter().map(|(at, _, until)| (at, until)).collect()
    }

    /// The slot `conn` holds, when it is `id`.
    pub(super) fn held_by(&self, id: &SlotId, conn: ConnId) -> Option<usize> {
        self.at(id).filter(|&at| matches!(self.states[at], State::Held { by: Some(by), .. } if by == conn))
    }

    /// The slot `conn` holds.
    pub(super) fn hold_of(&self, conn: ConnId) -> Option<usize> {
        self.holds.get(&conn).copied()
    }

    /// How many times `conn` has extended the hold it has now.
    pub(super) fn extensions_of(&self, conn: ConnId) -> u32 {
        self.extensions.get(&conn).copied().unwrap_or(0)
    }

    /// `conn` extended the hold it has now once more.
    pub(super) fn extended(&mut self, conn: ConnId) {
        if self.holds.contains_key(&conn) {
            *self.extensions.entry(conn).or_default() += 1;
        }
    }

    /// Takes over from `earlier` (the mirror this one replaces) the extensions
    /// of the connections that still hold the same slot.
    pub(super) fn keep_extensions(&mut self, earlier: &Mirror) {
        for (&conn, &count) in &earlier.extensions {
            let same = match (earlier.hold_of(conn), self.hold_of(conn)) {
                (Some(before), Some(now)) => earlier.id(before) == self.id(now),
                _ => false,
            };
            if same {
                self.extensions.insert(conn, count);
            }
        }
    }

    /// Every held slot with its holder and end.
    pub(super) fn held(&self) -> Vec<(usize, Option<ConnId>, DateTime<Utc>)> {
        self.states
            .iter()
            .enumerate()
            .filter_map(|(at, s)| match *s {
                State::Held { by, until, .. } => Some((at, by, until)),
                _ => None,
            })
            .collect()
    }

    /// Every active booking with its patient, in schedule order.
    pub(super) fn staff_bookings(&self) -> Vec<StaffBooking> {
        let mut bookings: Vec<(usize, &Active)> = self.active.iter().map(|(&at, a)| (at, a)).collect();
        bookings.sort_by_key(|(at, _)| *at);
        bookings.into_iter().map(|(_, a)| a.staff.clone()).collect()
    }

    /// Puts the slot at `at` into `state`, with `booking` when it is booked. A
    /// hold by the connection that held the slot already is the same hold,
    /// extended: its extensions count on.
    pub(super) fn set(&mut self, at: usize, state: State, booking: Option<Active>) {
        let extension = matches!(
            (self.states[at], state),
            (State::Held { by: Some(before), .. }, State::Held { by: Some(after), .. }) if before == after
        );
        if let State::Held { by: Some(by), .. } = self.states[at]
            && self.holds.get(&by) == Some(&at)
        {
            self.holds.remove(&by);
            if !extension {
                self.extensions.remove(&by);
            }
        }
        if let State::Held { by: Some(by), .. } = state {
            if !extension {
                self.extensions.remove(&by);
            }
            self.holds.insert(by, at);
        }
        self.states[at] = state;
        match booking {
            Some(active) if state == State::Booked => self.insert_active(at, active),
            _ => self.remove_active(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use protocol::{DoctorId, Patient};

    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(minutes)
    }

    /// Three slots, at minutes 10, 20 and 30, all free.
    fn mirror() -> Mirror {
        let slots = (1..=3)
            .map(|i| Slot {
                id: SlotId(format!("s{i}")),
                doctor_id: DoctorId("d".into()),
                start: at(10 * i),
                end: at(10 * i + 10),
                status: SlotStatus::Free,
                held_until: None,
            })
            .collect();
        let clinic = Clinic {
            name: "C".into(),
            time_zone: "UTC".into(),
            min_notice_minutes: 0,
            hold_seconds: 60,
            hold_extensions: 2,
            offer_seconds: 600,
            default_language: "en".into(),
            names: Default::default(),
        };
        let base = Arc::new(Base { clinic, doctors: Vec::new(), slots });
        Mirror::load(base, vec![State::Free; 3], 7)
    }

    fn booking(id: i64, slot: &str, phone: &str) -> Active {
        Active::from(StoredBooking {
            id,
            slot_id: SlotId(slot.into()),
            code: format!("CODE-{id}"),
            patient: Patient { name: "A".into(), phone: phone.into() },
            booked_at: at(0),
            active: true,
            sequence: 0,
            no_show: false,
        })
    }

    #[test]
    fn a_loaded_mirror_finds_its_slots_by_id_at_its_version() {
        let mirror = mirror();
        assert_eq!(mirror.version, 7);
        assert_eq!(mirror.at(&SlotId("s2".into())), Some(1));
        assert_eq!(mirror.at(&SlotId("nope".into())), None);
        assert_eq!(mirror.statuses(), vec![SlotStatus::Free; 3]);
    }

    #[test]
    fn a_connection_holds_one_slot_and_lets_go_of_it_when_the_slot_changes() {
        let mut mirror = mirror();
        mirror.set(0, State::Held { by: Some(5), until: at(1), offer: None }, None);
        assert_eq!(mirror.hold_of(5), Some(0));
        assert_eq!(mirror.held_by(&SlotId("s1".into()), 5), Some(0));
        assert_eq!(mirror.held_by(&SlotId("s1".into()), 6), None);
        assert_eq!(mirror.held(), vec![(0, Some(5), at(1))]);
        mirror.set(0, State::Booked, Some(booking(1, "s1", "+7 900 000-00-01")));
        assert_eq!(mirror.hold_of(5), None, "a booking ends the hold");
        assert!(mirror.held().is_empty());
    }

    #[test]
    fn extensions_count_for_the_hold_they_extend_and_end_with_it() {
        let mut mirror = mirror();
        mirror.set(0, State::Held { by: Some(5), until: at(1), offer: None }, None);
        assert_eq!(mirror.slot(0).held_until, Some(at(1)));
        mirror.set(0, State::Held { by: Some(5), until: at(2), offer: None }, None);
        mirror.extended(5);
        assert_eq!((mirror.extensions_of(5), mirror.slot(0).held_until), (1, Some(at(2))));
        assert_eq!(mirror.held_until(), vec![(0, at(2))]);

        // A reload keeps the count of a hold that is still there.
        let mut reloaded = Mirror::load(mirror.base.clone(), vec![State::Free; 3], 8);
        reloaded.set(0, State::Held { by: Some(5), until: at(2), offer: None }, None);
        reloaded.keep_extensions(&mirror);
        assert_eq!(reloaded.extensions_of(5), 1);

        // Its end forgets it, and a new hold of the same connection starts afresh.
        mirror.set(0, State::Free, None);
        assert_eq!((mirror.extensions_of(5), mirror.slot(0).held_until), (0, None));
        mirror.set(1, State::Held { by: Some(5), until: at(3), offer: None }, None);
        mirror.extended(5);
        mirror.set(2, State::Held { by: Some(5), until: at(3), offer: None }, None);
        assert_eq!(mirror.extensions_of(5), 0, "another slot is another hold");
        mirror.extended(6);
        assert_eq!(mirror.extensions_of(6), 0, "only a connection that holds a slot extends");
    }

    #[test]
    fn upcoming_bookings_are_counted_per_phone_digits_and_only_after_now() {
        let mut mirror = mirror();
        mirror.set(0, State::Booked, Some(booking(1, "s1", "+7 900 000-00-01")));
        mirror.set(2, State::Booked, Some(booking(2, "s3", "7 (900) 0000001")));
        let phone = secret::phone_digits("+79000000001");
        assert_eq!(mirror.upcoming_bookings(&phone, at(0)), 2);
        assert_eq!(mirror.upcoming_bookings(&phone, at(15)), 1, "the first has started");
        mirror.set(2, State::Free, None);
        assert_eq!(mirror.upcoming_bookings(&phone, at(0)), 1, "a cancelled one no longer counts");
        assert_eq!(mirror.staff_bookings().len(), 1);
        assert_eq!(mirror.booking_id(0), Some(1));
        assert_eq!(mirror.booking(2), None);
    }
}
