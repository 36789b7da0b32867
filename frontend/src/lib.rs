//! The booking page: a live view of the clinic's schedule over one WebSocket, with
//! booking and the staff reset. `state` holds the logic, `ws` the connection,
//! `components` the pieces of the page.

// The component macro makes each component and its props `pub`, which the
// workspace lint would flag in every private module; the crate exports only `App`.
#![allow(unreachable_pub)]

mod components;
mod layout;
pub mod state;
mod time;
mod ws;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use leptos::prelude::*;
use protocol::{ServerMessage, SlotId, SlotStatus};

use components::{BookingDialog, DayTabs, Header, ResetDialog, ScheduleGrid};
use layout::Layout;
use state::{Applied, Board, Booking, Reset};
use ws::{Connection, Link, Next};

/// How long a changed slot stays highlighted.
const FLASH: Duration = Duration::from_millis(1600);
/// Where this browser remembers its bookings (slot → code).
const MINE_KEY: &str = "booking.mine";

/// Everything the components share; every field is a cheap copyable handle.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    pub board: RwSignal<Board>,
    pub layout: RwSignal<Layout>,
    pub day: RwSignal<Option<String>>,
    pub booking: RwSignal<Booking>,
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
    let reset = RwSignal::new(Reset::default());
    let flash = RwSignal::new(HashSet::new());
    let now = RwSignal::new(time::now_ms());
    let notice = RwSignal::new(None::<String>);

    let on_message = move |message: ServerMessage| -> Next {
        if !matches!(message, ServerMessage::InitialState(_) | ServerMessage::Update { .. }) {
            handle_reply(&message, board, booking, reset, notice);
            return Next::Continue;
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
                let lost = booking.with_untracked(|b| match b {
                    Booking::Form { slot, .. } => {
                        board.with_untracked(|bd| bd.status(slot) != Some(SlotStatus::Free))
                    }
                    _ => false,
                });
                if lost {
                    booking.update(|b| {
                        if let Some(slot) = b.slot().cloned() {
                            *b = Booking::Taken { slot }
                        }
                    });
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
                let lost = slot.status != SlotStatus::Free
                    && booking
                        .with_untracked(|b| matches!(b, Booking::Form { slot: s, .. } if *s == slot.id));
                if lost {
                    booking.set(Booking::Taken { slot: slot.id });
                }
                if slot.status == SlotStatus::Free {
                    save_mine(board);
                }
                Next::Continue
            }
            Applied::Stale | Applied::Reply(_) => Next::Continue,
            Applied::Gap => Next::Resync,
        }
    };
    let on_drop = move || {
        booking.update(Booking::on_disconnect);
        reset.update(Reset::on_disconnect);
    };
    let connection = ws::connect(on_message, on_drop);
    provide_context(Ctx { board, layout, day, booking, reset, flash, now, notice, connection });

    // Slots turn "past" as time goes by without any message.
    set_interval(move || now.set(time::now_ms()), Duration::from_secs(20));

    view! {
        <Header/>
        <main id="main">
            <StaleBanner/>
            <Notice/>
            <DayTabs/>
            <ScheduleGrid/>
            <Legend/>
        </main>
        <footer class="footer">
            <span>"Staff"</span>
            <button type="button" class="link-button" id="open-reset"
                on:click=move |_| reset.set(Reset::Asking { problem: None })>
                "Reset schedule…"
            </button>
        </footer>
        <BookingDialog/>
        <ResetDialog/>
    }
}

/// Handles a message that is not a schedule change.
fn handle_reply(
    message: &ServerMessage,
    board: RwSignal<Board>,
    booking: RwSignal<Booking>,
    reset: RwSignal<Reset>,
    notice: RwSignal<Option<String>>,
) {
    if let Some((slot, code)) = booking.try_update(|b| b.on_reply(message)).flatten() {
        board.update(|b| {
            b.mine.insert(slot, code);
        });
        save_mine(board);
        return;
    }
    if reset.try_update(|r| r.on_message(message)).unwrap_or(false) {
        return;
    }
    if let ServerMessage::Error { message, request_id: None, .. } = message {
        notice.set(Some(message.clone()));
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
            <li><span class="swatch booked"></span>"Booked"</li>
            <li><span class="swatch mine"></span>"Your booking"</li>
            <li><span class="swatch past"></span>"Past"</li>
        </ul>
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn load_mine() -> BTreeMap<SlotId, String> {
    storage()
        .and_then(|s| s.get_item(MINE_KEY).ok().flatten())
        .and_then(|text| serde_json::from_str::<BTreeMap<String, String>>(&text).ok())
        .map(|m| m.into_iter().map(|(k, v)| (SlotId(k), v)).collect())
        .unwrap_or_default()
}

fn save_mine(board: RwSignal<Board>) {
    let map: BTreeMap<String, String> =
        board.with_untracked(|b| b.mine.iter().map(|(k, v)| (k.0.clone(), v.clone())).collect());
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(&map)) {
        let _ = storage.set_item(MINE_KEY, &text);
    }
}

/// A request id no other page will choose.
pub(crate) fn request_id() -> String {
    let part = || (js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("{:08x}{:08x}{:08x}", part(), part(), part())
}
