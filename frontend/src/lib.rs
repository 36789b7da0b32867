//! The booking page: a live view of the clinic's schedule over one WebSocket,
//! with booking, a booking's manage link and the staff console. `state`,
//! `booking`, `pow`, `manage` and `staff` hold the logic, `session` what each
//! message from the server does to it, `ws` the connection, `solver` the robot
//! check's pacing, `pages` the pages by address and `components` their pieces.
//! This file holds only the wiring: the signals, and the session run on them.

// The component macro makes each component and its props `pub`, which the
// workspace lint would flag in every private module; the crate exports only `App`.
#![allow(unreachable_pub)]

pub mod booking;
mod components;
#[cfg(test)]
mod fixtures;
pub mod ics;
mod ids;
mod layout;
pub mod manage;
mod pages;
pub mod pow;
mod remembered;
pub mod session;
mod solver;
pub mod staff;
pub mod state;
mod time;
mod ws;

use std::collections::HashSet;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::path;
use protocol::{ClientMessage, ServerMessage, SlotId};

use booking::Booking;
use components::Header;
pub(crate) use ids::request_id;
use layout::Layout;
use manage::ManageLink;
use pages::{BookPage, ManagePage, StaffPage};
use pow::Pow;
use session::{Outcome, Session};
use staff::StaffDesk;
use state::{Board, Reset};
use ws::{Connection, Link, Next};

/// How long a changed slot stays highlighted.
const FLASH: Duration = Duration::from_millis(1600);

/// Everything the components share; every field is a cheap copyable handle.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    pub manage: RwSignal<Option<ManageLink>>,
    pub staff: RwSignal<StaffDesk>,
    pub board: RwSignal<Board>,
    pub layout: RwSignal<Layout>,
    pub day: RwSignal<Option<String>>,
    pub booking: RwSignal<Booking>,
    pub pow: RwSignal<Pow>,
    pub reset: RwSignal<Reset>,
    pub flash: RwSignal<HashSet<SlotId>>,
    pub now: RwSignal<i64>,
    pub notice: RwSignal<Option<String>>,
    pub connection: Connection,
    /// The session's note that the connection has not yet said what it starts
    /// from; no component shows it.
    fresh: StoredValue<bool>,
}

impl Ctx {
    /// Whether the page shows the current schedule and may act on it.
    pub fn live(&self) -> bool {
        self.connection.link.get() == Link::Live
    }

    /// Runs `f` on the page's state as one `Session`. Each part lives in a
    /// signal of its own, so that a change to one redraws only what shows it:
    /// the parts are moved out of their signals for `f`, moved back, and only
    /// the readers of the parts that changed are woken.
    fn with_session(self, f: impl FnOnce(&mut Session) -> Outcome) -> Outcome {
        fn take<T: Default + Send + Sync + 'static>(signal: RwSignal<T>) -> T {
            signal.try_update_untracked(std::mem::take).unwrap_or_default()
        }
        fn give_back<T: Send + Sync + 'static>(signal: RwSignal<T>, value: T, changed: bool) {
            signal.update_untracked(|held| *held = value);
            if changed {
                signal.notify();
            }
        }
        let mut session = Session {
            board: take(self.board),
            booking: take(self.booking),
            pow: take(self.pow),
            reset: take(self.reset),
            manage: take(self.manage),
            staff: take(self.staff),
            fresh: self.fresh.get_value(),
        };
        let outcome = f(&mut session);
        let Session { board, booking, pow, reset, manage, staff, fresh } = session;
        let changed = outcome.changed;
        give_back(self.board, board, changed.board);
        give_back(self.booking, booking, changed.booking);
        give_back(self.pow, pow, changed.pow);
        give_back(self.reset, reset, changed.reset);
        give_back(self.manage, manage, changed.manage);
        give_back(self.staff, staff, changed.staff);
        self.fresh.set_value(fresh);
        outcome
    }

    /// Does what the session asked for beyond its own state; returns what the
    /// connection should do next.
    fn carry_out(self, outcome: Outcome) -> Next {
        for message in outcome.send {
            match message {
                challenge @ ClientMessage::Challenge { .. } => {
                    solver::ask(self, challenge);
                }
                other => {
                    self.connection.send(other);
                }
            }
        }
        if let Some(nonce) = outcome.solve {
            solver::solve(self, nonce);
        }
        if outcome.replaced {
            let fresh = self.board.with_untracked(|b| b.schedule().map(Layout::build)).unwrap_or_default();
            if self.day.with_untracked(|d| d.as_ref().is_none_or(|k| fresh.day(k).is_none())) {
                self.day.set(fresh.days.first().map(|d| d.key.clone()));
            }
            self.layout.set(fresh);
        }
        if let Some(id) = outcome.flash {
            self.flash.update(|f| {
                f.insert(id.clone());
            });
            let flash = self.flash;
            set_timeout(
                move || {
                    flash.update(|f| {
                        f.remove(&id);
                    })
                },
                FLASH,
            );
        }
        if outcome.save_mine {
            self.board.with_untracked(|b| remembered::save(&b.mine));
        }
        if let Some(text) = outcome.notice {
            self.notice.set(Some(text));
        }
        outcome.hello.map_or(Next::Continue, Next::Hello)
    }
}

/// The whole page: the connection and the state the pages share, and the page
/// the address asks for.
#[component]
pub fn App() -> impl IntoView {
    let mut remembered = Board::default();
    remembered.mine = remembered::load();
    let board = RwSignal::new(remembered);
    // Filled in below, once the connection exists; messages only arrive after.
    let ctx_cell = StoredValue::new(None::<Ctx>);
    let on_message = move |message: ServerMessage| -> Next {
        let Some(ctx) = ctx_cell.get_value() else { return Next::Continue };
        let outcome = ctx.with_session(|s| s.receive(message, solver::clock_ms(), request_id));
        ctx.carry_out(outcome)
    };
    let on_drop = move || {
        if let Some(ctx) = ctx_cell.get_value() {
            ctx.with_session(|s| Outcome { changed: s.on_disconnect(), ..Outcome::default() });
        }
    };
    let holds = move || board.with_untracked(Board::version);
    let ctx = Ctx {
        manage: RwSignal::new(None),
        staff: RwSignal::new(StaffDesk::default()),
        board,
        layout: RwSignal::new(Layout::default()),
        day: RwSignal::new(None),
        booking: RwSignal::new(Booking::default()),
        pow: RwSignal::new(Pow::default()),
        reset: RwSignal::new(Reset::default()),
        flash: RwSignal::new(HashSet::new()),
        now: RwSignal::new(time::now_ms()),
        notice: RwSignal::new(None),
        connection: ws::connect(on_message, on_drop, holds),
        fresh: StoredValue::new(true),
    };
    ctx_cell.set_value(Some(ctx));
    provide_context(ctx);

    // Slots turn "past" as time goes by without any message.
    set_interval(move || ctx.now.set(time::now_ms()), Duration::from_secs(20));

    // No page nests in another, so the flat router does, and weighs less in the
    // page than the nested one. Any other address shows the booking page, as the
    // server serves the page for every address it does not know.
    view! {
        <Router>
            <Header/>
            <FlatRoutes fallback=BookPage>
                <Route path=path!("/") view=BookPage/>
                <Route path=path!("/manage") view=ManagePage/>
                <Route path=path!("/staff") view=StaffPage/>
            </FlatRoutes>
        </Router>
    }
}
