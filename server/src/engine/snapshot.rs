//! The schedule at one version as every reader shares it: cheap to take, with
//! the full schedule and its `initialState` frame made at most once.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use protocol::{Schedule, ServerMessage, Slot, SlotId, SlotStatus, Version};

use super::mirror::Base;
use crate::wire::Frame;

/// The schedule at one version, shared by every reader. Taking one costs a copy
/// of one byte per slot, and the end of each hold; the full `Schedule` and its
/// `initialState` frame are built only when somebody asks, at most once per
/// version.
#[derive(Debug)]
pub struct Snapshot {
    pub(super) version: Version,
    pub(super) base: Arc<Base>,
    pub(super) statuses: Vec<SlotStatus>,
    /// When each held slot's hold ends, by position, in order.
    pub(super) held_until: Vec<(usize, DateTime<Utc>)>,
    pub(super) schedule: OnceLock<Schedule>,
    pub(super) frame: OnceLock<Frame>,
}

impl Snapshot {
    /// The version this snapshot shows.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Whether the schedule has this slot.
    pub fn has_slot(&self, id: &SlotId) -> bool {
        self.base.slots.iter().any(|s| &s.id == id)
    }

    /// The schedule itself.
    pub fn schedule(&self) -> &Schedule {
        self.schedule.get_or_init(|| {
            let mut slots: Vec<Slot> = self
                .base
                .slots
                .iter()
                .zip(&self.statuses)
                .map(|(slot, &status)| Slot { status, held_until: None, ..slot.clone() })
                .collect();
            for &(at, until) in &self.held_until {
                if let Some(slot) = slots.get_mut(at) {
                    slot.held_until = Some(until);
                }
            }
            Schedule {
                version: self.version,
                clinic: self.base.clinic.clone(),
                doctors: self.base.doctors.clone(),
                slots,
            }
        })
    }

    /// The `initialState` frame for this snapshot, serialized at most once however
    /// many clients connect at this version.
    pub fn frame(&self) -> Frame {
        self.frame
            .get_or_init(|| crate::wire::encode(&ServerMessage::InitialState(self.schedule().clone())))
            .clone()
    }

    /// The schedule as JSON: the payload of the `initialState` frame, shared
    /// with it rather than serialized again.
    pub fn schedule_json(&self) -> bytes::Bytes {
        const HEAD: &str = r#"{"type":"initialState","payload":"#;
        let frame = bytes::Bytes::from(self.frame());
        if frame.starts_with(HEAD.as_bytes()) && frame.ends_with(b"}") {
            frame.slice(HEAD.len()..frame.len() - 1)
        } else {
            // The envelope is serde's and fixed; this is only a safety net.
            serde_json::to_vec(self.schedule()).map(Into::into).unwrap_or_default()
        }
    }
}
