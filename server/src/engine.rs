//! The booking engine: the single writer that orders every change to the schedule,
//! commits it to the store, and only then publishes it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use protocol::{
    BookingCode, BookingDetails, BookingFailure, BookingStatus, Clinic, Doctor, ManageToken, Patient,
    Schedule, ServerMessage, Slot, SlotId, SlotStatus, StaffBooking, Version,
};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::clinic::ClinicConfig;
use crate::hub::{Broadcast, Hub};
use crate::store::{BookError, NewBooking, Store, StoredBooking, StoredState};
use crate::{Clock, Error, Result, secret};

/// How often the engine checks whether the clinic's day has changed, so that a new
/// bookable day appears and the past one goes.
const DAY_CHECK_INTERVAL: Duration = Duration::from_secs(30);
/// How often expired holds are released.
const HOLD_CHECK_INTERVAL: Duration = Duration::from_millis(500);
/// The most bookings committed in one transaction.
const MAX_BATCH: usize = 512;
/// How long the answer to a `book` is kept for a retry with the same request id.
const RETRY_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How many answers are kept for retries at most.
const RETRY_ANSWERS: usize = 50_000;

/// One connection, as the engine tells holders apart.
pub type ConnId = u64;

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
    /// Committed: the code to quote and the manage link's secret (absent when a
    /// retry is answered from the database after a restart).
    Booked(BookingCode, Option<ManageToken>),
    /// Refused, for this reason; nothing changed.
    Refused(BookingFailure),
}

/// One `book` waiting for the engine.
struct BookRequest {
    conn: ConnId,
    slot_id: SlotId,
    patient: Patient,
    request_id: String,
    reply: oneshot::Sender<Result<BookOutcome>>,
}

/// A staff action on one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffAction {
    /// Cancel the slot's booking.
    Cancel,
    /// Take the slot out of the schedule.
    Block,
    /// Put it back.
    Unblock,
}

type Reply<T> = oneshot::Sender<Result<Result<T, BookingFailure>>>;

enum Command {
    Book(BookRequest),
    Reset { reply: oneshot::Sender<Result<()>> },
    Hold { conn: ConnId, slot_id: SlotId, reply: Reply<DateTime<Utc>> },
    Release { conn: ConnId, slot_id: SlotId },
    Gone { conn: ConnId },
    Lookup { token: ManageToken, reply: Reply<BookingDetails> },
    Cancel { token: ManageToken, reply: Reply<()> },
    Reschedule { conn: ConnId, token: ManageToken, slot_id: SlotId, reply: Reply<BookingDetails> },
    Staff { action: StaffAction, slot_id: SlotId, reply: Reply<()> },
    StaffState { reply: oneshot::Sender<(Version, Vec<StaffBooking>)> },
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Book(_) => "Book",
            Self::Reset { .. } => "Reset",
            Self::Hold { .. } => "Hold",
            Self::Release { .. } => "Release",
            Self::Gone { .. } => "Gone",
            Self::Lookup { .. } => "Lookup",
            Self::Cancel { .. } => "Cancel",
            Self::Reschedule { .. } => "Reschedule",
            Self::Staff { .. } => "Staff",
            Self::StaffState { .. } => "StaffState",
        })
    }
}

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

    /// Marks a staff console as connected while the value lives.
    pub fn staff_present(&self) -> crate::hub::StaffPresence {
        self.hub.staff_present()
    }

    /// The latest committed schedule.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }

    /// Books `slot_id` for `patient`; returns once the outcome is committed.
    pub async fn book(
        &self,
        conn: ConnId,
        slot_id: SlotId,
        patient: Patient,
        request_id: String,
    ) -> Result<BookOutcome> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Book(BookRequest { conn, slot_id, patient, request_id, reply })).await?;
        answer.await.map_err(|_| Error::EngineGone)?
    }

    /// Restores the configured schedule with every booking cleared.
    pub async fn reset(&self) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Reset { reply }).await?;
        answer.await.map_err(|_| Error::EngineGone)?
    }

    /// Holds a slot for `conn`; returns when the hold ends.
    pub async fn hold(&self, conn: ConnId, slot_id: SlotId) -> Result<Result<DateTime<Utc>, BookingFailure>> {
        self.ask(|reply| Command::Hold { conn, slot_id, reply }).await
    }

    /// Ends `conn`'s hold of a slot.
    pub async fn release(&self, conn: ConnId, slot_id: SlotId) -> Result<()> {
        self.send(Command::Release { conn, slot_id }).await
    }

    /// `conn` has closed: its hold ends.
    pub async fn gone(&self, conn: ConnId) -> Result<()> {
        self.send(Command::Gone { conn }).await
    }

    /// The booking behind a manage link.
    pub async fn lookup(&self, token: ManageToken) -> Result<Result<BookingDetails, BookingFailure>> {
        self.ask(|reply| Command::Lookup { token, reply }).await
    }

    /// Cancels the booking behind a manage link.
    pub async fn cancel(&self, token: ManageToken) -> Result<Result<(), BookingFailure>> {
        self.ask(|reply| Command::Cancel { token, reply }).await
    }

    /// Moves the booking behind a manage link to `slot_id`.
    pub async fn reschedule(
        &self,
        conn: ConnId,
        token: ManageToken,
        slot_id: SlotId,
    ) -> Result<Result<BookingDetails, BookingFailure>> {
        self.ask(|reply| Command::Reschedule { conn, token, slot_id, reply }).await
    }

    /// A staff action on one slot.
    pub async fn staff(&self, action: StaffAction, slot_id: SlotId) -> Result<Result<(), BookingFailure>> {
        self.ask(|reply| Command::Staff { action, slot_id, reply }).await
    }

    /// Every active booking with its patient, and the version it is as of.
    pub async fn staff_state(&self) -> Result<(Version, Vec<StaffBooking>)> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::StaffState { reply }).await?;
        answer.await.map_err(|_| Error::EngineGone)
    }

    async fn ask<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Result<Result<T, BookingFailure>> {
        let (reply, answer) = oneshot::channel();
        self.send(command(reply)).await?;
        answer.await.map_err(|_| Error::EngineGone)?
    }

    async fn send(&self, command: Command) -> Result<()> {
        self.commands.send(command).await.map_err(|_| Error::EngineGone)
    }
}

/// What holds a slot, in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Held { by: ConnId, until: DateTime<Utc> },
    Booked,
    Blocked,
}

impl State {
    fn status(self) -> SlotStatus {
        match self {
            Self::Free => SlotStatus::Free,
            Self::Held { .. } => SlotStatus::Held,
            Self::Booked => SlotStatus::Booked,
            Self::Blocked => SlotStatus::Blocked,
        }
    }
}

/// An active booking, in memory, for staff and for manage links.
#[derive(Debug, Clone)]
struct Active {
    id: i64,
    staff: StaffBooking,
}

/// An answer kept for a retry of the same request.
struct Answered {
    slot: SlotId,
    at: Instant,
    outcome: BookOutcome,
}

/// The engine's own state: the schedule in memory, mirroring the store.
struct Engine<S> {
    store: S,
    config: Arc<ClinicConfig>,
    clock: Clock,
    /// Prefix of the holder names this engine writes, so that holds of another
    /// process are never taken for its own.
    instance: String,
    base: Arc<Base>,
    states: Vec<State>,
    index: HashMap<SlotId, usize>,
    active: HashMap<usize, Active>,
    holds: HashMap<ConnId, usize>,
    answered: HashMap<String, Answered>,
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
    // Holds belong to connections, and no connection outlives a restart.
    store.release_all().await?;
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
        instance: secret::admin_token()[..12].to_owned(),
        base,
        states: Vec::new(),
        index: HashMap::new(),
        active: HashMap::new(),
        holds: HashMap::new(),
        answered: HashMap::new(),
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
        let mut hold_check = tokio::time::interval(HOLD_CHECK_INTERVAL);
        loop {
            let result = tokio::select! {
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
                        let booked = self.book(batch).await;
                        match after {
                            _ if booked.is_err() => booked,
                            Some(command) => self.handle(command).await,
                            None => Ok(()),
                        }
                    }
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                _ = day_check.tick() => self.roll_day().await,
                _ = hold_check.tick() => self.expire_holds().await,
            };
            if let Err(e) = result {
                tracing::error!(error = %e, "engine step failed");
            }
        }
        tracing::debug!("engine stopped");
    }

    async fn handle(&mut self, command: Command) -> Result<()> {
        match command {
            Command::Book(request) => self.book(vec![request]).await?,
            Command::Reset { reply } => {
                let _ = reply.send(self.reset().await);
            }
            Command::Hold { conn, slot_id, reply } => {
                let _ = reply.send(self.hold(conn, &slot_id).await);
            }
            Command::Release { conn, slot_id } => {
                if let Some(&at) = self.index.get(&slot_id)
                    && matches!(self.states[at], State::Held { by, .. } if by == conn)
                {
                    self.end_hold(at).await?;
                }
            }
            Command::Gone { conn } => {
                if let Some(&at) = self.holds.get(&conn) {
                    self.end_hold(at).await?;
                }
            }
            Command::Lookup { token, reply } => {
                let _ = reply.send(self.lookup(&token).await);
            }
            Command::Cancel { token, reply } => {
                let _ = reply.send(self.cancel(&token).await);
            }
            Command::Reschedule { conn, token, slot_id, reply } => {
                let _ = reply.send(self.reschedule(conn, &token, &slot_id).await);
            }
            Command::Staff { action, slot_id, reply } => {
                let _ = reply.send(self.staff(action, &slot_id).await);
            }
            Command::StaffState { reply } => {
                let _ = reply.send((self.version, self.staff_bookings()));
            }
        }
        Ok(())
    }

    /// Why `conn` may not take the slot at `at` now, if it may not.
    fn refuse(&self, at: usize, conn: ConnId, now: DateTime<Utc>) -> Option<BookingFailure> {
        let start = self.base.slots[at].start;
        if start <= now {
            return Some(BookingFailure::Past);
        }
        if start <= now + chrono::Duration::minutes(i64::from(self.config.min_notice_minutes)) {
            return Some(BookingFailure::TooSoon);
        }
        match self.states[at] {
            State::Free => None,
            State::Held { by, .. } if by == conn => None,
            State::Held { .. } => Some(BookingFailure::Held),
            State::Booked => Some(BookingFailure::AlreadyBooked),
            State::Blocked => Some(BookingFailure::Blocked),
        }
    }

    /// Decides a batch of bookings: refusals from memory at once, the rest
    /// committed together; nobody hears of a booking before it is durable.
    async fn book(&mut self, batch: Vec<BookRequest>) -> Result<()> {
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
                    let &at = self.index.get(&request.slot_id).ok_or(BookingFailure::NotFound)?;
                    match self.refuse(at, request.conn, now) {
                        _ if claimed.contains(&at) => Err(BookingFailure::AlreadyBooked),
                        Some(reason) => Err(reason),
                        None => Ok((at, p)),
                    }
                });
            match checked {
                Ok((at, patient)) => {
                    claimed.insert(at);
                    pending.push((request, at, patient));
                }
                Err(BookingFailure::AlreadyBooked) => {
                    let outcome = self.earlier_booking(&request).await?;
                    self.answer(&request, outcome.clone());
                    let _ = request.reply.send(Ok(outcome));
                }
                Err(reason) => {
                    self.answer(&request, BookOutcome::Refused(reason));
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
            let secrets: Vec<(String, String, String)> = pending
                .iter()
                .map(|_| {
                    let token = secret::manage_token();
                    (secret::booking_code(), secret::manage_hash(&token), token)
                })
                .collect();
            let bookings: Vec<NewBooking<'_>> = pending
                .iter()
                .zip(&secrets)
                .map(|((request, _, patient), (code, hash, _))| NewBooking {
                    slot_id: &request.slot_id,
                    code,
                    manage_hash: hash,
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
            for (((request, at, patient), (code, _, token)), outcome) in
                pending.drain(..).zip(secrets).zip(outcomes)
            {
                match outcome {
                    Ok((version, id)) => {
                        if let State::Held { by, .. } = self.states[at] {
                            self.holds.remove(&by);
                        }
                        self.states[at] = State::Booked;
                        self.version = version;
                        tracing::info!(slot = %request.slot_id, request_id = %request.request_id, version, "booked");
                        let staff = StaffBooking {
                            slot_id: request.slot_id.clone(),
                            code: code.clone(),
                            patient,
                            booked_at: now,
                        };
                        self.active.insert(at, Active { id, staff });
                        let outcome = BookOutcome::Booked(code, Some(token));
                        self.answer(&request, outcome.clone());
                        changed.push((version, at, request.reply, outcome, request.conn));
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
            return Ok(());
        }
        // The snapshot first: a connection that subscribes from now on starts from
        // it and skips the updates it already includes.
        self.publish_snapshot();
        let mut bookers = Vec::with_capacity(changed.len());
        for (version, at, reply, outcome, conn) in changed {
            self.announce(version, at);
            let _ = reply.send(Ok(outcome));
            bookers.push(conn);
        }
        // Booking one slot ends the booker's hold on any other.
        for conn in bookers {
            if let Some(&held) = self.holds.get(&conn) {
                self.end_hold(held).await?;
            }
        }
        Ok(())
    }

    /// For a request refused as already booked: when it is a retry of a request
    /// that did book the slot (its answer no longer kept, say after a restart),
    /// that booking, without its secret; otherwise the refusal.
    async fn earlier_booking(&self, request: &BookRequest) -> Result<BookOutcome> {
        let earlier = self.store.booking_by_request(&request.request_id, &request.slot_id).await?;
        let same_patient = |b: &StoredBooking| {
            normalized_patient(&request.patient).is_some_and(|p| p.phone == b.patient.phone)
        };
        Ok(match earlier {
            Some(booking) if same_patient(&booking) => BookOutcome::Booked(booking.code, None),
            _ => BookOutcome::Refused(BookingFailure::AlreadyBooked),
        })
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

    async fn hold(&mut self, conn: ConnId, slot: &SlotId) -> Result<Result<DateTime<Utc>, BookingFailure>> {
        let now = (self.clock)();
        let Some(&at) = self.index.get(slot) else { return Ok(Err(BookingFailure::NotFound)) };
        if let Some(reason) = self.refuse(at, conn, now) {
            return Ok(Err(reason));
        }
        if let State::Held { until, .. } = self.states[at] {
            return Ok(Ok(until));
        }
        // One hold per connection: holding another slot lets go of the first.
        if let Some(&previous) = self.holds.get(&conn) {
            self.end_hold(previous).await?;
        }
        let until = now + chrono::Duration::seconds(i64::from(self.config.hold_seconds));
        let holder = format!("{}/{conn}", self.instance);
        let Some(version) = self.store.hold(slot, &holder, until).await? else {
            return Ok(Err(BookingFailure::Held));
        };
        self.states[at] = State::Held { by: conn, until };
        self.holds.insert(conn, at);
        self.version = version;
        self.publish_snapshot();
        self.announce(version, at);
        Ok(Ok(until))
    }

    /// Ends the hold of the slot at `at`; everyone sees it free again.
    async fn end_hold(&mut self, at: usize) -> Result<()> {
        let State::Held { by, .. } = self.states[at] else { return Ok(()) };
        self.holds.remove(&by);
        let released = self.store.release(&self.base.slots[at].id).await?;
        self.states[at] = State::Free;
        if let Some(version) = released {
            self.version = version;
            self.publish_snapshot();
            self.announce(version, at);
        }
        Ok(())
    }

    async fn expire_holds(&mut self) -> Result<()> {
        let now = (self.clock)();
        let expired: Vec<usize> = self
            .holds
            .values()
            .copied()
            .filter(|&at| matches!(self.states[at], State::Held { until, .. } if until <= now))
            .collect();
        for at in expired {
            self.end_hold(at).await?;
        }
        Ok(())
    }

    /// The active booking behind a manage token, with its slot's index.
    async fn find(&self, token: &str) -> Result<Result<(StoredBooking, usize), BookingFailure>> {
        let Some(booking) = self.store.booking_by_hash(&secret::manage_hash(token)).await? else {
            return Ok(Err(BookingFailure::NotFound));
        };
        let Some(&at) = self.index.get(&booking.slot_id) else {
            // Its slot is no longer in the schedule: its day is over.
            return Ok(Err(BookingFailure::Past));
        };
        Ok(Ok((booking, at)))
    }

    fn details(&self, booking: StoredBooking, at: usize) -> BookingDetails {
        BookingDetails {
            code: booking.code,
            slot: Slot { status: self.states[at].status(), ..self.base.slots[at].clone() },
            patient: booking.patient,
            status: if booking.active { BookingStatus::Active } else { BookingStatus::Cancelled },
        }
    }

    async fn lookup(&self, token: &str) -> Result<Result<BookingDetails, BookingFailure>> {
        Ok(self.find(token).await?.map(|(booking, at)| self.details(booking, at)))
    }

    async fn cancel(&mut self, token: &str) -> Result<Result<(), BookingFailure>> {
        let (booking, at) = match self.find(token).await? {
            Ok(found) => found,
            Err(reason) => return Ok(Err(reason)),
        };
        if !booking.active {
            return Ok(Err(BookingFailure::Cancelled));
        }
        if self.base.slots[at].start <= (self.clock)() {
            return Ok(Err(BookingFailure::Past));
        }
        self.cancel_booking(booking.id, at).await
    }

    async fn cancel_booking(&mut self, id: i64, at: usize) -> Result<Result<(), BookingFailure>> {
        let Some(version) = self.store.cancel(id, (self.clock)()).await? else {
            return Ok(Err(BookingFailure::Cancelled));
        };
        self.states[at] = State::Free;
        self.active.remove(&at);
        self.version = version;
        self.publish_snapshot();
        self.announce(version, at);
        tracing::info!(slot = %self.base.slots[at].id, version, "cancelled");
        Ok(Ok(()))
    }

    async fn reschedule(
        &mut self,
        conn: ConnId,
        token: &str,
        target: &SlotId,
    ) -> Result<Result<BookingDetails, BookingFailure>> {
        let now = (self.clock)();
        let (booking, from) = match self.find(token).await? {
            Ok(found) => found,
            Err(reason) => return Ok(Err(reason)),
        };
        if !booking.active {
            return Ok(Err(BookingFailure::Cancelled));
        }
        if self.base.slots[from].start <= now {
            return Ok(Err(BookingFailure::Past));
        }
        let Some(&to) = self.index.get(target) else { return Ok(Err(BookingFailure::NotFound)) };
        if let Some(reason) = self.refuse(to, conn, now) {
            return Ok(Err(reason));
        }
        let version = match self.store.reschedule(booking.id, target).await? {
            Ok(version) => version,
            Err(_) => return Ok(Err(BookingFailure::AlreadyBooked)),
        };
        if let State::Held { by, .. } = self.states[to] {
            self.holds.remove(&by);
        }
        self.states[from] = State::Free;
        self.states[to] = State::Booked;
        if let Some(mut moved) = self.active.remove(&from) {
            moved.staff.slot_id = target.clone();
            self.active.insert(to, moved);
        }
        self.version = version;
        self.publish_snapshot();
        self.announce(version - 1, from);
        self.announce(version, to);
        tracing::info!(from = %booking.slot_id, to = %target, version, "rescheduled");
        let moved = StoredBooking { slot_id: target.clone(), ..booking };
        Ok(Ok(self.details(moved, to)))
    }

    async fn staff(&mut self, action: StaffAction, slot: &SlotId) -> Result<Result<(), BookingFailure>> {
        let Some(&at) = self.index.get(slot) else { return Ok(Err(BookingFailure::NotFound)) };
        let now = (self.clock)();
        let version = match (action, self.states[at]) {
            (StaffAction::Cancel, State::Booked) => {
                let Some(id) = self.active.get(&at).map(|a| a.id) else {
                    return Ok(Err(BookingFailure::WrongState));
                };
                return self.cancel_booking(id, at).await;
            }
            (StaffAction::Block, State::Free) => self.store.block(slot, now).await?,
            (StaffAction::Block, State::Held { .. }) => return Ok(Err(BookingFailure::Held)),
            (StaffAction::Block, State::Booked) => return Ok(Err(BookingFailure::AlreadyBooked)),
            (StaffAction::Unblock, State::Blocked) => self.store.unblock(slot).await?,
            _ => return Ok(Err(BookingFailure::WrongState)),
        };
        let Some(version) = version else { return Ok(Err(BookingFailure::WrongState)) };
        self.states[at] = if action == StaffAction::Block { State::Blocked } else { State::Free };
        self.version = version;
        self.publish_snapshot();
        self.announce(version, at);
        tracing::info!(slot = %slot, ?action, version, "staff action");
        Ok(Ok(()))
    }

    fn staff_bookings(&self) -> Vec<StaffBooking> {
        let mut bookings: Vec<(usize, StaffBooking)> =
            self.active.iter().map(|(&at, a)| (at, a.staff.clone())).collect();
        bookings.sort_by_key(|(at, _)| *at);
        bookings.into_iter().map(|(_, b)| b).collect()
    }

    async fn reset(&mut self) -> Result<()> {
        let now = (self.clock)();
        self.first_day = self.config.local_date(now);
        self.store.reset(&self.config.slots_from(self.first_day), now).await?;
        self.answered.clear();
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
        let staff = ServerMessage::StaffState { version: self.version, bookings: self.staff_bookings() };
        self.hub.publish(
            snapshot.version(),
            &ServerMessage::InitialState(snapshot.schedule().clone()),
            Some(&staff),
        );
        Ok(())
    }

    /// Replaces the in-memory schedule with the store's: the configured slots,
    /// and every booked slot even when the configuration no longer has it, less
    /// the configured slots that would overlap a booking of the same doctor.
    async fn reload(&mut self) -> Result<()> {
        let loaded = self.store.load(self.config.day_start(self.first_day)).await?;
        let wanted: HashSet<SlotId> =
            self.config.slots_from(self.first_day).into_iter().map(|s| s.id).collect();
        let booked: Vec<(&protocol::DoctorId, DateTime<Utc>, DateTime<Utc>, &SlotId)> = loaded
            .slots
            .iter()
            .filter(|s| s.state == StoredState::Booked)
            .map(|s| (&s.doctor_id, s.start, s.end, &s.id))
            .collect();
        let overlaps_booking = |s: &crate::store::StoredSlot| {
            booked.iter().any(|(doctor, start, end, id)| {
                *doctor == &s.doctor_id && *id != &s.id && s.start < *end && *start < s.end
            })
        };
        let keep: Vec<bool> = loaded
            .slots
            .iter()
            .map(|s| s.state == StoredState::Booked || (wanted.contains(&s.id) && !overlaps_booking(s)))
            .collect();
        let prefix = format!("{}/", self.instance);
        let mut states = Vec::new();
        let mut slots = Vec::new();
        for (slot, keep) in loaded.slots.into_iter().zip(keep) {
            if !keep {
                continue;
            }
            states.push(match slot.state {
                StoredState::Free => State::Free,
                StoredState::Booked => State::Booked,
                StoredState::Blocked => State::Blocked,
                StoredState::Held { holder, expires } => {
                    match holder.strip_prefix(&prefix).and_then(|c| c.parse().ok()) {
                        Some(by) => State::Held { by, until: expires },
                        None => State::Free,
                    }
                }
            });
            slots.push(Slot {
                id: slot.id,
                doctor_id: slot.doctor_id,
                start: slot.start,
                end: slot.end,
                status: SlotStatus::Free,
            });
        }
        self.index = slots.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        self.holds = states
            .iter()
            .enumerate()
            .filter_map(|(at, s)| match s {
                State::Held { by, .. } => Some((*by, at)),
                _ => None,
            })
            .collect();
        self.active = loaded
            .bookings
            .into_iter()
            .filter_map(|b| {
                let at = *self.index.get(&b.slot_id)?;
                let staff = StaffBooking {
                    slot_id: b.slot_id,
                    code: b.code,
                    patient: b.patient,
                    booked_at: b.booked_at,
                };
                Some((at, Active { id: b.id, staff }))
            })
            .collect();
        self.states = states;
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
            statuses: self.states.iter().map(|s| s.status()).collect(),
            schedule: OnceLock::new(),
            frame: OnceLock::new(),
        }));
    }

    /// Tells everyone the slot at `at` changed with `version`, and staff who holds
    /// its booking now.
    fn announce(&self, version: Version, at: usize) {
        let slot = Slot { status: self.states[at].status(), ..self.base.slots[at].clone() };
        // Patient details are serialized only when somebody may receive them.
        let staff = self.hub.has_staff().then(|| ServerMessage::StaffUpdate {
            version,
            slot_id: slot.id.clone(),
            booking: self.active.get(&at).map(|a| a.staff.clone()),
        });
        self.hub.publish(version, &ServerMessage::Update { version, slot }, staff.as_ref());
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
