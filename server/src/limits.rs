//! Rate limits: messages per connection, and wrong secrets per address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// Wrong secrets (manage links, admin tokens) per address over the last minute,
/// so that guessing is slow whatever the number of connections.
#[derive(Debug)]
pub(crate) struct Guesses {
    per_minute: u32,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl Guesses {
    pub(crate) fn new(per_minute: u32) -> Self {
        Self { per_minute, seen: Mutex::new(HashMap::new()) }
    }

    /// Whether `peer` may try a secret now.
    pub(crate) fn allowed(&self, peer: IpAddr) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(&peer).is_none_or(|(since, count)| since.elapsed() > WINDOW || *count < self.per_minute)
    }

    /// Records a wrong secret from `peer`.
    pub(crate) fn failed(&self, peer: IpAddr) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 100_000 {
            seen.retain(|_, (since, _)| since.elapsed() <= WINDOW);
        }
        let entry = seen.entry(peer).or_insert((Instant::now(), 0));
        if entry.0.elapsed() > WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
        tracing::warn!(%peer, failures = entry.1, "wrong secret");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn an_address_is_stopped_after_its_wrong_secrets_for_the_minute() {
        let guesses = Guesses::new(3);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert!(guesses.allowed(a));
            guesses.failed(a);
        }
        assert!(!guesses.allowed(a));
        assert!(guesses.allowed(b), "other addresses are not affected");
    }
}
