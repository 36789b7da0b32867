//! A client's copy of the schedule, kept up to date from server messages in
//! version order. The browser page and the Rust client both follow the schedule
//! with it, so both notice missed updates the same way.

use std::collections::HashMap;

use crate::{Schedule, ServerMessage, Slot, SlotId, SlotStatus, Version};

/// The schedule as one client knows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replica {
    schedule: Option<Schedule>,
    index: HashMap<SlotId, usize>,
    /// A `hello` is on its way: further gaps are its to fill.
    resyncing: bool,
}

/// What applying one server message did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The whole schedule was replaced.
    Replaced,
    /// One slot changed.
    Changed(Slot),
    /// The server will bring this replica up to date with the updates that follow.
    Resumed,
    /// An update already applied, or one that follows a gap already reported;
    /// nothing changed.
    Stale,
    /// Updates were missed. Nothing changed; the client should send `hello` with
    /// this version (the last one it applied; 0 when it has none). Later gaps are
    /// reported as `Stale` until the answer (`resumed` or `initialState`) arrives.
    Gap(Version),
    /// Not a schedule change; the message is handed back.
    Other(ServerMessage),
}

impl Replica {
    /// The schedule, once the first `initialState` has arrived.
    pub fn schedule(&self) -> Option<&Schedule> {
        self.schedule.as_ref()
    }

    /// The version of the schedule held.
    pub fn version(&self) -> Option<Version> {
        self.schedule.as_ref().map(|s| s.version)
    }

    /// One slot by id.
    pub fn slot(&self, id: &SlotId) -> Option<&Slot> {
        let schedule = self.schedule.as_ref()?;
        self.index.get(id).map(|&i| &schedule.slots[i])
    }

    /// The slot's status, if the slot is known.
    pub fn status(&self, id: &SlotId) -> Option<SlotStatus> {
        self.slot(id).map(|s| s.status)
    }

    /// Applies one server message: an `update` only when it is the very next
    /// version.
    pub fn apply(&mut self, message: ServerMessage) -> Applied {
        match message {
            ServerMessage::InitialState(schedule) => {
                self.index = schedule.slots.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
                self.schedule = Some(schedule);
                self.resyncing = false;
                Applied::Replaced
            }
            ServerMessage::Resumed { .. } => {
                self.resyncing = false;
                Applied::Resumed
            }
            ServerMessage::Update { version, slot } => {
                let current = self.version().unwrap_or(0);
                if self.schedule.is_some() && version <= current {
                    return Applied::Stale;
                }
                if self.schedule.is_none() || version != current + 1 {
                    return if std::mem::replace(&mut self.resyncing, true) {
                        Applied::Stale
                    } else {
                        Applied::Gap(current)
                    };
                }
                let schedule = self.schedule.as_mut().expect("checked above");
                schedule.version = version;
                match self.index.get(&slot.id) {
                    Some(&i) => schedule.slots[i] = slot.clone(),
                    None => {
                        schedule.slots.push(slot.clone());
                        schedule.slots.sort_by_key(|s| s.start);
                        self.index =
                            schedule.slots.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
                    }
                }
                Applied::Changed(slot)
            }
            other => Applied::Other(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clinic, DoctorId};

    fn slot(id: &str, status: SlotStatus) -> Slot {
        Slot {
            id: SlotId(id.into()),
            doctor_id: DoctorId("d".into()),
            start: "2026-11-25T06:00:00Z".parse().unwrap(),
            end: "2026-11-25T06:30:00Z".parse().unwrap(),
            status,
            held_until: None,
        }
    }

    fn replica(version: Version) -> Replica {
        let mut replica = Replica::default();
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
        let schedule =
            Schedule { version, clinic, doctors: Vec::new(), slots: vec![slot("a", SlotStatus::Free)] };
        assert_eq!(replica.apply(ServerMessage::InitialState(schedule)), Applied::Replaced);
        replica
    }

    fn update(version: Version, status: SlotStatus) -> ServerMessage {
        ServerMessage::Update { version, slot: slot("a", status) }
    }

    #[test]
    fn updates_apply_in_version_order_and_old_ones_are_ignored() {
        let mut r = replica(10);
        assert_eq!(r.apply(update(11, SlotStatus::Held)), Applied::Changed(slot("a", SlotStatus::Held)));
        assert_eq!(r.apply(update(11, SlotStatus::Booked)), Applied::Stale);
        assert_eq!(r.status(&SlotId("a".into())), Some(SlotStatus::Held));
        assert_eq!(r.version(), Some(11));
    }

    #[test]
    fn a_gap_is_reported_once_with_the_version_held_until_the_answer_comes() {
        let mut r = replica(10);
        assert_eq!(r.apply(update(12, SlotStatus::Booked)), Applied::Gap(10));
        assert_eq!(r.apply(update(13, SlotStatus::Free)), Applied::Stale, "the hello is on its way");
        assert_eq!(r.version(), Some(10), "nothing applied across the gap");
        assert_eq!(r.apply(ServerMessage::Resumed { version: 13 }), Applied::Resumed);
        assert!(matches!(r.apply(update(11, SlotStatus::Held)), Applied::Changed(_)));
        assert!(matches!(r.apply(update(12, SlotStatus::Booked)), Applied::Changed(_)));
        assert_eq!(r.apply(update(14, SlotStatus::Free)), Applied::Gap(12), "a new gap is reported again");
    }

    #[test]
    fn an_update_before_any_schedule_is_a_gap_from_nothing() {
        assert_eq!(Replica::default().apply(update(1, SlotStatus::Booked)), Applied::Gap(0));
    }

    #[test]
    fn other_messages_are_handed_back() {
        let message = ServerMessage::Resumed { version: 3 };
        assert_eq!(replica(1).apply(message), Applied::Resumed);
        let other = ServerMessage::StaffUpdate { version: 2, slot_id: SlotId("a".into()), booking: None };
        assert_eq!(replica(1).apply(other.clone()), Applied::Other(other));
    }
}
