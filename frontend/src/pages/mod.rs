//! The pages, one per address: booking at `/`, a booking's manage link at
//! `/manage#<secret>`, a waitlist entry's link at `/wait#<secret>`, and the
//! staff console at `/staff` (built only with the `staff` feature, for the
//! console's own page, which the server serves there). Each page puts its own
//! pieces in a `Frame`, which tells the pieces shared by all pages (the schedule
//! above all) which page they are on.

mod book;
mod manage;
#[cfg(feature = "staff")]
mod staff;
mod wait;

use leptos::prelude::*;

use crate::Ctx;
use crate::components::{DayTabs, Legend, Notice, ScheduleGrid, StaleBanner};
use crate::i18n::{t, use_i18n};

pub(crate) use book::BookPage;
pub(crate) use manage::{ManagePage, manage_url};
#[cfg(feature = "staff")]
pub(crate) use staff::StaffPage;
pub(crate) use wait::{WaitPage, wait_path, wait_url};

/// Calls `open` with the secret after `#` each time the address changes while
/// it is still this page's. Another link typed into the address bar changes
/// only the part after `#`, which does not load the page again, so each secret
/// gets its turn; leaving for another page changes the address before this page
/// is gone, and that address's secret, if any, is not this page's (sending it
/// would count as a wrong one).
pub(crate) fn on_secret_in_address(open: impl Fn(String) + 'static) {
    let location = leptos_router::hooks::use_location();
    let own_path = location.pathname.get_untracked();
    Effect::new(move |_| {
        let token = location.hash.get().trim_start_matches('#').to_owned();
        if location.pathname.get() == own_path {
            open(token);
        }
    });
}

/// Which page this is; the schedule's slots do something else on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    /// The schedule, for patients to book.
    Book,
    /// A booking's manage link.
    Manage,
    /// A waitlist entry's link.
    Wait,
    /// The staff console.
    Staff,
}

/// What every page has around its own pieces: the warnings about the
/// connection and the notices before them, and the footer after them.
#[component]
pub(crate) fn Frame(
    /// The page this is, for the pieces inside.
    page: Page,
    /// The page's own pieces.
    children: Children,
) -> impl IntoView {
    provide_context(page);
    let i18n = use_i18n();
    let ctx = expect_context::<Ctx>();
    view! {
        <main id="main">
            <StaleBanner/>
            <Notice/>
            <p class="visually-hidden" id="announcer" aria-live="polite">{move || ctx.announce.get()}</p>
            {children()}
        </main>
        <footer class="footer">
            // The patient page and the staff console are built apart, so the
            // links between them load the other one (`rel="external"` keeps
            // the router from showing the address in this one).
            {match page {
                Page::Book => {
                    view! { <a href="/staff" rel="external">{t!(i18n, footer_staff)}</a> }.into_any()
                }
                Page::Staff => view! { <a href="/" rel="external">{t!(i18n, footer_book)}</a> }.into_any(),
                Page::Manage | Page::Wait => view! { <a href="/">{t!(i18n, footer_book)}</a> }.into_any(),
            }}
        </footer>
    }
}

/// The schedule: the day tabs, the chosen day's slots, and what their looks mean.
#[component]
pub(crate) fn Schedule() -> impl IntoView {
    view! {
        <DayTabs/>
        <ScheduleGrid/>
        <Legend/>
    }
}
