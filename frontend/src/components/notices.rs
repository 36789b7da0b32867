//! What the page says above its content: that the schedule shown may be out of
//! date, and one-line notices such as a completed reset.

use leptos::prelude::*;

use crate::Ctx;
use crate::ws::Link;

/// Shown whenever the page is not live: what is on screen may be out of date.
#[component]
pub(crate) fn StaleBanner() -> impl IntoView {
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
pub(crate) fn Notice() -> impl IntoView {
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
