//! What each message from the server does to the page's state, as plain data:
//! which part of the page a message is for (the schedule, the booking dialog,
//! the join dialog, the robot check, the manage link, the waitlist link, the
//! staff console and its waitlist, or the reset), what the page must send or do
//! in return, and what a dropped connection resets. No browser APIs here, so the
//! routing of messages is unit-tested natively; the page lends its state to a
//! `Session` for each message and carries out the `Outcome` (see `lib.rs`).

use protocol::{ClientMessage, ServerMessage, SlotId, SlotStatus, Version};

use crate::booking::{Booking, Settled};
use crate::join::{self, Join};
use crate::manage::ManageLink;
use crate::pow::{Answered, Pow};
use crate::say::Say;
use crate::staff::StaffDesk;
use crate::staff::admin::Admin;
use crate::staff::audit::Audit;
use crate::staff::waitlist::{Reload, StaffWaitlist};
use crate::state::{Applied, Board, Reset};
use crate::waitlist::{Reply, WaitLink, Waiting};

/// The part of the page's state that messages from the server change.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The schedule shown, and the bookings made from this browser.
    pub board: Board,
    /// The booking dialog.
    pub booking: Booking,
    /// The join-the-waitlist dialog.
    pub join: Join,
    /// The robot check.
    pub pow: Pow,
    /// The staff reset.
    pub reset: Reset,
    /// The manage link, on the manage page.
    pub manage: Option<ManageLink>,
    /// The waitlist link, on the waitlist page.
    pub wait: Option<WaitLink>,
    /// The staff console.
    pub staff: StaffDesk,
    /// The staff console's waitlist.
    pub staff_waitlist: StaffWaitlist,
    /// The staff console's audit trail: a history dialog and the activity.
    pub audit: Audit,
    /// What only admins do at the staff console.
    pub admin: Admin,
    /// Set while the connection has not yet said what it starts from: the first
    /// `initialState` or `resumed` of a connection asks again for what the page
    /// shows beyond the schedule.
    pub fresh: bool,
}

impl Default for Session {
    fn default() -> Self {
        Self {
            board: Board::default(),
            booking: Booking::default(),
            join: Join::default(),
            pow: Pow::default(),
            reset: Reset::default(),
            manage: None,
            wait: None,
            staff: StaffDesk::default(),
            staff_waitlist: StaffWaitlist::default(),
            audit: Audit::default(),
            admin: Admin::default(),
            fresh: true,
        }
    }
}

/// Which parts of the session changed, so that the page redraws only what
/// shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changed {
    /// The schedule, or the bookings this browser remembers.
    pub board: bool,
    /// The booking dialog.
    pub booking: bool,
    /// The join dialog.
    pub join: bool,
    /// The robot check.
    pub pow: bool,
    /// The staff reset.
    pub reset: bool,
    /// The manage link.
    pub manage: bool,
    /// The waitlist link.
    pub wait: bool,
    /// The staff console.
    pub staff: bool,
    /// The staff console's waitlist.
    pub staff_waitlist: bool,
    /// The staff console's audit trail.
    pub audit: bool,
    /// The admin part of the staff console.
    pub admin: bool,
}

/// What the page must do after a message, beyond the state the session changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// The parts of the session that changed.
    pub changed: Changed,
    /// Messages to send, in order.
    pub send: Vec<ClientMessage>,
    /// Updates were missed: tell the server the page holds this version.
    pub hello: Option<Version>,
    /// A challenge arrived: solve the one with this nonce.
    pub solve: Option<String>,
    /// A whole new schedule arrived: lay it out again.
    pub replaced: bool,
    /// A slot changed while the page watched: highlight it.
    pub flash: Option<SlotId>,
    /// The bookings this browser remembers changed: store them.
    pub save_mine: bool,
    /// A line to tell the user.
    pub notice: Option<Say>,
    /// The patient joined a waitlist: remember the entry.
    pub joined: Option<Waiting>,
    /// Reload the staff console's waitlist after this many milliseconds, with
    /// this number (see `StaffWaitlist::fire`).
    pub reload_waitlist: Option<(f64, u32)>,
}

/// The parts of a session as they were, to tell which ones a message changed.
/// The board is left out: it is large, and the session knows when it changes it.
struct Before {
    booking: Booking,
    join: Join,
    pow: Pow,
    reset: Reset,
    manage: Option<ManageLink>,
    wait: Option<WaitLink>,
    staff: StaffDesk,
    staff_waitlist: StaffWaitlist,
    audit: Audit,
    admin: Admin,
}

impl Before {
    fn of(session: &Session) -> Self {
        Self {
            booking: session.booking.clone(),
            join: session.join.clone(),
            pow: session.pow.clone(),
            reset: session.reset.clone(),
            manage: session.manage.clone(),
            wait: session.wait.clone(),
            staff: session.staff.clone(),
            staff_waitlist: session.staff_waitlist.clone(),
            audit: session.audit.clone(),
            admin: session.admin.clone(),
        }
    }

    fn changed(&self, now: &Session, board: bool) -> Changed {
        Changed {
            board,
            booking: self.booking != now.booking,
            join: self.join != now.join,
            pow: self.pow != now.pow,
            reset: self.reset != now.reset,
            manage: self.manage != now.manage,
            wait: self.wait != now.wait,
            staff: self.staff != now.staff,
            staff_waitlist: self.staff_waitlist != now.staff_waitlist,
            audit: self.audit != now.audit,
            admin: self.admin != now.admin,
        }
    }
}

impl Session {
    /// Takes one message from the server. `now_ms` is the page's own clock, for
    /// the robot check, and `request_id` makes the ids of requests to send.
    pub fn receive(
        &mut self,
        message: ServerMessage,
        now_ms: f64,
        mut request_id: impl FnMut() -> String,
    ) -> Outcome {
        let before = Before::of(self);
        let mut out = Outcome::default();
        match message {
            ServerMessage::InitialState(_) | ServerMessage::Update { .. } | ServerMessage::Resumed { .. } => {
                self.on_schedule(message, now_ms, &mut request_id, &mut out)
            }
            reply => self.on_reply(&reply, now_ms, &mut request_id, &mut out),
        }
        out.changed = before.changed(self, out.changed.board);
        out
    }

    /// The connection dropped: what was in flight has an unknown outcome, holds
    /// ended with it, and the next connection starts fresh.
    pub fn on_disconnect(&mut self) -> Changed {
        let before = Before::of(self);
        self.fresh = true;
        // A booking sent but not answered may have spent its solution; a new
        // check costs the patient less than a refusal would.
        if let Some(nonce) = self.booking.on_disconnect() {
            self.pow.spend(&nonce);
        }
        if let Some(nonce) = self.join.on_disconnect() {
            self.pow.spend(&nonce);
        }
        self.pow.on_disconnect();
        self.reset.on_disconnect();
        if let Some(link) = &mut self.manage {
            link.on_disconnect();
        }
        if let Some(link) = &mut self.wait {
            link.on_disconnect();
        }
        self.staff.on_disconnect();
        self.staff_waitlist.on_disconnect();
        self.audit.on_disconnect();
        self.admin.on_disconnect();
        before.changed(self, false)
    }

    /// A whole schedule, one change to it, or the end of the changes missed.
    fn on_schedule(
        &mut self,
        message: ServerMessage,
        now_ms: f64,
        request_id: &mut impl FnMut() -> String,
        out: &mut Outcome,
    ) {
        let first = self.fresh && matches!(message, ServerMessage::Resumed { .. });
        if first || matches!(message, ServerMessage::InitialState(_)) {
            self.fresh = false;
            // A fresh connection, or a whole new schedule: ask again for what
            // this page shows.
            if let Some(link) = &mut self.manage {
                out.send.push(link.lookup(request_id()));
            }
            if let Some(link) = &mut self.wait {
                out.send.push(link.watch(request_id()));
            }
            out.send.extend(self.staff.resume(request_id()));
        } else if matches!(message, ServerMessage::Resumed { .. })
            && let Some(link) = &mut self.wait
        {
            // Updates missed and replayed carry no word of the entry's offer:
            // ask for the entry again.
            out.send.push(link.watch(request_id()));
        }
        if matches!(message, ServerMessage::Update { .. }) {
            self.waitlist_changed(now_ms, out);
        }
        let answered_reset = self.reset.on_message(&message);
        match self.board.apply(message) {
            Applied::Replaced => {
                out.changed.board = true;
                out.replaced = true;
                out.save_mine = true;
                if answered_reset {
                    out.notice = Some(Say::ScheduleReset);
                }
                // The form's slot may have been booked, blocked or let go meanwhile.
                if let Some(slot) = self.booking.slot().cloned() {
                    let status = self.board.status(&slot);
                    self.booking.on_slot(&slot, status);
                }
            }
            Applied::Changed(slot) => {
                out.changed.board = true;
                self.booking.on_slot(&slot.id, Some(slot.status));
                // A booking of ours whose slot turned free was forgotten.
                out.save_mine = slot.status == SlotStatus::Free;
                out.flash = Some(slot.id);
            }
            Applied::Resumed => out.changed.board = true,
            Applied::Gap(version) => out.hello = Some(version),
            Applied::Stale | Applied::Other(_) => {}
        }
    }

    /// A reply to a request, or a message for the staff console. Each part
    /// takes only the replies to its own requests; the first that does ends
    /// the search.
    fn on_reply(
        &mut self,
        message: &ServerMessage,
        now_ms: f64,
        request_id: &mut impl FnMut() -> String,
        out: &mut Outcome,
    ) {
        if let Some(answered) = self.pow.on_reply(message, now_ms) {
            match answered {
                Answered::Solve { nonce } => out.solve = Some(nonce),
                Answered::Failed { problem } => {
                    self.booking.on_pow_failed(problem);
                    self.join.on_pow_failed(problem);
                }
            }
            return;
        }
        match self.booking.on_reply(message) {
            Some(Settled::Booked { slot, mine, nonce }) => {
                // Each solution buys one booking; the next one needs a new check.
                self.pow.spend(&nonce);
                self.board.mine.insert(slot, mine);
                out.changed.board = true;
                out.save_mine = true;
                return;
            }
            Some(Settled::ProofRefused { nonce }) => {
                self.pow.spend(&nonce);
                self.prepare(now_ms, request_id, out);
                return;
            }
            Some(Settled::Spent { nonce }) => {
                self.pow.spend(&nonce);
                // Still in the form (a limit the patient can answer): a new check
                // starts at once, so the next attempt waits for nothing.
                if matches!(self.booking, Booking::Form { .. }) {
                    self.prepare(now_ms, request_id, out);
                }
                return;
            }
            None => {}
        }
        if let Some(settled) = self.join.on_reply(message) {
            match settled {
                join::Settled::Joined { entry, nonce } => {
                    self.pow.spend(&nonce);
                    out.joined = Some(entry);
                }
                join::Settled::ProofRefused { nonce } | join::Settled::Spent { nonce } => {
                    self.pow.spend(&nonce);
                    // Back in the form: a new check starts at once.
                    if self.join.form() {
                        self.prepare(now_ms, request_id, out);
                    }
                }
            }
            return;
        }
        if let Some(reply) = self.wait.as_mut().and_then(|link| link.on_reply(message)) {
            if let Reply::Booked { slot, mine } = reply {
                // The offer became a booking of this browser's, as a booking does.
                self.board.mine.insert(slot, mine);
                out.changed.board = true;
                out.save_mine = true;
            }
            return;
        }
        if let Some((from, to)) = self.manage.as_mut().and_then(|link| link.on_reply(message)) {
            // A booking this browser made moved with it.
            if let Some(mine) = self.board.mine.remove(&from) {
                self.board.mine.insert(to, mine);
                out.changed.board = true;
                out.save_mine = true;
            }
            return;
        }
        if let Some(now) = self.staff_waitlist.on_message(message) {
            if now && self.staff.logged_in() {
                out.send.push(self.staff_waitlist.load(now_ms, request_id()));
            }
            return;
        }
        if self.audit.on_message(message) {
            return;
        }
        if let Some(reload) = self.admin.on_message(message) {
            if reload {
                out.send.push(self.admin.load(request_id()));
            }
            return;
        }
        if self.staff.on_message(message) {
            if self.staff.desk == crate::staff::Desk::LoggedOut {
                // The session is over: nothing of it stays on the page.
                self.forget_staff();
            }
            match message {
                // The console opened, or opened again after a reconnect.
                ServerMessage::StaffState { .. } => {
                    out.send.push(self.staff_waitlist.load(now_ms, request_id()));
                }
                ServerMessage::StaffUpdate { .. } => self.waitlist_changed(now_ms, out),
                _ => {}
            }
            return;
        }
        if self.reset.on_message(message) {
            return;
        }
        if let ServerMessage::Error { code, request_id: None, .. } = message {
            out.notice = Some(Say::Error(*code));
        }
    }

    /// Forgets what the staff console loaded besides its bookings: the
    /// waitlist, the audit trail and the accounts.
    pub fn forget_staff(&mut self) {
        self.staff_waitlist = StaffWaitlist::default();
        self.audit = Audit::default();
        self.admin = Admin::default();
    }

    /// The schedule changed: a staff console reloads its waitlist soon, since
    /// offers come and go with the slots.
    fn waitlist_changed(&mut self, now_ms: f64, out: &mut Outcome) {
        if !self.staff.logged_in() {
            return;
        }
        if let Reload::After { ms, due } = self.staff_waitlist.changed(now_ms) {
            out.reload_waitlist = Some((ms, due));
        }
    }

    /// Makes sure a solution is ready or on its way, asking for a challenge
    /// when needed.
    fn prepare(&mut self, now_ms: f64, request_id: &mut impl FnMut() -> String, out: &mut Outcome) {
        out.send.extend(self.pow.start(now_ms, request_id()));
    }
}

#[cfg(test)]
mod tests;
