//! The booking engine: the single writer that orders every change to the schedule,
//! commits it to the store, and only then publishes it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use protocol::{
    BookingCode, BookingFailure, Clinic, Doctor, Patient, Schedule, ServerMessage, Slot, SlotId, SlotStatus,
    Version,
};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::clinic::ClinicConfig;
use crate::hub::{Broadcast, Hub};
use crate::store::{BookError, NewBooking, Store};
use crate::{Clock, Error, Result, secret};

/// How often the engine checks whether the clinic's day has changed, so that a new
/// bookable day appears and the past one goes.
const DAY_CHECK_INTERVAL: Duration = Duration::from_secs(30);

/// The parts of the schedule that change only when it is reloaded: the clinic,
/// the doctors and the slots (whose `status` here is not used).
#[derive(Debug)]
struct Base {
    clinic: Clinic,
    doctors: Vec<Doctor>,
    slots: Vec<Slot>,
}

/// The schedule at one version, shared by every reader. Taking one costs a copy
/// of one byte per slot; the full `Schedule` and its `initialState` frame are built
/// only when somebody asks, at most once per version.
#[derive(Debug)]
pub struct Snapshot {
    version: Version,
    base: Arc<Base>,
    statuses: Vec<SlotStatus>,
    schedule: OnceLock<Schedule>,
    frame: OnceLock<Utf8Bytes>,
}

impl Snapshot {
    /// The version this snapshot shows.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The schedule itself.
    pub fn schedule(&self) -> &Schedule {
        self.schedule.get_or_init(|| Schedule {
            version: self.version,
            clinic: self.base.clinic.clone(),
            doctors: self.base.doctors.clone(),
            slots: self
                .base
                .slots
                .iter()
                .zip(&self.statuses)
                .map(|(slot, &status)| Slot { status, ..slot.clone() })
                .collect(),
        })
    }

    /// The `initialState` frame for this snapshot, serialized at most once however
    /// many clients connect at this version.
    pub fn frame(&self) -> Utf8Bytes {
        self.frame
            .get_or_init(|| crate::wire::encode(&ServerMessage::InitialState(self.schedule().clone())))
            .clone()
    }
}

/// What became of one booking request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookOutcome {
    /// Committed; the patient quotes this code.
    Booked(BookingCode),
    /// Refused, for this reason; nothing changed.
    Refused(BookingFailure),
}

/// One `book` waiting for the engine.
struct BookRequest {
    slot_id: SlotId,
    patient: Patient,
    request_id: String,
    reply: oneshot::Sender<Result<BookOutcome>>,
}

enum Command {
    Book(BookRequest),
    Reset { reply: oneshot::Sender<Result<()>> },
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Book(_) => "Book",
            Self::Reset { .. } => "Reset",
        })
    }
}

/// The most bookings committed in one transaction.
const MAX_BATCH: usize = 512;

/// A cheap, cloneable way to talk to the engine.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    commands: mpsc::Sender<Command>,
    snapshot: watch::Receiver<Arc<Snapshot>>,
    hub: Hub,
}

impl EngineHandle {
    /// Every change published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Broadcast> {
        self.hub.subscribe()
    }

    /// The latest committed schedule.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }

    /// Books `slot_id` for `patient`; returns once the outcome is committed.
    pub async fn book(&self, slot_id: SlotId, patient: Patient, request_id: String) -> Result<BookOutcome> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Book(BookRequest { slot_id, patient, request_id, reply })).await?;
        answer.await.map_err(|_| Error::EngineGone)?
    }

    /// Restores the configured schedule with every booking cleared.
    pub async fn reset(&self) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Reset { reply }).await?;
        answer.await.map_err(|_| Error::EngineGone)?
    }

    async fn send(&self, command: Command) -> Result<()> {
        self.commands.send(command).await.map_err(|_| Error::EngineGone)
    }
}

/// The engine's own state: the schedule in memory, mirroring the store.
struct Engine<S> {
    store: S,
    config: Arc<ClinicConfig>,
    clock: Clock,
    base: Arc<Base>,
    statuses: Vec<SlotStatus>,
    index: HashMap<SlotId, usize>,
    version: Version,
    first_day: NaiveDate,
    snapshot: watch::Sender<Arc<Snapshot>>,
    hub: Hub,
}

/// Loads the schedule from `store` and starts the engine task. The task ends when
/// every handle is dropped.
pub async fn start<S: Store>(
    store: S,
    config: Arc<ClinicConfig>,
    clock: Clock,
    queue: usize,
) -> Result<(EngineHandle, JoinHandle<()>)> {
    let now = clock();
    let first_day = config.local_date(now);
    store.add_slots(&config.slots_from(first_day), false).await?;
    let base = Arc::new(Base { clinic: config.clinic(), doctors: config.doctors(), slots: Vec::new() });
    let empty = Snapshot {
        version: 0,
        base: base.clone(),
        statuses: Vec::new(),
        schedule: OnceLock::new(),
        frame: OnceLock::new(),
    };
    let mut engine = Engine {
        store,
        config,
        clock,
        base,
        statuses: Vec::new(),
        index: HashMap::new(),
        version: 0,
        first_day,
        snapshot: watch::channel(Arc::new(empty)).0,
        hub: Hub::new(queue),
    };
    engine.reload().await?;
    let (commands, inbox) = mpsc::channel(4096);
    let handle = EngineHandle { commands, snapshot: engine.snapshot.subscribe(), hub: engine.hub.clone() };
    Ok((handle, tokio::spawn(engine.run(inbox))))
}

impl<S: Store> Engine<S> {
    async fn run(mut self, mut inbox: mpsc::Receiver<Command>) {
        let mut day_check = tokio::time::interval(DAY_CHECK_INTERVAL);
        loop {
            tokio::select! {
                command = inbox.recv() => match command {
                    Some(Command::Book(first)) => {
                        // Group commit: every booking already waiting goes into the
                        // same transaction, so one durable write serves them all.
                        let mut batch = vec![first];
                        let mut after = None;
                        while batch.len() < MAX_BATCH {
                            match inbox.try_recv() {
                                Ok(Command::Book(next)) => batch.push(next),
                                Ok(other) => {
                                    after = Some(other);
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        self.book(batch).await;
                        if let Some(Command::Reset { reply }) = after {
                            let _ = reply.send(self.reset().await);
                        }
                    }
                    Some(Command::Reset { reply }) => {
                        let _ = reply.send(self.reset().await);
                    }
                    None => break,
                },
                _ = day_check.tick() => {
                    if let Err(e) = self.roll_day().await {
                        tracing::error!(error = %e, "could not open the next bookable day");
                    }
                }
            }
        }
        tracing::debug!("engine stopped");
    }

    /// Decides a batch of bookings: refusals from memory at once, the rest
    /// committed together; nobody hears of a booking before it is durable.
    async fn book(&mut self, batch: Vec<BookRequest>) {
        let now = (self.clock)();
        let mut claimed = HashSet::new();
        let mut pending = Vec::with_capacity(batch.len());
        for request in batch {
            match self.check(&request, now, &claimed) {
                Ok((at, patient)) => {
                    claimed.insert(at);
                    pending.push((request, at, patient));
                }
                Err(reason) => {
                    let _ = request.reply.send(Ok(BookOutcome::Refused(reason)));
                }
            }
        }
        // A code collision is astronomically rare; a few fresh draws settle it.
        let mut changed = Vec::new();
        for _ in 0..4 {
            if pending.is_empty() {
                break;
            }
            let codes: Vec<String> = pending.iter().map(|_| secret::booking_code()).collect();
            let bookings: Vec<NewBooking<'_>> = pending
                .iter()
                .zip(&codes)
                .map(|((request, _, patient), code)| NewBooking {
                    slot_id: &request.slot_id,
                    code,
                    patient,
                    request_id: &request.request_id,
                    at: now,
                })
                .collect();
            let outcomes = match self.store.book_many(&bookings).await {
                Ok(outcomes) => outcomes,
                Err(e) => {
                    tracing::error!(error = %e, "bookings not committed");
                    for (request, ..) in pending.drain(..) {
                        let _ = request.reply.send(Err(Error::Internal("the booking was not committed")));
                    }
                    break;
                }
            };
            drop(bookings);
            let mut retry = Vec::new();
            for (((request, at, patient), code), outcome) in pending.drain(..).zip(codes).zip(outcomes) {
                match outcome {
                    Ok(version) => {
                        self.statuses[at] = SlotStatus::Booked;
                        self.version = version;
                        tracing::info!(slot = %request.slot_id, request_id = %request.request_id, version, "booked");
                        changed.push((version, at, request.reply, code));
                    }
                    Err(BookError::SlotTaken) => {
                        let _ = request.reply.send(Ok(BookOutcome::Refused(BookingFailure::AlreadyBooked)));
                    }
                    Err(BookError::CodeTaken) => retry.push((request, at, patient)),
                }
            }
            pending = retry;
        }
        for (request, ..) in pending {
            let _ = request.reply.send(Err(Error::Internal("could not draw an unused booking code")));
        }
        if changed.is_empty() {
            return;
        }
        // The snapshot first: a connection that subscribes from now on starts from
        // it and skips the updates it already includes.
        self.publish_snapshot();
        for (version, at, reply, code) in changed {
            let slot = Slot { status: self.statuses[at], ..self.base.slots[at].clone() };
            self.hub.publish(version, &ServerMessage::Update { version, slot });
            let _ = reply.send(Ok(BookOutcome::Booked(code)));
        }
    }

    /// The slot's index and the normalized patient, or why the booking is refused.
    fn check(
        &self,
        request: &BookRequest,
        now: DateTime<Utc>,
        claimed: &HashSet<usize>,
    ) -> Result<(usize, Patient), BookingFailure> {
        let patient = normalized_patient(&request.patient).ok_or(BookingFailure::InvalidPatient)?;
        let &at = self.index.get(&request.slot_id).ok_or(BookingFailure::NotFound)?;
        if self.base.slots[at].start <= now {
            return Err(BookingFailure::Past);
        }
        if self.statuses[at] != SlotStatus::Free || claimed.contains(&at) {
            return Err(BookingFailure::AlreadyBooked);
        }
        Ok((at, patient))
    }

    async fn reset(&mut self) -> Result<()> {
        let now = (self.clock)();
        self.first_day = self.config.local_date(now);
        self.store.reset(&self.config.slots_from(self.first_day), now).await?;
        self.reload_and_announce().await?;
        tracing::info!(version = self.version, "schedule reset");
        Ok(())
    }

    /// When the clinic's local day has changed, adds the new last bookable day and
    /// drops the past one from the schedule; everyone gets the new schedule.
    async fn roll_day(&mut self) -> Result<()> {
        let today = self.config.local_date((self.clock)());
        if today == self.first_day {
            return Ok(());
        }
        self.first_day = today;
        self.store.add_slots(&self.config.slots_from(today), true).await?;
        self.reload_and_announce().await
    }

    async fn reload_and_announce(&mut self) -> Result<()> {
        self.reload().await?;
        let snapshot = self.snapshot.borrow().clone();
        self.hub.publish(snapshot.version(), &ServerMessage::InitialState(snapshot.schedule().clone()));
        Ok(())
    }

    /// Replaces the in-memory schedule with the store's.
    async fn reload(&mut self) -> Result<()> {
        let loaded = self.store.load(self.config.day_start(self.first_day)).await?;
        self.statuses = loaded
            .slots
            .iter()
            .map(|s| if s.booked { SlotStatus::Booked } else { SlotStatus::Free })
            .collect();
        let slots: Vec<Slot> = loaded
            .slots
            .into_iter()
            .map(|s| Slot {
                id: s.id,
                doctor_id: s.doctor_id,
                start: s.start,
                end: s.end,
                status: SlotStatus::Free,
            })
            .collect();
        self.index = slots.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        self.base =
            Arc::new(Base { clinic: self.base.clinic.clone(), doctors: self.base.doctors.clone(), slots });
        self.version = loaded.version;
        self.publish_snapshot();
        Ok(())
    }

    /// Publishes the in-memory schedule as the current snapshot.
    fn publish_snapshot(&mut self) {
        self.snapshot.send_replace(Arc::new(Snapshot {
            version: self.version,
            base: self.base.clone(),
            statuses: self.statuses.clone(),
            schedule: OnceLock::new(),
            frame: OnceLock::new(),
        }));
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

/// The clock the engine reads `now` from.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
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
