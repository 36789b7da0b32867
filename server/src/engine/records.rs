//! What staff record about bookings after the fact, and what the engine
//! forgets: a no-show mark (only once the slot has started), the erasure of
//! one booking's patient details on request, and the retention job that
//! erases the details of appointments long over.

use protocol::{BookingFailure, SlotId};

use super::handle::{Command, Reply};
use super::mirror::State;
use super::{Engine, EngineHandle, Outcome};
use crate::Result;
use crate::audit::Origin;
use crate::store::Store;

/// A request about the records of a booking.
pub(super) enum Request {
    /// Mark the booking of a slot as a no-show, or take the mark back.
    NoShow { slot_id: SlotId, no_show: bool, origin: Origin, reply: Reply<()> },
    /// Erase the patient's details of the booking with this code.
    Erase { code: String, origin: Origin, reply: Reply<()> },
}

impl EngineHandle {
    /// Staff: marks the booking of a slot that has started as a no-show (or
    /// takes the mark back, when `no_show` is false), as `origin`.
    pub async fn no_show(
        &self,
        slot_id: SlotId,
        no_show: bool,
        origin: Origin,
    ) -> Result<Result<(), BookingFailure>> {
        self.ask(|reply| Command::Records(Request::NoShow { slot_id, no_show, origin, reply })).await
    }

    /// Admins: erases the patient's name and phone of the booking with
    /// `code`, on the patient's request, as `origin`.
    pub async fn erase(&self, code: String, origin: Origin) -> Result<Result<(), BookingFailure>> {
        self.ask(|reply| Command::Records(Request::Erase { code, origin, reply })).await
    }
}

impl<S: Store> Engine<S> {
    /// Carries out one request about a booking's records.
    pub(super) async fn records(&mut self, request: Request) {
        match request {
            Request::NoShow { slot_id, no_show, origin, reply } => {
                let _ = reply.send(self.no_show(&slot_id, no_show, &origin).await);
            }
            Request::Erase { code, origin, reply } => {
                let _ = reply.send(self.erase(&code, &origin).await);
            }
        }
    }

    async fn no_show(&mut self, slot: &SlotId, no_show: bool, origin: &Origin) -> Outcome<()> {
        let Some(at) = self.mirror.at(slot) else { return Ok(Err(BookingFailure::NotFound)) };
        let now = (self.clock)();
        // Nobody can have failed to come to an appointment that has not begun.
        if self.mirror.state(at) != State::Booked || self.mirror.start(at) > now {
            return Ok(Err(BookingFailure::WrongState));
        }
        match self.store.no_show(slot, no_show, now, origin).await? {
            Some(version) => {
                // The booking, marked or not, comes back through the log.
                self.catch_up(Some(version)).await?;
                tracing::info!(%slot, no_show, version, "no-show mark");
                Ok(Ok(()))
            }
            // Cancelled meanwhile, by another instance.
            None => {
                self.catch_up(None).await?;
                Ok(Err(BookingFailure::WrongState))
            }
        }
    }

    async fn erase(&mut self, code: &str, origin: &Origin) -> Outcome<()> {
        let now = (self.clock)();
        // Codes are read aloud and typed by hand: case and spaces do not count.
        let code = code.trim().to_uppercase();
        let shown_from = self.config.day_start(self.first_day);
        let Some(version) = self.store.erase(&code, shown_from, now, origin).await? else {
            return Ok(Err(BookingFailure::NotFound));
        };
        self.catch_up(Some(version)).await?;
        tracing::info!(version, "a booking's patient details erased on request");
        Ok(Ok(()))
    }

    /// The retention job: erases the patient details of bookings whose
    /// appointment ended, and of waitlist entries that ended or whose last day
    /// passed, more than the retention period ago. Every instance may run it:
    /// only what is not erased yet is erased.
    pub(super) async fn retain(&mut self) -> Result<()> {
        if self.retention_days == 0 {
            return Ok(());
        }
        let now = (self.clock)();
        let before = now - chrono::Duration::days(i64::from(self.retention_days));
        let shown_from = self.config.day_start(self.first_day);
        let erased = self.store.erase_past(before, self.config.local_date(before), shown_from, now).await?;
        if erased.bookings + erased.entries > 0 {
            tracing::info!(
                bookings = erased.bookings,
                entries = erased.entries,
                days = self.retention_days,
                "patient details past the retention period erased"
            );
            crate::metrics::retention_erased(erased.bookings, erased.entries);
            self.catch_up(Some(erased.version)).await?;
        }
        Ok(())
    }
}
