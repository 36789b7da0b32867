//! The booking dialog's flow as plain data: holding the chosen slot, waiting for
//! the robot check, sending the request once, and its outcome in plain words. No
//! browser APIs here, so all of it is unit-tested natively.

use protocol::{
    BookingCode, BookingFailure, ClientMessage, ManageToken, Patient, PatientProblem, Proof, ServerMessage,
    SlotId, SlotStatus,
};

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
        matches!(self, Self::Asking { .. } | Self::Held { .. })
    }

    /// A word for the page's `data-hold` attribute.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Asking { .. } => "asking",
            Self::Held { .. } => "held",
            Self::NotHeld { .. } => "not-held",
            Self::Ended => "ended",
        }
    }

    /// What the form says about the hold at `now_ms`, if anything.
    pub fn note(&self, now_ms: i64) -> Option<String> {
        const NOT_RESERVED: &str =
            "You can still book it, but it is not reserved for you: someone else may book it first.";
        match self {
            Self::Asking { .. } => None,
            Self::Held { until_ms } => {
                // Rounded up, so that the last minute reads "about 1 minute".
                let left = (((until_ms - now_ms).max(0) + 59_999) / 60_000).max(1);
                let plural = if left == 1 { "" } else { "s" };
                Some(format!("This time is held for you for about {left} minute{plural}."))
            }
            Self::NotHeld { reason: BookingFailure::HoldCooldown } => Some(format!(
                "You reserved this time a moment ago, so others get a turn to reserve it now. {NOT_RESERVED}"
            )),
            Self::NotHeld { reason: BookingFailure::TooManyHolds } => Some(format!(
                "Your network is already reserving several times, so this one was not reserved. {NOT_RESERVED}"
            )),
            Self::NotHeld { reason } => Some(format!("{} {NOT_RESERVED}", reason.describe())),
            Self::Ended => Some(format!("Your reservation of this time has ended. {NOT_RESERVED}")),
        }
    }
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
        problem: Option<String>,
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
        message: String,
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
    pub fn on_pow_failed(&mut self, message: &str) {
        if let Self::Waiting { slot, .. } = self {
            *self = Self::Failed { slot: slot.clone(), message: message.to_owned() };
        }
    }

    /// Takes a server reply about the hold or the booking.
    pub fn on_reply(&mut self, reply: &ServerMessage) -> Option<Settled> {
        match reply {
            ServerMessage::HoldResult { request_id: id, ok, expires_at, reason } => {
                let hold = self.hold_mut()?;
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
                    (_, _, Some(BookingFailure::InvalidPatient)) => Self::Form {
                        slot,
                        problem: Some(BookingFailure::InvalidPatient.describe().into()),
                        hold,
                    },
                    (_, _, Some(BookingFailure::LimitReached)) => {
                        settled = Some(Settled::Spent { nonce });
                        Self::Form {
                            slot,
                            problem: Some(BookingFailure::LimitReached.describe().into()),
                            hold,
                        }
                    }
                    (_, _, Some(BookingFailure::ChallengeFailed)) => {
                        settled = Some(Settled::ProofRefused { nonce });
                        let problem = BookingFailure::ChallengeFailed.describe().into();
                        Self::Form { slot, problem: Some(problem), hold }
                    }
                    (_, _, Some(reason)) => {
                        settled = Some(Settled::Spent { nonce });
                        Self::Taken { slot, reason: *reason }
                    }
                    _ => Self::Failed { slot, message: "The clinic sent an unexpected answer.".into() },
                };
                settled
            }
            ServerMessage::Error { message, request_id: Some(id), .. } => {
                if let Self::Sending { slot, request_id, .. } = self
                    && id == request_id
                {
                    *self = Self::Failed { slot: slot.clone(), message: message.clone() };
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
        let ours = matches!(self.hold(), Some(Hold::Held { .. }));
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
                *self = Self::Failed {
                    slot: slot.clone(),
                    message: "The connection dropped before the clinic answered. When the schedule is \
                              back, check this slot: if it shows as booked and not as yours, please call \
                              the clinic."
                        .into(),
                }
            }
            Self::Waiting { slot, .. } => {
                *self = Self::Failed {
                    slot: slot.clone(),
                    message: "The connection dropped before anything was sent, so nothing was booked. \
                              Please try again once the page is live."
                        .into(),
                }
            }
            Self::Form { .. } => *self = Self::Closed,
            _ => {}
        }
        nonce
    }
}

/// What is wrong with the patient's details, in plain words, for the field it
/// is about. Which details are wrong is decided by `Patient::normalized`, the
/// rule the server uses.
pub fn patient_problem(problem: PatientProblem) -> &'static str {
    match problem {
        PatientProblem::Name => "Please enter the patient's full name (at most 100 characters).",
        PatientProblem::Phone => {
            "Please enter a phone number the clinic can call: 5 to 15 digits, such as +7 912 345-67-89."
        }
    }
}

/// The title and the explanation of a refused booking, in plain words.
pub fn refusal(reason: BookingFailure) -> (&'static str, &'static str) {
    match reason {
        BookingFailure::AlreadyBooked => (
            "✕ This slot was just taken",
            "Someone else booked this slot a moment ago. Nothing was booked for you — please choose another time.",
        ),
        BookingFailure::Held => (
            "✕ Someone else is booking this slot",
            "Another patient is filling in the form for this time right now. Please choose another time.",
        ),
        BookingFailure::TooManyBookings => (
            "✕ Not booked",
            "Too many bookings came from your network this hour, so nothing was booked. Please try again \
             later, or call the clinic.",
        ),
        BookingFailure::LimitReached => (
            "✕ Not booked",
            "This phone number already has the most upcoming appointments allowed, so nothing was booked. \
             Please call the clinic.",
        ),
        BookingFailure::ChallengeFailed => (
            "✕ Not booked",
            "The check that you are not a robot did not pass, so nothing was booked. Please try again.",
        ),
        other => ("✕ This slot cannot be booked", other.describe()),
    }
}

#[cfg(test)]
mod tests;
