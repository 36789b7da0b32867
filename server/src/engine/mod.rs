//! The booking engine: the single writer of this server instance. It orders every
//! change its connections ask for, commits it to the store, and only then
//! publishes it; on a shared database it also applies, in version order, the
//! changes other instances committed, so its connections see one gap-free
//! sequence of versions whoever made each change.
//!
//! `mirror` is the engine's picture of the schedule, `book` the group-committed
//! bookings, `actions` everything else a client or staff can do.

mod actions;
mod book;
mod budget;
mod mirror;
mod snapshot;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use protocol::{
    BookingCode, BookingDetails, BookingFailure, ManageToken, Patient, ServerMessage, Slot, SlotId,
    StaffBooking, Version,
};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::address::ClientKey;
use crate::clinic::ClinicConfig;
use crate::hub::{Broadcast, Hub, Replay};
use crate::store::{Signal, Store};
use crate::{Error, Result, secret};

pub use book::normalized_patient;
use book::{Answered, BookRequest};
pub use budget::Budgets;
use budget::{Ledger, Spent};
use mirror::{Base, Mirror};
pub use snapshot::Snapshot;

/// How often the engine checks whether the clinic's day has changed, so that a new
/// bookable day appears and the past one goes.
const DAY_CHECK_INTERVAL: Duration = Duration::from_secs(30);
/// How often expired holds are released.
const HOLD_CHECK_INTERVAL: Duration = Duration::from_millis(500);
/// On a shared database, how often the engine compares its version with the
/// database's, in case a notification was lost with no sign of it.
const SYNC_INTERVAL: Duration = Duration::from_secs(1);
/// How many logged changes the database keeps for instances catching up.
const CHANGES_KEPT: Version = 100_000;

/// One connection, as the engine tells holders apart.
pub type ConnId = u64;

/// What became of one booking request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookOutcome {
    /// Committed: the code to quote and the manage link's secret (absent when a
    /// retry is answered from the database after a restart).
    Booked(BookingCode, Option<ManageToken>),
    /// Refused, for this reason; nothing changed.
    Refused(BookingFailure),
}

/// One booking request as a client made it.
#[derive(Debug, Clone)]
pub struct Book {
    /// The slot to book.
    pub slot_id: SlotId,
    /// Who it is for, as given.
    pub patient: Patient,
    /// The client's request id; a retry with the same id, slot and patient gets
    /// the first answer.
    pub request_id: String,
    /// The nonce of the checked proof of work that pays for it, if any.
    pub proof: Option<String>,
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
    /// End whoever's hold of the slot.
    EndHold,
}

type Reply<T> = oneshot::Sender<Result<Result<T, BookingFailure>>>;

enum Command {
    Book(BookRequest),
    Reset { reply: oneshot::Sender<Result<()>> },
    Hold { conn: ConnId, client: ClientKey, slot_id: SlotId, reply: Reply<DateTime<Utc>> },
    Release { conn: ConnId, slot_id: SlotId },
    Gone { conn: ConnId },
    Lookup { token: ManageToken, reply: Reply<BookingDetails> },
    Cancel { token: ManageToken, reply: Reply<()> },
    Reschedule { conn: ConnId, token: ManageToken, slot_id: SlotId, reply: Reply<BookingDetails> },
    Staff { action: StaffAction, slot_id: SlotId, reply: Reply<()> },
    StaffState { reply: oneshot::Sender<(Version, Vec<StaffBooking>)> },
    Tick { reply: oneshot::Sender<Result<()>> },
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

    /// The published changes after `version`, when the hub still has them.
    pub fn replay(&self, version: Version) -> Replay {
        self.hub.replay(version)
    }

    /// Marks a staff console as connected while the value lives.
    pub fn staff_present(&self) -> crate::hub::StaffPresence {
        self.hub.staff_present()
    }

    /// The latest committed schedule.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }

    /// Books `slot_id` for `patient`, asked by connection `conn` from `client`,
    /// paid for with the proof of work whose nonce is `proof` (when one was
    /// asked for); returns once the outcome is committed.
    pub async fn book(&self, conn: ConnId, client: ClientKey, book: Book) -> Result<BookOutcome> {
        let (reply, answer) = oneshot::channel();
        let Book { slot_id, patient, request_id, proof } = book;
        self.send(Command::Book(BookRequest { conn, client, slot_id, patient, request_id, proof, reply }))
            .await?;
        answer.await.map_err(|_| Error::EngineGone)?
    }

    /// Restores the configured schedule with every booking cleared.
    pub async fn reset(&self) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Reset { reply }).await?;
        answer.await.map_err(|_| Error::EngineGone)?
    }

    /// Holds a slot for `conn` of `client`; returns when the hold ends.
    pub async fn hold(
        &self,
        conn: ConnId,
        client: ClientKey,
        slot_id: SlotId,
    ) -> Result<Result<DateTime<Utc>, BookingFailure>> {
        self.ask(|reply| Command::Hold { conn, client, slot_id, reply }).await
    }

    /// Whether the engine still takes commands.
    pub fn running(&self) -> bool {
        !self.commands.is_closed()
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

    /// Runs the periodic work now: a new clinic day, expired holds, and other
    /// instances' changes. For tests that move the clock.
    pub async fn tick(&self) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Tick { reply }).await?;
        answer.await.map_err(|_| Error::EngineGone)?
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

/// The engine's own state: the schedule in memory, mirroring the store.
struct Engine<S> {
    store: S,
    config: Arc<ClinicConfig>,
    clock: Clock,
    /// Prefix of the holder names this engine writes, so that holds of another
    /// instance (or of an earlier run) are never taken for its own.
    instance: String,
    mirror: Mirror,
    /// Answers kept for retries, by a hash of request id, slot and patient.
    answered: HashMap<String, Answered>,
    /// What each address may still take.
    ledger: Ledger,
    /// The proofs of work that paid for an attempt.
    spent: Spent,
    /// The address of each connection that took a hold.
    clients: HashMap<ConnId, ClientKey>,
    first_day: NaiveDate,
    snapshot: watch::Sender<Arc<Snapshot>>,
    hub: Hub,
}

/// How the engine is set up besides its store and clinic.
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    /// How many updates a connection may fall behind before it is cut off.
    pub queue: usize,
    /// How many published changes are kept for clients that resume.
    pub replay: usize,
    /// What one address may take from everyone.
    pub budgets: Budgets,
}

/// Loads the schedule from `store` and starts the engine task. The task ends when
/// every handle is dropped.
pub async fn start<S: Store>(
    store: S,
    config: Arc<ClinicConfig>,
    clock: Clock,
    options: EngineOptions,
) -> Result<(EngineHandle, JoinHandle<()>)> {
    let now = clock();
    let first_day = config.local_date(now);
    // Listening starts before the schedule is read, so that nothing committed by
    // another instance in between goes unnoticed.
    let signals = store.listen().await?;
    store.add_slots(&config.slots_from(first_day), false).await?;
    store.release_orphaned_holds(now).await?;
    let base = Arc::new(Base { clinic: config.clinic(), doctors: config.doctors(), slots: Vec::new() });
    let mirror = Mirror::new(base.clone());
    let empty = Snapshot {
        version: 0,
        base,
        statuses: Vec::new(),
        schedule: OnceLock::new(),
        frame: OnceLock::new(),
    };
    let mut engine = Engine {
        store,
        config,
        clock,
        instance: secret::admin_token()[..12].to_owned(),
        mirror,
        answered: HashMap::new(),
        ledger: Ledger::new(options.budgets),
        spent: Spent::default(),
        clients: HashMap::new(),
        first_day,
        snapshot: watch::channel(Arc::new(empty)).0,
        hub: Hub::new(options.queue, options.replay),
    };
    engine.reload().await?;
    engine.hub.start_at(engine.mirror.version);
    let (commands, inbox) = mpsc::channel(4096);
    let handle = EngineHandle { commands, snapshot: engine.snapshot.subscribe(), hub: engine.hub.clone() };
    Ok((handle, tokio::spawn(engine.run(inbox, signals))))
}

/// The next signal from other instances; never, when there are none.
async fn next_signal(signals: &mut Option<mpsc::Receiver<Signal>>) -> Option<Signal> {
    match signals {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

impl<S: Store> Engine<S> {
    async fn run(mut self, mut inbox: mpsc::Receiver<Command>, mut signals: Option<mpsc::Receiver<Signal>>) {
        let mut day_check = tokio::time::interval(DAY_CHECK_INTERVAL);
        let mut hold_check = tokio::time::interval(HOLD_CHECK_INTERVAL);
        let mut sync_check = tokio::time::interval(SYNC_INTERVAL);
        let shared = self.store.shared();
        loop {
            let result = tokio::select! {
                command = inbox.recv() => match command {
                    Some(Command::Book(first)) => {
                        // Group commit: every booking already waiting goes into the
                        // same transaction, so one durable write serves them all.
                        let (batch, after) = book::gather(first, &mut inbox);
                        let booked = self.book(batch).await;
                        // The command met after the batch is carried out whatever
                        // became of the batch: it was taken from the inbox.
                        let after = match after {
                            Some(command) => self.handle(command).await,
                            None => Ok(()),
                        };
                        booked.and(after)
                    }
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                signal = next_signal(&mut signals) => match signal {
                    Some(Signal::Committed(version)) => self.catch_up(Some(version)).await,
                    Some(Signal::CatchUp) => self.catch_up(None).await,
                    None => {
                        tracing::error!("no longer told of other instances' changes");
                        signals = None;
                        Ok(())
                    }
                },
                _ = day_check.tick() => {
                    self.ledger.prune((self.clock)());
                    self.roll_day().await
                }
                _ = hold_check.tick() => self.expire_holds().await,
                _ = sync_check.tick(), if shared => self.sync().await,
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
            Command::Hold { conn, client, slot_id, reply } => {
                let _ = reply.send(self.hold(conn, client, &slot_id).await);
            }
            Command::Release { conn, slot_id } => {
                if let Some(at) = self.mirror.held_by(&slot_id, conn) {
                    self.end_hold(at).await?;
                }
            }
            Command::Gone { conn } => {
                if let Some(at) = self.mirror.hold_of(conn) {
                    self.end_hold(at).await?;
                }
                self.clients.remove(&conn);
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
                let _ = reply.send((self.mirror.version, self.mirror.staff_bookings()));
            }
            Command::Tick { reply } => {
                let result = async {
                    self.roll_day().await?;
                    self.expire_holds().await?;
                    self.catch_up(None).await
                }
                .await;
                let _ = reply.send(result);
            }
        }
        Ok(())
    }

    /// The holder name of one of this engine's connections.
    fn holder(&self, conn: ConnId) -> String {
        format!("{}/{conn}", self.instance)
    }

    /// The connection of a holder name, when it is one of this engine's.
    fn own_holder(&self, holder: &str) -> Option<ConnId> {
        holder.strip_prefix(&self.instance)?.strip_prefix('/')?.parse().ok()
    }

    /// Publishes the in-memory schedule as the current snapshot.
    fn publish_snapshot(&mut self) {
        self.snapshot.send_replace(Arc::new(Snapshot {
            version: self.mirror.version,
            base: self.mirror.base.clone(),
            statuses: self.mirror.statuses(),
            schedule: OnceLock::new(),
            frame: OnceLock::new(),
        }));
    }

    /// Tells everyone that `slot` changed with `version`, and staff who holds its
    /// booking now.
    fn announce(&self, version: Version, slot: Slot, booking: Option<StaffBooking>) {
        // Patient details are serialized only when somebody may receive them.
        let staff = self.hub.has_staff().then(|| ServerMessage::StaffUpdate {
            version,
            slot_id: slot.id.clone(),
            booking,
        });
        self.hub.publish(version, &ServerMessage::Update { version, slot }, staff.as_ref());
    }

    /// Tells everyone the whole schedule, as after a reset or a new day.
    fn announce_all(&self) {
        let snapshot = self.snapshot.borrow().clone();
        let staff = ServerMessage::StaffState {
            version: self.mirror.version,
            bookings: self.mirror.staff_bookings(),
        };
        // The snapshot's frame is what new connections get too: serialized once.
        self.hub.publish_all(snapshot.version(), snapshot.frame(), Some(&staff));
    }
}

/// Where the engine reads the current time; tests substitute their own.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The clock the engine reads `now` from.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}
