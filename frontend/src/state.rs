//! The page's state as plain data: the schedule it shows and how messages change
//! it, the bookings this browser remembers, and the staff reset flow. No browser
//! APIs here, so all of it is unit-tested natively. The booking dialog's flow is
//! in `booking`.

use crate::say::Say;
use std::collections::BTreeMap;

pub use protocol::Applied;
use protocol::{
    BookingCode, ClientMessage, ErrorCode, ManageToken, Replica, Schedule, ServerMessage, SlotId, SlotStatus,
    Version,
};
use serde::{Deserialize, Serialize};

/// A booking made from this browser, remembered across visits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mine {
    /// The code to quote.
    pub code: BookingCode,
    /// The manage link's secret, when the server gave one.
    pub token: Option<ManageToken>,
}

/// The schedule as this page knows it, and the bookings made from this browser.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    replica: Replica,
    /// Bookings made from this browser, by slot.
    pub mine: BTreeMap<SlotId, Mine>,
}

impl Board {
    /// The schedule, once the first `initialState` has arrived.
    pub fn schedule(&self) -> Option<&Schedule> {
        self.replica.schedule()
    }

    /// The version of the schedule shown.
    pub fn version(&self) -> Option<Version> {
        self.replica.version()
    }

    /// The slot's status, if the slot is known.
    pub fn status(&self, id: &SlotId) -> Option<SlotStatus> {
        self.replica.status(id)
    }

    /// When a held slot's hold ends (milliseconds since the epoch), if the
    /// server said.
    pub fn held_until(&self, id: &SlotId) -> Option<i64> {
        self.replica.slot(id)?.held_until.map(|t| t.timestamp_millis())
    }

    /// Whether this browser booked the slot.
    pub fn is_mine(&self, id: &SlotId) -> bool {
        self.mine.contains_key(id)
    }

    /// Applies one server message in version order (see `Replica::apply`), and
    /// forgets bookings of ours whose slot is no longer booked (cleared by staff
    /// or a reset, or cancelled).
    pub fn apply(&mut self, message: ServerMessage) -> Applied {
        let applied = self.replica.apply(message);
        match &applied {
            Applied::Replaced => {
                let replica = &self.replica;
                self.mine.retain(|id, _| replica.status(id) == Some(SlotStatus::Booked));
            }
            Applied::Changed(slot) if slot.status == SlotStatus::Free => {
                self.mine.remove(&slot.id);
            }
            _ => {}
        }
        applied
    }
}

/// The staff reset flow (admins only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Reset {
    /// Nothing going on.
    #[default]
    Idle,
    /// Asking whether to reset.
    Asking {
        /// What went wrong last time.
        problem: Option<Say>,
    },
    /// Sent; waiting for the new schedule or a refusal.
    Sending {
        /// The `reset`'s request id, which a refusal echoes.
        request_id: String,
    },
    /// The schedule was reset.
    Done,
}

impl Reset {
    /// The `reset` to send.
    pub fn send(&mut self, request_id: String) -> ClientMessage {
        *self = Self::Sending { request_id: request_id.clone() };
        ClientMessage::Reset { request_id }
    }

    /// Whether a reset waits for its answer.
    pub fn sending(&self) -> bool {
        matches!(self, Self::Sending { .. })
    }

    /// Takes a server message; `true` when it answered the reset.
    pub fn on_message(&mut self, message: &ServerMessage) -> bool {
        let Self::Sending { request_id } = self else { return false };
        match message {
            ServerMessage::Error { code, request_id: Some(id), .. } if id == request_id => {
                let problem = if *code == ErrorCode::Forbidden { Say::Forbidden } else { Say::Error(*code) };
                *self = Self::Asking { problem: Some(problem) };
                true
            }
            ServerMessage::InitialState(_) => {
                *self = Self::Done;
                true
            }
            _ => false,
        }
    }

    /// The connection dropped while waiting.
    pub fn on_disconnect(&mut self) {
        if self.sending() {
            *self = Self::Asking { problem: Some(Say::ResetDropped) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{schedule, slot, update};

    fn board() -> Board {
        let mut board = Board::default();
        board.apply(schedule(10, vec![slot("a", SlotStatus::Free), slot("b", SlotStatus::Free)]));
        board
    }

    #[test]
    fn an_update_before_any_initial_state_asks_for_a_resync() {
        assert_eq!(Board::default().apply(update(1, "a", SlotStatus::Booked)), Applied::Gap(0));
    }

    #[test]
    fn the_next_update_changes_its_slot_and_the_version() {
        let mut board = board();
        let applied = board.apply(update(11, "a", SlotStatus::Booked));
        assert_eq!(applied, Applied::Changed(slot("a", SlotStatus::Booked)));
        assert_eq!(board.version(), Some(11));
        assert_eq!(board.status(&SlotId("a".into())), Some(SlotStatus::Booked));
        assert_eq!(board.status(&SlotId("b".into())), Some(SlotStatus::Free));
    }

    #[test]
    fn an_update_already_seen_changes_nothing() {
        let mut board = board();
        let before = board.clone();
        assert_eq!(board.apply(update(10, "a", SlotStatus::Booked)), Applied::Stale);
        assert_eq!(board.apply(update(3, "a", SlotStatus::Booked)), Applied::Stale);
        assert_eq!(board, before);
    }

    #[test]
    fn a_version_gap_asks_for_the_missed_updates_and_changes_nothing() {
        let mut board = board();
        assert_eq!(board.apply(update(12, "a", SlotStatus::Booked)), Applied::Gap(10));
        assert_eq!(board.version(), Some(10));
        assert_eq!(board.status(&SlotId("a".into())), Some(SlotStatus::Free));
        assert_eq!(board.apply(ServerMessage::Resumed { version: 12 }), Applied::Resumed);
        assert!(matches!(board.apply(update(11, "b", SlotStatus::Held)), Applied::Changed(_)));
        assert!(matches!(board.apply(update(12, "a", SlotStatus::Booked)), Applied::Changed(_)));
    }

    #[test]
    fn a_booking_of_mine_whose_slot_turns_free_is_forgotten() {
        let mut board = board();
        board.mine.insert(SlotId("a".into()), Mine { code: "CODE-AAAA".into(), token: None });
        board.apply(update(11, "a", SlotStatus::Free));
        assert!(!board.is_mine(&SlotId("a".into())));
    }

    #[test]
    fn a_new_initial_state_replaces_everything_and_drops_cleared_bookings_of_mine() {
        let mut board = board();
        let mine = |code: &str| Mine { code: code.into(), token: None };
        board.mine.insert(SlotId("a".into()), mine("CODE-AAAA"));
        board.mine.insert(SlotId("b".into()), mine("CODE-BBBB"));
        board.apply(schedule(20, vec![slot("a", SlotStatus::Booked), slot("b", SlotStatus::Free)]));
        assert_eq!(board.version(), Some(20));
        assert!(board.is_mine(&SlotId("a".into())));
        assert!(!board.is_mine(&SlotId("b".into())), "b was cleared by a reset");
    }

    #[test]
    fn other_messages_are_handed_back() {
        let mut board = board();
        let reply = ServerMessage::Error { code: ErrorCode::Internal, message: "x".into(), request_id: None };
        assert_eq!(board.apply(reply.clone()), Applied::Other(reply));
    }

    #[test]
    fn a_reset_is_answered_by_a_refusal_or_the_new_schedule() {
        let mut reset = Reset::Idle;
        assert_eq!(reset.send("r1".into()), ClientMessage::Reset { request_id: "r1".into() });
        let forbidden = |id: &str| ServerMessage::Error {
            code: ErrorCode::Forbidden,
            message: "no".into(),
            request_id: Some(id.into()),
        };
        assert!(!reset.on_message(&forbidden("other")), "another request's refusal");
        assert!(reset.on_message(&forbidden("r1")));
        assert_eq!(reset, Reset::Asking { problem: Some(Say::Forbidden) });
        reset.send("r2".into());
        assert!(reset.on_message(&schedule(30, vec![])));
        assert_eq!(reset, Reset::Done);
        assert!(!Reset::Idle.on_message(&forbidden("r2")));
    }

    #[test]
    fn a_drop_while_a_reset_waits_asks_again_and_says_why() {
        let mut reset = Reset::Sending { request_id: "r1".into() };
        reset.on_disconnect();
        assert_eq!(reset, Reset::Asking { problem: Some(Say::ResetDropped) });
        let mut done = Reset::Done;
        done.on_disconnect();
        assert_eq!(done, Reset::Done, "nothing was waiting");
    }
}
