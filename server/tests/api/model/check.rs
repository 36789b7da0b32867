//! Everything that must agree after a step: the schedule as the broadcasts
//! rebuild it, the engine's snapshot, the database and the model; staff's
//! bookings and waitlist; who each held slot is held for; and that nothing
//! public tells anything of the waitlist.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use protocol::{Applied, ServerMessage, SlotStatus, Version, WaitStatus, WaitlistEntry};
use server::store::{OFFER_HOLDER, Store, StoredState, offer_holder};

use super::rules::{Cell, Model};
use super::wait_steps::WAITING_NAME;
use super::{Rig, test_now};

impl Rig {
    /// Checks everything after a step; returns the version. `touched` are the
    /// entries whose offer the step made or ended, whose watchers must have
    /// been told (`None` when the step does not say).
    pub(super) async fn check(&mut self, model: &Model, touched: Option<&BTreeSet<usize>>) -> Version {
        // A round trip through the engine: every command sent before is done.
        let (version, staff) = self.engine.staff_state().await.unwrap();
        // The last entry each watcher was told of in the step, by entry id.
        let mut told: BTreeMap<i64, WaitlistEntry> = BTreeMap::new();
        while let Ok(broadcast) = self.updates.try_recv() {
            self.private(model, broadcast.frame.as_str(), "a broadcast");
            for (id, frame) in broadcast.waiting.iter().flat_map(|w| w.iter()) {
                match serde_json::from_str(frame.as_str()).unwrap() {
                    ServerMessage::Waitlist { request_id: None, entry } => told.insert(*id, entry),
                    other => panic!("a watcher of entry {id} was sent {other:?}"),
                };
            }
            let message: ServerMessage = serde_json::from_str(broadcast.frame.as_str()).unwrap();
            match self.replica.apply(message) {
                Applied::Changed(_) | Applied::Replaced => {}
                other => panic!("a broadcast out of order: {other:?}"),
            }
        }
        let snapshot = self.engine.snapshot();
        self.private(model, snapshot.frame().as_str(), "the snapshot");
        let statuses: Vec<_> = snapshot.schedule().slots.iter().map(|s| (s.status, s.held_until)).collect();
        let replica = self.replica.schedule().expect("a schedule");
        let rebuilt: Vec<_> = replica.slots.iter().map(|s| (s.status, s.held_until)).collect();
        assert_eq!(statuses, model.statuses(), "the engine's snapshot against the model");
        assert_eq!(rebuilt, statuses, "the schedule rebuilt from broadcasts against the snapshot");
        assert_eq!((replica.version, snapshot.version()), (version, version));
        let staff: BTreeSet<(usize, String)> = staff
            .into_iter()
            .map(|b| (self.ids.iter().position(|id| *id == b.slot_id).unwrap(), b.code))
            .collect();
        assert_eq!(staff, model.active(), "staff's bookings against the model");
        self.check_database(model, version).await;
        self.check_waitlist(model).await;
        if let Some(touched) = touched {
            // An offer that ended with its entry off the line moves everyone
            // behind it in the doctor's line up a place: they are told too.
            let ended = |e: usize| !matches!(model.entries[e].status, WaitStatus::Waiting);
            let behind = |f: usize| {
                touched.iter().any(|&e| {
                    let (gone, next) = (&model.entries[e], &model.entries[f]);
                    ended(e) && !ended(f) && next.doctor == gone.doctor && next.id > gone.id
                })
            };
            let expected: BTreeMap<i64, WaitlistEntry> = (0..model.entries.len())
                .filter(|f| touched.contains(f) || behind(*f))
                .map(|e| (model.entries[e].id, self.view(model, e)))
                .collect();
            assert_eq!(
                told, expected,
                "the watchers told of a change of their offer or place, and only they"
            );
        }
        version
    }

    /// The database: its version, one active booking per slot, each slot's
    /// state against the model's, and each hold's holder.
    async fn check_database(&self, model: &Model, version: Version) {
        let loaded = self.reader.load(test_now() - Duration::days(1)).await.unwrap();
        assert_eq!(loaded.version, version, "the database's version");
        let mut active = BTreeSet::new();
        for booking in &loaded.bookings {
            assert!(active.insert(booking.slot_id.clone()), "two active bookings of {}", booking.slot_id);
        }
        let stored: Vec<_> = loaded
            .slots
            .iter()
            .map(|s| match s.state {
                StoredState::Free => (SlotStatus::Free, None),
                StoredState::Held { expires, .. } => (SlotStatus::Held, Some(expires)),
                StoredState::Booked => (SlotStatus::Booked, None),
                StoredState::Blocked => (SlotStatus::Blocked, None),
            })
            .collect();
        assert_eq!(stored, model.statuses(), "the database against the model");
        for (slot, (stored, cell)) in loaded.slots.iter().zip(&model.cells).enumerate() {
            let StoredState::Held { holder, .. } = &stored.state else { continue };
            let right = match *cell {
                Cell::Offered { entry, .. } => *holder == offer_holder(model.entries[entry].id),
                Cell::Held { conn, .. } => {
                    holder.ends_with(&format!("/{conn}")) && !holder.starts_with(OFFER_HOLDER)
                }
                _ => false,
            };
            assert!(right, "slot {slot} is held by {holder} in the database, the model says {cell:?}");
        }
    }

    /// The waitlist as staff see it: every waiting entry, each live offer
    /// with the first entry (in the order of joining) eligible for the slot
    /// when it turned free, at most one per slot and per entry.
    async fn check_waitlist(&self, model: &Model) {
        let staff = self.engine.staff_waitlist().await.unwrap();
        let mut entries = BTreeSet::new();
        let mut slots = BTreeSet::new();
        for waiting in &staff {
            assert!(entries.insert(waiting.id), "entry {} has two live offers", waiting.id);
            let Some(slot) = &waiting.offered_slot else { continue };
            assert!(slots.insert(slot.clone()), "slot {slot} is offered twice");
            let at = self.ids.iter().position(|id| id == slot).unwrap();
            let first = match model.cells[at] {
                Cell::Offered { entry, .. } => Some(u64::try_from(model.entries[entry].id).unwrap()),
                _ => None,
            };
            assert_eq!(
                Some(waiting.id),
                first,
                "slot {slot} is offered to entry {}; the first eligible one was {first:?}",
                waiting.id
            );
        }
        assert_eq!(staff, self.staff_waitlist(model), "staff's waitlist against the model");
    }

    /// Asserts that `frame`, which everyone may see, tells nothing of the
    /// waitlist: no waiting patient, no offer's holder, no link.
    fn private(&self, model: &Model, frame: &str, what: &str) {
        assert!(!frame.contains(WAITING_NAME), "{what} names a waiting patient: {frame}");
        assert!(!frame.contains(OFFER_HOLDER), "{what} tells who a slot is held for: {frame}");
        for entry in &model.entries {
            assert!(!frame.contains(&entry.token), "{what} shows a waitlist link: {frame}");
            assert!(!frame.contains(&entry.patient.phone), "{what} shows a waiting patient's phone");
        }
        for key in ["\"window\"", "\"offer\"", "\"place\"", "\"waitlist\""] {
            assert!(!frame.contains(key), "{what} carries a waitlist's {key}: {frame}");
        }
    }
}
