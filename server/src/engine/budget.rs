//! What each client address may still take from everyone: holds at once, holds
//! and bookings per period, and the slots it may not hold again yet. The engine
//! is the only writer of its instance, so these checks and their bookkeeping
//! cannot race each other.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};
use protocol::{BookingFailure, SlotId};

use crate::address::ClientKey;

/// The limits the engine enforces per address.
#[derive(Debug, Clone, Copy)]
pub struct Budgets {
    /// Slots one address may hold at once.
    pub holds_at_once: usize,
    /// Holds one address may take per minute.
    pub holds_per_min: u32,
    /// How long an address may not hold a slot again after its hold of it ended.
    pub hold_cooldown: Duration,
    /// How many times the holder may extend one hold.
    pub hold_extensions: u32,
    /// Upcoming appointments one phone number may have.
    pub bookings_per_phone: usize,
    /// Bookings one address may make per hour.
    pub bookings_per_hour: u32,
}

impl Budgets {
    /// No limit at all, for tools that drive the engine directly.
    pub const UNLIMITED: Self = Self {
        holds_at_once: usize::MAX,
        holds_per_min: u32::MAX,
        hold_cooldown: Duration::ZERO,
        hold_extensions: u32::MAX,
        bookings_per_phone: usize::MAX,
        bookings_per_hour: u32::MAX,
    };
}

/// Instants of recent events per address, for a limit per period.
#[derive(Debug, Default)]
struct Recent(HashMap<ClientKey, VecDeque<DateTime<Utc>>>);

impl Recent {
    /// How many events `client` had in the `period` before `now`, forgetting
    /// older ones.
    fn count(&mut self, client: ClientKey, now: DateTime<Utc>, period: chrono::Duration) -> usize {
        let Some(times) = self.0.get_mut(&client) else { return 0 };
        while times.front().is_some_and(|&t| t <= now - period) {
            times.pop_front();
        }
        if times.is_empty() {
            self.0.remove(&client);
            return 0;
        }
        times.len()
    }

    fn record(&mut self, client: ClientKey, now: DateTime<Utc>) {
        self.0.entry(client).or_default().push_back(now);
    }

    /// Forgets the addresses with nothing in the last `period`.
    fn prune(&mut self, now: DateTime<Utc>, period: chrono::Duration) {
        self.0.retain(|_, times| times.back().is_some_and(|&t| t > now - period));
    }
}

/// The nonces of the proofs of work that paid for an attempt, for as long as a
/// proof could still be used: a proof buys one attempt, booked or refused, so
/// that refused attempts (each of which may cost the engine a look-up in the
/// database) are as costly as bookings.
#[derive(Debug, Default)]
pub(super) struct Spent {
    nonces: std::collections::HashSet<String>,
    /// The same nonces in the order spent, with when each may be forgotten.
    order: VecDeque<(DateTime<Utc>, String)>,
}

/// How long a spent proof is remembered: longer than a challenge lives.
const SPENT_KEPT: chrono::Duration = chrono::Duration::minutes(20);

impl Spent {
    /// Whether the proof with this nonce paid for an attempt already.
    pub(super) fn contains(&self, nonce: &str) -> bool {
        self.nonces.contains(nonce)
    }

    /// Spends a proof at `now`.
    pub(super) fn spend(&mut self, nonce: String, now: DateTime<Utc>) {
        while self.order.front().is_some_and(|(until, _)| *until <= now) {
            if let Some((_, old)) = self.order.pop_front() {
                self.nonces.remove(&old);
            }
        }
        if self.nonces.insert(nonce.clone()) {
            self.order.push_back((now + SPENT_KEPT, nonce));
        }
    }
}

const MINUTE: chrono::Duration = chrono::Duration::minutes(1);
const HOUR: chrono::Duration = chrono::Duration::hours(1);

/// The engine's per-address bookkeeping.
#[derive(Debug)]
pub(super) struct Ledger {
    limits: Budgets,
    holds: Recent,
    bookings: Recent,
    /// Until when an address may not hold a slot again.
    cooldowns: HashMap<(ClientKey, SlotId), DateTime<Utc>>,
    /// The same, in the order they end (every cooldown lasts as long), so that
    /// ended ones are forgotten a few at a time.
    cooldown_order: VecDeque<(DateTime<Utc>, ClientKey, SlotId)>,
}

/// The most cooldowns remembered; past it the oldest are forgotten early. One
/// address makes at most a few a minute, so only a great many addresses fill it.
const COOLDOWNS_KEPT: usize = 100_000;

impl Ledger {
    pub(super) fn new(limits: Budgets) -> Self {
        Self {
            limits,
            holds: Recent::default(),
            bookings: Recent::default(),
            cooldowns: HashMap::new(),
            cooldown_order: VecDeque::new(),
        }
    }

    pub(super) fn limits(&self) -> &Budgets {
        &self.limits
    }

    /// Why `client`, which holds `holding` slots now (not counting one it would
    /// let go of), may not hold `slot` now, if it may not.
    pub(super) fn refuse_hold(
        &mut self,
        client: ClientKey,
        slot: &SlotId,
        holding: usize,
        now: DateTime<Utc>,
    ) -> Option<BookingFailure> {
        if self.cooldowns.get(&(client, slot.clone())).is_some_and(|&until| until > now) {
            return Some(BookingFailure::HoldCooldown);
        }
        let rate = u64::from(self.limits.holds_per_min);
        if holding >= self.limits.holds_at_once || self.holds.count(client, now, MINUTE) as u64 >= rate {
            return Some(BookingFailure::TooManyHolds);
        }
        None
    }

    /// `client` took a hold.
    pub(super) fn held(&mut self, client: ClientKey, now: DateTime<Utc>) {
        self.holds.record(client, now);
    }

    /// `client`'s hold of `slot` ended without a booking of it: others get their
    /// turn before it may hold that slot again.
    pub(super) fn hold_ended(&mut self, client: ClientKey, slot: SlotId, now: DateTime<Utc>) {
        if self.limits.hold_cooldown.is_zero() {
            return;
        }
        self.forget_cooldowns(now);
        let cooldown = chrono::Duration::from_std(self.limits.hold_cooldown).unwrap_or(chrono::Duration::MAX);
        let until = now.checked_add_signed(cooldown).unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.cooldowns.insert((client, slot.clone()), until);
        self.cooldown_order.push_back((until, client, slot));
    }

    /// Forgets the cooldowns that ended by `now`, and the oldest beyond the cap.
    fn forget_cooldowns(&mut self, now: DateTime<Utc>) {
        while let Some((until, client, slot)) = self.cooldown_order.front().cloned() {
            if until > now && self.cooldown_order.len() < COOLDOWNS_KEPT {
                break;
            }
            self.cooldown_order.pop_front();
            // A later cooldown of the same slot and address replaced this one.
            if self.cooldowns.get(&(client, slot.clone())) == Some(&until) {
                self.cooldowns.remove(&(client, slot));
            }
        }
    }

    /// Whether `client` may book once more this hour, counting `pending` bookings
    /// of its own not yet committed.
    pub(super) fn may_book(&mut self, client: ClientKey, pending: usize, now: DateTime<Utc>) -> bool {
        ((self.bookings.count(client, now, HOUR) + pending) as u64) < u64::from(self.limits.bookings_per_hour)
    }

    /// `client` booked.
    pub(super) fn booked(&mut self, client: ClientKey, now: DateTime<Utc>) {
        self.bookings.record(client, now);
    }

    /// Forgets what no longer limits anybody.
    pub(super) fn prune(&mut self, now: DateTime<Utc>) {
        self.holds.prune(now, MINUTE);
        self.bookings.prune(now, HOUR);
        self.forget_cooldowns(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(n: u8) -> ClientKey {
        ClientKey::of(std::net::IpAddr::from([10, 0, 0, n]))
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(minutes)
    }

    fn limits() -> Budgets {
        Budgets {
            holds_at_once: 2,
            holds_per_min: 3,
            hold_cooldown: Duration::from_secs(300),
            hold_extensions: 2,
            bookings_per_phone: 3,
            bookings_per_hour: 2,
        }
    }

    #[test]
    fn an_address_holds_a_few_slots_at_once_and_a_few_per_minute() {
        let mut ledger = Ledger::new(limits());
        let slot = SlotId("s".into());
        assert_eq!(ledger.refuse_hold(client(1), &slot, 2, at(0)), Some(BookingFailure::TooManyHolds));
        for _ in 0..3 {
            assert_eq!(ledger.refuse_hold(client(1), &slot, 0, at(0)), None);
            ledger.held(client(1), at(0));
        }
        assert_eq!(ledger.refuse_hold(client(1), &slot, 0, at(0)), Some(BookingFailure::TooManyHolds));
        assert_eq!(ledger.refuse_hold(client(2), &slot, 0, at(0)), None, "others are not affected");
        assert_eq!(ledger.refuse_hold(client(1), &slot, 0, at(1)), None, "a minute later");
    }

    #[test]
    fn a_hold_that_ended_cannot_be_taken_again_by_its_address_for_a_while() {
        let mut ledger = Ledger::new(limits());
        let (slot, other) = (SlotId("s".into()), SlotId("t".into()));
        ledger.hold_ended(client(1), slot.clone(), at(0));
        assert_eq!(ledger.refuse_hold(client(1), &slot, 0, at(4)), Some(BookingFailure::HoldCooldown));
        assert_eq!(ledger.refuse_hold(client(1), &other, 0, at(4)), None);
        assert_eq!(ledger.refuse_hold(client(2), &slot, 0, at(4)), None);
        assert_eq!(ledger.refuse_hold(client(1), &slot, 0, at(5)), None);
        ledger.prune(at(5));
        assert!(ledger.cooldowns.is_empty());
    }

    #[test]
    fn a_proof_is_spent_once_and_forgotten_after_it_could_have_expired() {
        let mut spent = Spent::default();
        spent.spend("n1".into(), at(0));
        assert!(spent.contains("n1"));
        assert!(!spent.contains("n2"));
        spent.spend("n2".into(), at(21));
        assert!(!spent.contains("n1"), "forgotten once it could no longer be used");
        assert!(spent.contains("n2"));
    }

    #[test]
    fn cooldowns_are_forgotten_in_order_and_capped() {
        let mut ledger = Ledger::new(limits());
        for i in 0..3u8 {
            ledger.hold_ended(client(i), SlotId("s".into()), at(i64::from(i)));
        }
        ledger.hold_ended(client(9), SlotId("t".into()), at(6));
        assert_eq!(ledger.cooldowns.len(), 2, "those that ended by minute 6 are gone");
        assert_eq!(ledger.cooldown_order.len(), 2);
    }

    #[test]
    fn an_address_books_a_few_times_an_hour() {
        let mut ledger = Ledger::new(limits());
        assert!(ledger.may_book(client(1), 1, at(0)));
        assert!(!ledger.may_book(client(1), 2, at(0)), "pending bookings count");
        ledger.booked(client(1), at(0));
        ledger.booked(client(1), at(10));
        assert!(!ledger.may_book(client(1), 0, at(30)));
        assert!(ledger.may_book(client(2), 0, at(30)));
        assert!(ledger.may_book(client(1), 0, at(61)), "the first left the hour");
    }
}
