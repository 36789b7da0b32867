//! The waitlist link's logic as plain data: watching the entry (its place, and
//! the offers the server pushes to it), taking or turning down an offer,
//! changing the days and hours, and leaving; the countdown of an offer; and the
//! entries this browser remembers. The join dialog's flow is in `join`.

pub mod window;

use protocol::{
    BookingCode, BookingFailure, ClientMessage, DoctorId, ManageToken, ServerMessage, Slot, SlotId,
    WaitStatus, WaitToken, WaitWindow, WaitlistEntry,
};
use serde::{Deserialize, Serialize};

use crate::say::Say;
use crate::state::Mine;

/// A waitlist entry this browser joined, remembered across visits so that the
/// schedule can link back to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    /// The waitlist link's secret.
    pub token: WaitToken,
    /// The doctor waited for.
    pub doctor: DoctorId,
}

/// Adds `entry` to the entries remembered, once.
pub fn remember(all: &mut Vec<Waiting>, entry: Waiting) {
    if !all.iter().any(|w| w.token == entry.token) {
        all.push(entry);
    }
}

/// Forgets the entry behind `token`; `true` when it was remembered.
pub fn forget(all: &mut Vec<Waiting>, token: &str) -> bool {
    let before = all.len();
    all.retain(|w| w.token != token);
    all.len() != before
}

/// What the waitlist page shows.
// A page shows one entry, and the other variants are the moments before it
// comes; boxing it would save nothing worth the indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Wait {
    /// Waiting for the entry.
    #[default]
    Loading,
    /// No entry behind this link.
    NotFound,
    /// The entry could not be fetched, for this reason.
    Unavailable(Say),
    /// The entry, and what the patient is doing with it.
    Shown {
        /// The entry as last seen.
        entry: WaitlistEntry,
        /// The step of an action in progress.
        step: Step,
    },
}

/// An action on a shown entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Step {
    /// Nothing going on.
    #[default]
    Idle,
    /// Changing the days and hours; what the server said about the last try.
    Changing {
        /// Why the last change was refused, if it was.
        problem: Option<Say>,
    },
    /// Asking whether to leave.
    ConfirmLeave,
    /// Sent; waiting for the answer.
    Sending,
    /// What happened.
    Said(Say),
}

/// A request of the waitlist page whose answer has not come yet.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Request {
    Change,
    Leave,
    Decline,
    /// Taking the offer of this slot.
    Accept(Slot),
}

/// The booking a taken offer became, as the answer to `acceptOffer` gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The slot booked.
    pub slot: Slot,
    /// The code to quote.
    pub code: BookingCode,
    /// The manage link's secret, when the server gave one.
    pub token: Option<ManageToken>,
}

/// What a server message meant beyond the waitlist page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// It was for the page, and is taken.
    Taken,
    /// The offer became a booking of slot `slot`: remember it as this browser's.
    Booked {
        /// The slot booked.
        slot: SlotId,
        /// What to remember of it.
        mine: Mine,
    },
}

/// The waitlist page's requests and their answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitLink {
    /// The secret from the link.
    pub token: WaitToken,
    /// What is shown.
    pub state: Wait,
    /// The booking a taken offer became, once the server said so.
    pub accepted: Option<Accepted>,
    /// The request id of the `watchWaitlist` in flight.
    watching: Option<String>,
    /// The action in flight.
    pending: Option<(String, Request)>,
}

/// Whether two sightings are of the same entry: a connection is pushed the
/// changes of every entry it ever watched, and an entry carries no id.
fn same(a: &WaitlistEntry, b: &WaitlistEntry) -> bool {
    a.doctor_id == b.doctor_id && a.joined_at == b.joined_at && a.patient == b.patient
}

/// The offer is gone (turned down, run out or passed on): the entry waits again.
fn without_offer(entry: &mut WaitlistEntry) {
    entry.offer = None;
    if entry.status == WaitStatus::Offered {
        entry.status = WaitStatus::Waiting;
    }
}

impl WaitLink {
    /// A page for this secret.
    pub fn new(token: WaitToken) -> Self {
        Self { token, state: Wait::Loading, accepted: None, watching: None, pending: None }
    }

    /// The entry shown, if any.
    pub fn entry(&self) -> Option<&WaitlistEntry> {
        match &self.state {
            Wait::Shown { entry, .. } => Some(entry),
            _ => None,
        }
    }

    /// The `watchWaitlist` to send, on opening the page and on every fresh
    /// connection (the server forgets who watches when a connection ends).
    pub fn watch(&mut self, request_id: String) -> ClientMessage {
        self.watching = Some(request_id.clone());
        ClientMessage::WatchWaitlist { request_id, wait_token: self.token.clone() }
    }

    /// Whether the entry is over: no entry behind the link, or one that
    /// booked, left or was removed, which nothing more can happen to.
    pub fn over(&self) -> bool {
        match &self.state {
            Wait::NotFound => true,
            Wait::Shown { entry, .. } => {
                matches!(
                    entry.status,
                    WaitStatus::Booked | WaitStatus::Left | WaitStatus::Removed | WaitStatus::Lapsed
                )
            }
            Wait::Loading | Wait::Unavailable(_) => false,
        }
    }

    /// Moves to another step of a shown entry.
    pub fn step(&mut self, next: Step) {
        if let Wait::Shown { step, .. } = &mut self.state {
            *step = next;
        }
    }

    /// Whether an action is on its way.
    pub fn busy(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether the patient took the offer and the answer has not come yet.
    pub fn accepting(&self) -> bool {
        matches!(self.pending, Some((_, Request::Accept(_))))
    }

    fn send(&mut self, request_id: String, request: Request) -> Option<String> {
        if self.pending.is_some() {
            return None;
        }
        let Wait::Shown { step, .. } = &mut self.state else { return None };
        *step = Step::Sending;
        self.pending = Some((request_id.clone(), request));
        Some(request_id)
    }

    fn status(&self) -> Option<WaitStatus> {
        self.entry().map(|e| e.status)
    }

    /// The `changeWaitlist` to send for a new window, while the entry waits.
    pub fn change(&mut self, window: WaitWindow, request_id: String) -> Option<ClientMessage> {
        if self.status() != Some(WaitStatus::Waiting) {
            return None;
        }
        let request_id = self.send(request_id, Request::Change)?;
        Some(ClientMessage::ChangeWaitlist { request_id, wait_token: self.token.clone(), window })
    }

    /// The `leaveWaitlist` to send once the patient confirmed, while the entry
    /// waits or has an offer.
    pub fn leave(&mut self, request_id: String) -> Option<ClientMessage> {
        if !matches!(self.status(), Some(WaitStatus::Waiting | WaitStatus::Offered)) {
            return None;
        }
        let request_id = self.send(request_id, Request::Leave)?;
        Some(ClientMessage::LeaveWaitlist { request_id, wait_token: self.token.clone() })
    }

    /// The `acceptOffer` to send, while an offer stands.
    pub fn accept(&mut self, request_id: String) -> Option<ClientMessage> {
        let slot = self.entry()?.offer.as_ref()?.slot.clone();
        let request_id = self.send(request_id, Request::Accept(slot))?;
        Some(ClientMessage::AcceptOffer { request_id, wait_token: self.token.clone() })
    }

    /// The `declineOffer` to send, while an offer stands.
    pub fn decline(&mut self, request_id: String) -> Option<ClientMessage> {
        self.entry()?.offer.as_ref()?;
        let request_id = self.send(request_id, Request::Decline)?;
        Some(ClientMessage::DeclineOffer { request_id, wait_token: self.token.clone() })
    }

    /// Takes a server message; `None` when it was not for the waitlist page.
    pub fn on_reply(&mut self, message: &ServerMessage) -> Option<Reply> {
        if let ServerMessage::Waitlist { request_id: None, entry } = message {
            self.on_push(entry);
            return Some(Reply::Taken);
        }
        let id = message.request_id()?;
        if self.watching.as_deref() == Some(id) {
            self.watching = None;
            self.on_watched(message);
            return Some(Reply::Taken);
        }
        let request = match &self.pending {
            Some((pending, request)) if pending == id => request.clone(),
            _ => return None,
        };
        self.pending = None;
        Some(self.on_answer(request, message))
    }

    /// The server tells of a change to a watched entry: an offer made or ended.
    fn on_push(&mut self, pushed: &WaitlistEntry) {
        let Wait::Shown { entry, step } = &mut self.state else { return };
        if !same(entry, pushed) {
            return;
        }
        // What was said about the entry as it was is stale once it changed;
        // a form being filled in or an action on its way stays.
        if entry.status != pushed.status && matches!(step, Step::Said(_)) {
            *step = Step::Idle;
        }
        *entry = pushed.clone();
    }

    fn on_watched(&mut self, message: &ServerMessage) {
        match (message, &mut self.state) {
            (ServerMessage::Waitlist { entry, .. }, Wait::Shown { entry: shown, step }) => {
                *shown = entry.clone();
                if *step == Step::Sending && self.pending.is_none() {
                    *step = Step::Idle;
                }
            }
            (ServerMessage::Waitlist { entry, .. }, _) => {
                self.state = Wait::Shown { entry: entry.clone(), step: Step::Idle };
            }
            (ServerMessage::ActionResult { reason: Some(BookingFailure::NotFound), .. }, _) => {
                self.state = Wait::NotFound;
            }
            (ServerMessage::ActionResult { reason, .. }, Wait::Loading | Wait::Unavailable(_)) => {
                self.state = Wait::Unavailable(Say::Refused(reason.unwrap_or(BookingFailure::WrongState)));
            }
            (ServerMessage::Error { code, .. }, Wait::Loading | Wait::Unavailable(_)) => {
                self.state = Wait::Unavailable(Say::Error(*code));
            }
            // The entry shown stays; the next connection asks again.
            _ => {}
        }
    }

    fn on_answer(&mut self, request: Request, message: &ServerMessage) -> Reply {
        let mut reply = Reply::Taken;
        let accepted = &mut self.accepted;
        let Wait::Shown { entry, step } = &mut self.state else { return reply };
        let refused =
            |reason: &Option<BookingFailure>| Say::Refused(reason.unwrap_or(BookingFailure::WrongState));
        *step = match (request, message) {
            (Request::Change, ServerMessage::Waitlist { entry: changed, .. }) => {
                *entry = changed.clone();
                Step::Said(Say::WindowChanged)
            }
            (Request::Change, ServerMessage::ActionResult { reason, .. }) => {
                Step::Changing { problem: Some(refused(reason)) }
            }
            (Request::Change, ServerMessage::Error { code, .. }) => {
                Step::Changing { problem: Some(Say::Error(*code)) }
            }
            (Request::Leave, ServerMessage::ActionResult { ok: true, .. }) => {
                entry.status = WaitStatus::Left;
                entry.place = None;
                entry.offer = None;
                Step::Said(Say::Left)
            }
            (Request::Decline, ServerMessage::ActionResult { ok: true, .. }) => {
                without_offer(entry);
                Step::Said(Say::Declined)
            }
            (
                Request::Accept(slot),
                ServerMessage::BookingResult { ok: true, booking_code: Some(code), manage_token, .. },
            ) => {
                let mine = Mine { code: code.clone(), token: manage_token.clone() };
                reply = Reply::Booked { slot: slot.id.clone(), mine };
                *accepted = Some(Accepted { slot, code: code.clone(), token: manage_token.clone() });
                entry.status = WaitStatus::Booked;
                entry.booking_code = Some(code.clone());
                entry.place = None;
                entry.offer = None;
                Step::Idle
            }
            (
                Request::Leave | Request::Decline | Request::Accept(_),
                ServerMessage::ActionResult { reason, .. } | ServerMessage::BookingResult { reason, .. },
            ) => {
                if *reason == Some(BookingFailure::NoOffer) {
                    without_offer(entry);
                }
                Step::Said(refused(reason))
            }
            (_, ServerMessage::Error { code, .. }) => Step::Said(Say::Error(*code)),
            _ => Step::Said(Say::Unexpected),
        };
        reply
    }

    /// The connection dropped: what was in flight is unknown until the entry
    /// is watched again on the next connection. A booking asked for may have
    /// been made: the patient is told where to look.
    pub fn on_disconnect(&mut self) {
        self.watching = None;
        match self.pending.take() {
            Some((_, Request::Accept(_))) => self.step(Step::Said(Say::AcceptDropped)),
            Some(_) => self.step(Step::Idle),
            None => {}
        }
    }
}

/// The whole minutes and seconds left until `expires_ms` at `now_ms`, as a
/// clock such as `9:05`; `0:00` once it is over.
pub fn clock(expires_ms: i64, now_ms: i64) -> String {
    // Rounded up, so that the clock shows 0:00 only when the offer is over.
    let seconds = ((expires_ms - now_ms).max(0) + 999) / 1000;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// How much of an offer's time is left, in the steps that are worth telling a
/// screen reader about: not every second, only when a step is crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// More than five minutes.
    Plenty,
    /// At most this many minutes: 5, 2 or 1.
    AtMost(u32),
    /// None: the offer is over.
    Over,
}

impl Left {
    /// The step at `now_ms` of an offer that ends at `expires_ms`.
    pub fn of(expires_ms: i64, now_ms: i64) -> Self {
        let left = expires_ms - now_ms;
        match left {
            _ if left <= 0 => Self::Over,
            _ if left <= 60_000 => Self::AtMost(1),
            _ if left <= 120_000 => Self::AtMost(2),
            _ if left <= 300_000 => Self::AtMost(5),
            _ => Self::Plenty,
        }
    }
}

#[cfg(test)]
mod tests;
