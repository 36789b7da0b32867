//! The booking engine: the single writer of this server instance. It orders every
//! change its connections ask for, commits it to the store, and only then
//! publishes it; on a shared database it also applies, in version order, the
//! changes other instances committed, so its connections see one gap-free
//! sequence of versions whoever made each change.
//!
//! `handle` is how the rest of the server talks to the engine; `mirror` is the
//! engine's picture of the schedule as plain data, `sync` keeps it in step with
//! the database and publishes it, `snapshot` is what readers share; `book` is
//! the group-committed bookings, `actions` everything else a client or staff
//! can do, and `budget` what each client address may still take.

mod actions;
mod book;
mod budget;
mod handle;
mod mirror;
mod records;
mod snapshot;
mod sync;
mod traced;
mod waitlist;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use protocol::{Actor, AuditAction, ServerMessage, Slot, StaffBooking, Version};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::address::ClientKey;
use crate::audit::Origin;
use crate::clinic::ClinicConfig;
use crate::hub::{FanoutSettings, Hub};
use crate::store::{Offering, Signal, Store};
use crate::{Result, secret};

use book::Answered;
pub use book::normalized_patient;
pub use budget::Budgets;
use budget::{Ledger, Spent};
use handle::Command;
pub use handle::{Book, BookOutcome, EngineHandle, StaffAction};
use mirror::{Base, Mirror};
pub use snapshot::Snapshot;
pub use waitlist::Join;

/// How often the engine checks whether the clinic's day has changed, so that a new
/// bookable day appears and the past one goes.
const DAY_CHECK_INTERVAL: Duration = Duration::from_secs(30);
/// How often expired holds are released.
const HOLD_CHECK_INTERVAL: Duration = Duration::from_millis(500);
/// On a shared database, how often the engine compares its version with the
/// database's, in case a notification was lost with no sign of it.
const SYNC_INTERVAL: Duration = Duration::from_secs(1);
/// How often the retention job erases the patient details past their time.
const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);
/// How many logged changes the database keeps for instances catching up.
const CHANGES_KEPT: Version = 100_000;

/// What a request comes to: done (with what it gives), refused (with why), or
/// failed (an error of the server's).
type Outcome<T> = Result<Result<T, protocol::BookingFailure>>;

/// One connection, as the engine tells holders apart.
pub type ConnId = u64;

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
    /// Days after an appointment's end before its patient's details are
    /// erased; 0 keeps them.
    retention_days: u32,
    snapshot: watch::Sender<Arc<Snapshot>>,
    hub: Hub,
}

/// How the engine is set up besides its store and clinic.
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    /// How many writes, or rounds of updates, a connection may fall behind
    /// before it is cut off.
    pub queue: usize,
    /// How many published changes are kept for clients that resume.
    pub replay: usize,
    /// A connection silent this long is dropped.
    pub idle_timeout: std::time::Duration,
    /// Threads writing updates to the sockets; 0 for one per core.
    pub fanout_workers: usize,
    /// The least time between two rounds of a fan-out worker.
    pub fanout_round: std::time::Duration,
    /// What one address may take from everyone.
    pub budgets: Budgets,
    /// Days after an appointment's end (or a waitlist entry's) before its
    /// patient's name and phone are erased; 0 keeps them.
    pub retention_days: u32,
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
    store.release_orphaned_holds(offering(&config, now)).await?;
    // The clinic as clients see it, with the engine's own rule on extensions.
    let clinic = protocol::Clinic { hold_extensions: options.budgets.hold_extensions, ..config.clinic() };
    let base = Arc::new(Base { clinic, doctors: config.doctors(), slots: Vec::new() });
    let mirror = Mirror::new(base.clone());
    let empty = Snapshot {
        version: 0,
        base,
        statuses: Vec::new(),
        held_until: Vec::new(),
        schedule: OnceLock::new(),
        frame: OnceLock::new(),
    };
    let mut engine = Engine {
        store,
        config,
        clock,
        instance: secret::random_key()[..12].to_owned(),
        mirror,
        answered: HashMap::new(),
        ledger: Ledger::new(options.budgets),
        spent: Spent::default(),
        clients: HashMap::new(),
        first_day,
        retention_days: options.retention_days,
        snapshot: watch::channel(Arc::new(empty)).0,
        hub: Hub::new(
            options.queue,
            options.replay,
            FanoutSettings {
                queue: options.queue.max(1),
                idle_timeout: options.idle_timeout,
                workers: options.fanout_workers,
                round: options.fanout_round,
            },
        ),
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
        // Its first tick is at once: the job also runs at start.
        let mut retention_check = tokio::time::interval(RETENTION_INTERVAL);
        let shared = self.store.shared();
        loop {
            let result = tokio::select! {
                command = inbox.recv() => match command {
                    Some(Command::Book(first)) => {
                        // Group commit: every booking already waiting goes into the
                        // same transaction, so one durable write serves them all.
                        let (batch, after) = book::gather(first, &mut inbox);
                        let booked = self.book_in_span(batch).await;
                        // The command met after the batch is carried out whatever
                        // became of the batch: it was taken from the inbox.
                        let after = match after {
                            Some(command) => self.handle_in_span(command).await,
                            None => Ok(()),
                        };
                        booked.and(after)
                    }
                    Some(command) => self.handle_in_span(command).await,
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
                _ = retention_check.tick() => self.retain().await,
            };
            crate::metrics::engine_queue(inbox.len());
            if let Err(e) = result {
                tracing::error!(error = %e, "engine step failed");
            }
        }
        tracing::debug!("engine stopped");
    }

    async fn handle(&mut self, command: Command) -> Result<()> {
        match command {
            Command::Book(request) => self.book(vec![request]).await?,
            Command::Reset { origin, reply } => {
                let _ = reply.send(self.reset(&origin).await);
            }
            Command::Hold { conn, client, slot_id, origin, reply } => {
                let _ = reply.send(self.hold(conn, client, &slot_id, &origin).await);
            }
            Command::ExtendHold { conn, slot_id, origin, reply } => {
                let _ = reply.send(self.extend_hold(conn, &slot_id, &origin).await);
            }
            Command::Release { conn, slot_id, origin } => {
                if let Some(at) = self.mirror.held_by(&slot_id, conn) {
                    self.end_hold(at, &origin, AuditAction::Released).await?;
                }
            }
            Command::Gone { conn } => {
                // Let go of by the connection's patient, from where the hold
                // was taken.
                let origin = Origin { actor: Actor::Patient, address: self.clients.get(&conn).copied() };
                if let Some(at) = self.mirror.hold_of(conn) {
                    self.end_hold(at, &origin, AuditAction::Released).await?;
                }
                self.clients.remove(&conn);
            }
            Command::Lookup { token, reply } => {
                let _ = reply.send(self.lookup(&token).await);
            }
            Command::Cancel { token, origin, reply } => {
                let _ = reply.send(self.cancel(&token, &origin).await);
            }
            Command::Reschedule { conn, token, slot_id, origin, reply } => {
                let _ = reply.send(self.reschedule(conn, &token, &slot_id, &origin).await);
            }
            Command::Staff { action, slot_id, origin, reply } => {
                let _ = reply.send(self.staff(action, &slot_id, &origin).await);
            }
            Command::StaffState { reply } => {
                let _ = reply.send((self.mirror.version, self.mirror.staff_bookings()));
            }
            Command::JoinWaitlist { client, join, origin, reply } => {
                let _ = reply.send(self.join_waitlist(client, join, &origin).await);
            }
            Command::WatchWaitlist { token, reply } => {
                let _ = reply.send(self.watch_waitlist(&token).await);
            }
            Command::ChangeWaitlist { token, window, origin, reply } => {
                let _ = reply.send(self.change_waitlist(&token, window, &origin).await);
            }
            Command::LeaveWaitlist { token, origin, reply } => {
                let _ = reply.send(self.leave_waitlist(&token, &origin).await);
            }
            Command::AcceptOffer { token, origin, reply } => {
                let outcome = self.accept_offer(&token, &origin).await;
                crate::metrics::offer_taken(&outcome);
                let _ = reply.send(outcome);
            }
            Command::DeclineOffer { token, origin, reply } => {
                let _ = reply.send(self.decline_offer(&token, &origin).await);
            }
            Command::StaffWaitlist { reply } => {
                let _ = reply.send(self.staff_waitlist().await);
            }
            Command::StaffRemoveWaiting { id, origin, reply } => {
                let _ = reply.send(self.staff_remove_waiting(id, &origin).await);
            }
            Command::Records(request) => self.records(request).await,
            Command::Tick { reply } => {
                let result = async {
                    self.roll_day().await?;
                    self.expire_holds().await?;
                    self.retain().await?;
                    self.catch_up(None).await
                }
                .await;
                let _ = reply.send(result);
            }
        }
        Ok(())
    }

    /// What a slot freed now needs to be offered to the waitlist.
    fn offering(&self) -> Offering {
        offering(&self.config, (self.clock)())
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
            held_until: self.mirror.held_until(),
            schedule: OnceLock::new(),
            frame: OnceLock::new(),
        }));
        crate::metrics::holds(self.snapshot.borrow().held_until.len());
    }

    /// Tells everyone that `slot` changed with `version`, staff who holds its
    /// booking now, and the pages watching a waitlist entry whose offer it
    /// made or ended that entry as it is now.
    fn announce(
        &self,
        version: Version,
        slot: Slot,
        booking: Option<StaffBooking>,
        waiting: &[(i64, ServerMessage)],
    ) {
        // Patient details are serialized only when somebody may receive them.
        let staff = self.hub.has_staff().then(|| ServerMessage::StaffUpdate {
            version,
            slot_id: slot.id.clone(),
            booking,
        });
        self.hub.publish(version, &ServerMessage::Update { version, slot }, staff.as_ref(), waiting);
    }

    /// Tells everyone the whole schedule, as after a reset or a new day,
    /// and the pages watching the `waiting` entries those entries.
    fn announce_all(&self, waiting: &[(i64, ServerMessage)]) {
        let snapshot = self.snapshot.borrow().clone();
        let staff = ServerMessage::StaffState {
            version: self.mirror.version,
            bookings: self.mirror.staff_bookings(),
        };
        // The snapshot's frame is what new connections get too: serialized once.
        self.hub.publish_all(snapshot.version(), snapshot.frame(), Some(&staff), waiting);
    }
}

/// What a slot freed at `now` needs to be offered to the waitlist: offers run
/// for the clinic's offer time (in whole seconds, as the database keeps them,
/// so that every instance shows the same end), and only slots that could still
/// be booked are offered.
fn offering(config: &ClinicConfig, now: DateTime<Utc>) -> Offering {
    use chrono::SubsecRound;
    Offering {
        now,
        until: (now + chrono::Duration::seconds(i64::from(config.offer_seconds))).trunc_subsecs(0),
        earliest: now + chrono::Duration::minutes(i64::from(config.min_notice_minutes)),
        zone: config.time_zone,
    }
}

/// Where the engine reads the current time; tests substitute their own.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The clock the engine reads `now` from.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}
