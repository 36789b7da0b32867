//! The booking dialog's flow as plain data: holding the chosen slot, waiting for
//! the robot check, sending the request once, and its outcome in plain words. No
//! browser APIs here, so all of it is unit-tested natively.

use protocol::{
    BookingCode, BookingFailure, ClientMessage, ManageToken, Patient, Proof, ServerMessage, SlotId,
    SlotStatus,
};

use crate::say::Say;
use crate::state::Mine;

/// Whether the slot of an open booking form is held for this page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// Asked for; the answer has not come yet.
    Asking {
        /// The request id of the `hold`.
        request_id: String,
    },
    /// Held until the instant given (milliseconds since the epoch).
    Held {
        /// When the hold ends.
        until_ms: i64,
    },
    /// Held, and more time asked for; the answer has not come yet.
    Extending {
        /// The request id of the `extendHold`.
        request_id: String,
        /// When the hold ends unless extended.
        until_ms: i64,
    },
    /// Held, and no more time can be had: the server allows no more extensions.
    Final {
        /// When the hold ends.
        until_ms: i64,
    },
    /// The server would not hold it for this page (a limit on holds), but a
    /// free slot may still be booked without a hold.
    NotHeld {
        /// Why it was not held.
        reason: BookingFailure,
    },
    /// The hold ended while the form was open: it ran out, or staff ended it.
    Ended,
}

impl Hold {
    /// Whether the page may hold the slot now, so that closing the form must
    /// let it go.
    fn ours(&self) -> bool {
        matches!(self, Self::Asking { .. } | Self::Held { .. } | Self::Extending { .. } | Self::Final { .. })
    }

    /// When a hold of this page ends, while it has one.
    pub fn until_ms(&self) -> Option<i64> {
        match self {
            Self::Held { until_ms } | Self::Extending { until_ms, .. } | Self::Final { until_ms } => {
                Some(*until_ms)
            }
            _ => None,
        }
    }

    /// Whether the patient may ask for more time now.
    pub fn extendable(&self) -> bool {
        matches!(self, Self::Held { .. })
    }

    /// A word for the page's `data-hold` attribute.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Asking { .. } => "asking",
            Self::Held { .. } | Self::Extending { .. } => "held",
            Self::Final { .. } => "final",
            Self::NotHeld { .. } => "not-held",
            Self::Ended => "ended",
        }
    }

    /// What the form says about the hold at `now_ms`, if anything.
    pub fn note(&self, now_ms: i64) -> Option<HoldNote> {
        match self {
            Self::Asking { .. } => None,
            Self::Held { until_ms } | Self::Extending { until_ms, .. } | Self::Final { until_ms } => {
                // Rounded down, so that "1 more minute" is never less than one.
                let left = (until_ms - now_ms).max(0) / 60_000;
                Some(if left == 0 { HoldNote::LessThanAMinute } else { HoldNote::Minutes(left as u32) })
            }
            Self::NotHeld { reason } => Some(HoldNote::NotHeld(*reason)),
            Self::Ended => Some(HoldNote::Ended),
        }
    }
}

/// What the booking form says about its hold, in no language yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldNote {
    /// Held for this many more whole minutes.
    Minutes(u32),
    /// Held for less than a minute more.
    LessThanAMinute,
    /// Not held, for this reason; the slot may still be booked.
    NotHeld(BookingFailure),
    /// The hold ended while the form was open; the slot may still be booked.
    Ended,
}

/// The booking dialog: choosing a slot, holding it, waiting for the robot
/// check, sending the request once, and its outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Booking {
    /// No dialog.
    #[default]
    Closed,
    /// Asking for the patient's details.
    Form {
        /// The chosen slot.
        slot: SlotId,
        /// Why the last attempt was refused, when it was.
        problem: Option<Say>,
        /// The hold on the slot.
        hold: Hold,
    },
    /// Confirmed by the patient; the robot check is not done yet, so nothing
    /// has been sent.
    Waiting {
        /// The chosen slot.
        slot: SlotId,
        /// Who the appointment is for.
        patient: Patient,
        /// The hold on the slot.
        hold: Hold,
    },
    /// Sent; waiting for the server.
    Sending {
        /// The chosen slot.
        slot: SlotId,
        /// The request id of the `book` sent.
        request_id: String,
        /// The hold on the slot, to go back to the form with.
        hold: Hold,
        /// The nonce of the challenge whose solution went with it.
        nonce: String,
    },
    /// Committed by the server.
    Booked {
        /// The booked slot.
        slot: SlotId,
        /// The code to quote.
        code: BookingCode,
        /// The manage link's secret.
        token: Option<ManageToken>,
    },
    /// The slot cannot be had, or not by this patient.
    Taken {
        /// The slot lost.
        slot: SlotId,
        /// Why not.
        reason: BookingFailure,
    },
    /// The outcome is unknown or failed for another reason.
    Failed {
        /// The slot tried.
        slot: SlotId,
        /// What to tell the patient.
        problem: Say,
    },
}

/// What a reply to the booking meant beyond the dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Booked: remember it, and the solution of challenge `nonce` is spent.
    Booked {
        /// The booked slot.
        slot: SlotId,
        /// What to remember of it.
        mine: Mine,
        /// The nonce of the challenge whose solution paid for it.
        nonce: String,
    },
    /// The server refused the solution of challenge `nonce`: solve a new one.
    ProofRefused {
        /// The nonce of the refused challenge.
        nonce: String,
    },
    /// Refused, and the refusal spent the solution of challenge `nonce` (every
    /// attempt does, but for a mistyped name or phone): the next attempt needs
    /// a new one.
    Spent {
        /// The nonce of the spent challenge.
        nonce: String,
    },
}

impl Booking {
    /// Opens the form for a slot and returns the `hold` to send, unless a request
    /// is already on its way.
    pub fn open(&mut self, slot: SlotId, request_id: String) -> Option<ClientMessage> {
        if matches!(self, Self::Sending { .. } | Self::Waiting { .. }) {
            return None;
        }
        *self = Self::Form {
            slot: slot.clone(),
            problem: None,
            hold: Hold::Asking { request_id: request_id.clone() },
        };
        Some(ClientMessage::Hold { request_id, slot_id: slot })
    }

    /// Closes the dialog, unless a request is on its way (its answer must be seen),
    /// and returns the `release` of a hold to send.
    pub fn close(&mut self) -> Option<ClientMessage> {
        match std::mem::take(self) {
            sending @ Self::Sending { .. } => {
                *self = sending;
                None
            }
            Self::Form { slot, hold, .. } | Self::Waiting { slot, hold, .. } if hold.ours() => {
                Some(ClientMessage::Release { slot_id: slot })
            }
            _ => None,
        }
    }

    /// The slot the dialog is about.
    pub fn slot(&self) -> Option<&SlotId> {
        match self {
            Self::Closed => None,
            Self::Form { slot, .. }
            | Self::Waiting { slot, .. }
            | Self::Sending { slot, .. }
            | Self::Booked { slot, .. }
            | Self::Taken { slot, .. }
            | Self::Failed { slot, .. } => Some(slot),
        }
    }

    /// The hold of the form, while the dialog has one.
    pub fn hold(&self) -> Option<&Hold> {
        match self {
            Self::Form { hold, .. } | Self::Waiting { hold, .. } | Self::Sending { hold, .. } => Some(hold),
            _ => None,
        }
    }

    fn hold_mut(&mut self) -> Option<&mut Hold> {
        match self {
            Self::Form { hold, .. } | Self::Waiting { hold, .. } | Self::Sending { hold, .. } => Some(hold),
            _ => None,
        }
    }

    /// Asks for more time on the form's hold: returns the `extendHold` to send,
    /// when the page holds the slot and may ask.
    pub fn extend(&mut self, request_id: String) -> Option<ClientMessage> {
        let slot = self.slot()?.clone();
        let hold = self.hold_mut()?;
        let Hold::Held { until_ms } = *hold else { return None };
        *hold = Hold::Extending { request_id: request_id.clone(), until_ms };
        Some(ClientMessage::ExtendHold { request_id, slot_id: slot })
    }

    /// Whether the patient confirmed and the page waits for the robot check.
    pub fn waiting(&self) -> bool {
        matches!(self, Self::Waiting { .. })
    }

    /// Submits the form: with a solved robot check returns the `book` to send;
    /// without, waits for it (see `on_proof`). `None` also when nothing must be
    /// sent (no form open, or the booking already confirmed — a double click
    /// sends one booking).
    pub fn submit(
        &mut self,
        patient: Patient,
        proof: Option<Proof>,
        request_id: String,
    ) -> Option<ClientMessage> {
        let Self::Form { slot, hold, .. } = self else { return None };
        let (slot, hold) = (slot.clone(), hold.clone());
        match proof {
            Some(proof) => self.send(slot, hold, patient, proof, request_id),
            None => {
                *self = Self::Waiting { slot, patient, hold };
                None
            }
        }
    }

    /// The robot check is done: returns the `book` of a patient who confirmed
    /// meanwhile.
    pub fn on_proof(&mut self, proof: Proof, request_id: String) -> Option<ClientMessage> {
        if !self.waiting() {
            return None;
        }
        let Self::Waiting { slot, patient, hold } = std::mem::take(self) else { return None };
        self.send(slot, hold, patient, proof, request_id)
    }

    fn send(
        &mut self,
        slot: SlotId,
        hold: Hold,
        patient: Patient,
        proof: Proof,
        request_id: String,
    ) -> Option<ClientMessage> {
        let nonce = proof.challenge.parameters.nonce.clone();
        *self = Self::Sending { slot: slot.clone(), request_id: request_id.clone(), hold, nonce };
        Some(ClientMessage::Book { request_id, slot_id: slot, patient, proof: Some(proof) })
    }

    /// The robot check could not be done: a patient waiting for it is told.
    pub fn on_pow_failed(&mut self, problem: Say) {
        if let Self::Waiting { slot, .. } = self {
            *self = Self::Failed { slot: slot.clone(), problem };
        }
    }

    /// Takes a server reply about the hold or the booking.
    pub fn on_reply(&mut self, reply: &ServerMessage) -> Option<Settled> {
        match reply {
            ServerMessage::HoldResult { request_id: id, ok, expires_at, reason } => {
                let hold = self.hold_mut()?;
                if let Hold::Extending { request_id, until_ms } = &*hold {
                    if request_id != id {
                        return None;
                    }
                    // Refused (no extensions left, or the hold is gone): what the
                    // page knows of the hold stands, without more to ask for.
                    *hold = match (ok, expires_at) {
                        (true, Some(until)) => Hold::Held { until_ms: until.timestamp_millis() },
                        _ => Hold::Final { until_ms: *until_ms },
                    };
                    return None;
                }
                if !matches!(&*hold, Hold::Asking { request_id } if request_id == id) {
                    return None;
                }
                match (ok, expires_at, reason) {
                    (true, Some(until), _) => *hold = Hold::Held { until_ms: until.timestamp_millis() },
                    // A limit on holds: the slot may still be booked without one.
                    (_, _, Some(reason @ (BookingFailure::HoldCooldown | BookingFailure::TooManyHolds))) => {
                        *hold = Hold::NotHeld { reason: *reason }
                    }
                    (_, _, reason) => {
                        let reason = reason.unwrap_or(BookingFailure::WrongState);
                        // A booking already sent gets its own answer.
                        match self {
                            Self::Sending { hold, .. } => *hold = Hold::NotHeld { reason },
                            _ => self.lose(reason),
                        }
                    }
                }
                None
            }
            ServerMessage::BookingResult { request_id: id, ok, booking_code, manage_token, reason } => {
                let Self::Sending { slot, request_id, hold, nonce } = &*self else { return None };
                if id != request_id {
                    return None;
                }
                let (slot, hold, nonce) = (slot.clone(), hold.clone(), nonce.clone());
                let mut settled = None;
                *self = match (ok, booking_code, reason) {
                    (true, Some(code), _) => {
                        let mine = Mine { code: code.clone(), token: manage_token.clone() };
                        settled = Some(Settled::Booked { slot: slot.clone(), mine, nonce });
                        Self::Booked { slot, code: code.clone(), token: manage_token.clone() }
                    }
                    // The patient can do something about these: back to the form.
                    // A mistyped detail costs the server nothing and keeps the
                    // solution; any other refusal spent it.
                    (_, _, Some(BookingFailure::InvalidPatient)) => {
                        Self::Form { slot, problem: Some(Say::Refused(BookingFailure::InvalidPatient)), hold }
                    }
                    (_, _, Some(BookingFailure::LimitReached)) => {
                        settled = Some(Settled::Spent { nonce });
                        Self::Form { slot, problem: Some(Say::Refused(BookingFailure::LimitReached)), hold }
                    }
                    (_, _, Some(BookingFailure::ChallengeFailed)) => {
                        settled = Some(Settled::ProofRefused { nonce });
                        let problem = Say::Refused(BookingFailure::ChallengeFailed);
                        Self::Form { slot, problem: Some(problem), hold }
                    }
                    (_, _, Some(reason)) => {
                        settled = Some(Settled::Spent { nonce });
                        Self::Taken { slot, reason: *reason }
                    }
                    _ => Self::Failed { slot, problem: Say::Unexpected },
                };
                settled
            }
            ServerMessage::Error { code, request_id: Some(id), .. } => {
                if let Self::Sending { slot, request_id, .. } = self
                    && id == request_id
                {
                    *self = Self::Failed { slot: slot.clone(), problem: Say::Error(*code) };
                }
                None
            }
            _ => None,
        }
    }

    /// The schedule says the slot `id` is now `status`: a form whose slot was
    /// booked, blocked, or held by someone else can no longer succeed, and a hold
    /// of ours that turned free has ended.
    pub fn on_slot(&mut self, id: &SlotId, status: Option<SlotStatus>) {
        if !matches!(self, Self::Form { slot, .. } | Self::Waiting { slot, .. } if slot == id) {
            return;
        }
        let ours = self.hold().and_then(Hold::until_ms).is_some();
        let not_ours = matches!(self.hold(), Some(Hold::NotHeld { .. } | Hold::Ended));
        match status {
            Some(SlotStatus::Booked) | None => self.lose(BookingFailure::AlreadyBooked),
            Some(SlotStatus::Blocked) => self.lose(BookingFailure::Blocked),
            Some(SlotStatus::Held) if not_ours => self.lose(BookingFailure::Held),
            Some(SlotStatus::Free) if ours => {
                if let Some(hold) = self.hold_mut() {
                    *hold = Hold::Ended;
                }
            }
            Some(SlotStatus::Free | SlotStatus::Held) => {}
        }
    }

    fn lose(&mut self, reason: BookingFailure) {
        if let Some(slot) = self.slot().cloned() {
            *self = Self::Taken { slot, reason };
        }
    }

    /// The connection dropped: an unanswered request's outcome is unknown, and a
    /// hold ended with the connection. Returns the nonce of the challenge whose
    /// solution went with an unanswered booking, which may have been spent.
    pub fn on_disconnect(&mut self) -> Option<String> {
        let nonce = match self {
            Self::Sending { nonce, .. } => Some(nonce.clone()),
            _ => None,
        };
        match self {
            Self::Sending { slot, .. } => {
                *self = Self::Failed { slot: slot.clone(), problem: Say::DroppedWhileSending }
            }
            Self::Waiting { slot, .. } => {
                *self = Self::Failed { slot: slot.clone(), problem: Say::DroppedBeforeSending }
            }
            Self::Form { .. } => *self = Self::Closed,
            _ => {}
        }
        nonce
    }
}

#[cfg(test)]
mod tests;
