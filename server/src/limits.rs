//! Limits that keep one client from harming the others: their settings, the
//! message rate of one connection, connections per address, and wrong secrets
//! per address with a cap on them all.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::address::ClientKey;

/// Limits that keep one client from harming the others. `Limits::DEFAULT` holds
/// the defaults of the command-line flags, written only here.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted WebSocket message in bytes.
    pub max_message_bytes: usize,
    /// How many writes a connection may fall behind before it is cut off (a
    /// write carries every update a fan-out worker had at once, up to 64 KiB).
    pub outgoing_queue: usize,
    /// Threads that write the updates to the sockets; 0 for one per core.
    pub fanout_workers: usize,
    /// The least time between two of a fan-out worker's writes to its
    /// sockets: changes that come sooner go out together, so that a storm of
    /// bookings costs a write per socket per round, not per change.
    pub fanout_round: Duration,
    /// How long one send to a client may take.
    pub write_timeout: Duration,
    /// The kernel send buffer asked for each WebSocket connection, in bytes
    /// (Linux doubles it for its bookkeeping); 0 leaves it to the kernel's
    /// autotuning. It bounds what a client that does not read makes the
    /// kernel hold for it.
    pub send_buffer: usize,
    /// Most WebSocket connections at once.
    pub max_connections: usize,
    /// Most WebSocket connections at once from one address (IPv6: one /64).
    pub connections_per_address: usize,
    /// How long a connection may stay silent (pings unanswered) before it is dropped.
    pub idle_timeout: Duration,
    /// Average frames per second one connection may send, pings included.
    pub messages_per_sec: u32,
    /// Wrong manage links one address may send per minute.
    pub failed_secrets_per_min: u32,
    /// Wrong manage links all addresses together may send per minute.
    pub failed_secrets_per_min_total: u32,
    /// Wrong staff logins and sessions one address may send per minute.
    pub failed_staff_logins_per_min: u32,
    /// Wrong staff logins and sessions all addresses together may send per minute.
    pub failed_staff_logins_per_min_total: u32,
    /// Slots one address may hold at once.
    pub holds_per_address: usize,
    /// Holds one address may take per minute.
    pub holds_per_address_per_min: u32,
    /// How long an address may not hold a slot again after its hold of it ended.
    pub hold_cooldown: Duration,
    /// How many times the holder may extend one hold, each time by the clinic's
    /// hold time.
    pub hold_extensions: u32,
    /// Upcoming appointments one phone number may have, and waitlist entries
    /// it may have waiting.
    pub bookings_per_phone: usize,
    /// Bookings one address may make per hour.
    pub bookings_per_address_per_hour: u32,
    /// The proof of work a booking costs, in thousands of SHA-256 hashes at most
    /// (three quarters of it on average); 0 asks for none.
    pub challenge_work: u32,
    /// How many recent updates are kept for clients that come back, so that they
    /// get only what they missed instead of the whole schedule.
    pub replay_log: usize,
    /// Days after an appointment ended (or a waitlist entry did) before the
    /// patient's name and phone are erased; 0 keeps them. `SECURITY.md` says
    /// why the default is what it is.
    pub retention_days: u32,
    /// How long a staff session lasts after its login.
    pub staff_session: Duration,
    /// How often a staff console's connection checks that its session still
    /// holds (it also checks before every staff request, and a session ended
    /// on the same server ends its consoles at once): the longest a console
    /// on another instance keeps receiving patients' details after a logout.
    pub staff_recheck: Duration,
}

impl Limits {
    /// The defaults of the command-line flags.
    pub const DEFAULT: Self = Self {
        max_message_bytes: 16 * 1024,
        outgoing_queue: 256,
        fanout_workers: 0,
        fanout_round: Duration::from_millis(20),
        write_timeout: Duration::from_secs(10),
        send_buffer: 64 * 1024,
        max_connections: 10_000,
        connections_per_address: 32,
        idle_timeout: Duration::from_secs(60),
        messages_per_sec: 20,
        failed_secrets_per_min: 10,
        failed_secrets_per_min_total: 1_000,
        failed_staff_logins_per_min: 5,
        failed_staff_logins_per_min_total: 60,
        holds_per_address: 3,
        holds_per_address_per_min: 12,
        hold_cooldown: Duration::from_secs(300),
        hold_extensions: 2,
        bookings_per_phone: 3,
        bookings_per_address_per_hour: 10,
        challenge_work: 20_000,
        replay_log: 4096,
        retention_days: 90,
        staff_session: Duration::from_secs(12 * 3600),
        staff_recheck: Duration::from_secs(5),
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Limits {
    /// What the kernel grants of the send buffer asked for each connection's
    /// socket, when that is less: Linux caps the request at
    /// `net.core.wmem_max` without a word. `None` when it grants it all, or
    /// when the buffer is left to the kernel.
    pub fn send_buffer_cut(&self) -> std::io::Result<Option<usize>> {
        if self.send_buffer == 0 {
            return Ok(None);
        }
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
        socket.set_send_buffer_size(self.send_buffer)?;
        // Linux reports twice what it was set to (its bookkeeping is counted
        // in), capped or not.
        let doubled = if cfg!(target_os = "linux") { 2 } else { 1 };
        let granted = socket.send_buffer_size()? / doubled;
        Ok((granted < self.send_buffer).then_some(granted))
    }
}

/// A token bucket: `rate` messages a second on average, `2 × rate` at once.
#[derive(Debug)]
pub(crate) struct Bucket {
    rate: f64,
    tokens: f64,
    at: Instant,
    /// Messages refused in a row; reset by the next one let through.
    pub(crate) refused_in_a_row: u32,
}

impl Bucket {
    pub(crate) fn new(rate: u32) -> Self {
        let rate = f64::from(rate);
        Self { rate, tokens: 2.0 * rate, at: Instant::now(), refused_in_a_row: 0 }
    }

    /// Whether one more message may pass now.
    pub(crate) fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(2.0 * self.rate);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused_in_a_row = 0;
            true
        } else {
            self.refused_in_a_row += 1;
            false
        }
    }

    /// Whether the refusals have gone on long enough to end the connection.
    pub(crate) fn abused(&self) -> bool {
        f64::from(self.refused_in_a_row) > 2.0 * self.rate
    }
}

/// Wrong secrets of one kind per address over the last minute, and of all
/// addresses together, so that guessing is slow whatever the number of
/// connections or addresses. Manage links and staff logins are counted apart, so
/// that guessing the one never locks anybody out of the other.
#[derive(Debug)]
pub(crate) struct Guesses {
    what: &'static str,
    per_minute: u32,
    total_per_minute: u32,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    by_address: HashMap<ClientKey, (Instant, u32)>,
    total: Option<(Instant, u32)>,
}

const WINDOW: Duration = Duration::from_secs(60);
/// How many addresses' failures are remembered at most.
const ADDRESSES_KEPT: usize = 100_000;

/// The count of a one-minute window that began at `since`, zero when it is over.
fn current((since, count): (Instant, u32)) -> u32 {
    if since.elapsed() > WINDOW { 0 } else { count }
}

impl Guesses {
    pub(crate) fn new(what: &'static str, per_minute: u32, total_per_minute: u32) -> Self {
        Self { what, per_minute, total_per_minute, seen: Mutex::default() }
    }

    /// Whether `client` may try a secret now. Past the total, only addresses
    /// that have not failed this minute may: the total then caps guessing at one
    /// try per address a minute, and never locks out somebody who has not
    /// guessed wrong (a receptionist with the right token, a patient with their
    /// link).
    #[cfg(test)]
    fn allowed(&self, client: ClientKey) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        self.may_try(&seen, client)
    }

    fn may_try(&self, seen: &Seen, client: ClientKey) -> bool {
        let own = seen.by_address.get(&client).copied().map_or(0, current);
        let total = seen.total.map_or(0, current);
        own < self.per_minute && (own == 0 || total < self.total_per_minute)
    }

    /// Takes one try of `client`'s budget before its secret is checked: the
    /// try counts as wrong from now on, so that many tries at once (on many
    /// connections) cannot all be checked before the first is counted. `None`
    /// when `client` may not try now (see `allowed`). A right secret gives
    /// the try back with `give_back`; a wrong one keeps it, with `wrong`.
    pub(crate) fn reserve(&self, client: ClientKey) -> Option<Reserved> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if !self.may_try(&seen, client) {
            crate::metrics::secret_refused(self.what);
            return None;
        }
        Some(Self::count(&mut seen, client))
    }

    /// Gives back the try that `reserved` took from `client`: its secret was
    /// right, or it was not checked at all. A minute that began since then is
    /// left alone.
    pub(crate) fn give_back(&self, client: ClientKey, reserved: Reserved) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = seen.by_address.get_mut(&client)
            && entry.0 == reserved.own_since
        {
            entry.1 = entry.1.saturating_sub(1);
        }
        if let Some(entry) = seen.total.as_mut()
            && entry.0 == reserved.total_since
        {
            entry.1 = entry.1.saturating_sub(1);
        }
    }

    /// Says that the try `client` reserved was a wrong secret; it stays
    /// counted.
    pub(crate) fn wrong(&self, client: ClientKey) {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let failures = seen.by_address.get(&client).copied().map_or(0, current);
        let total = seen.total.map_or(0, current);
        drop(seen);
        tracing::warn!(%client, failures, total, what = self.what, "wrong secret");
        crate::metrics::wrong_secret(self.what);
    }

    /// Records a wrong secret from `client`.
    #[cfg(test)]
    pub(crate) fn failed(&self, client: ClientKey) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let _ = Self::count(&mut seen, client);
        drop(seen);
        self.wrong(client);
    }

    /// Counts one try of `client`, in its own count and in the total.
    fn count(seen: &mut Seen, client: ClientKey) -> Reserved {
        if seen.by_address.len() >= ADDRESSES_KEPT {
            seen.by_address.retain(|_, (since, _)| since.elapsed() <= WINDOW);
            // Still full, under an attack from that many addresses: start the
            // minute afresh rather than scan the map at every failure; the
            // total keeps them to one try each meanwhile.
            if seen.by_address.len() >= ADDRESSES_KEPT / 2 {
                seen.by_address.clear();
            }
        }
        let bump = |entry: &mut (Instant, u32)| {
            if entry.0.elapsed() > WINDOW {
                *entry = (Instant::now(), 0);
            }
            entry.1 += 1;
        };
        let own = seen.by_address.entry(client).or_insert((Instant::now(), 0));
        bump(own);
        let own_since = own.0;
        let total = seen.total.get_or_insert((Instant::now(), 0));
        bump(total);
        Reserved { own_since, total_since: total.0 }
    }
}

/// One try taken from an address's budget of secrets, before its check.
#[derive(Debug, Clone, Copy)]
#[must_use = "a try is given back or kept as wrong"]
pub(crate) struct Reserved {
    /// When the address's minute that counted it began.
    own_since: Instant,
    /// When the total's minute that counted it began.
    total_since: Instant,
}

/// Open connections per address.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    open: Mutex<HashMap<ClientKey, usize>>,
}

/// One counted connection; it stops counting when dropped.
#[derive(Debug)]
pub(crate) struct Counted {
    connections: Arc<Connections>,
    client: ClientKey,
    total: Arc<AtomicUsize>,
}

impl Connections {
    /// Counts a new connection from `client`, unless that address already has
    /// `per_address` open or the server `max` in all (`total` counts those).
    pub(crate) fn open(
        self: &Arc<Self>,
        client: ClientKey,
        per_address: usize,
        total: &Arc<AtomicUsize>,
        max: usize,
    ) -> Result<Counted, Refusal> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let mine = open.get(&client).copied().unwrap_or(0);
        if mine >= per_address {
            return Err(Refusal::PerAddress);
        }
        if total.fetch_add(1, Ordering::AcqRel) >= max {
            total.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::Total);
        }
        open.insert(client, mine + 1);
        crate::metrics::connection_opened();
        Ok(Counted { connections: self.clone(), client, total: total.clone() })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        crate::metrics::connection_ended();
        self.total.fetch_sub(1, Ordering::AcqRel);
        let mut open = self.connections.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// Why a connection was refused before the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Its address has as many open as it may.
    PerAddress,
    /// The server has as many open as it may.
    Total,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_buffer_above_what_the_kernel_allows_is_found_out() {
        let asking = |send_buffer| Limits { send_buffer, ..Limits::DEFAULT }.send_buffer_cut().unwrap();
        assert_eq!(asking(0), None, "left to the kernel");
        assert_eq!(asking(Limits::DEFAULT.send_buffer), None, "the default is granted");
        let granted = asking(1 << 30).expect("a gigabyte is cut");
        assert!(granted < 1 << 30, "{granted}");
    }

    #[test]
    fn a_bucket_lets_a_burst_through_then_refuses_and_then_gives_up_on_the_sender() {
        let mut bucket = Bucket::new(5);
        assert!((0..10).all(|_| bucket.take()), "a burst of twice the rate");
        assert!(!bucket.take());
        assert!(!bucket.abused());
        for _ in 0..10 {
            bucket.take();
        }
        assert!(bucket.abused());
    }

    fn key(address: &str) -> ClientKey {
        ClientKey::of(address.parse().unwrap())
    }

    #[test]
    fn an_address_is_stopped_after_its_wrong_secrets_for_the_minute() {
        let guesses = Guesses::new("test", 3, 100);
        let (a, b) = (key("10.0.0.1"), key("10.0.0.2"));
        for _ in 0..3 {
            assert!(guesses.allowed(a));
            guesses.failed(a);
        }
        assert!(!guesses.allowed(a));
        assert!(guesses.allowed(b), "other addresses are not affected");
    }

    #[test]
    fn past_the_total_each_address_gets_one_try_a_minute_and_nobody_is_locked_out() {
        let guesses = Guesses::new("test", 3, 5);
        for i in 0..5 {
            let client = key(&format!("10.0.0.{i}"));
            assert!(guesses.allowed(client));
            guesses.failed(client);
        }
        assert!(!guesses.allowed(key("10.0.0.0")), "an address that failed is stopped at the total");
        let fresh = key("10.0.0.99");
        assert!(guesses.allowed(fresh), "one that has not failed may still try");
        guesses.failed(fresh);
        assert!(!guesses.allowed(fresh), "once");
    }

    #[test]
    fn a_try_is_counted_before_its_check_and_a_right_one_is_given_back() {
        let guesses = Guesses::new("test", 3, 100);
        let a = key("10.0.0.1");
        // Three checks at once take the whole budget; a fourth is refused
        // before any of them has finished.
        let tries: Vec<Reserved> = (0..3).map(|_| guesses.reserve(a).unwrap()).collect();
        assert!(guesses.reserve(a).is_none());
        // Two were right: their tries come back; the wrong one stays.
        guesses.give_back(a, tries[0]);
        guesses.give_back(a, tries[1]);
        guesses.wrong(a);
        let more: Vec<Reserved> = (0..2).map(|_| guesses.reserve(a).unwrap()).collect();
        assert_eq!(more.len(), 2);
        assert!(guesses.reserve(a).is_none(), "one wrong and two checking fill the budget");
    }

    #[test]
    fn connections_are_counted_per_address_and_in_all() {
        let connections = Arc::new(Connections::default());
        let total = Arc::new(AtomicUsize::new(0));
        let first: Vec<Counted> =
            (0..2).map(|_| connections.open(key("10.0.0.1"), 2, &total, 3).unwrap()).collect();
        assert_eq!(connections.open(key("10.0.0.1"), 2, &total, 3).unwrap_err(), Refusal::PerAddress);
        let other = connections.open(key("10.0.0.2"), 2, &total, 3).unwrap();
        assert_eq!(connections.open(key("10.0.0.3"), 2, &total, 3).unwrap_err(), Refusal::Total);
        drop(first);
        assert_eq!(total.load(Ordering::Acquire), 1);
        assert!(connections.open(key("10.0.0.1"), 2, &total, 3).is_ok());
        drop(other);
    }
}
