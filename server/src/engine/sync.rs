//! Keeping the engine's mirror in step with the database: its own commits and
//! other instances' alike are applied in version order, from the change log,
//! or by reading the whole schedule again; then published.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use protocol::{Slot, SlotId, SlotStatus, StaffBooking, Version};

use super::Engine;
use super::mirror::{Active, Base, Mirror, State};
use crate::Result;
use crate::store::{Change, Changed, Store, StoredSlot, StoredState, offered_to};

/// One applied change, to publish.
struct Published {
    version: Version,
    slot: Slot,
    booking: Option<StaffBooking>,
    /// The waitlist entries whose offer the change made or ended.
    offers: Vec<i64>,
}

impl<S: Store> Engine<S> {
    /// The in-memory state of a stored one.
    fn state_of(&self, stored: StoredState) -> State {
        match stored {
            StoredState::Free => State::Free,
            StoredState::Booked => State::Booked,
            StoredState::Blocked => State::Blocked,
            StoredState::Held { holder, expires } => {
                State::Held { by: self.own_holder(&holder), until: expires, offer: offered_to(&holder) }
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
                self.publish(std::mem::take(&mut updates)).await;
                self.reload_and_announce().await?;
                continue;
            };
            let Some(at) = self.mirror.at(&id) else {
                // A slot outside this engine's days (another instance's clock is
                // a day ahead, say): the whole schedule tells it best.
                self.publish(std::mem::take(&mut updates)).await;
                self.reload_and_announce().await?;
                continue;
            };
            let state = self.state_of(state);
            // The waitlist entries whose offer this change makes or ends.
            let before = self.mirror.state(at).offer();
            let mut offers: Vec<i64> = before.into_iter().chain(state.offer()).collect();
            offers.dedup();
            self.mirror.set(at, state, booking.map(Active::from));
            self.mirror.version = change.version;
            updates.push(Published {
                version: change.version,
                slot: self.mirror.slot(at),
                booking: self.mirror.booking(at).cloned(),
                offers,
            });
        }
        self.publish(updates).await;
        Ok(())
    }

    /// Publishes the snapshot, then each update: a connection that subscribes from
    /// now on starts from the snapshot and skips the updates it already includes.
    async fn publish(&mut self, updates: Vec<Published>) {
        if updates.is_empty() {
            return;
        }
        self.publish_snapshot();
        // One commit's changes reach each socket in one write.
        let hub = self.hub.clone();
        let _group = hub.group();
        for Published { version, slot, booking, offers } in updates {
            tracing::debug!(slot = %slot.id, status = ?slot.status, version, "changed");
            let waiting = if offers.is_empty() { Vec::new() } else { self.waiting_frames(&offers).await };
            self.announce(version, slot, booking, &waiting);
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
                held_until: None,
            });
        }
        let base = Arc::new(Base {
            clinic: self.mirror.base.clinic.clone(),
            doctors: self.mirror.base.doctors.clone(),
            slots,
        });
        let mut mirror = Mirror::load(base, states, loaded.version);
        for booking in loaded.bookings {
            if let Some(at) = mirror.at(&booking.slot_id) {
                mirror.insert_active(at, booking.into());
            }
        }
        // A hold outlives a reload, and so does the count of its extensions.
        mirror.keep_extensions(&self.mirror);
        self.mirror = mirror;
        self.publish_snapshot();
        Ok(())
    }

    /// Reloads, and tells everyone the whole new schedule.
    pub(super) async fn reload_and_announce(&mut self) -> Result<()> {
        let before = self.offers();
        self.reload().await?;
        // The pages watching an entry whose offer the new schedule made, ended
        // or moved (a reset ends them all) hear of their entry too.
        let after = self.offers();
        let mut changed: Vec<i64> = before
            .iter()
            .filter(|(entry, offer)| after.get(entry) != Some(offer))
            .chain(after.iter().filter(|(entry, _)| !before.contains_key(entry)))
            .map(|(&entry, _)| entry)
            .collect();
        changed.sort_unstable();
        changed.dedup();
        let waiting = self.waiting_frames(&changed).await;
        self.announce_all(&waiting);
        Ok(())
    }

    /// The live offers this engine knows of: the slot and end of each, by entry.
    fn offers(&self) -> HashMap<i64, (SlotId, chrono::DateTime<chrono::Utc>)> {
        self.mirror
            .held()
            .into_iter()
            .filter_map(|(at, _, until)| {
                Some((self.mirror.state(at).offer()?, (self.mirror.id(at).clone(), until)))
            })
            .collect()
    }

    /// Catches up when the database has moved on without a word to this engine
    /// (a notification lost with its connection, unnoticed).
    pub(super) async fn sync(&mut self) -> Result<()> {
        let version = self.store.version().await?;
        if version > self.mirror.version {
            self.catch_up(Some(version)).await?;
        }
        Ok(())
    }
}
