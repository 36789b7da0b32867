//! The load generator as a library: open many live connections, book at a chosen
//! rate from a few others, and measure what the issue of speed is about — fan-out
//! latency to every client, missed updates, server memory per connection, durable
//! bookings per second and the time to each `bookingResult`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use client::{BookingReply, Client, ConnectOptions};
use hdrhistogram::Histogram;
use protocol::{Patient, ServerMessage, SlotId, SlotStatus};
use serde::Serialize;
use tokio::sync::{Semaphore, watch};

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

/// One run's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Listening connections held.
    pub clients: usize,
    /// Connections that could not be opened.
    pub connect_failures: usize,
    /// Seconds it took to open them all.
    pub connect_secs: f64,
    /// Bookings committed.
    pub booked: usize,
    /// Bookings refused (should be zero: every booker has its own slots).
    pub refused: usize,
    /// Bookings that got no answer (an error, or the connection was closed).
    pub failed: usize,
    /// Committed bookings per second over the booking phase.
    pub bookings_per_sec: f64,
    /// Time from `book` to `bookingResult`, milliseconds.
    pub book_p50_ms: f64,
    /// Time from `book` to `bookingResult`, milliseconds.
    pub book_p99_ms: f64,
    /// Time from `book` to `bookingResult`, milliseconds.
    pub book_max_ms: f64,
    /// Updates delivered to listeners.
    pub updates_received: u64,
    /// Updates a listener should have had and did not (gaps, or never arrived).
    pub missed_updates: u64,
    /// Time from `book` to the update's arrival at each client, milliseconds.
    pub fanout_p50_ms: f64,
    /// Same, 99th percentile.
    pub fanout_p99_ms: f64,
    /// Same, 99.9th percentile.
    pub fanout_p999_ms: f64,
    /// Same, maximum.
    pub fanout_max_ms: f64,
    /// Server resident memory before the listeners connected, KiB.
    pub rss_before_kib: Option<u64>,
    /// Server resident memory with all listeners connected, KiB.
    pub rss_after_kib: Option<u64>,
    /// (after − before) / clients, bytes.
    pub bytes_per_connection: Option<u64>,
    /// CPU seconds the server spent during the booking phase and the fan-out.
    pub server_cpu_secs: Option<f64>,
}

impl Summary {
    /// The one-line form.
    pub fn line(&self) -> String {
        let mut memory = match (self.rss_before_kib, self.rss_after_kib, self.bytes_per_connection) {
            (Some(b), Some(a), Some(per)) => format!(" rss={b}->{a}KiB per_conn={per}B"),
            _ => String::new(),
        };
        if let Some(cpu) = self.server_cpu_secs {
            memory.push_str(&format!(" server_cpu={cpu:.2}s"));
        }
        format!(
            "clients={} connect_failures={} connect={:.1}s booked={} refused={} failed={} book_rate={:.0}/s \
             book_p50={:.2}ms book_p99={:.2}ms book_max={:.2}ms updates={} missed={} \
             fanout_p50={:.2}ms fanout_p99={:.2}ms fanout_p999={:.2}ms fanout_max={:.2}ms{memory}",
            self.clients,
            self.connect_failures,
            self.connect_secs,
            self.booked,
            self.refused,
            self.failed,
            self.bookings_per_sec,
            self.book_p50_ms,
            self.book_p99_ms,
            self.book_max_ms,
            self.updates_received,
            self.missed_updates,
            self.fanout_p50_ms,
            self.fanout_p99_ms,
            self.fanout_p999_ms,
            self.fanout_max_ms,
        )
    }
}

/// When each slot's `book` was sent, in microseconds since the run began; the
/// listeners read it to time the update's arrival.
struct SendTimes {
    epoch: Instant,
    index: HashMap<String, usize>,
    sent_us: Vec<AtomicU64>,
}

impl SendTimes {
    fn mark(&self, slot: usize) {
        self.sent_us[slot].store(self.epoch.elapsed().as_micros() as u64, Ordering::Release);
    }

    /// Microseconds from the `book` of `slot` until now.
    fn since_sent(&self, slot: &str) -> Option<u64> {
        let sent = self.sent_us[*self.index.get(slot)?].load(Ordering::Acquire);
        (sent > 0).then(|| (self.epoch.elapsed().as_micros() as u64).saturating_sub(sent))
    }
}

struct ListenerStats {
    latencies_us: Vec<u32>,
    received: u64,
    gaps: u64,
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

/// Resident memory of a process, KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time a process has used so far, seconds (user + system).
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
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
        index: free.iter().enumerate().map(|(i, s)| (s.0.clone(), i)).collect(),
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
        let local_ip = Some(source(i, options.sources));
        opening.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.ok()?;
            let mut client = Client::connect_with(
                &url,
                ConnectOptions { local_ip, small_buffers: true, ..ConnectOptions::default() },
            )
            .await
            .ok()?;
            match client.recv().await.ok()? {
                ServerMessage::InitialState(s) => Some((client, s.version)),
                _ => None,
            }
        }));
    }
    let mut listeners = Vec::with_capacity(options.clients);
    let mut connect_failures = 0;
    for handle in opening {
        match handle.await.ok().flatten() {
            Some((client, version)) => {
                let (times, stop, delivered) = (times.clone(), stop_rx.clone(), delivered.clone());
                listeners.push(tokio::spawn(listen(client, version, times, stop, delivered)));
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
    let mut booking_clients = Vec::new();
    for _ in 0..bookers {
        booking_clients.push(Client::connect(&options.url).await.context("connecting a booker")?);
    }
    let cpu_before = options.server_pid.and_then(cpu_secs);
    let booking_started = Instant::now();
    let mut booking_tasks = Vec::new();
    for (share, mut client) in shares.into_iter().zip(booking_clients) {
        let times = times.clone();
        booking_tasks.push(tokio::spawn(async move {
            let mut pace = per_booker_interval.map(tokio::time::interval);
            let mut results: Vec<(Option<bool>, u32)> = Vec::with_capacity(share.len());
            for (i, slot) in share {
                if let Some(pace) = pace.as_mut() {
                    pace.tick().await;
                }
                times.mark(i);
                let started = Instant::now();
                let reply = client.book(slot, patient(i)).await;
                let took = started.elapsed().as_micros() as u32;
                results.push((reply.ok().map(|r| matches!(r, BookingReply::Booked { .. })), took));
            }
            results
        }));
    }
    let mut booked = 0;
    let mut refused = 0;
    let mut failed = 0;
    let mut book_hist = Histogram::<u64>::new(3)?;
    for task in booking_tasks {
        for (ok, took) in task.await? {
            match ok {
                Some(true) => booked += 1,
                Some(false) => refused += 1,
                None => failed += 1,
            }
            book_hist.record(u64::from(took).max(1))?;
        }
    }
    let booking_secs = booking_started.elapsed().as_secs_f64();

    // Wait for every listener to see every committed booking, or give up.
    let should_have = booked as u64 * listeners.len() as u64;
    let settle_until = Instant::now() + options.settle;
    while delivered.load(Ordering::Acquire) < should_have && Instant::now() < settle_until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(true);
    let cpu_after = options.server_pid.and_then(cpu_secs);

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
        server_cpu_secs: cpu_before.zip(cpu_after).map(|(b, a)| a - b),
    })
}

/// The two fields of an `update` the listeners need, read without building the
/// whole message: with thousands of listeners on the same two cores as the
/// server, decoding every field would measure the load generator, not the server.
#[derive(serde::Deserialize)]
struct Peek<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(default, borrow)]
    payload: Option<PeekPayload<'a>>,
}

#[derive(serde::Deserialize)]
struct PeekPayload<'a> {
    #[serde(default)]
    version: u64,
    #[serde(default, borrow)]
    slot: Option<PeekSlot<'a>>,
}

#[derive(serde::Deserialize)]
struct PeekSlot<'a> {
    #[serde(borrow)]
    id: &'a str,
}

/// One listening connection: checks versions arrive in order and times each
/// update against its `book`.
async fn listen(
    mut client: Client,
    mut version: u64,
    times: Arc<SendTimes>,
    mut stop: watch::Receiver<bool>,
    delivered: Arc<AtomicU64>,
) -> ListenerStats {
    let mut stats = ListenerStats { latencies_us: Vec::new(), received: 0, gaps: 0 };
    loop {
        tokio::select! {
            text = client.recv_text() => {
                let Ok(text) = text else { break };
                let Ok(peek) = serde_json::from_str::<Peek<'_>>(&text) else { continue };
                let (Some(payload), "update") = (peek.payload, peek.kind) else { continue };
                let Some(slot) = payload.slot else { continue };
                let v = payload.version;
                if v != version + 1 {
                    stats.gaps += v.saturating_sub(version + 1);
                }
                version = v;
                stats.received += 1;
                delivered.fetch_add(1, Ordering::AcqRel);
                if let Some(us) = times.since_sent(slot.id) {
                    stats.latencies_us.push(us.min(u64::from(u32::MAX)) as u32);
                }
            }
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    stats
}

fn protocol_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
