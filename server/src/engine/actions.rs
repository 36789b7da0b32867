//! Everything besides booking: holds, their extensions and their expiry, the
//! manage link's lookup, cancel and reschedule, staff actions, reset, the daily
//! roll of the schedule, and keeping up with other instances.

use chrono::{DateTime, SubsecRound, Utc};
use protocol::{AuditAction, BookingDetails, BookingFailure, BookingStatus, SlotId};

use super::mirror::State;
use super::{CHANGES_KEPT, ConnId, Engine, Outcome, StaffAction};
use crate::address::ClientKey;
use crate::audit::Origin;
use crate::store::{Change, Changed, Refusal, Store, StoredBooking, StoredState};
use crate::{Result, secret};

/// How long past its end another instance's hold is left for that instance to
/// end, before any instance does (the other instance may have gone).
const FOREIGN_HOLD_GRACE: chrono::Duration = chrono::Duration::seconds(5);

/// What a refusal by the store's rules means to a client.
pub(super) fn reason(refusal: Refusal) -> BookingFailure {
    match refusal {
        Refusal::NoSuchSlot => BookingFailure::NotFound,
        Refusal::Booked => BookingFailure::AlreadyBooked,
        Refusal::Blocked => BookingFailure::Blocked,
        Refusal::Held => BookingFailure::Held,
        Refusal::NotActive => BookingFailure::Cancelled,
        Refusal::ProofSpent => BookingFailure::ChallengeFailed,
        Refusal::AlreadyWaiting => BookingFailure::AlreadyWaiting,
        Refusal::NoOffer => BookingFailure::NoOffer,
    }
}

/// A change of one slot to `state`.
fn change(version: protocol::Version, slot: &SlotId, state: StoredState) -> Change {
    Change { version, what: Changed::Slot { id: slot.clone(), state, booking: None } }
}

impl<S: Store> Engine<S> {
    /// Why `conn` may not take the slot at `at` now, if it may not.
    pub(super) fn refuse(&self, at: usize, conn: ConnId, now: DateTime<Utc>) -> Option<BookingFailure> {
        let start = self.mirror.start(at);
        if start <= now {
            return Some(BookingFailure::Past);
        }
        if start <= now + chrono::Duration::minutes(i64::from(self.config.min_notice_minutes)) {
            return Some(BookingFailure::TooSoon);
        }
        match self.mirror.state(at) {
            State::Free => None,
            State::Held { by: Some(by), .. } if by == conn => None,
            State::Held { .. } => Some(BookingFailure::Held),
            State::Booked => Some(BookingFailure::AlreadyBooked),
            State::Blocked => Some(BookingFailure::Blocked),
        }
    }

    pub(super) async fn hold(
        &mut self,
        conn: ConnId,
        client: ClientKey,
        slot: &SlotId,
        origin: &Origin,
    ) -> Outcome<DateTime<Utc>> {
        let now = (self.clock)();
        let Some(at) = self.mirror.at(slot) else { return Ok(Err(BookingFailure::NotFound)) };
        if let Some(reason) = self.refuse(at, conn, now) {
            return Ok(Err(reason));
        }
        if let State::Held { until, .. } = self.mirror.state(at) {
            return Ok(Ok(until));
        }
        // The holds of this address's other connections; this one's own hold
        // ends when it takes another.
        let holding = self
            .clients
            .iter()
            .filter(|&(&c, &k)| k == client && c != conn && self.mirror.hold_of(c).is_some())
            .count();
        if let Some(reason) = self.ledger.refuse_hold(client, slot, holding, now) {
            return Ok(Err(reason));
        }
        self.clients.insert(conn, client);
        self.ledger.held(client, now);
        // One hold per connection: holding another slot lets go of the first.
        if let Some(previous) = self.mirror.hold_of(conn) {
            self.end_hold(previous, origin, AuditAction::Released).await?;
        }
        // In whole seconds, as the database keeps it: every instance shows the
        // same end.
        let until = (now + chrono::Duration::seconds(i64::from(self.config.hold_seconds))).trunc_subsecs(0);
        let holder = self.holder(conn);
        match self.store.hold(slot, &holder, until, now, origin).await? {
            Ok(version) => {
                self.advance(vec![change(version, slot, StoredState::Held { holder, expires: until })])
                    .await?;
                Ok(Ok(until))
            }
            Err(refusal) => {
                self.catch_up(None).await?;
                Ok(Err(reason(refusal)))
            }
        }
    }

    /// Moves the end of `conn`'s own live hold of `slot` one hold time later, as
    /// often as the budget allows; everyone sees the new end. An extension is
    /// no new hold, so it takes nothing from the address's budget of holds, and
    /// a hold taken anew (the only way to start counting again) still pays it.
    pub(super) async fn extend_hold(
        &mut self,
        conn: ConnId,
        slot: &SlotId,
        origin: &Origin,
    ) -> Outcome<DateTime<Utc>> {
        let now = (self.clock)();
        let Some(at) = self.mirror.at(slot) else { return Ok(Err(BookingFailure::NotFound)) };
        let until = match self.mirror.state(at) {
            State::Held { by: Some(by), until, .. } if by == conn && until > now => until,
            // Its time is up (the hold is about to end) or it was never its own.
            State::Held { by: Some(by), .. } if by == conn => return Ok(Err(BookingFailure::WrongState)),
            State::Held { .. } => return Ok(Err(BookingFailure::Held)),
            State::Booked => return Ok(Err(BookingFailure::AlreadyBooked)),
            State::Blocked => return Ok(Err(BookingFailure::Blocked)),
            State::Free => return Ok(Err(BookingFailure::WrongState)),
        };
        if let Some(reason) = self.refuse(at, conn, now) {
            return Ok(Err(reason));
        }
        if self.mirror.extensions_of(conn) >= self.ledger.limits().hold_extensions {
            return Ok(Err(BookingFailure::TooManyExtensions));
        }
        let until = until + chrono::Duration::seconds(i64::from(self.config.hold_seconds));
        let holder = self.holder(conn);
        match self.store.extend_hold(slot, &holder, until, now, origin).await? {
            Some(version) => {
                self.advance(vec![change(version, slot, StoredState::Held { holder, expires: until })])
                    .await?;
                self.mirror.extended(conn);
                Ok(Ok(until))
            }
            // Ended meanwhile, by another instance that expired it or by staff.
            None => {
                self.catch_up(None).await?;
                Ok(Err(BookingFailure::WrongState))
            }
        }
    }

    /// Ends this engine's hold of the slot at `at`; everyone sees it free again,
    /// and the holder's address may not hold it again for a while. The audit
    /// trail has it as `action` by `origin`.
    pub(super) async fn end_hold(&mut self, at: usize, origin: &Origin, action: AuditAction) -> Result<()> {
        let State::Held { by: Some(by), .. } = self.mirror.state(at) else { return Ok(()) };
        let slot = self.mirror.id(at).clone();
        self.cool_down(by, &slot);
        // Freed, or offered to the waitlist: the log says which. When nothing
        // changed, somebody else ended it (another instance expired it).
        let version = self.store.release(&slot, &self.holder(by), self.offering(), origin, action).await?;
        self.catch_up(version).await
    }

    /// Starts the cooldown of the address of connection `by` for `slot`.
    fn cool_down(&mut self, by: ConnId, slot: &SlotId) {
        if let Some(&client) = self.clients.get(&by) {
            self.ledger.hold_ended(client, slot.clone(), (self.clock)());
        }
    }

    /// Ends the holds whose time is up: this engine's own at once, another
    /// instance's a little later, in case that instance is gone. A waitlist
    /// offer is nobody's: whichever instance comes first ends it on time, and
    /// it passes to the next patient waiting.
    pub(super) async fn expire_holds(&mut self) -> Result<()> {
        let now = (self.clock)();
        let due = |state: State| match state {
            State::Held { by: Some(_), until, .. } | State::Held { offer: Some(_), until, .. } => {
                until <= now
            }
            State::Held { until, .. } => until + FOREIGN_HOLD_GRACE <= now,
            _ => false,
        };
        // By slot id, not position: ending one hold may reload the schedule,
        // which moves positions.
        let expired: Vec<SlotId> = self
            .mirror
            .held()
            .into_iter()
            .filter(|&(at, _, _)| due(self.mirror.state(at)))
            .map(|(at, _, _)| self.mirror.id(at).clone())
            .collect();
        for slot in expired {
            let Some(at) = self.mirror.at(&slot) else { continue };
            match self.mirror.state(at) {
                state if !due(state) => {}
                State::Held { by: Some(_), .. } => {
                    self.end_hold(at, &Origin::system(), AuditAction::Expired).await?;
                }
                _ => {
                    if let Some(entry) = self.mirror.state(at).offer() {
                        tracing::info!(%slot, entry, "waitlist offer ran out");
                    }
                    let version = self.store.expire(&slot, self.offering()).await?;
                    self.catch_up(version).await?;
                }
            }
        }
        Ok(())
    }

    /// The active booking behind a manage token, with its slot's index.
    async fn find(&self, token: &str) -> Outcome<(StoredBooking, usize)> {
        let Some(booking) = self.store.booking_by_hash(&secret::manage_hash(token)).await? else {
            return Ok(Err(BookingFailure::NotFound));
        };
        let Some(at) = self.mirror.at(&booking.slot_id) else {
            // Its slot is no longer in the schedule: its day is over.
            return Ok(Err(BookingFailure::Past));
        };
        Ok(Ok((booking, at)))
    }

    fn details(&self, booking: StoredBooking, at: usize) -> BookingDetails {
        BookingDetails {
            code: booking.code,
            slot: self.mirror.slot(at),
            patient: booking.patient,
            status: if booking.active { BookingStatus::Active } else { BookingStatus::Cancelled },
            sequence: booking.sequence,
        }
    }

    pub(super) async fn lookup(&self, token: &str) -> Outcome<BookingDetails> {
        Ok(self.find(token).await?.map(|(booking, at)| self.details(booking, at)))
    }

    pub(super) async fn cancel(&mut self, token: &str, origin: &Origin) -> Outcome<()> {
        let (booking, at) = match self.find(token).await? {
            Ok(found) => found,
            Err(reason) => return Ok(Err(reason)),
        };
        if !booking.active {
            return Ok(Err(BookingFailure::Cancelled));
        }
        if self.mirror.start(at) <= (self.clock)() {
            return Ok(Err(BookingFailure::Past));
        }
        self.cancel_booking(booking.id, at, origin).await
    }

    async fn cancel_booking(&mut self, id: i64, at: usize, origin: &Origin) -> Outcome<()> {
        let slot = self.mirror.id(at).clone();
        let Some(version) = self.store.cancel(id, self.offering(), origin).await? else {
            self.catch_up(None).await?;
            return Ok(Err(BookingFailure::Cancelled));
        };
        // Freed, or offered to the waitlist: the log says which.
        self.catch_up(Some(version)).await?;
        tracing::info!(%slot, version, "cancelled");
        Ok(Ok(()))
    }

    pub(super) async fn reschedule(
        &mut self,
        conn: ConnId,
        token: &str,
        target: &SlotId,
        origin: &Origin,
    ) -> Outcome<BookingDetails> {
        let now = (self.clock)();
        let (booking, from) = match self.find(token).await? {
            Ok(found) => found,
            Err(reason) => return Ok(Err(reason)),
        };
        if !booking.active {
            return Ok(Err(BookingFailure::Cancelled));
        }
        if self.mirror.start(from) <= now {
            return Ok(Err(BookingFailure::Past));
        }
        let Some(to) = self.mirror.at(target) else { return Ok(Err(BookingFailure::NotFound)) };
        if let Some(reason) = self.refuse(to, conn, now) {
            return Ok(Err(reason));
        }
        let moving =
            self.store.reschedule(booking.id, target, &self.holder(conn), self.offering(), origin).await?;
        let (version, sequence) = match moving {
            Ok(moved) => moved,
            Err(refusal) => {
                self.catch_up(None).await?;
                return Ok(Err(reason(refusal)));
            }
        };
        let moved = StoredBooking { slot_id: target.clone(), sequence, ..booking.clone() };
        // The slot left behind is freed or offered to the waitlist: the log
        // says which, and has the booking on its new slot.
        self.catch_up(Some(version)).await?;
        tracing::info!(from = %booking.slot_id, to = %target, version, "rescheduled");
        let at = self.mirror.at(target).unwrap_or(to);
        Ok(Ok(self.details(moved, at)))
    }

    pub(super) async fn staff(&mut self, action: StaffAction, slot: &SlotId, origin: &Origin) -> Outcome<()> {
        let Some(at) = self.mirror.at(slot) else { return Ok(Err(BookingFailure::NotFound)) };
        let now = (self.clock)();
        let committed = match (action, self.mirror.state(at)) {
            (StaffAction::Cancel, State::Booked) => {
                let Some(id) = self.mirror.booking_id(at) else { return Ok(Err(BookingFailure::WrongState)) };
                return self.cancel_booking(id, at, origin).await;
            }
            (StaffAction::Block, State::Free | State::Held { .. }) => {
                if let State::Held { by: Some(by), .. } = self.mirror.state(at) {
                    self.cool_down(by, slot);
                }
                self.store.block(slot, now, origin).await?.map_err(|r| match r {
                    // Blocking a blocked slot is not a refusal of the slot but of the action.
                    Refusal::Blocked => BookingFailure::WrongState,
                    r => reason(r),
                })
            }
            (StaffAction::EndHold, State::Held { by: Some(_), .. }) => {
                self.end_hold(at, origin, AuditAction::HoldEnded).await?;
                tracing::info!(%slot, "staff ended a hold");
                return Ok(Ok(()));
            }
            (StaffAction::EndHold, State::Held { by: None, .. }) => {
                self.store.end_hold(slot, self.offering(), origin).await?.ok_or(BookingFailure::WrongState)
            }
            (StaffAction::Block, State::Booked) => return Ok(Err(BookingFailure::AlreadyBooked)),
            (StaffAction::Unblock, State::Blocked) => {
                self.store.unblock(slot, self.offering(), origin).await?.ok_or(BookingFailure::WrongState)
            }
            _ => return Ok(Err(BookingFailure::WrongState)),
        };
        match committed {
            Ok(version) => {
                // Blocked, freed, or offered to the waitlist: the log says which.
                self.catch_up(Some(version)).await?;
                tracing::info!(%slot, ?action, version, "staff action");
                Ok(Ok(()))
            }
            Err(reason) => {
                self.catch_up(None).await?;
                Ok(Err(reason))
            }
        }
    }

    pub(super) async fn reset(&mut self, origin: &Origin) -> Result<()> {
        let now = (self.clock)();
        self.first_day = self.config.local_date(now);
        self.store.reset(&self.config.slots_from(self.first_day), now, origin).await?;
        self.answered.clear();
        self.reload_and_announce().await?;
        tracing::info!(version = self.mirror.version, "schedule reset");
        Ok(())
    }

    /// When the clinic's local day has changed, adds the new last bookable day and
    /// drops the past one from the schedule; everyone gets the new schedule.
    pub(super) async fn roll_day(&mut self) -> Result<()> {
        let today = self.config.local_date((self.clock)());
        if today == self.first_day {
            return Ok(());
        }
        self.first_day = today;
        // Waiting for days that are over is waiting for nothing; it would only
        // count against the phone's entries and push others down the line.
        let lapsed = self.store.lapse_past_waiting(today, (self.clock)()).await?;
        if lapsed > 0 {
            tracing::info!(lapsed, "waitlist entries whose days are over ended");
        }
        let version = self.store.add_slots(&self.config.slots_from(today), true).await?;
        self.store.prune_changes(version.saturating_sub(CHANGES_KEPT)).await?;
        self.reload_and_announce().await
    }
}
