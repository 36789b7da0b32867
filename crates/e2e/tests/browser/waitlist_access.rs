//! WCAG 2.2 AA on the waitlist's pages, in each of the page's languages: the
//! join dialog (open, and with a problem on a field), the waitlist page
//! waiting, with an offer, and after taking it, and the staff console's list
//! of waiting patients with a live offer.

use anyhow::{Context, Result};
use e2e::{ADMIN, ADMIN_PASSWORD, App, Audit, Driver, Session, patient, require_axe, require_browser};
use fantoccini::Locator;

use crate::DESKTOP;

/// The page's languages, as `<html lang>` and the switcher's `data-language` say them.
const LANGUAGES: [&str; 2] = ["en", "ru"];

#[tokio::test]
#[ignore = "needs Chromium, chromedriver, axe-core and the built page (cargo xtask test runs it)"]
async fn the_waitlist_meets_wcag_2_2_aa_in_every_state_and_language() -> Result<()> {
    require_browser!();
    require_axe!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let mut audit = Audit::default();
    for (n, language) in LANGUAGES.into_iter().enumerate() {
        let page = driver.session(DESKTOP.0, DESKTOP.1).await?;
        page.open(&app).await?;
        page.choose_language(language).await?;
        let (day, slot) = page.first_free_slot().await?;
        let doctor = slot.split('-').next().context("a slot id names its doctor")?.to_owned();
        let carl = app.book_as_other(&slot, patient(10 * n)).await?;
        page.wait_slot_status(&slot, "booked").await?;

        page.screenshot(&format!("schedule-join-waitlist-{language}")).await?;
        page.click(&format!("button[data-waitlist-join='{doctor}']")).await?;
        page.wait_for("#join-name").await?;
        page.screenshot(&format!("join-dialog-{language}")).await?;
        audit.check(&page, &format!("join dialog ({language})")).await?;
        page.click("#confirm-join").await?;
        page.wait_for("#join-name-problem").await?;
        audit.check(&page, &format!("join dialog, problem on a field ({language})")).await?;
        let who = patient(10 * n + 1);
        page.wait_for("#join-name").await?.send_keys(&who.name).await?;
        page.browser.find(Locator::Css("#join-phone")).await?.send_keys(&who.phone).await?;
        page.click("#confirm-join").await?;
        page.wait_solved("#wait-status[data-wait-status='waiting']").await?;
        audit.check(&page, &format!("waitlist page, waiting ({language})")).await?;

        app.cancel_as_other(&carl).await?;
        page.wait_for("#wait-status[data-wait-status='offered']").await?;
        audit.check(&page, &format!("waitlist page, an offer ({language})")).await?;
        staff_console(&page, &app, &day, language, &mut audit).await?;
        page.browser.back().await?;
        page.wait_live().await?;
        page.click("#accept-offer").await?;
        page.wait_for("#booking-code").await?;
        audit.check(&page, &format!("waitlist page, the offer taken ({language})")).await?;
        page.close().await?;
    }
    audit.finish()
}

/// The staff console of another browser, with the waitlist and its live offer.
async fn staff_console(
    page: &Session,
    app: &App,
    day: &str,
    language: &str,
    audit: &mut Audit,
) -> Result<()> {
    page.open_at(app, "staff").await?;
    page.wait_language(language).await?;
    page.wait_for("#staff-name").await?.send_keys(ADMIN).await?;
    page.wait_for("#staff-password").await?.send_keys(ADMIN_PASSWORD).await?;
    page.click("#staff-login").await?;
    page.wait_for("#staff-count").await?;
    // The console opens on the day agenda, with the waitlist under it.
    page.click(&format!("#agenda-day option[value='{day}']")).await?;
    page.wait_for("#staff-waitlist[data-loaded='true'] tr[data-offered='true']").await?;
    page.screenshot(&format!("staff-waitlist-{language}")).await?;
    audit.check(page, &format!("staff console, the waitlist with an offer ({language})")).await
}
