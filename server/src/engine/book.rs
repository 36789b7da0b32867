//! Bookings: the engine answers what it can from memory at once and commits the
//! rest in groups, one durable write for every booking waiting; nobody hears of a
//! booking before it is committed.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use protocol::{AuditAction, BookingFailure, Patient, SlotId};
use tokio::sync::{mpsc, oneshot};

use super::{BookOutcome, Command, ConnId, Engine};
use crate::address::ClientKey;
use crate::audit::Origin;
use crate::store::{BookError, Change, Changed, NewBooking, Refusal, Store, StoredBooking, StoredState};
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
    pub(super) client: ClientKey,
    pub(super) slot_id: SlotId,
    pub(super) patient: Patient,
    pub(super) request_id: String,
    pub(super) proof: Option<String>,
    /// Who books, for the audit trail.
    pub(super) origin: Origin,
    pub(super) reply: oneshot::Sender<Result<BookOutcome>>,
}

/// An answer kept for a retry of the same request.
pub(super) struct Answered {
    at: Instant,
    outcome: BookOutcome,
}

/// A request that passed the checks of memory, waiting to be committed.
struct Pending {
    request: BookRequest,
    patient: Patient,
    /// The hash under which its answer is kept and its row found again.
    retry_key: String,
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
        // Bookings of this batch not yet committed, per phone and per address.
        let mut phones: HashMap<String, usize> = HashMap::new();
        let mut clients: HashMap<ClientKey, usize> = HashMap::new();
        let mut pending: Vec<Pending> = Vec::with_capacity(batch.len());
        for request in batch {
            let Some(patient) = normalized_patient(&request.patient) else {
                // A typo costs nothing here, so it does not spend the proof.
                self.refused(request, None, BookingFailure::InvalidPatient).await;
                continue;
            };
            let retry_key = secret::retry_key(&request.request_id, &request.slot_id, &patient);
            if let Some(answer) = self.answered.get(&retry_key) {
                // A retry (a reconnect, a double click) of the same request for the
                // same patient: the first answer again. Anybody else who sends the
                // same id is making a booking attempt of their own.
                let _ = request.reply.send(Ok(answer.outcome.clone()));
                continue;
            }
            // A proof buys one attempt, booked or refused.
            if let Some(nonce) = &request.proof {
                if self.spent.contains(nonce) {
                    self.refused(request, None, BookingFailure::ChallengeFailed).await;
                    continue;
                }
                self.spent.spend(nonce.clone(), now);
            }
            let phone = secret::phone_digits(&patient.phone);
            let limits = *self.ledger.limits();
            let checked = match self.mirror.at(&request.slot_id) {
                None => Err(BookingFailure::NotFound),
                Some(at) if claimed.contains(&at) => Err(BookingFailure::AlreadyBooked),
                Some(at) => match self.refuse(at, request.conn, now) {
                    Some(reason) => Err(reason),
                    None if self.mirror.upcoming_bookings(&phone, now)
                        + phones.get(&phone).copied().unwrap_or(0)
                        >= limits.bookings_per_phone =>
                    {
                        Err(BookingFailure::LimitReached)
                    }
                    None if !self.ledger.may_book(
                        request.client,
                        clients.get(&request.client).copied().unwrap_or(0),
                        now,
                    ) =>
                    {
                        Err(BookingFailure::TooManyBookings)
                    }
                    None => Ok(at),
                },
            };
            match checked {
                Ok(at) => {
                    claimed.insert(at);
                    *phones.entry(phone).or_default() += 1;
                    *clients.entry(request.client).or_default() += 1;
                    pending.push(Pending { request, patient, retry_key });
                }
                Err(reason) => self.refused(request, Some(retry_key), reason).await,
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
            let holders: Vec<String> = pending.iter().map(|p| self.holder(p.request.conn)).collect();
            let bookings: Vec<NewBooking<'_>> = pending
                .iter()
                .zip(&secrets)
                .zip(&holders)
                .map(|((p, (code, hash, _)), holder)| NewBooking {
                    slot_id: &p.request.slot_id,
                    code,
                    manage_hash: hash,
                    patient: &p.patient,
                    retry_key: &p.retry_key,
                    proof: p.request.proof.as_deref(),
                    holder,
                    at: now,
                    origin: &p.request.origin,
                })
                .collect();
            let outcomes = match self.store.book_many(&bookings).await {
                Ok(outcomes) => outcomes,
                Err(e) => {
                    tracing::error!(error = %e, "bookings not committed");
                    crate::metrics::bookings_failed(pending.len());
                    for p in pending.drain(..) {
                        let _ = p.request.reply.send(Err(Error::Internal("the booking was not committed")));
                    }
                    break;
                }
            };
            drop(bookings);
            let mut retry = Vec::new();
            for ((p, (code, _, token)), outcome) in pending.drain(..).zip(secrets).zip(outcomes) {
                let Pending { request, patient, retry_key } = p;
                match outcome {
                    Ok((version, id)) => {
                        // The request id is a secret of the booker's: never logged.
                        tracing::info!(slot = %request.slot_id, version, "booked");
                        self.ledger.booked(request.client, now);
                        let booking = StoredBooking {
                            id,
                            slot_id: request.slot_id.clone(),
                            code: code.clone(),
                            patient,
                            booked_at: now,
                            active: true,
                            sequence: 0,
                            no_show: false,
                        };
                        let what = Changed::Slot {
                            id: request.slot_id.clone(),
                            state: StoredState::Booked,
                            booking: Some(booking),
                        };
                        changes.push(Change { version, what });
                        let outcome = BookOutcome::Booked(code, Some(token));
                        crate::metrics::booking(&outcome);
                        self.answer(retry_key, outcome.clone());
                        replies.push((request, outcome));
                    }
                    // Memory said yes and the database said no: another instance
                    // got there first, and this engine has not heard of it yet (or
                    // the proof of work was spent there).
                    Err(BookError::Refused(refusal)) => {
                        out_of_date |= refusal != Refusal::ProofSpent;
                        self.refused(request, Some(retry_key), super::actions::reason(refusal)).await;
                    }
                    Err(BookError::CodeTaken) => retry.push(Pending { request, patient, retry_key }),
                }
            }
            pending = retry;
        }
        crate::metrics::bookings_failed(pending.len());
        for p in pending {
            let _ = p.request.reply.send(Err(Error::Internal("could not draw an unused booking code")));
        }
        changes.sort_by_key(|c| c.version);
        self.advance(changes).await?;
        let mut bookers = Vec::with_capacity(replies.len());
        for (request, outcome) in replies {
            let _ = request.reply.send(Ok(outcome));
            bookers.push((request.conn, request.origin));
        }
        if out_of_date {
            self.catch_up(None).await?;
        }
        // Booking one slot ends the booker's hold on any other.
        for (conn, origin) in bookers {
            if let Some(held) = self.mirror.hold_of(conn) {
                self.end_hold(held, &origin, AuditAction::Released).await?;
            }
        }
        Ok(())
    }

    /// Answers a refused request. One refused as already booked may be the retry
    /// of a request that did book the slot (its answer no longer kept, say after
    /// a restart or on another instance): then that booking is the answer,
    /// without its secret. `retry_key` is absent for a request too malformed to
    /// have one.
    async fn refused(&mut self, request: BookRequest, retry_key: Option<String>, reason: BookingFailure) {
        let earlier = match (&retry_key, reason) {
            (Some(key), BookingFailure::AlreadyBooked) => {
                match self.store.booking_by_retry_key(key, &request.slot_id).await {
                    Ok(earlier) => earlier,
                    Err(e) => {
                        // This request alone fails; the rest of its batch goes on.
                        tracing::error!(error = %e, "could not look for an earlier booking");
                        let _ = request.reply.send(Err(e));
                        return;
                    }
                }
            }
            _ => None,
        };
        let outcome = match earlier {
            Some(booking) => BookOutcome::Booked(booking.code, None),
            None => BookOutcome::Refused(reason),
        };
        // A refusal by a limit may lift later, so a retry is decided afresh.
        let lasting = !matches!(
            outcome,
            BookOutcome::Refused(
                BookingFailure::LimitReached
                    | BookingFailure::TooManyBookings
                    | BookingFailure::ChallengeFailed
            )
        );
        if let Some(key) = retry_key.filter(|_| lasting) {
            self.answer(key, outcome.clone());
        }
        crate::metrics::booking(&outcome);
        let _ = request.reply.send(Ok(outcome));
    }

    /// Keeps an answer for retries of the same request. When full (a flood of
    /// attempts, each of which paid a proof of work), answers past the retry
    /// window go; if that is not enough the new one is not kept, rather than
    /// any patient's earlier answer lost.
    fn answer(&mut self, retry_key: String, outcome: BookOutcome) {
        if self.answered.len() >= RETRY_ANSWERS {
            self.answered.retain(|_, a| a.at.elapsed() < RETRY_WINDOW);
            if self.answered.len() >= RETRY_ANSWERS {
                return;
            }
        }
        self.answered.insert(retry_key, Answered { at: Instant::now(), outcome });
    }
}

/// The patient with surrounding blanks trimmed, or `None` when the name is missing
/// or the phone is not a phone number: the rule `protocol` shares with clients.
pub fn normalized_patient(patient: &Patient) -> Option<Patient> {
    patient.normalized().ok()
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
