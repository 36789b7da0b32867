//! A time held for a waiting patient: which slot, a countdown to the end of
//! the offer that ticks every second, and the two answers, "Book this slot"
//! and "Not this one". Screen readers hear of the offer when it comes and when
//! its time runs low, politely, never every second; the tab's title says so
//! too, for a patient who waits with the page in the background.

use std::time::Duration;

use leptos::prelude::*;
use protocol::{ClientMessage, Slot};

use super::booking_dialog::describe;
use crate::i18n::{Locale, t, td_string, use_i18n};
use crate::waitlist::{Left, WaitLink, clock};
use crate::{Ctx, language, request_id, say, time};

/// The slot of an offer in words: as the schedule describes it, or from the
/// slot itself when the schedule shown does not have it.
fn slot_words(ctx: Ctx, slot: &Slot, l: Locale) -> String {
    let described = describe(ctx, &slot.id, l);
    if !described.is_empty() {
        return described;
    }
    let ms = slot.start.timestamp_millis();
    ctx.layout.with(|layout| {
        let (name, specialty) = layout
            .doctors
            .iter()
            .find(|d| d.id == slot.doctor_id)
            .map(|d| (d.name.clone(), d.specialty.clone()))
            .unwrap_or_default();
        td_string!(
            l,
            slot_what,
            day = time::long_day_label(ms, &layout.time_zone, language::intl(l)),
            time = time::time_label(ms, &layout.time_zone),
            doctor = name,
            specialty = specialty
        )
        .to_string()
    })
}

/// Sends a request the waitlist link builds.
pub(crate) fn send(ctx: Ctx, build: impl FnOnce(&mut WaitLink, String) -> Option<ClientMessage>) {
    if let Some(message) = ctx.wait.try_update(|w| w.as_mut().and_then(|w| build(w, request_id()))).flatten()
    {
        ctx.connection.send(message);
    }
}

/// The offer made to the entry shown, while there is one.
#[component]
pub(crate) fn OfferBox() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let offer = Memo::new(move |_| ctx.wait.with(|w| w.as_ref().and_then(|w| w.entry()?.offer.clone())));
    // The countdown's own clock, ticking only while an offer shows.
    let now = RwSignal::new(time::now_ms());
    let ticking = set_interval_with_handle(move || now.set(time::now_ms()), Duration::from_secs(1)).ok();
    on_cleanup(move || {
        if let Some(handle) = ticking {
            handle.clear();
        }
    });
    let expires = move || offer.with(|o| o.as_ref().map(|o| o.expires_at.timestamp_millis()));
    let left = Memo::new(move |_| expires().map(|e| Left::of(e, now.get())));
    let over = move || left.get() == Some(Left::Over);
    let countdown = move || {
        let l = i18n.get_locale();
        match expires() {
            Some(e) if !over() => td_string!(l, offer_left, clock = clock(e, now.get())).to_string(),
            _ => td_string!(l, offer_over).to_string(),
        }
    };
    let what = move || offer.with(|o| o.as_ref().map(|o| slot_words(ctx, &o.slot, i18n.get_locale())));
    // Told when an offer comes (or another replaces it), and at each step of
    // its time running low; the words go to the page's polite announcer.
    Effect::new(move |previous: Option<(Option<protocol::SlotId>, Option<Left>)>| {
        let slot = offer.with(|o| o.as_ref().map(|o| o.slot.id.clone()));
        let step = left.get();
        let l = i18n.get_locale_untracked();
        let text = match &previous {
            Some((was, _)) if *was == slot => step
                .filter(|s| previous.as_ref().and_then(|p| p.1) != Some(*s))
                .and_then(|s| say::offer_left(s, l)),
            _ => offer.with_untracked(|o| {
                o.as_ref().map(|o| {
                    // To the nearest minute, so that a fresh offer of ten
                    // minutes is told as ten, and never as more than it has
                    // by half a minute.
                    let left = (o.expires_at.timestamp_millis() - time::now_ms()).max(0);
                    let minutes = ((left + 30_000) / 60_000) as u32;
                    let slot = slot_words(ctx, &o.slot, l);
                    td_string!(l, offer_arrived, slot = slot, count = minutes.max(1)).to_string()
                })
            }),
        };
        if let Some(text) = text {
            ctx.announce.set(text);
        }
        (slot, step)
    });
    // The tab's title says a time is held, until the offer ends.
    Effect::new(move |_| {
        let l = i18n.get_locale();
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&format!("{} · {}", td_string!(l, offer_title), td_string!(l, page_title)));
        }
    });
    on_cleanup(move || {
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(td_string!(i18n.get_locale_untracked(), page_title));
        }
    });
    let busy = move || ctx.wait.with(|w| w.as_ref().is_some_and(WaitLink::busy));
    let accepting = move || ctx.wait.with(|w| w.as_ref().is_some_and(WaitLink::accepting));
    let unusable = move || busy() || !ctx.live() || over();
    view! {
        <section class="offer" id="wait-offer" aria-labelledby="offer-title"
            data-slot-id=move || offer.with(|o| o.as_ref().map(|o| o.slot.id.0.clone()))>
            <h3 id="offer-title">{t!(i18n, offer_title)}</h3>
            <p class="offer-what" id="offer-what">{what}</p>
            <p class="countdown" id="wait-countdown" role="timer" aria-atomic="true"
                data-expired=move || over().to_string()>{countdown}</p>
            <p class="hint">{t!(i18n, offer_hint)}</p>
            <div class="actions start">
                <button type="button" class="primary" id="accept-offer" disabled=unusable
                    aria-busy=move || accepting().to_string()
                    on:click=move |_| send(ctx, |w, id| w.accept(id))>
                    {move || if accepting() { t!(i18n, booking_busy).into_any() } else { t!(i18n, accept_offer).into_any() }}
                </button>
                <button type="button" class="secondary" id="decline-offer" disabled=unusable
                    on:click=move |_| send(ctx, |w, id| w.decline(id))>
                    {t!(i18n, decline_offer)}
                </button>
            </div>
        </section>
    }
}
