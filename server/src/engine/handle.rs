//! How the rest of the server talks to the engine: a cheap, cloneable handle
//! that sends commands to the engine's task and awaits their answers, and the
//! types those answers are made of.

use chrono::{DateTime, Utc};
use protocol::{
    BookingCode, BookingDetails, BookingFailure, ManageToken, Patient, SlotId, StaffBooking, StaffWaiting,
    Version, WaitToken, WaitWindow, WaitlistEntry,
};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::book::BookRequest;
use super::{ConnId, Join, Snapshot};
use crate::address::ClientKey;
use crate::audit::Origin;
use crate::hub::{Broadcast, Hub, Replay};
use crate::{Error, Result};

/// What became of one booking request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookOutcome {
    /// Committed: the code to quote and the manage link's secret (absent when a
    /// retry is answered from the database after a restart).
    Booked(BookingCode, Option<ManageToken>),
    /// Refused, for this reason; nothing changed.
    Refused(BookingFailure),
}

/// One booking request as a client made it.
#[derive(Debug, Clone)]
pub struct Book {
    /// The slot to book.
    pub slot_id: SlotId,
    /// Who it is for, as given.
    pub patient: Patient,
    /// The client's request id; a retry with the same id, slot and patient gets
    /// the first answer.
    pub request_id: String,
    /// The nonce of the checked proof of work that pays for it, if any.
    pub proof: Option<String>,
}

/// A staff action on one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffAction {
    /// Cancel the slot's booking.
    Cancel,
    /// Take the slot out of the schedule.
    Block,
    /// Put it back.
    Unblock,
    /// End whoever's hold of the slot.
    EndHold,
}

pub(super) type Reply<T> = oneshot::Sender<Result<Result<T, BookingFailure>>>;

pub(super) enum Command {
    Book(BookRequest),
    Reset {
        origin: Origin,
        reply: oneshot::Sender<Result<()>>,
    },
    Hold {
        conn: ConnId,
        client: ClientKey,
        slot_id: SlotId,
        origin: Origin,
        reply: Reply<DateTime<Utc>>,
    },
    ExtendHold {
        conn: ConnId,
        slot_id: SlotId,
        origin: Origin,
        reply: Reply<DateTime<Utc>>,
    },
    Release {
        conn: ConnId,
        slot_id: SlotId,
        origin: Origin,
    },
    Gone {
        conn: ConnId,
    },
    Lookup {
        token: ManageToken,
        reply: Reply<BookingDetails>,
    },
    Cancel {
        token: ManageToken,
        origin: Origin,
        reply: Reply<()>,
    },
    Reschedule {
        conn: ConnId,
        token: ManageToken,
        slot_id: SlotId,
        origin: Origin,
        reply: Reply<BookingDetails>,
    },
    Staff {
        action: StaffAction,
        slot_id: SlotId,
        origin: Origin,
        reply: Reply<()>,
    },
    StaffState {
        reply: oneshot::Sender<(Version, Vec<StaffBooking>)>,
    },
    Tick {
        reply: oneshot::Sender<Result<()>>,
    },
    Records(super::records::Request),
    JoinWaitlist {
        client: ClientKey,
        join: Join,
        origin: Origin,
        reply: Reply<WaitToken>,
    },
    WatchWaitlist {
        token: WaitToken,
        reply: Reply<(i64, WaitlistEntry)>,
    },
    ChangeWaitlist {
        token: WaitToken,
        window: WaitWindow,
        origin: Origin,
        reply: Reply<WaitlistEntry>,
    },
    LeaveWaitlist {
        token: WaitToken,
        origin: Origin,
        reply: Reply<()>,
    },
    AcceptOffer {
        token: WaitToken,
        origin: Origin,
        reply: Reply<(BookingCode, ManageToken)>,
    },
    DeclineOffer {
        token: WaitToken,
        origin: Origin,
        reply: Reply<()>,
    },
    StaffWaitlist {
        reply: oneshot::Sender<Result<Vec<StaffWaiting>>>,
    },
    StaffRemoveWaiting {
        id: u64,
        origin: Origin,
        reply: Reply<()>,
    },
}

/// A cheap, cloneable way to talk to the engine.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    pub(super) commands: mpsc::Sender<Command>,
    pub(super) snapshot: watch::Receiver<Arc<Snapshot>>,
    pub(super) hub: Hub,
}

impl EngineHandle {
    /// Every change published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Broadcast> {
        self.hub.subscribe()
    }

    /// A new connection's outlet; see `Hub::join`.
    pub fn join(&self, stream: tokio::net::TcpStream) -> Arc<crate::fanout::Outlet> {
        self.hub.join(stream)
    }

    /// Ends a connection's outlet.
    pub fn leave(&self, outlet: Arc<crate::fanout::Outlet>) {
        self.hub.leave(outlet);
    }

    /// Ends every connection (with 1001), as the server stops.
    pub fn stop_connections(&self) {
        self.hub.stop_connections();
    }

    /// The clock of `Outlet::heard`, in milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.hub.now_ms()
    }

    /// The published changes after `version`, at most `at_most` of them, when
    /// the hub still has them.
    pub fn replay(&self, version: Version, at_most: usize) -> Replay {
        self.hub.replay(version, at_most)
    }

    /// Marks waitlist entry `entry` as watched by a connection while the value
    /// lives: only watched entries' changes are read and sent.
    pub fn watch(&self, entry: i64) -> crate::hub::Watching {
        self.hub.watch(entry)
    }

    /// Marks a staff console as connected while the value lives.
    pub fn staff_present(&self) -> crate::hub::StaffPresence {
        self.hub.staff_present()
    }

    /// The latest committed schedule.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }

    /// Books `slot_id` for `patient`, asked by connection `conn` from `client`
    /// (as `origin` in the audit trail), paid for with the proof of work whose
    /// nonce is `proof` (when one was asked for); returns once the outcome is
    /// committed.
    pub async fn book(
        &self,
        conn: ConnId,
        client: ClientKey,
        book: Book,
        origin: Origin,
    ) -> Result<BookOutcome> {
        let (reply, answer) = oneshot::channel();
        let Book { slot_id, patient, request_id, proof } = book;
        let request = BookRequest { conn, client, slot_id, patient, request_id, proof, origin, reply };
        self.send(Command::Book(request)).await?;
        answer.await.map_err(|_| Error::EngineGone)?
    }

    /// Restores the configured schedule with every booking cleared, asked by
    /// `origin`.
    pub async fn reset(&self, origin: Origin) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Reset { origin, reply }).await?;
        answer.await.map_err(|_| Error::EngineGone)?
    }

    /// Holds a slot for `conn` of `client`; returns when the hold ends.
    pub async fn hold(
        &self,
        conn: ConnId,
        client: ClientKey,
        slot_id: SlotId,
        origin: Origin,
    ) -> Result<Result<DateTime<Utc>, BookingFailure>> {
        self.ask(|reply| Command::Hold { conn, client, slot_id, origin, reply }).await
    }

    /// Extends `conn`'s own live hold of a slot by the clinic's hold time;
    /// returns when the hold ends now.
    pub async fn extend_hold(
        &self,
        conn: ConnId,
        slot_id: SlotId,
        origin: Origin,
    ) -> Result<Result<DateTime<Utc>, BookingFailure>> {
        self.ask(|reply| Command::ExtendHold { conn, slot_id, origin, reply }).await
    }

    /// Whether the engine still takes commands.
    pub fn running(&self) -> bool {
        !self.commands.is_closed()
    }

    /// Ends `conn`'s hold of a slot.
    pub async fn release(&self, conn: ConnId, slot_id: SlotId, origin: Origin) -> Result<()> {
        self.send(Command::Release { conn, slot_id, origin }).await
    }

    /// `conn` has closed: its hold ends, let go of by its patient from the
    /// address it was taken from.
    pub async fn gone(&self, conn: ConnId) -> Result<()> {
        self.send(Command::Gone { conn }).await
    }

    /// The booking behind a manage link.
    pub async fn lookup(&self, token: ManageToken) -> Result<Result<BookingDetails, BookingFailure>> {
        self.ask(|reply| Command::Lookup { token, reply }).await
    }

    /// Cancels the booking behind a manage link.
    pub async fn cancel(&self, token: ManageToken, origin: Origin) -> Result<Result<(), BookingFailure>> {
        self.ask(|reply| Command::Cancel { token, origin, reply }).await
    }

    /// Moves the booking behind a manage link to `slot_id`.
    pub async fn reschedule(
        &self,
        conn: ConnId,
        token: ManageToken,
        slot_id: SlotId,
        origin: Origin,
    ) -> Result<Result<BookingDetails, BookingFailure>> {
        self.ask(|reply| Command::Reschedule { conn, token, slot_id, origin, reply }).await
    }

    /// A staff action on one slot.
    pub async fn staff(
        &self,
        action: StaffAction,
        slot_id: SlotId,
        origin: Origin,
    ) -> Result<Result<(), BookingFailure>> {
        self.ask(|reply| Command::Staff { action, slot_id, origin, reply }).await
    }

    /// Every active booking with its patient, and the version it is as of.
    pub async fn staff_state(&self) -> Result<(Version, Vec<StaffBooking>)> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::StaffState { reply }).await?;
        answer.await.map_err(|_| Error::EngineGone)
    }

    /// Runs the periodic work now: a new clinic day, expired holds, and other
    /// instances' changes. For tests that move the clock.
    pub async fn tick(&self) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Tick { reply }).await?;
        answer.await.map_err(|_| Error::EngineGone)?
    }

    /// Puts a patient on a doctor's waitlist, asked from `client`; returns the
    /// secret of the entry's link.
    pub async fn join_waitlist(
        &self,
        client: ClientKey,
        join: Join,
        origin: Origin,
    ) -> Result<Result<WaitToken, BookingFailure>> {
        self.ask(|reply| Command::JoinWaitlist { client, join, origin, reply }).await
    }

    /// The entry behind a waitlist link, with its id, by which the pushed
    /// changes to it are told apart.
    pub async fn watch_waitlist(
        &self,
        token: WaitToken,
    ) -> Result<Result<(i64, WaitlistEntry), BookingFailure>> {
        self.ask(|reply| Command::WatchWaitlist { token, reply }).await
    }

    /// Changes the window of the entry behind a waitlist link, as `origin`
    /// asks.
    pub async fn change_waitlist(
        &self,
        token: WaitToken,
        window: WaitWindow,
        origin: Origin,
    ) -> Result<Result<WaitlistEntry, BookingFailure>> {
        self.ask(|reply| Command::ChangeWaitlist { token, window, origin, reply }).await
    }

    /// Takes the entry behind a waitlist link off the waitlist.
    pub async fn leave_waitlist(
        &self,
        token: WaitToken,
        origin: Origin,
    ) -> Result<Result<(), BookingFailure>> {
        self.ask(|reply| Command::LeaveWaitlist { token, origin, reply }).await
    }

    /// Books the slot offered to the entry behind a waitlist link: its code
    /// and manage link's secret.
    pub async fn accept_offer(
        &self,
        token: WaitToken,
        origin: Origin,
    ) -> Result<Result<(BookingCode, ManageToken), BookingFailure>> {
        self.ask(|reply| Command::AcceptOffer { token, origin, reply }).await
    }

    /// Turns down the offer to the entry behind a waitlist link.
    pub async fn decline_offer(
        &self,
        token: WaitToken,
        origin: Origin,
    ) -> Result<Result<(), BookingFailure>> {
        self.ask(|reply| Command::DeclineOffer { token, origin, reply }).await
    }

    /// Every entry waiting now, for staff.
    pub async fn staff_waitlist(&self) -> Result<Vec<StaffWaiting>> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::StaffWaitlist { reply }).await?;
        answer.await.map_err(|_| Error::EngineGone)?
    }

    /// Staff: takes entry `id` off the waitlist.
    pub async fn staff_remove_waiting(&self, id: u64, origin: Origin) -> Result<Result<(), BookingFailure>> {
        self.ask(|reply| Command::StaffRemoveWaiting { id, origin, reply }).await
    }

    pub(super) async fn ask<T>(
        &self,
        command: impl FnOnce(Reply<T>) -> Command,
    ) -> Result<Result<T, BookingFailure>> {
        let (reply, answer) = oneshot::channel();
        self.send(command(reply)).await?;
        answer.await.map_err(|_| Error::EngineGone)?
    }

    async fn send(&self, command: Command) -> Result<()> {
        self.commands.send(command).await.map_err(|_| Error::EngineGone)
    }
}
