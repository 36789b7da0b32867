//! The page header: the clinic, its time zone, the language switcher, and the
//! truth about the connection.

use leptos::prelude::*;

use crate::i18n::{t, t_string, use_i18n};
use crate::ws::Link;
use crate::{Ctx, language, time};

/// Clinic name, time zone, languages and the live connection indicator.
#[component]
pub(crate) fn Header() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let name = move || {
        let clinic = ctx.layout.with(|l| l.clinic.clone());
        if clinic.is_empty() { t_string!(i18n, clinic_fallback).to_string() } else { clinic }
    };
    let zone = move || {
        let intl = language::intl(i18n.get_locale());
        ctx.layout.with(|l| time::zone_name(time::now_ms(), &l.time_zone, intl))
    };
    let link = ctx.connection.link;
    let state = move || match link.get() {
        Link::Live => "live",
        Link::Connecting => "connecting",
        Link::Reconnecting(_) => "reconnecting",
        Link::Offline => "offline",
    };
    let label = move || match link.get() {
        Link::Live => t_string!(i18n, link_live).to_string(),
        Link::Connecting => t_string!(i18n, link_connecting).to_string(),
        Link::Reconnecting(n) if n > 1 => t_string!(i18n, link_reconnecting_attempt, attempt = n).to_string(),
        Link::Reconnecting(_) => t_string!(i18n, link_reconnecting).to_string(),
        Link::Offline => t_string!(i18n, link_offline).to_string(),
    };
    view! {
        <header class="header">
            <div class="brand">
                <h1 lang=move || ctx.layout.with(|l| l.clinic_lang.clone())>{name}</h1>
                <Show when=move || ctx.layout.with(|l| !l.time_zone.is_empty())>
                    <p class="zone">{move || t!(i18n, times_in_zone, zone = zone)}</p>
                </Show>
            </div>
            <div class="header-side">
                <nav class="languages" aria-label=move || t_string!(i18n, language)>
                    {language::ALL.into_iter().map(|(locale, own_name)| {
                        let tag = language::tag(locale);
                        let chosen = move || ctx.locale.get() == locale;
                        view! {
                            <button type="button" class="language" data-language=tag lang=tag
                                aria-pressed=move || chosen().to_string()
                                on:click=move |_| {
                                    language::store(locale);
                                    ctx.language_chosen.set(true);
                                    ctx.locale.set(locale);
                                }>
                                {own_name}
                            </button>
                        }
                    }).collect_view()}
                </nav>
                <p class="link" id="connection" data-state=state data-synced=move || ctx.connection.synced.get()
                    role="status" aria-live="polite">
                    <span class="dot" aria-hidden="true"></span>
                    <span>{label}</span>
                </p>
            </div>
        </header>
    }
}
