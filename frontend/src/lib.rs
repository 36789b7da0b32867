//! The booking page: a live view of the clinic's schedule over one WebSocket,
//! with booking, a booking's manage link, the waitlist and the staff console.
//! `state`, `booking`, `join`, `pow`, `manage`, `waitlist` and `staff` hold the
//! logic, `session` what each message from the server does to it, `ws` the
//! connection, `solver` the robot check's pacing, `pages` the pages by address
//! and `components` their pieces. This file holds only the wiring: the signals,
//! and the session run on them.
//!
//! The staff console's pages and pieces are built only with the `staff`
//! feature: the patient page (`index.html`) is built without it, so that
//! patients never download the console, and the console's page (`staff.html`,
//! served at `/staff`) with it. The logic that the session runs for the console
//! is plain data and stays in both.

// The component macro makes each component and its props `pub`, which the
// workspace lint would flag in every private module; the crate exports only `App`.
#![allow(unreachable_pub)]

pub mod booking;
mod components;
#[cfg(test)]
mod fixtures;
pub mod ics;
/// The translations: the `i18n` module that the build script generates from
/// `locales/*.json`, with a typed key for every text.
#[allow(missing_docs, unreachable_pub, unused_imports, dead_code, clippy::all, clippy::pedantic)]
mod translations {
    include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));
}
pub(crate) use translations::i18n;
mod ids;
pub mod join;
mod language;
mod layout;
pub mod manage;
mod pages;
pub mod pow;
mod remembered;
mod say;
pub mod session;
mod solver;
pub mod staff;
pub mod state;
mod time;
pub mod waitlist;
mod ws;

use std::collections::HashSet;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::path;
use protocol::{ClientMessage, ServerMessage, SlotId, SlotStatus};

use booking::Booking;
use components::Header;
use i18n::{I18nContextProvider, Locale, td_string, use_i18n};
pub(crate) use ids::request_id;
use join::Join;
use layout::Layout;
use manage::ManageLink;
#[cfg(feature = "staff")]
use pages::StaffPage;
use pages::{BookPage, ManagePage, WaitPage};
use pow::Pow;
use say::Say;
use session::{Outcome, Session};
use staff::StaffDesk;
use staff::admin::Admin;
use staff::audit::Audit;
use staff::waitlist::StaffWaitlist;
use state::{Board, Reset};
use waitlist::{WaitLink, Waiting};
use ws::{Connection, Link, Next};

/// How long a changed slot stays highlighted.
const FLASH: Duration = Duration::from_millis(1600);

/// Everything the components share; every field is a cheap copyable handle.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    pub manage: RwSignal<Option<ManageLink>>,
    /// The waitlist link, on the waitlist page.
    pub wait: RwSignal<Option<WaitLink>>,
    /// The waitlist entries joined from this browser, remembered across visits.
    pub waits: RwSignal<Vec<Waiting>>,
    pub staff: RwSignal<StaffDesk>,
    /// The staff console's waitlist, apart from the console so that its
    /// reloads redraw only the list.
    pub staff_waitlist: RwSignal<StaffWaitlist>,
    /// The staff console's history dialog and activity.
    pub audit: RwSignal<Audit>,
    /// What only admins do at the staff console.
    pub admin: RwSignal<Admin>,
    pub board: RwSignal<Board>,
    pub layout: RwSignal<Layout>,
    pub day: RwSignal<Option<String>>,
    pub booking: RwSignal<Booking>,
    /// The join-the-waitlist dialog.
    pub join: RwSignal<Join>,
    pub pow: RwSignal<Pow>,
    pub reset: RwSignal<Reset>,
    pub flash: RwSignal<HashSet<SlotId>>,
    pub now: RwSignal<i64>,
    pub notice: RwSignal<Option<Say>>,
    /// The language the page speaks; the translations follow it.
    pub locale: RwSignal<Locale>,
    /// Whether the visitor named a language the page speaks (the switcher, or
    /// the browser's preferences); if not, the clinic's default decides.
    pub language_chosen: RwSignal<bool>,
    /// What the page announces to screen readers about the slot in view.
    pub announce: RwSignal<String>,
    /// The slot of the schedule in the Tab order: the last one focused.
    pub cursor: RwSignal<Option<SlotId>>,
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
            join: take(self.join),
            pow: take(self.pow),
            reset: take(self.reset),
            manage: take(self.manage),
            wait: take(self.wait),
            staff: take(self.staff),
            staff_waitlist: take(self.staff_waitlist),
            audit: take(self.audit),
            admin: take(self.admin),
            fresh: self.fresh.get_value(),
        };
        let outcome = f(&mut session);
        let Session {
            board,
            booking,
            join,
            pow,
            reset,
            manage,
            wait,
            staff,
            staff_waitlist,
            audit,
            admin,
            fresh,
        } = session;
        let changed = outcome.changed;
        give_back(self.board, board, changed.board);
        give_back(self.booking, booking, changed.booking);
        give_back(self.join, join, changed.join);
        give_back(self.pow, pow, changed.pow);
        give_back(self.reset, reset, changed.reset);
        give_back(self.manage, manage, changed.manage);
        give_back(self.wait, wait, changed.wait);
        give_back(self.staff, staff, changed.staff);
        give_back(self.staff_waitlist, staff_waitlist, changed.staff_waitlist);
        give_back(self.audit, audit, changed.audit);
        give_back(self.admin, admin, changed.admin);
        self.fresh.set_value(fresh);
        outcome
    }

    /// Tells screen readers, politely, that the slot that has the focus has
    /// changed, and to what. The slot of an open booking dialog says so in the
    /// dialog itself.
    fn announce_change(self, id: &SlotId) {
        let focused = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .and_then(|e| e.get_attribute("data-slot-id"));
        if focused.as_deref() != Some(id.0.as_str()) {
            return;
        }
        let l = self.locale.get_untracked();
        let mine = self.board.with_untracked(|b| b.is_mine(id));
        let Some(status) = self.board.with_untracked(|b| b.status(id)) else { return };
        let state = match status {
            _ if mine => td_string!(l, look_mine_name),
            SlotStatus::Free => td_string!(l, look_free),
            SlotStatus::Held => td_string!(l, look_held),
            SlotStatus::Booked => td_string!(l, look_booked),
            SlotStatus::Blocked => td_string!(l, look_blocked),
        };
        let slot = self.layout.with_untracked(|layout| {
            layout.describe(id).map(|(day, time, doctor)| format!("{time}, {day}, {}", doctor.name))
        });
        if let Some(slot) = slot {
            self.announce.set(td_string!(l, slot_changed, slot = slot, state = state).to_string());
        }
    }

    /// Lays the schedule out again, for a new schedule or a new language; the
    /// chosen day stays, unless it is gone: then the first day a patient can
    /// still book is chosen.
    fn relayout(self) {
        let locale = self.locale.get_untracked();
        let fresh =
            self.board.with_untracked(|b| b.schedule().map(|s| Layout::build(s, locale))).unwrap_or_default();
        if self.day.with_untracked(|d| d.as_ref().is_none_or(|k| fresh.day(k).is_none())) {
            let now = time::now_ms();
            let first = self.board.with_untracked(|b| fresh.first_open_day(b, now).map(|d| d.key.clone()));
            self.day.set(first);
        }
        self.layout.set(fresh);
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
            self.relayout();
        }
        if let Some(id) = outcome.flash {
            self.announce_change(&id);
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
        if outcome.changed.staff {
            // The tab keeps the session (never the password), so that a reload
            // logs in again; a session that ended is forgotten here too.
            self.staff.with_untracked(|s| remembered::save_staff_session(s.session()));
        }
        if outcome.save_mine {
            self.board.with_untracked(|b| remembered::save(&b.mine));
        }
        if let Some(text) = outcome.notice {
            self.notice.set(Some(text));
        }
        if let Some(entry) = outcome.joined {
            self.waits.update(|all| waitlist::remember(all, entry));
            self.waits.with_untracked(|all| remembered::save_waits(all));
        }
        if let Some((ms, due)) = outcome.reload_waitlist {
            set_timeout(
                move || {
                    let load =
                        self.staff_waitlist.try_update(|s| s.fire(due, solver::clock_ms(), request_id()));
                    if let Some(load) = load.flatten() {
                        self.connection.send(load);
                    }
                },
                Duration::from_millis(ms as u64),
            );
        }
        outcome.hello.map_or(Next::Continue, Next::Hello)
    }

    /// Forgets the remembered waitlist entry behind `token`, once it is over.
    pub(crate) fn forget_wait(self, token: &str) {
        if self.waits.try_update(|all| waitlist::forget(all, token)).unwrap_or(false) {
            self.waits.with_untracked(|all| remembered::save_waits(all));
        }
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
    // The visitor's language preferences, read once.
    let (stored, browser) = (language::stored(), language::browser());
    let ctx = Ctx {
        manage: RwSignal::new(None),
        wait: RwSignal::new(None),
        waits: RwSignal::new(remembered::load_waits()),
        staff: RwSignal::new(StaffDesk::default()),
        staff_waitlist: RwSignal::new(StaffWaitlist::default()),
        audit: RwSignal::new(Audit::default()),
        admin: RwSignal::new(Admin::default()),
        board,
        layout: RwSignal::new(Layout::default()),
        day: RwSignal::new(None),
        booking: RwSignal::new(Booking::default()),
        join: RwSignal::new(Join::default()),
        pow: RwSignal::new(Pow::default()),
        reset: RwSignal::new(Reset::default()),
        flash: RwSignal::new(HashSet::new()),
        now: RwSignal::new(time::now_ms()),
        notice: RwSignal::new(None),
        locale: RwSignal::new(language::choose(stored.as_deref(), &browser, None)),
        language_chosen: RwSignal::new(language::visitor_decides(stored.as_deref(), &browser)),
        announce: RwSignal::new(String::new()),
        cursor: RwSignal::new(None),
        connection: ws::connect(on_message, on_drop, holds),
        fresh: StoredValue::new(true),
    };
    ctx_cell.set_value(Some(ctx));
    provide_context(ctx);

    // Slots turn "past" as time goes by without any message.
    set_interval(move || ctx.now.set(time::now_ms()), Duration::from_secs(20));

    view! {
        <I18nContextProvider set_dir_attr_on_html=false>
            <LanguageKeeper/>
            <Router>
                <Header/>
                <Pages/>
            </Router>
        </I18nContextProvider>
    }
}

/// The page for the address. No page nests in another, so the flat router
/// does, and weighs less in the page than the nested one. Any other address
/// shows the booking page, as the server serves the page for every address it
/// does not know.
#[cfg(not(feature = "staff"))]
#[component]
fn Pages() -> impl IntoView {
    view! {
        <FlatRoutes fallback=BookPage>
            <Route path=path!("/") view=BookPage/>
            <Route path=path!("/manage") view=ManagePage/>
            <Route path=path!("/wait") view=WaitPage/>
        </FlatRoutes>
    }
}

/// The page for the address, the staff console's among them. The server serves
/// this build only at `/staff`, but it has the patient's pages too, so that one
/// `trunk serve` of `staff.html` shows the whole site while the console is
/// worked on.
#[cfg(feature = "staff")]
#[component]
fn Pages() -> impl IntoView {
    view! {
        <FlatRoutes fallback=BookPage>
            <Route path=path!("/") view=BookPage/>
            <Route path=path!("/manage") view=ManagePage/>
            <Route path=path!("/wait") view=WaitPage/>
            <Route path=path!("/staff") view=StaffPage/>
        </FlatRoutes>
    }
}

/// Keeps the translations, the layout and the document's title in the page's
/// language, and lets the clinic choose it when the visitor named none the page
/// speaks.
#[component]
fn LanguageKeeper() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    i18n.set_locale(ctx.locale.get_untracked());
    let clinic = Memo::new(move |_| ctx.layout.with(|l| l.default_language.clone()));
    Effect::new(move |_| {
        let clinic = clinic.get();
        if !ctx.language_chosen.get_untracked()
            && let Some(locale) = language::parse(&clinic)
        {
            ctx.locale.set(locale);
        }
    });
    Effect::new(move |previous: Option<Locale>| {
        let locale = ctx.locale.get();
        i18n.set_locale(locale);
        if previous.is_some_and(|p| p != locale) {
            ctx.relayout();
        }
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(td_string!(locale, page_title));
        }
        locale
    });
}
