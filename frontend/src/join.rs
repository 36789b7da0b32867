//! The join-the-waitlist dialog's flow as plain data: the patient's days, hours
//! and details, waiting for the robot check (the same one a booking pays with),
//! sending the request once, and its outcome. No browser APIs here, so all of it
//! is unit-tested natively.

use protocol::{
    BookingFailure, ClientMessage, DoctorId, Patient, Proof, ServerMessage, WaitToken, WaitWindow,
};

use crate::say::Say;
use crate::waitlist::Waiting;

/// The join dialog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Join {
    /// No dialog.
    #[default]
    Closed,
    /// Asking for the days, hours and details.
    Form {
        /// The doctor to wait for.
        doctor: DoctorId,
        /// Why the last attempt was refused, when it was.
        problem: Option<Say>,
    },
    /// Confirmed by the patient; the robot check is not done yet, so nothing
    /// has been sent.
    Waiting {
        /// The doctor to wait for.
        doctor: DoctorId,
        /// When the patient can come.
        window: WaitWindow,
        /// Who waits.
        patient: Patient,
    },
    /// Sent; waiting for the server.
    Sending {
        /// The doctor to wait for.
        doctor: DoctorId,
        /// The request id of the `joinWaitlist` sent.
        request_id: String,
        /// The nonce of the challenge whose solution went with it.
        nonce: String,
    },
    /// On the waitlist: the page goes to the entry's link.
    Joined {
        /// The doctor waited for.
        doctor: DoctorId,
        /// The waitlist link's secret.
        token: WaitToken,
    },
    /// The outcome is unknown or failed for a reason the form cannot help with.
    Failed {
        /// The doctor.
        doctor: DoctorId,
        /// What to tell the patient.
        problem: Say,
    },
}

/// What a reply to the join meant beyond the dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// On the waitlist: remember the entry; the solution of challenge `nonce`
    /// is spent.
    Joined {
        /// The entry to remember.
        entry: Waiting,
        /// The nonce of the challenge whose solution paid for it.
        nonce: String,
    },
    /// The server refused the solution of challenge `nonce`: solve a new one.
    ProofRefused {
        /// The nonce of the refused challenge.
        nonce: String,
    },
    /// Refused for another reason; the attempt spent the solution of
    /// challenge `nonce`, so the next one needs a new one.
    Spent {
        /// The nonce of the spent challenge.
        nonce: String,
    },
}

impl Join {
    /// Opens the form for `doctor`, unless a request is already on its way.
    pub fn open(&mut self, doctor: DoctorId) {
        if !matches!(self, Self::Sending { .. } | Self::Waiting { .. }) {
            *self = Self::Form { doctor, problem: None };
        }
    }

    /// Closes the dialog, unless a request is on its way (its answer must be
    /// seen).
    pub fn close(&mut self) {
        if !matches!(self, Self::Sending { .. }) {
            *self = Self::Closed;
        }
    }

    /// The doctor the dialog is about.
    pub fn doctor(&self) -> Option<&DoctorId> {
        match self {
            Self::Closed => None,
            Self::Form { doctor, .. }
            | Self::Waiting { doctor, .. }
            | Self::Sending { doctor, .. }
            | Self::Joined { doctor, .. }
            | Self::Failed { doctor, .. } => Some(doctor),
        }
    }

    /// Whether the patient confirmed and the dialog waits for the robot check.
    pub fn waiting(&self) -> bool {
        matches!(self, Self::Waiting { .. })
    }

    /// Whether the form is open and nothing is on its way.
    pub fn form(&self) -> bool {
        matches!(self, Self::Form { .. })
    }

    /// A word for the dialog's `data-join` attribute.
    pub fn phase(&self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Form { .. } => "form",
            Self::Waiting { .. } => "checking",
            Self::Sending { .. } => "sending",
            Self::Joined { .. } => "joined",
            Self::Failed { .. } => "failed",
        }
    }

    /// Submits the form: with a solved robot check returns the `joinWaitlist`
    /// to send; without, waits for it (see `on_proof`). `None` also when no
    /// form is open (a double click sends one request).
    pub fn submit(
        &mut self,
        window: WaitWindow,
        patient: Patient,
        proof: Option<Proof>,
        request_id: String,
    ) -> Option<ClientMessage> {
        let Self::Form { doctor, .. } = self else { return None };
        let doctor = doctor.clone();
        match proof {
            Some(proof) => self.send(doctor, window, patient, proof, request_id),
            None => {
                *self = Self::Waiting { doctor, window, patient };
                None
            }
        }
    }

    /// The robot check is done: returns the `joinWaitlist` of a patient who
    /// confirmed meanwhile.
    pub fn on_proof(&mut self, proof: Proof, request_id: String) -> Option<ClientMessage> {
        if !self.waiting() {
            return None;
        }
        let Self::Waiting { doctor, window, patient } = std::mem::take(self) else { return None };
        self.send(doctor, window, patient, proof, request_id)
    }

    fn send(
        &mut self,
        doctor: DoctorId,
        window: WaitWindow,
        patient: Patient,
        proof: Proof,
        request_id: String,
    ) -> Option<ClientMessage> {
        let nonce = proof.challenge.parameters.nonce.clone();
        *self = Self::Sending { doctor: doctor.clone(), request_id: request_id.clone(), nonce };
        Some(ClientMessage::JoinWaitlist {
            request_id,
            doctor_id: doctor,
            window,
            patient,
            proof: Some(proof),
        })
    }

    /// The robot check could not be done: a patient waiting for it is told.
    pub fn on_pow_failed(&mut self, problem: Say) {
        if let Self::Waiting { doctor, .. } = self {
            *self = Self::Failed { doctor: doctor.clone(), problem };
        }
    }

    /// Takes a server reply about the join.
    pub fn on_reply(&mut self, reply: &ServerMessage) -> Option<Settled> {
        let Self::Sending { doctor, request_id, nonce } = &*self else { return None };
        if reply.request_id() != Some(request_id.as_str()) {
            return None;
        }
        let (doctor, nonce) = (doctor.clone(), nonce.clone());
        let (next, settled) = match reply {
            ServerMessage::JoinResult { ok: true, wait_token: Some(token), .. } => {
                let entry = Waiting { token: token.clone(), doctor: doctor.clone() };
                (Self::Joined { doctor, token: token.clone() }, Settled::Joined { entry, nonce })
            }
            // Every refusal leaves the patient in the form, with what was typed,
            // to change the days or details, or to try again.
            ServerMessage::JoinResult { reason: Some(reason), .. } => {
                let settled = match reason {
                    BookingFailure::ChallengeFailed => Settled::ProofRefused { nonce },
                    _ => Settled::Spent { nonce },
                };
                (Self::Form { doctor, problem: Some(Say::Refused(*reason)) }, settled)
            }
            ServerMessage::Error { code, .. } => {
                (Self::Failed { doctor, problem: Say::Error(*code) }, Settled::Spent { nonce })
            }
            _ => (Self::Failed { doctor, problem: Say::Unexpected }, Settled::Spent { nonce }),
        };
        *self = next;
        Some(settled)
    }

    /// The connection dropped: an unanswered request's outcome is unknown.
    /// Returns the nonce of the challenge whose solution went with it, which
    /// may have been spent.
    pub fn on_disconnect(&mut self) -> Option<String> {
        match std::mem::take(self) {
            Self::Sending { doctor, nonce, .. } => {
                *self = Self::Failed { doctor, problem: Say::JoinDroppedWhileSending };
                Some(nonce)
            }
            Self::Waiting { doctor, .. } => {
                *self = Self::Failed { doctor, problem: Say::JoinDroppedBeforeSending };
                None
            }
            // The form stays open: nothing of it was sent, and what was typed
            // is kept for when the page is live again.
            other => {
                *self = other;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;
