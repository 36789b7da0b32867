//! The page header: the clinic, its time zone, and the truth about the connection.

use leptos::prelude::*;

use crate::Ctx;
use crate::ws::Link;

/// Clinic name, time zone and the live connection indicator.
#[component]
pub(crate) fn Header() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let name = move || {
        ctx.layout.with(|l| if l.clinic.is_empty() { "Appointments".to_owned() } else { l.clinic.clone() })
    };
    let zone = move || ctx.layout.with(|l| l.time_zone.replace('_', " "));
    let link = ctx.connection.link;
    let state = move || match link.get() {
        Link::Live => "live",
        Link::Connecting => "connecting",
        Link::Reconnecting(_) => "reconnecting",
        Link::Offline => "offline",
    };
    let label = move || match link.get() {
        Link::Live => "Live".to_owned(),
        Link::Connecting => "Connecting…".to_owned(),
        Link::Reconnecting(n) if n > 1 => format!("Reconnecting… (attempt {n})"),
        Link::Reconnecting(_) => "Reconnecting…".to_owned(),
        Link::Offline => "Offline".to_owned(),
    };
    view! {
        <header class="header">
            <div class="brand">
                <h1>{name}</h1>
                <Show when=move || ctx.layout.with(|l| !l.time_zone.is_empty())>
                    <p class="zone">"All times in " <strong>{zone}</strong> " time"</p>
                </Show>
            </div>
            <p class="link" id="connection" data-state=state data-synced=move || ctx.connection.synced.get()
                role="status" aria-live="polite">
                <span class="dot" aria-hidden="true"></span>
                <span>{label}</span>
            </p>
        </header>
    }
}
