//! The fan-out: a few worker threads, each owning a shard of the connections'
//! outlets, write every published change to every socket. A change is framed
//! once per worker; changes that queued up while a worker was busy go out as
//! one write per socket. No task is woken for a connection that only watches,
//! and nobody waits for a slow client: what its socket does not take waits in
//! its outlet, and the client is cut off when too much does.

mod outlet;

pub use outlet::{Fault, Outlet};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::net::TcpStream;

use crate::hub::Broadcast;

/// The most update bytes a worker writes to one socket at once; more that
/// waits goes in the next write.
const BATCH: usize = 64 * 1024;

/// What a worker is told, in order.
enum Job {
    /// A new connection: it gets every change sent after this.
    Join(Arc<Outlet>),
    /// Changes for every connection, in order, handed on together.
    Updates(Arc<[Broadcast]>),
    /// A connection ended: forget it.
    Leave(Arc<Outlet>),
    /// The server is stopping: end every connection, and any that joins later.
    Stop,
}

/// How the workers treat slow and silent clients.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How many writes may wait for a client that does not read before it is
    /// cut off, and how many rounds of updates for a busy connection task.
    pub queue: usize,
    /// A client silent this long is dropped.
    pub idle_timeout: Duration,
    /// How many worker threads; 0 for one per core (at most eight).
    pub workers: usize,
    /// The least time between two of a worker's rounds: changes that come
    /// sooner wait and go out together with the next ones.
    pub round: Duration,
}

/// The sending side: shared by the hub (changes) and the connections (joining
/// and leaving).
#[derive(Debug)]
pub struct Fanout {
    workers: Vec<Sender<Job>>,
    next: AtomicUsize,
    epoch: Instant,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Join(_) => "Join",
            Self::Updates(_) => "Updates",
            Self::Leave(_) => "Leave",
            Self::Stop => "Stop",
        })
    }
}

impl Fanout {
    /// Starts one worker per core (at most eight). They stop when the fan-out
    /// is dropped, and stop every connection they still hold.
    pub fn start(settings: Settings) -> Self {
        let count = match settings.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
            workers => workers,
        };
        let epoch = Instant::now();
        let workers = (0..count)
            .map(|i| {
                let (tx, rx) = mpsc::channel();
                let worker = Worker { rx, outlets: Vec::new(), settings, epoch, stopping: false };
                std::thread::Builder::new()
                    .name(format!("fanout-{i}"))
                    .spawn(move || worker.run())
                    .map(|_| tx)
            })
            .collect::<Result<Vec<_>, _>>()
            // Without threads to write to the sockets the server cannot serve.
            .unwrap_or_else(|e| panic!("cannot start the fan-out workers: {e}"));
        Self { workers, next: AtomicUsize::new(0), epoch }
    }

    /// Milliseconds since the fan-out started: the clock of `Outlet::heard`.
    pub fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// A new connection's outlet, which gets every change published from now
    /// on (queued for its task until it switches to direct mode).
    pub fn join(&self, stream: TcpStream) -> Arc<Outlet> {
        let shard = self.next.fetch_add(1, Ordering::Relaxed) % self.workers.len();
        let outlet = Arc::new(Outlet::new(stream, shard, self.now_ms()));
        if self.workers[shard].send(Job::Join(outlet.clone())).is_err() {
            outlet.stop();
        }
        outlet
    }

    /// Ends a connection's outlet and lets its worker forget it (the socket
    /// closes then).
    pub fn leave(&self, outlet: Arc<Outlet>) {
        outlet.shut();
        let _ = self.workers[outlet.shard].send(Job::Leave(outlet));
    }

    /// Ends every connection (with 1001), as the server stops.
    pub fn stop(&self) {
        for worker in &self.workers {
            let _ = worker.send(Job::Stop);
        }
    }

    /// Hands changes to every connection, in order: a worker writes them to
    /// each socket at once.
    pub fn publish(&self, updates: Arc<[Broadcast]>) {
        for worker in &self.workers {
            let _ = worker.send(Job::Updates(updates.clone()));
        }
    }
}

/// The updates a worker writes in one go, framed back to back.
struct Batch {
    updates: Vec<Broadcast>,
    framed: BytesMut,
    starts: Vec<usize>,
}

impl Batch {
    fn push(&mut self, update: Broadcast) {
        self.starts.push(self.framed.len());
        let payload = update.frame.bytes();
        let (header, len) = crate::ws::frame_header(payload.len());
        self.framed.extend_from_slice(&header[..len]);
        self.framed.extend_from_slice(payload);
        self.updates.push(update);
    }
}

/// One worker thread and the outlets it owns.
struct Worker {
    rx: Receiver<Job>,
    outlets: Vec<Arc<Outlet>>,
    settings: Settings,
    epoch: Instant,
    /// Whether the server is stopping.
    stopping: bool,
}

impl Worker {
    fn run(mut self) {
        let ping_every = self.settings.idle_timeout / 3;
        let ping = crate::ws::ping_frame();
        let mut next_ping = Instant::now() + ping_every;
        let mut last_round = Instant::now();
        let mut batch = Batch { updates: Vec::new(), framed: BytesMut::new(), starts: Vec::new() };
        loop {
            let job = match self.rx.recv_timeout(next_ping.saturating_duration_since(Instant::now())) {
                Ok(job) => Some(job),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut next = job;
            while let Some(job) = next {
                match job {
                    Job::Updates(updates) => {
                        for update in updates.iter() {
                            batch.push(update.clone());
                            if batch.framed.len() >= BATCH {
                                self.deliver(&mut batch);
                            }
                        }
                    }
                    Job::Join(outlet) => {
                        // It gets only what comes after its joining: the
                        // changes gathered so far are not for it.
                        if let Some(last) = batch.updates.last() {
                            outlet.skip_to(last.version);
                        }
                        outlet.slot.store(self.outlets.len(), Ordering::Relaxed);
                        if self.stopping {
                            outlet.stop();
                        }
                        self.outlets.push(outlet);
                    }
                    Job::Leave(outlet) => self.forget(&outlet),
                    Job::Stop => {
                        self.deliver(&mut batch);
                        self.stopping = true;
                        for outlet in &self.outlets {
                            outlet.stop();
                        }
                    }
                }
                next = self.rx.try_recv().ok();
                // A round costs a write to every socket of the shard, however
                // few changes it carries: while changes come faster than one
                // round a `round`, they are gathered. The first change after
                // a quiet spell goes at once.
                if next.is_none() && !batch.updates.is_empty() {
                    let since = last_round.elapsed();
                    if since < self.settings.round {
                        std::thread::sleep(self.settings.round - since);
                        next = self.rx.try_recv().ok();
                    }
                }
            }
            if !batch.updates.is_empty() {
                last_round = Instant::now();
            }
            self.deliver(&mut batch);
            if Instant::now() >= next_ping {
                let now = self.epoch.elapsed().as_millis() as u64;
                let idle = self.settings.idle_timeout.as_millis() as u64;
                for outlet in &self.outlets {
                    outlet.ping(now, idle, &ping);
                }
                next_ping = Instant::now() + ping_every;
            }
        }
        for outlet in &self.outlets {
            outlet.stop();
        }
    }

    /// Removes an ended outlet from the shard, in place of the last one.
    fn forget(&mut self, outlet: &Arc<Outlet>) {
        let slot = outlet.slot.load(Ordering::Relaxed);
        if self.outlets.get(slot).is_some_and(|held| Arc::ptr_eq(held, outlet)) {
            self.outlets.swap_remove(slot);
            if let Some(moved) = self.outlets.get(slot) {
                moved.slot.store(slot, Ordering::Relaxed);
            }
        }
    }

    fn deliver(&self, batch: &mut Batch) {
        if batch.updates.is_empty() {
            return;
        }
        let framed: Bytes = std::mem::take(&mut batch.framed).freeze();
        // One allocation a round, shared by the tasks it is queued for.
        let updates: Arc<[Broadcast]> = std::mem::take(&mut batch.updates).into();
        let limits = (self.settings.queue, self.settings.queue);
        for outlet in &self.outlets {
            outlet.deliver(&updates, &framed, &batch.starts, limits);
        }
        crate::metrics::delivered(updates.len(), self.outlets.len());
        batch.starts.clear();
    }
}
