//! The booking engine: the single writer that orders every change to the schedule,
//! commits it to the store, and only then publishes it.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use chrono::{NaiveDate, Utc};
use protocol::{
    BookingCode, BookingFailure, Clinic, Doctor, Patient, Schedule, ServerMessage, Slot, SlotId, SlotStatus,
    Version,
};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::clinic::ClinicConfig;
use crate::hub::{Broadcast, Hub};
use crate::store::{BookError, NewBooking, Store};
use crate::{Clock, Error, Result, secret};

/// How often the engine checks whether the clinic's day has changed, so that a new
/// bookable day appears and the past one goes.
const DAY_CHECK_INTERVAL: Duration = Duration::from_secs(30);

/// The schedule at one version, shared by every reader.
#[derive(Debug)]
pub struct Snapshot {
    schedule: Schedule,
    frame: OnceLock<Utf8Bytes>,
}

impl Snapshot {
    fn new(schedule: Schedule) -> Self {
        Self { schedule, frame: OnceLock::new() }
    }

    /// The version this snapshot shows.
    pub fn version(&self) -> Version {
        self.schedule.version
    }

    /// The schedule itself.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The `initialState` frame for this snapshot, serialized at most once however
    /// many clients connect at this version.
    pub fn frame(&self) -> Utf8Bytes {
        self.frame
            .get_or_init(|| crate::wire::encode(&ServerMessage::InitialState(self.schedule.clone())))
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

enum Command {
    Book {
        slot_id: SlotId,
        patient: Patient,
        request_id: String,
        reply: oneshot::Sender<Result<BookOutcome>>,
    },
    Reset {
        reply: oneshot::Sender<Result<()>>,
    },
}

/// A cheap, cloneable way to talk to the engine.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    commands: mpsc::Sender<Command>,
    snapshot: watch::Receiver<Arc<Snapshot>>,
    hub: Hub,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Book { .. } => "Book",
            Self::Reset { .. } => "Reset",
        })
    }
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
        self.send(Command::Book { slot_id, patient, request_id, reply }).await?;
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
    clinic: Clinic,
    doctors: Vec<Doctor>,
    slots: Vec<Slot>,
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
    let mut engine = Engine {
        clinic: config.clinic(),
        doctors: config.doctors(),
        store,
        config,
        clock,
        slots: Vec::new(),
        index: HashMap::new(),
        version: 0,
        first_day,
        snapshot: watch::channel(Arc::new(Snapshot::new(empty_schedule()))).0,
        hub: Hub::new(queue),
    };
    engine.reload().await?;
    let (commands, inbox) = mpsc::channel(1024);
    let handle = EngineHandle { commands, snapshot: engine.snapshot.subscribe(), hub: engine.hub.clone() };
    Ok((handle, tokio::spawn(engine.run(inbox))))
}

fn empty_schedule() -> Schedule {
    Schedule {
        version: 0,
        clinic: Clinic { name: String::new(), time_zone: String::new() },
        doctors: Vec::new(),
        slots: Vec::new(),
    }
}

impl<S: Store> Engine<S> {
    async fn run(mut self, mut inbox: mpsc::Receiver<Command>) {
        let mut day_check = tokio::time::interval(DAY_CHECK_INTERVAL);
        loop {
            tokio::select! {
                command = inbox.recv() => match command {
                    Some(Command::Book { slot_id, patient, request_id, reply }) => {
                        let _ = reply.send(self.book(slot_id, patient, &request_id).await);
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

    async fn book(&mut self, slot_id: SlotId, patient: Patient, request_id: &str) -> Result<BookOutcome> {
        let Some(patient) = normalized_patient(&patient) else {
            return Ok(BookOutcome::Refused(BookingFailure::InvalidPatient));
        };
        let Some(&at) = self.index.get(&slot_id) else {
            return Ok(BookOutcome::Refused(BookingFailure::NotFound));
        };
        let now = (self.clock)();
        if self.slots[at].start <= now {
            return Ok(BookOutcome::Refused(BookingFailure::Past));
        }
        if self.slots[at].status != SlotStatus::Free {
            return Ok(BookOutcome::Refused(BookingFailure::AlreadyBooked));
        }
        // A code collision is astronomically rare; a few fresh draws settle it.
        for _ in 0..4 {
            let code = secret::booking_code();
            let booking =
                NewBooking { slot_id: &slot_id, code: &code, patient: &patient, request_id, at: now };
            match self.store.book(booking).await {
                Ok(version) => {
                    self.slots[at].status = SlotStatus::Booked;
                    let slot = self.slots[at].clone();
                    self.commit(version);
                    self.hub.publish(version, &ServerMessage::Update { version, slot });
                    tracing::info!(slot = %slot_id, %request_id, version, "booked");
                    return Ok(BookOutcome::Booked(code));
                }
                Err(BookError::CodeTaken) => continue,
                Err(BookError::SlotTaken) => {
                    return Ok(BookOutcome::Refused(BookingFailure::AlreadyBooked));
                }
                Err(BookError::Other(e)) => return Err(e),
            }
        }
        Err(Error::Internal("could not draw an unused booking code"))
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
        self.slots = loaded
            .slots
            .into_iter()
            .map(|s| Slot {
                id: s.id,
                doctor_id: s.doctor_id,
                start: s.start,
                end: s.end,
                status: if s.booked { SlotStatus::Booked } else { SlotStatus::Free },
            })
            .collect();
        self.index = self.slots.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        self.commit(loaded.version);
        Ok(())
    }

    /// Publishes the in-memory schedule as the snapshot of `version`.
    fn commit(&mut self, version: Version) {
        self.version = version;
        let schedule = Schedule {
            version,
            clinic: self.clinic.clone(),
            doctors: self.doctors.clone(),
            slots: self.slots.clone(),
        };
        self.snapshot.send_replace(Arc::new(Snapshot::new(schedule)));
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
