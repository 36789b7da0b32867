//! The staff console's waitlist as plain data: loading every waiting entry,
//! taking one off, and reloading the list when the schedule changes, at most
//! once a second however many changes come.

use protocol::{BookingFailure, ClientMessage, ServerMessage, StaffWaiting};

use crate::say::Say;

/// How long after a change of the schedule the list is reloaded: the `update`
/// and the `staffUpdate` of one change, and a burst of changes, make one load.
pub const QUIET_MS: f64 = 250.0;

/// The least time between two loads the schedule's changes cause.
pub const EVERY_MS: f64 = 1000.0;

/// The staff console's waitlist.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StaffWaitlist {
    /// Every waiting entry, in the order offers go to them (doctor, then
    /// joining), as last loaded.
    pub entries: Vec<StaffWaiting>,
    /// Whether the list was loaded at least once.
    pub loaded: bool,
    /// What the last removal said, when it was refused.
    pub said: Option<Say>,
    /// The request id of the `staffWaitlist` in flight.
    loading: Option<String>,
    /// The request id of the `staffRemoveWaiting` in flight, and its entry.
    removing: Option<(String, u64)>,
    /// When the last load was sent (page clock, milliseconds).
    last_ms: Option<f64>,
    /// The reload waited for, by number, so that a timer set before a
    /// reconnect cannot fire a later one early.
    due: Option<u32>,
    /// The number of the next reload waited for.
    next_due: u32,
}

/// What a change of the schedule asks of the waitlist.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reload {
    /// A reload is already waited for: nothing more.
    Waiting,
    /// Reload after this many milliseconds, with this number for `fire`.
    After {
        /// How long to wait.
        ms: f64,
        /// The number to hand to `fire`.
        due: u32,
    },
}

impl StaffWaitlist {
    /// The `staffWaitlist` to send now (the console opened, or staff asked).
    pub fn load(&mut self, now_ms: f64, request_id: String) -> ClientMessage {
        self.loading = Some(request_id.clone());
        self.last_ms = Some(now_ms);
        self.due = None;
        ClientMessage::StaffWaitlist { request_id }
    }

    /// Whether a load is on its way.
    pub fn loading(&self) -> bool {
        self.loading.is_some()
    }

    /// The schedule changed at `now_ms`: when to reload, at least `QUIET_MS`
    /// from now and `EVERY_MS` after the last load.
    pub fn changed(&mut self, now_ms: f64) -> Reload {
        if self.due.is_some() {
            return Reload::Waiting;
        }
        let due = self.next_due;
        self.next_due = self.next_due.wrapping_add(1);
        self.due = Some(due);
        let spaced = self.last_ms.map_or(0.0, |last| last + EVERY_MS - now_ms);
        Reload::After { ms: spaced.max(QUIET_MS), due }
    }

    /// The reload numbered `due` is due: the `staffWaitlist` to send, unless
    /// it is no longer waited for.
    pub fn fire(&mut self, due: u32, now_ms: f64, request_id: String) -> Option<ClientMessage> {
        (self.due == Some(due)).then(|| self.load(now_ms, request_id))
    }

    /// The `staffRemoveWaiting` of entry `id`, unless a removal is on its way.
    pub fn remove(&mut self, id: u64, request_id: String) -> Option<ClientMessage> {
        if self.removing.is_some() {
            return None;
        }
        self.removing = Some((request_id.clone(), id));
        self.said = None;
        Some(ClientMessage::StaffRemoveWaiting { request_id, entry_id: id })
    }

    /// The entry whose removal is on its way.
    pub fn removing(&self) -> Option<u64> {
        self.removing.as_ref().map(|(_, id)| *id)
    }

    /// Takes a server message; `None` when it was not for the waitlist, else
    /// whether the list should be loaded again at once.
    pub fn on_message(&mut self, message: &ServerMessage) -> Option<bool> {
        let id = message.request_id()?;
        if self.loading.as_deref() == Some(id) {
            self.loading = None;
            if let ServerMessage::StaffWaitlist { entries, .. } = message {
                self.entries = entries.clone();
                self.loaded = true;
            }
            return Some(false);
        }
        let (_, entry) = self.removing.take_if(|(removing, _)| removing == id)?;
        match message {
            ServerMessage::ActionResult { ok: true, .. } => {
                // Gone from the list at once; the reload shows what else changed.
                self.entries.retain(|e| e.id != entry);
                Some(true)
            }
            ServerMessage::ActionResult { reason, .. } => {
                self.said = Some(Say::Refused(reason.unwrap_or(BookingFailure::WrongState)));
                Some(true)
            }
            ServerMessage::Error { code, .. } => {
                self.said = Some(Say::Error(*code));
                Some(false)
            }
            _ => {
                self.said = Some(Say::Unexpected);
                Some(false)
            }
        }
    }

    /// The connection dropped: what was in flight will not be answered, and
    /// the list is loaded afresh once the console is back.
    pub fn on_disconnect(&mut self) {
        self.loading = None;
        self.removing = None;
        self.due = None;
        self.last_ms = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{DoctorId, Patient, WaitWindow};

    fn waiting(id: u64) -> StaffWaiting {
        StaffWaiting {
            id,
            doctor_id: DoctorId("d".into()),
            window: WaitWindow {
                from_day: "2026-11-24".parse().unwrap(),
                to_day: "2026-11-26".parse().unwrap(),
                from_time: None,
                to_time: None,
            },
            patient: Patient { name: "Anna".into(), phone: "+7 912 345-67-89".into() },
            joined_at: "2026-11-24T07:00:00Z".parse().unwrap(),
            offered_slot: None,
            offer_expires_at: None,
        }
    }

    fn loaded(entries: Vec<StaffWaiting>) -> StaffWaitlist {
        let mut list = StaffWaitlist::default();
        list.load(0.0, "w1".into());
        list.on_message(&ServerMessage::StaffWaitlist { request_id: "w1".into(), entries });
        list
    }

    #[test]
    fn the_answer_to_a_load_replaces_the_list_and_other_answers_are_not_taken() {
        let mut list = StaffWaitlist::default();
        let sent = list.load(0.0, "w1".into());
        assert_eq!(sent, ClientMessage::StaffWaitlist { request_id: "w1".into() });
        assert!(list.loading() && !list.loaded);
        let other = ServerMessage::StaffWaitlist { request_id: "other".into(), entries: vec![waiting(9)] };
        assert_eq!(list.on_message(&other), None);
        let answer = ServerMessage::StaffWaitlist { request_id: "w1".into(), entries: vec![waiting(1)] };
        assert_eq!(list.on_message(&answer), Some(false));
        assert!(list.loaded && !list.loading());
        assert_eq!(list.entries.iter().map(|e| e.id).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn a_removal_takes_the_entry_off_and_asks_for_a_reload() {
        let mut list = loaded(vec![waiting(1), waiting(2)]);
        assert_eq!(
            list.remove(1, "r1".into()),
            Some(ClientMessage::StaffRemoveWaiting { request_id: "r1".into(), entry_id: 1 })
        );
        assert_eq!(list.removing(), Some(1));
        assert_eq!(list.remove(2, "r2".into()), None, "one removal at a time");
        let done = ServerMessage::ActionResult { request_id: "r1".into(), ok: true, reason: None };
        assert_eq!(list.on_message(&done), Some(true));
        assert_eq!(list.entries.iter().map(|e| e.id).collect::<Vec<_>>(), [2]);
        assert_eq!((list.removing(), list.said), (None, None));
    }

    #[test]
    fn a_refused_removal_is_said_in_words_and_the_entry_stays() {
        let mut list = loaded(vec![waiting(1)]);
        list.remove(1, "r1".into());
        let refused = ServerMessage::ActionResult {
            request_id: "r1".into(),
            ok: false,
            reason: Some(BookingFailure::NotFound),
        };
        assert_eq!(list.on_message(&refused), Some(true), "the list is out of date: reload it");
        assert_eq!(list.said, Some(Say::Refused(BookingFailure::NotFound)));
        assert_eq!(list.entries.len(), 1);
    }

    #[test]
    fn changes_reload_after_a_quiet_moment_and_at_most_once_a_second() {
        let mut list = StaffWaitlist::default();
        list.load(1000.0, "w1".into());
        // 100 ms after a load: not before a second has passed since it.
        let Reload::After { ms, due } = list.changed(1100.0) else { panic!("a reload") };
        assert_eq!(ms, 900.0);
        assert_eq!(list.changed(1200.0), Reload::Waiting, "one reload for a burst of changes");
        assert!(list.fire(due, 2000.0, "w2".into()).is_some());
        assert_eq!(list.fire(due, 2000.0, "w3".into()), None, "fired once");
        // Long after the last load: after the quiet moment only.
        let Reload::After { ms, .. } = list.changed(9000.0) else { panic!("a reload") };
        assert_eq!(ms, QUIET_MS);
    }

    #[test]
    fn a_reload_waited_for_before_a_drop_does_not_fire_after_it() {
        let mut list = StaffWaitlist::default();
        let Reload::After { due: before, .. } = list.changed(0.0) else { panic!("a reload") };
        list.remove(1, "r1".into());
        list.on_disconnect();
        assert_eq!(list.removing(), None);
        let Reload::After { due: after, ms } = list.changed(10.0) else { panic!("a reload") };
        assert_eq!(ms, QUIET_MS, "no load since the drop holds it back");
        assert_eq!(list.fire(before, 300.0, "w1".into()), None, "the old timer is stale");
        assert!(list.fire(after, 300.0, "w2".into()).is_some());
    }
}
