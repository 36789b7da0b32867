//! Bookings: the engine answers what it can from memory at once and commits the
//! rest in groups, one durable write for every booking waiting; nobody hears of a
//! booking before it is committed.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use protocol::{BookingFailure, Patient, SlotId};
use tokio::sync::{mpsc, oneshot};

use super::{BookOutcome, Command, ConnId, Engine};
use crate::store::{BookError, Change, Changed, NewBooking, Store, StoredBooking, StoredState};
use crate::{Error, Result, secret};

/// The most bookings committed in one transaction.
const MAX_BATCH: usize = 512;
/// How long the answer to a `book` is kept for a retry with the same request id.
const RETRY_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How many answers are kept for retries at most.
const RETRY_ANSWERS: usize = 50_000;

/// One `book` waiting for the engine.
pub(super) struct BookRequest {
    pub(super) conn: ConnId,
    pub(super) slot_id: SlotId,
    pub(super) patient: Patient,
    pub(super) request_id: String,
    pub(super) reply: oneshot::Sender<Result<BookOutcome>>,
}

/// An answer kept for a retry of the same request.
pub(super) struct Answered {
    slot: SlotId,
    at: Instant,
    outcome: BookOutcome,
}

/// The bookings already waiting behind `first`, up to a batch, and the first
/// other command met, which must run after them.
pub(super) fn gather(
    first: BookRequest,
    inbox: &mut mpsc::Receiver<Command>,
) -> (Vec<BookRequest>, Option<Command>) {
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match inbox.try_recv() {
            Ok(Command::Book(next)) => batch.push(next),
            Ok(other) => return (batch, Some(other)),
            Err(_) => break,
        }
    }
    (batch, None)
}

impl<S: Store> Engine<S> {
    /// Decides a batch of bookings: refusals from memory at once, the rest
    /// committed together.
    pub(super) async fn book(&mut self, batch: Vec<BookRequest>) -> Result<()> {
        let now = (self.clock)();
        let mut claimed = HashSet::new();
        let mut pending = Vec::with_capacity(batch.len());
        for request in batch {
            if let Some(answer) = self.answered.get(&request.request_id)
                && answer.slot == request.slot_id
            {
                // A retry (a reconnect, a double click): the first answer again.
                let _ = request.reply.send(Ok(answer.outcome.clone()));
                continue;
            }
            let checked =
                normalized_patient(&request.patient).ok_or(BookingFailure::InvalidPatient).and_then(|p| {
                    let at = self.mirror.at(&request.slot_id).ok_or(BookingFailure::NotFound)?;
                    match self.refuse(at, request.conn, now) {
                        _ if claimed.contains(&at) => Err(BookingFailure::AlreadyBooked),
                        Some(reason) => Err(reason),
                        None => Ok((at, p)),
                    }
                });
            match checked {
                Ok((at, patient)) => {
                    claimed.insert(at);
                    pending.push((request, patient));
                }
                Err(reason) => self.refused(request, reason).await?,
            }
        }
        let mut changes = Vec::new();
        let mut replies = Vec::new();
        let mut out_of_date = false;
        // A code collision is astronomically rare; a few fresh draws settle it.
        for _ in 0..4 {
            if pending.is_empty() {
                break;
            }
            let secrets: Vec<(String, String, String)> = pending
                .iter()
                .map(|_| {
                    let token = secret::manage_token();
                    (secret::booking_code(), secret::manage_hash(&token), token)
                })
                .collect();
            let holders: Vec<String> = pending.iter().map(|(r, _)| self.holder(r.conn)).collect();
            let bookings: Vec<NewBooking<'_>> = pending
                .iter()
                .zip(&secrets)
                .zip(&holders)
                .map(|(((request, patient), (code, hash, _)), holder)| NewBooking {
                    slot_id: &request.slot_id,
                    code,
                    manage_hash: hash,
                    patient,
                    request_id: &request.request_id,
                    holder,
                    at: now,
                })
                .collect();
            let outcomes = match self.store.book_many(&bookings).await {
                Ok(outcomes) => outcomes,
                Err(e) => {
                    tracing::error!(error = %e, "bookings not committed");
                    for (request, _) in pending.drain(..) {
                        let _ = request.reply.send(Err(Error::Internal("the booking was not committed")));
                    }
                    break;
                }
            };
            drop(bookings);
            let mut retry = Vec::new();
            for (((request, patient), (code, _, token)), outcome) in
                pending.drain(..).zip(secrets).zip(outcomes)
            {
                match outcome {
                    Ok((version, id)) => {
                        tracing::info!(slot = %request.slot_id, request_id = %request.request_id, version, "booked");
                        let booking = StoredBooking {
                            id,
                            slot_id: request.slot_id.clone(),
                            code: code.clone(),
                            patient,
                            booked_at: now,
                            active: true,
                        };
                        let what = Changed::Slot {
                            id: request.slot_id.clone(),
                            state: StoredState::Booked,
                            booking: Some(booking),
                        };
                        changes.push(Change { version, what });
                        let outcome = BookOutcome::Booked(code, Some(token));
                        self.answer(&request, outcome.clone());
                        replies.push((request, outcome));
                    }
                    // Memory said yes and the database said no: another instance
                    // got there first, and this engine has not heard of it yet.
                    Err(BookError::Refused(reason)) => {
                        out_of_date = true;
                        self.refused(request, reason).await?;
                    }
                    Err(BookError::CodeTaken) => retry.push((request, patient)),
                }
            }
            pending = retry;
        }
        for (request, _) in pending {
            let _ = request.reply.send(Err(Error::Internal("could not draw an unused booking code")));
        }
        changes.sort_by_key(|c| c.version);
        self.advance(changes).await?;
        let mut bookers = Vec::with_capacity(replies.len());
        for (request, outcome) in replies {
            let _ = request.reply.send(Ok(outcome));
            bookers.push(request.conn);
        }
        if out_of_date {
            self.catch_up(None).await?;
        }
        // Booking one slot ends the booker's hold on any other.
        for conn in bookers {
            if let Some(held) = self.mirror.hold_of(conn) {
                self.end_hold(held).await?;
            }
        }
        Ok(())
    }

    /// Answers a refused request. One refused as already booked may be the retry
    /// of a request that did book the slot (its answer no longer kept, say after
    /// a restart or on another instance): then that booking is the answer,
    /// without its secret.
    async fn refused(&mut self, request: BookRequest, reason: BookingFailure) -> Result<()> {
        let outcome = match reason {
            BookingFailure::AlreadyBooked => {
                let earlier = self.store.booking_by_request(&request.request_id, &request.slot_id).await?;
                let same_patient = |b: &StoredBooking| {
                    normalized_patient(&request.patient).is_some_and(|p| p.phone == b.patient.phone)
                };
                match earlier {
                    Some(booking) if same_patient(&booking) => BookOutcome::Booked(booking.code, None),
                    _ => BookOutcome::Refused(reason),
                }
            }
            _ => BookOutcome::Refused(reason),
        };
        self.answer(&request, outcome.clone());
        let _ = request.reply.send(Ok(outcome));
        Ok(())
    }

    /// Keeps an answer for retries of the same request.
    fn answer(&mut self, request: &BookRequest, outcome: BookOutcome) {
        if self.answered.len() >= RETRY_ANSWERS {
            self.answered.retain(|_, a| a.at.elapsed() < RETRY_WINDOW);
            if self.answered.len() >= RETRY_ANSWERS {
                self.answered.clear();
            }
        }
        let answer = Answered { slot: request.slot_id.clone(), at: Instant::now(), outcome };
        self.answered.insert(request.request_id.clone(), answer);
    }
}

/// The patient with surrounding blanks trimmed, or `None` when the name is missing
/// or the phone is not a phone number.
pub fn normalized_patient(patient: &Patient) -> Option<Patient> {
    let name = patient.name.trim();
    let phone = patient.phone.trim();
    let name_ok = !name.is_empty() && name.chars().count() <= 100 && !name.chars().any(char::is_control);
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let phone_ok = (5..=15).contains(&digits)
        && phone.len() <= 32
        && phone.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.') || (c == '+' && i == 0)
        });
    (name_ok && phone_ok).then(|| Patient { name: name.to_owned(), phone: phone.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient(name: &str, phone: &str) -> Patient {
        Patient { name: name.into(), phone: phone.into() }
    }

    #[test]
    fn patients_need_a_name_and_a_phone_number() {
        assert!(normalized_patient(&patient("Anna", "+7 912 345-67-89")).is_some());
        assert_eq!(
            normalized_patient(&patient("  Anna  ", " 8 (912) 345 67 89 ")),
            Some(patient("Anna", "8 (912) 345 67 89"))
        );
        assert!(normalized_patient(&patient("", "+7 912 345-67-89")).is_none());
        assert!(normalized_patient(&patient("   ", "+7 912 345-67-89")).is_none());
        assert!(normalized_patient(&patient("Anna", "call me")).is_none());
        assert!(normalized_patient(&patient("Anna", "123")).is_none());
        assert!(normalized_patient(&patient("Anna", "12+345678")).is_none());
        assert!(normalized_patient(&patient(&"A".repeat(101), "+7 912 345-67-89")).is_none());
        assert!(normalized_patient(&patient("An\u{7}na", "+7 912 345-67-89")).is_none());
    }
}
