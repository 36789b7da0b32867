//! The load generator as a library: open many live connections, book at a chosen
//! rate from a few others, and measure what the issue of speed is about — fan-out
//! latency to every client, missed updates, server memory per connection, durable
//! bookings per second and the time to each `bookingResult`.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use client::Client;
use hdrhistogram::Histogram;
use protocol::{Patient, ServerMessage, SlotId, SlotStatus};
use rustc_hash::FxHashMap;
use tokio::sync::{Semaphore, oneshot, watch};

pub mod floor;
mod listener;
pub mod procstat;
mod summary;

pub use procstat::{cpu_secs, rss_kib};
use summary::ServerCpu;
pub use summary::Summary;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server's WebSocket URL: the bookers book there.
    pub url: String,
    /// Where the listeners connect, in turn; empty means `url`. With several
    /// instances on one database, listeners on the others measure the fan-out
    /// across instances.
    pub listen_urls: Vec<String>,
    /// The server's process id, for reading its memory; `None` skips that.
    pub server_pid: Option<u32>,
    /// Idle connections that only listen.
    pub clients: usize,
    /// How many 127.0.0.x source addresses to spread the connections over.
    pub sources: u8,
    /// How many bookings to make.
    pub bookings: usize,
    /// Bookings per second over all bookers; 0 means as fast as they go.
    pub rate: f64,
    /// Connections that book.
    pub bookers: usize,
    /// Connections opened at the same time while setting up.
    pub connect_concurrency: usize,
    /// How long to wait for the last updates to arrive.
    pub settle: Duration,
}

/// When each slot's `book` was sent, in microseconds since the run began; the
/// listeners read it to time the update's arrival. Every update of every
/// listener looks its slot up here, hence the cheap hash.
struct SendTimes {
    epoch: Instant,
    index: FxHashMap<Box<[u8]>, usize>,
    sent_us: Vec<AtomicU64>,
}

impl SendTimes {
    fn mark(&self, slot: usize) {
        self.sent_us[slot].store(self.epoch.elapsed().as_micros() as u64, Ordering::Release);
    }

    /// Microseconds since the run began.
    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Microseconds from the `book` of the slot with id `slot` until `now_us`.
    fn since_sent(&self, slot: &[u8], now_us: u64) -> Option<u64> {
        let sent = self.sent_us[*self.index.get(slot)?].load(Ordering::Acquire);
        (sent > 0).then(|| now_us.saturating_sub(sent))
    }
}

fn source(i: usize, sources: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (i % sources.max(1) as usize) as u8))
}

fn patient(i: usize) -> Patient {
    Patient {
        name: format!("Load Test Patient {i}"),
        phone: format!("+7 900 {:03}-{:02}-{:02}", i % 1000, i % 97, i % 89),
    }
}

/// Raises this process's open-file limit as far as allowed (children inherit it).
pub fn raise_open_file_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0)
}

/// Runs one load test.
pub async fn run(options: &Options) -> Result<Summary> {
    // The schedule: which slots the bookers will take.
    let mut control = Client::connect(&options.url).await.context("connecting the control client")?;
    let ServerMessage::InitialState(schedule) = control.recv().await? else {
        bail!("the server did not start with initialState");
    };
    // Left open, it would read nothing more and be one slow reader among the
    // listeners.
    drop(control);
    // Past the clinic's minimum notice, with two minutes to spare.
    let soon = protocol_now() + i64::from(schedule.clinic.min_notice_minutes) * 60 + 120;
    let free: Vec<SlotId> = schedule
        .slots
        .iter()
        .filter(|s| s.status == SlotStatus::Free && s.start.timestamp() > soon)
        .map(|s| s.id.clone())
        .take(options.bookings)
        .collect();
    if free.len() < options.bookings {
        bail!(
            "only {} free slots for {} bookings; use a larger clinic or reset",
            free.len(),
            options.bookings
        );
    }
    let times = Arc::new(SendTimes {
        epoch: Instant::now(),
        index: free.iter().enumerate().map(|(i, s)| (s.0.as_bytes().into(), i)).collect(),
        sent_us: (0..free.len()).map(|_| AtomicU64::new(0)).collect(),
    });

    let rss_before = options.server_pid.and_then(rss_kib);

    // The listeners.
    let (stop_tx, stop_rx) = watch::channel(false);
    let delivered = Arc::new(AtomicU64::new(0));
    let permits = Arc::new(Semaphore::new(options.connect_concurrency.max(1)));
    let connect_started = Instant::now();
    let mut opening = Vec::with_capacity(options.clients);
    let listen_urls =
        if options.listen_urls.is_empty() { vec![options.url.clone()] } else { options.listen_urls.clone() };
    for i in 0..options.clients {
        let url = listen_urls[i % listen_urls.len()].clone();
        let permits = permits.clone();
        let local_ip = source(i, options.sources);
        opening.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.ok()?;
            listener::connect(&url, local_ip).await.ok()
        }));
    }
    let mut listeners = Vec::with_capacity(options.clients);
    let mut connect_failures = 0;
    for handle in opening {
        match handle.await.ok().flatten() {
            Some((listener, version)) => {
                let (times, stop, delivered) = (times.clone(), stop_rx.clone(), delivered.clone());
                listeners.push(tokio::spawn(listener.listen(version, times, stop, delivered)));
            }
            None => connect_failures += 1,
        }
    }
    let connect_secs = connect_started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = options.server_pid.and_then(rss_kib);

    // The bookers, each with its own share of the slots.
    let bookers = options.bookers.max(1);
    let mut shares: Vec<Vec<(usize, SlotId)>> = vec![Vec::new(); bookers];
    for (i, slot) in free.into_iter().enumerate() {
        shares[i % bookers].push((i, slot));
    }
    let per_booker_interval =
        (options.rate > 0.0).then(|| Duration::from_secs_f64(bookers as f64 / options.rate));
    // The bookers read like the listeners, and decode only their answers. They
    // run on a thread of their own: among a thousand listeners' tasks woken by
    // each write, a booker's answer would wait its turn, and the figures would
    // measure the load generator's queue instead of the server.
    let booking_runtime = Background(Some(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bookers")
            .enable_all()
            .build()?,
    ));
    let run_id =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut booking_clients = Vec::new();
    for b in 0..bookers {
        let (url, local_ip) = (options.url.clone(), source(b, options.sources));
        let (connection, _) = booking_runtime
            .spawn(async move { listener::connect(&url, local_ip).await })
            .await?
            .context("connecting a booker")?;
        booking_clients.push(listener::Booker::new(connection, format!("load-{run_id:x}-{b}")));
    }
    // The server's and the load generator's CPU time are read over the booking
    // phase and the wait for the last updates, the connections already open.
    let cpu_before = options.server_pid.and_then(procstat::process_cpu);
    let own_cpu_before = procstat::own_cpu();
    let booking_started = Instant::now();
    let booker_updates = Arc::new(AtomicU64::new(0));
    let open_bookers = Arc::new(AtomicU64::new(bookers as u64));
    let mut booking_tasks = Vec::new();
    let mut booking_results = Vec::new();
    for (share, mut booker) in shares.into_iter().zip(booking_clients) {
        let times = times.clone();
        let (done_tx, done_rx) = oneshot::channel();
        booking_results.push(done_rx);
        let (stop, updates, open) = (stop_rx.clone(), booker_updates.clone(), open_bookers.clone());
        booking_tasks.push(booking_runtime.spawn(async move {
            let mut pace = per_booker_interval.map(tokio::time::interval);
            let mut results: Vec<(Option<bool>, u32)> = Vec::with_capacity(share.len());
            for (i, slot) in share {
                if let Some(pace) = pace.as_mut() {
                    pace.tick().await;
                }
                times.mark(i);
                let started = Instant::now();
                let reply = booker.book(slot, patient(i), &updates).await;
                let took = started.elapsed().as_micros() as u32;
                results.push((reply.ok(), took));
            }
            let _ = done_tx.send(results);
            booker.count_updates(stop, &updates, &open).await;
        }));
    }
    let mut booked = 0;
    let mut refused = 0;
    let mut failed = 0;
    let mut book_hist = Histogram::<u64>::new(3)?;
    for results in booking_results {
        for (ok, took) in results.await.context("a booker failed")? {
            match ok {
                Some(true) => booked += 1,
                Some(false) => refused += 1,
                None => failed += 1,
            }
            book_hist.record(u64::from(took).max(1))?;
        }
    }
    let booking_secs = booking_started.elapsed().as_secs_f64();

    // Wait for every listener to see every committed booking, and every booker
    // too (the server writes each update to the booking connections as well),
    // or give up.
    let should_have = booked as u64 * listeners.len() as u64;
    let settle_until = Instant::now() + options.settle;
    let bookers_lack =
        || booker_updates.load(Ordering::Acquire) < booked as u64 * open_bookers.load(Ordering::Acquire);
    while (delivered.load(Ordering::Acquire) < should_have || bookers_lack()) && Instant::now() < settle_until
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(true);
    let cpu_after = options.server_pid.and_then(procstat::process_cpu);
    let own_cpu_after = procstat::own_cpu();
    for task in booking_tasks {
        task.await?;
    }
    let booker_updates = booker_updates.load(Ordering::Acquire);

    let mut fanout = Histogram::<u64>::new(3)?;
    let mut received = 0;
    let mut gaps = 0;
    for listener in listeners {
        let stats = listener.await?;
        received += stats.received;
        gaps += stats.gaps;
        for latency in stats.latencies_us {
            fanout.record(u64::from(latency).max(1))?;
        }
    }
    let listening = options.clients - connect_failures;
    // The updates the measured server wrote: to its listeners, and to the
    // bookers too when they use the same instance.
    let written = received + if options.listen_urls.is_empty() { booker_updates } else { 0 };
    let server_cpu = ServerCpu::new(cpu_before.zip(cpu_after).map(|(b, a)| a - b), written);
    let ms =
        |h: &Histogram<u64>, q: f64| if h.is_empty() { 0.0 } else { h.value_at_quantile(q) as f64 / 1000.0 };
    Ok(Summary {
        clients: listening,
        connect_failures,
        connect_secs,
        booked,
        refused,
        failed,
        bookings_per_sec: if booking_secs > 0.0 { booked as f64 / booking_secs } else { 0.0 },
        book_p50_ms: ms(&book_hist, 0.5),
        book_p99_ms: ms(&book_hist, 0.99),
        book_max_ms: if book_hist.is_empty() { 0.0 } else { book_hist.max() as f64 / 1000.0 },
        updates_received: received,
        booker_updates,
        missed_updates: should_have.saturating_sub(received).max(gaps),
        fanout_p50_ms: ms(&fanout, 0.5),
        fanout_p99_ms: ms(&fanout, 0.99),
        fanout_p999_ms: ms(&fanout, 0.999),
        fanout_max_ms: if fanout.is_empty() { 0.0 } else { fanout.max() as f64 / 1000.0 },
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        bytes_per_connection: rss_before
            .zip(rss_after)
            .and_then(|(b, a)| (listening > 0).then(|| a.saturating_sub(b) * 1024 / listening as u64)),
        server_cpu_secs: server_cpu.total_secs,
        server_user_secs: server_cpu.user_secs,
        server_sys_secs: server_cpu.sys_secs,
        server_user_us_per_update: server_cpu.user_us_per_update,
        server_sys_us_per_update: server_cpu.sys_us_per_update,
        server_us_per_update: server_cpu.us_per_update,
        loadgen_cpu_secs: own_cpu_before.zip(own_cpu_after).map(|(b, a)| (a - b).total()),
    })
}

/// A runtime started inside the load generator's own: dropped, it is shut
/// down without waiting (a runtime may not block its way down inside another,
/// and an early `?` drops it there too).
struct Background(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for Background {
    type Target = tokio::runtime::Runtime;

    fn deref(&self) -> &Self::Target {
        self.0.as_ref().expect("present until dropped")
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

fn protocol_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
