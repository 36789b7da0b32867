//! One load-test run's figures and their one-line form.

use serde::Serialize;

use crate::procstat::CpuTimes;

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
    /// Updates delivered to the booking connections (each sees every update too).
    pub booker_updates: u64,
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
    /// The user part of `server_cpu_secs`.
    pub server_user_secs: Option<f64>,
    /// The kernel part of `server_cpu_secs`.
    pub server_sys_secs: Option<f64>,
    /// Server user time per update it wrote to a connection, microseconds.
    pub server_user_us_per_update: Option<f64>,
    /// Server kernel time per update it wrote to a connection, microseconds.
    pub server_sys_us_per_update: Option<f64>,
    /// Both together, microseconds.
    pub server_us_per_update: Option<f64>,
    /// CPU seconds the load generator itself spent over the same phase, on the
    /// same cores as the server.
    pub loadgen_cpu_secs: Option<f64>,
}

/// The server's CPU figures of a run.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ServerCpu {
    pub(crate) user_secs: Option<f64>,
    pub(crate) sys_secs: Option<f64>,
    pub(crate) total_secs: Option<f64>,
    pub(crate) user_us_per_update: Option<f64>,
    pub(crate) sys_us_per_update: Option<f64>,
    pub(crate) us_per_update: Option<f64>,
}

impl ServerCpu {
    /// The figures for `used` CPU time over `delivered` updates written.
    pub(crate) fn new(used: Option<CpuTimes>, delivered: u64) -> Self {
        let Some(used) = used else { return Self::default() };
        let per = |secs: f64| (delivered > 0).then(|| secs * 1e6 / delivered as f64);
        Self {
            user_secs: Some(used.user),
            sys_secs: Some(used.sys),
            total_secs: Some(used.total()),
            user_us_per_update: per(used.user),
            sys_us_per_update: per(used.sys),
            us_per_update: per(used.total()),
        }
    }
}

impl Summary {
    /// The one-line form.
    pub fn line(&self) -> String {
        let mut memory = match (self.rss_before_kib, self.rss_after_kib, self.bytes_per_connection) {
            (Some(b), Some(a), Some(per)) => format!(" rss={b}->{a}KiB per_conn={per}B"),
            _ => String::new(),
        };
        if let (Some(cpu), Some(user), Some(sys)) =
            (self.server_cpu_secs, self.server_user_secs, self.server_sys_secs)
        {
            memory.push_str(&format!(" server_cpu={cpu:.2}s server_user={user:.2}s server_sys={sys:.2}s"));
        }
        if let (Some(total), Some(user), Some(sys)) =
            (self.server_us_per_update, self.server_user_us_per_update, self.server_sys_us_per_update)
        {
            memory.push_str(&format!(
                " server_us_per_update={total:.2} server_user_us_per_update={user:.2} \
                 server_sys_us_per_update={sys:.2}"
            ));
        }
        if let Some(cpu) = self.loadgen_cpu_secs {
            memory.push_str(&format!(" loadgen_cpu={cpu:.2}s"));
        }
        format!(
            "clients={} connect_failures={} connect={:.1}s booked={} refused={} failed={} book_rate={:.0}/s \
             book_p50={:.2}ms book_p99={:.2}ms book_max={:.2}ms updates={} booker_updates={} missed={} \
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
            self.booker_updates,
            self.missed_updates,
            self.fanout_p50_ms,
            self.fanout_p99_ms,
            self.fanout_p999_ms,
            self.fanout_max_ms,
        )
    }
}
