//! What the page says above its content: that the schedule shown may be out of
//! date, and one-line notices such as a completed reset.

use leptos::prelude::*;

use crate::Ctx;
use crate::i18n::{t, use_i18n};
use crate::ws::Link;

/// Shown whenever the page is not live: what is on screen may be out of date.
#[component]
pub(crate) fn StaleBanner() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let link = move || ctx.connection.link.get();
    view! {
        <Show when=move || link() != Link::Live>
            <p class="banner" role="status" id="stale-banner">
                {move || match link() {
                    Link::Connecting => t!(i18n, stale_connecting).into_any(),
                    Link::Offline => t!(i18n, stale_offline).into_any(),
                    // Live shows no banner; the arm only completes the match.
                    Link::Live | Link::Reconnecting(_) => t!(i18n, stale_reconnecting).into_any(),
                }}
            </p>
        </Show>
    }
}

/// One-line messages for the user, such as a completed reset.
#[component]
pub(crate) fn Notice() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    view! {
        <div class="notice-area" aria-live="polite">
            {move || ctx.notice.get().map(|say| view! {
                <p class="notice" id="notice">
                    <span>{move || say.text(i18n.get_locale())}</span>
                    <button type="button" class="link-button" on:click=move |_| ctx.notice.set(None)>{t!(i18n, dismiss)}</button>
                </p>
            })}
        </div>
    }
}
