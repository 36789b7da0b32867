//! The booking page: a live view of the clinic's schedule over one WebSocket, with
//! booking and the staff reset. `state`, `booking`, `pow`, `manage` and `staff`
//! hold the logic, `ws` the connection, `solver` the robot check's pacing, and
//! `components` the pieces of the page.

// The component macro makes each component and its props `pub`, which the
// workspace lint would flag in every private module; the crate exports only `App`.
#![allow(unreachable_pub)]

pub mod booking;
mod components;
pub mod ics;
mod ids;
mod layout;
pub mod manage;
pub mod pow;
mod solver;
pub mod staff;
pub mod state;
mod time;
mod ws;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use leptos::prelude::*;
use protocol::{ServerMessage, SlotId, SlotStatus};

use booking::{Booking, Settled};
use components::{BookingDialog, DayTabs, Header, ManagePanel, ResetDialog, ScheduleGrid, StaffPanel};
pub(crate) use ids::request_id;
use layout::Layout;
use manage::ManageLink;
use pow::Pow;
use staff::StaffDesk;
use state::{Applied, Board, Mine, Reset};
use ws::{Connection, Link, Next};

/// How long a changed slot stays highlighted.
const FLASH: Duration = Duration::from_millis(1600);
/// Where this browser remembers its bookings (slot → code and manage secret).
const MINE_KEY: &str = "booking.mine.v2";

/// Which page this is, from the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    /// The schedule, for patients to book.
    Book,
    /// A booking's manage link (`/manage#<secret>`).
    Manage,
    /// The staff console (`/staff`).
    Staff,
}

/// Everything the components share; every field is a cheap copyable handle.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    pub page: Page,
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
}

impl Ctx {
    /// Whether the page shows the current schedule and may act on it.
    pub fn live(&self) -> bool {
        self.connection.link.get() == Link::Live
    }
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let mut remembered = Board::default();
    remembered.mine = load_mine();
    let board = RwSignal::new(remembered);
    let layout = RwSignal::new(Layout::default());
    let day = RwSignal::new(None::<String>);
    let booking = RwSignal::new(Booking::default());
    let pow = RwSignal::new(Pow::default());
    let reset = RwSignal::new(Reset::default());
    let flash = RwSignal::new(HashSet::new());
    let now = RwSignal::new(time::now_ms());
    let notice = RwSignal::new(None::<String>);
    let (page, token) = page_of_address();
    let manage = RwSignal::new(token.map(ManageLink::new));
    let staff = RwSignal::new(StaffDesk::default());
    // Filled in below, once the connection exists; messages only arrive after.
    let ctx_cell = StoredValue::new(None::<Ctx>);

    // Set while a connection has not yet said what it starts from.
    let fresh = StoredValue::new(true);
    let on_message = move |message: ServerMessage| -> Next {
        let Some(ctx) = ctx_cell.get_value() else { return Next::Continue };
        if !matches!(
            message,
            ServerMessage::InitialState(_) | ServerMessage::Update { .. } | ServerMessage::Resumed { .. }
        ) {
            handle_reply(ctx, &message);
            return Next::Continue;
        }
        let first = fresh.get_value() && matches!(message, ServerMessage::Resumed { .. });
        if first || matches!(message, ServerMessage::InitialState(_)) {
            fresh.set_value(false);
            // A fresh connection, or a whole new schedule: ask again for what
            // this page shows.
            if let Some(lookup) = manage.try_update(|m| m.as_mut().map(|m| m.lookup(request_id()))).flatten()
            {
                ctx.connection.send(lookup);
            }
            if let Some(login) = staff.with_untracked(StaffDesk::login_message) {
                ctx.connection.send(login);
            }
        }
        let answered_reset = reset.try_update(|r| r.on_message(&message)).unwrap_or(false);
        let applied = board.try_update(|b| b.apply(message)).unwrap_or(Applied::Stale);
        match applied {
            Applied::Replaced => {
                let fresh = board.with_untracked(|b| b.schedule().map(Layout::build)).unwrap_or_default();
                if day.with_untracked(|d| d.as_ref().is_none_or(|k| fresh.day(k).is_none())) {
                    day.set(fresh.days.first().map(|d| d.key.clone()));
                }
                layout.set(fresh);
                save_mine(board);
                if answered_reset {
                    notice.set(Some("The schedule was reset.".into()));
                }
                // The form's slot may have been booked, blocked or let go meanwhile.
                if let Some(slot) = booking.with_untracked(|b| b.slot().cloned()) {
                    let status = board.with_untracked(|b| b.status(&slot));
                    booking.update(|b| b.on_slot(&slot, status));
                }
                Next::Continue
            }
            Applied::Changed(slot) => {
                let id = slot.id.clone();
                flash.update(|f| {
                    f.insert(id.clone());
                });
                set_timeout(
                    move || {
                        flash.update(|f| {
                            f.remove(&id);
                        })
                    },
                    FLASH,
                );
                if booking.with_untracked(|b| b.slot() == Some(&slot.id)) {
                    booking.update(|b| b.on_slot(&slot.id, Some(slot.status)));
                }
                if slot.status == SlotStatus::Free {
                    save_mine(board);
                }
                Next::Continue
            }
            Applied::Resumed | Applied::Stale | Applied::Other(_) => Next::Continue,
            Applied::Gap(version) => Next::Hello(version),
        }
    };
    let on_drop = move || {
        fresh.set_value(true);
        // A booking sent but not answered may have spent its solution; a new
        // check costs the patient less than a refusal would.
        if let Some(nonce) = booking.try_update(Booking::on_disconnect).flatten() {
            pow.update(|p| p.spend(&nonce));
        }
        pow.update(Pow::on_disconnect);
        reset.update(Reset::on_disconnect);
        manage.update(|m| {
            if let Some(m) = m {
                m.on_disconnect();
            }
        });
        staff.update(StaffDesk::on_disconnect);
    };
    let holds = move || board.with_untracked(Board::version);
    let connection = ws::connect(on_message, on_drop, holds);
    let ctx =
        Ctx { page, manage, staff, board, layout, day, booking, pow, reset, flash, now, notice, connection };
    ctx_cell.set_value(Some(ctx));
    provide_context(ctx);

    // Another manage link typed into the address bar changes only the part after
    // `#`, which does not load the page again; this does.
    if page == Page::Manage {
        let handle = window_event_listener(leptos::ev::hashchange, |_| {
            if let Some(window) = web_sys::window() {
                let _ = window.location().reload();
            }
        });
        on_cleanup(move || handle.remove());
    }

    // Slots turn "past" as time goes by without any message.
    set_interval(move || now.set(time::now_ms()), Duration::from_secs(20));

    let schedule = move || {
        let picking = page != Page::Manage || manage.with(|m| m.as_ref().is_some_and(ManageLink::picking));
        let staff_ready = page != Page::Staff || staff.with(StaffDesk::logged_in);
        picking && staff_ready
    };
    view! {
        <Header/>
        <main id="main">
            <StaleBanner/>
            <Notice/>
            {(page == Page::Manage).then(|| view! { <ManagePanel/> })}
            {(page == Page::Staff).then(|| view! { <StaffPanel/> })}
            <Show when=schedule>
                <DayTabs/>
                <ScheduleGrid/>
                <Legend/>
            </Show>
        </main>
        <footer class="footer">
            {match page {
                Page::Book => view! { <a href="/staff">"Staff console"</a> }.into_any(),
                _ => view! { <a href="/">"Book an appointment"</a> }.into_any(),
            }}
        </footer>
        <BookingDialog/>
        <ResetDialog/>
    }
}

/// The page and, for a manage link, its secret.
fn page_of_address() -> (Page, Option<String>) {
    let Some(location) = web_sys::window().map(|w| w.location()) else { return (Page::Book, None) };
    let path = location.pathname().unwrap_or_default();
    if path.starts_with("/manage") {
        let token = location.hash().unwrap_or_default().trim_start_matches('#').to_owned();
        (Page::Manage, Some(token))
    } else if path.starts_with("/staff") {
        (Page::Staff, None)
    } else {
        (Page::Book, None)
    }
}

/// Handles a message that is not a schedule change.
fn handle_reply(ctx: Ctx, message: &ServerMessage) {
    if solver::on_reply(ctx, message) {
        return;
    }
    match ctx.booking.try_update(|b| b.on_reply(message)).flatten() {
        Some(Settled::Booked { slot, mine, nonce }) => {
            // Each solution buys one booking; the next one needs a new check.
            ctx.pow.update(|p| p.spend(&nonce));
            ctx.board.update(|b| {
                b.mine.insert(slot, mine);
            });
            save_mine(ctx.board);
            return;
        }
        Some(Settled::ProofRefused { nonce }) => {
            ctx.pow.update(|p| p.spend(&nonce));
            solver::prepare(ctx);
            return;
        }
        Some(Settled::Spent { nonce }) => {
            ctx.pow.update(|p| p.spend(&nonce));
            // Still in the form (a limit the patient can answer): a new check
            // starts at once, so the next attempt waits for nothing.
            if ctx.booking.with_untracked(|b| matches!(b, Booking::Form { .. })) {
                solver::prepare(ctx);
            }
            return;
        }
        None => {}
    }
    let moved = ctx.manage.try_update(|m| m.as_mut().and_then(|m| m.on_reply(message))).flatten();
    if let Some((from, to)) = moved {
        // A booking this browser made moved with it.
        ctx.board.update(|b| {
            if let Some(mine) = b.mine.remove(&from) {
                b.mine.insert(to, mine);
            }
        });
        save_mine(ctx.board);
        return;
    }
    if ctx.staff.try_update(|s| s.on_message(message)).unwrap_or(false) {
        return;
    }
    if ctx.reset.try_update(|r| r.on_message(message)).unwrap_or(false) {
        return;
    }
    if let ServerMessage::Error { message, request_id: None, .. } = message {
        ctx.notice.set(Some(message.clone()));
    }
}

/// Shown whenever the page is not live: what is on screen may be out of date.
#[component]
fn StaleBanner() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let text = move || match ctx.connection.link.get() {
        Link::Live => None,
        Link::Connecting => Some("Connecting to the clinic…"),
        Link::Reconnecting(_) => Some(
            "Connection lost — reconnecting. The schedule below may be out of date, so booking is paused.",
        ),
        Link::Offline => {
            Some("You are offline. The schedule below may be out of date, so booking is paused.")
        }
    };
    view! {
        <Show when=move || text().is_some()>
            <p class="banner" role="status" id="stale-banner">{text}</p>
        </Show>
    }
}

/// One-line messages for the user, such as a completed reset.
#[component]
fn Notice() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <div class="notice-area" aria-live="polite">
            {move || ctx.notice.get().map(|text| view! {
                <p class="notice" id="notice">
                    <span>{text}</span>
                    <button type="button" class="link-button" on:click=move |_| ctx.notice.set(None)>"Dismiss"</button>
                </p>
            })}
        </div>
    }
}

/// What the slot styles mean, in words.
#[component]
fn Legend() -> impl IntoView {
    view! {
        <ul class="legend" aria-label="Legend">
            <li><span class="swatch free"></span>"Free — select to book"</li>
            <li><span class="swatch held"></span>"Being booked"</li>
            <li><span class="swatch booked"></span>"Booked"</li>
            <li><span class="swatch blocked"></span>"Unavailable"</li>
            <li><span class="swatch mine"></span>"Your booking"</li>
            <li><span class="swatch past"></span>"Past"</li>
        </ul>
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn load_mine() -> BTreeMap<SlotId, Mine> {
    storage()
        .and_then(|s| s.get_item(MINE_KEY).ok().flatten())
        .and_then(|text| serde_json::from_str::<BTreeMap<String, Mine>>(&text).ok())
        .map(|m| m.into_iter().map(|(k, v)| (SlotId(k), v)).collect())
        .unwrap_or_default()
}

fn save_mine(board: RwSignal<Board>) {
    let map: BTreeMap<String, Mine> =
        board.with_untracked(|b| b.mine.iter().map(|(k, v)| (k.0.clone(), v.clone())).collect());
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(&map)) {
        let _ = storage.set_item(MINE_KEY, &text);
    }
}

/// The manage link of a booking, on this page's own address.
pub(crate) fn manage_url(token: &str) -> String {
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    format!("{origin}/manage#{token}")
}
