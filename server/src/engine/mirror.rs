//! The engine's picture of the schedule, and the one way it changes: by applying
//! committed changes in version order, whether this engine made them or another
//! instance did, or by reading the whole schedule again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use protocol::{Clinic, Doctor, Slot, SlotId, SlotStatus, StaffBooking, Version};

use super::{ConnId, Engine};
use crate::store::{Change, Changed, Store, StoredBooking, StoredSlot, StoredState};
use crate::{Result, secret};

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
    /// `None`, by a connection of another instance (or of an earlier run).
    Held {
        by: Option<ConnId>,
        until: DateTime<Utc>,
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
}

/// An active booking, in memory, for staff.
#[derive(Debug, Clone)]
pub(super) struct Active {
    pub(super) id: i64,
    pub(super) staff: StaffBooking,
}

impl From<StoredBooking> for Active {
    fn from(b: StoredBooking) -> Self {
        let staff =
            StaffBooking { slot_id: b.slot_id, code: b.code, patient: b.patient, booked_at: b.booked_at };
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
        }
    }

    /// How many active bookings of slots starting after `now` the phone number
    /// with these digits has.
    pub(super) fn upcoming_bookings(&self, phone: &str, now: DateTime<Utc>) -> usize {
        self.phones.get(phone).map_or(0, |slots| slots.iter().filter(|&&at| self.start(at) > now).count())
    }

    /// Records the active booking of the slot at `at`.
    fn insert_active(&mut self, at: usize, active: Active) {
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
        Slot { status: self.states[at].status(), ..self.base.slots[at].clone() }
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

    /// The slot `conn` holds, when it is `id`.
    pub(super) fn held_by(&self, id: &SlotId, conn: ConnId) -> Option<usize> {
        self.at(id).filter(|&at| matches!(self.states[at], State::Held { by: Some(by), .. } if by == conn))
    }

    /// The slot `conn` holds.
    pub(super) fn hold_of(&self, conn: ConnId) -> Option<usize> {
        self.holds.get(&conn).copied()
    }

    /// Every held slot with its holder and end.
    pub(super) fn held(&self) -> Vec<(usize, Option<ConnId>, DateTime<Utc>)> {
        self.states
            .iter()
            .enumerate()
            .filter_map(|(at, s)| match *s {
                State::Held { by, until } => Some((at, by, until)),
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

    /// Puts the slot at `at` into `state`, with `booking` when it is booked.
    fn set(&mut self, at: usize, state: State, booking: Option<Active>) {
        if let State::Held { by: Some(by), .. } = self.states[at]
            && self.holds.get(&by) == Some(&at)
        {
            self.holds.remove(&by);
        }
        if let State::Held { by: Some(by), .. } = state {
            self.holds.insert(by, at);
        }
        self.states[at] = state;
        match booking {
            Some(active) if state == State::Booked => self.insert_active(at, active),
            _ => self.remove_active(at),
        }
    }
}

impl<S: Store> Engine<S> {
    /// The in-memory state of a stored one.
    fn state_of(&self, stored: StoredState) -> State {
        match stored {
            StoredState::Free => State::Free,
            StoredState::Booked => State::Booked,
            StoredState::Blocked => State::Blocked,
            StoredState::Held { holder, expires } => {
                State::Held { by: self.own_holder(&holder), until: expires }
            }
        }
    }

    /// Applies changes this engine committed itself, first catching up with the
    /// changes other instances committed before them, so that everything is
    /// published in version order without a gap.
    pub(super) async fn advance(&mut self, changes: Vec<Change>) -> Result<()> {
        let mut run: Vec<Change> = Vec::new();
        for change in changes {
            let next = run.last().map_or(self.mirror.version, |c| c.version) + 1;
            if change.version > next {
                self.apply(std::mem::take(&mut run)).await?;
                self.catch_up(Some(change.version - 1)).await?;
            }
            run.push(change);
        }
        self.apply(run).await
    }

    /// Applies the changes committed after the version held, up to `upto` (all,
    /// when `None`), reading them from the store's log; reloads the whole
    /// schedule when the log no longer has them.
    pub(super) async fn catch_up(&mut self, upto: Option<Version>) -> Result<()> {
        if upto.is_some_and(|u| u <= self.mirror.version) {
            return Ok(());
        }
        match self.store.changes_since(self.mirror.version, upto).await? {
            Some(changes) => self.apply(changes).await,
            None => {
                tracing::info!(from = self.mirror.version, "the change log does not reach back; reloading");
                self.reload_and_announce().await
            }
        }
    }

    /// Applies committed changes in order, skipping those already applied, then
    /// publishes the new snapshot and an `update` per change.
    async fn apply(&mut self, changes: Vec<Change>) -> Result<()> {
        let mut updates = Vec::new();
        for change in changes {
            if change.version <= self.mirror.version {
                continue;
            }
            let Changed::Slot { id, state, booking } = change.what else {
                self.publish(std::mem::take(&mut updates));
                self.reload_and_announce().await?;
                continue;
            };
            let Some(at) = self.mirror.at(&id) else {
                // A slot outside this engine's days (another instance's clock is
                // a day ahead, say): the whole schedule tells it best.
                self.publish(std::mem::take(&mut updates));
                self.reload_and_announce().await?;
                continue;
            };
            let state = self.state_of(state);
            self.mirror.set(at, state, booking.map(Active::from));
            self.mirror.version = change.version;
            updates.push((change.version, self.mirror.slot(at), self.mirror.booking(at).cloned()));
        }
        self.publish(updates);
        Ok(())
    }

    /// Publishes the snapshot, then each update: a connection that subscribes from
    /// now on starts from the snapshot and skips the updates it already includes.
    fn publish(&mut self, updates: Vec<(Version, Slot, Option<StaffBooking>)>) {
        if updates.is_empty() {
            return;
        }
        self.publish_snapshot();
        for (version, slot, booking) in updates {
            tracing::debug!(slot = %slot.id, status = ?slot.status, version, "changed");
            self.announce(version, slot, booking);
        }
    }

    /// Replaces the in-memory schedule with the store's: the configured slots,
    /// and every booked slot even when the configuration no longer has it, less
    /// the configured slots that would overlap a booking of the same doctor.
    pub(super) async fn reload(&mut self) -> Result<()> {
        let loaded = self.store.load(self.config.day_start(self.first_day)).await?;
        let wanted: HashSet<SlotId> =
            self.config.slots_from(self.first_day).into_iter().map(|s| s.id).collect();
        let booked: Vec<&StoredSlot> =
            loaded.slots.iter().filter(|s| s.state == StoredState::Booked).collect();
        let overlaps_booking = |s: &StoredSlot| {
            booked
                .iter()
                .any(|b| b.doctor_id == s.doctor_id && b.id != s.id && s.start < b.end && b.start < s.end)
        };
        let keep: Vec<bool> = loaded
            .slots
            .iter()
            .map(|s| s.state == StoredState::Booked || (wanted.contains(&s.id) && !overlaps_booking(s)))
            .collect();
        let mut states = Vec::new();
        let mut slots = Vec::new();
        for (slot, keep) in loaded.slots.into_iter().zip(keep) {
            if !keep {
                continue;
            }
            states.push(self.state_of(slot.state));
            slots.push(Slot {
                id: slot.id,
                doctor_id: slot.doctor_id,
                start: slot.start,
                end: slot.end,
                status: SlotStatus::Free,
            });
        }
        let base = Arc::new(Base {
            clinic: self.mirror.base.clinic.clone(),
            doctors: self.mirror.base.doctors.clone(),
            slots,
        });
        let mut mirror = Mirror::new(base);
        mirror.index = mirror.base.slots.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        mirror.states = vec![State::Free; states.len()];
        for (at, state) in states.into_iter().enumerate() {
            mirror.set(at, state, None);
        }
        for booking in loaded.bookings {
            if let Some(at) = mirror.at(&booking.slot_id) {
                mirror.insert_active(at, booking.into());
            }
        }
        mirror.version = loaded.version;
        self.mirror = mirror;
        self.publish_snapshot();
        Ok(())
    }

    /// Reloads, and tells everyone the whole new schedule.
    pub(super) async fn reload_and_announce(&mut self) -> Result<()> {
        self.reload().await?;
        self.announce_all();
        Ok(())
    }
}
