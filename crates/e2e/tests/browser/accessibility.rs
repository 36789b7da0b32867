//! WCAG 2.2 AA in the browser: axe-core audits every state of every page, in
//! each of the page's languages, and finds nothing: the schedule with slots in
//! every state, the booking dialog (open, with a problem on a field, booked,
//! its hold ended, the race lost), the manage page through its steps, and the
//! staff console (its login, day agenda, histories, activity, staff accounts,
//! schedule and reset). Each test audits all its states and then fails listing every
//! violation of each, so that one broken state does not hide another.

use anyhow::{Result, ensure};
use e2e::{
    ADMIN, ADMIN_PASSWORD, App, Audit, Driver, Session, eventually, patient, require_axe, require_browser,
    slot_css,
};
use fantoccini::Locator;

use crate::DESKTOP;

/// The page's languages, as `<html lang>` and the switcher's `data-language` say them.
const LANGUAGES: [&str; 2] = ["en", "ru"];

/// A new browser session on `path` of the app, in `language` chosen with the
/// header's switcher.
async fn page_in(driver: &Driver, app: &App, language: &str) -> Result<Session> {
    let page = driver.session(DESKTOP.0, DESKTOP.1).await?;
    page.open(app).await?;
    page.choose_language(language).await?;
    Ok(page)
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver, axe-core and the built page (cargo xtask test runs it)"]
async fn the_booking_page_and_its_dialog_meet_wcag_2_2_aa_in_every_state_and_language() -> Result<()> {
    require_browser!();
    require_axe!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let mut audit = Audit::default();
    // A slot held once is not held again for the same address for a while (the
    // hold cooldown), so each language uses slots of its own.
    let mut used = Vec::new();
    for (n, language) in LANGUAGES.into_iter().enumerate() {
        let page = page_in(&driver, &app, language).await?;
        page.day_with_free_slots(5 + used.len()).await?;
        let free: Vec<String> =
            page.slot_ids(Some("free")).await?.into_iter().filter(|s| !used.contains(s)).collect();
        ensure!(free.len() >= 5, "the day shown has too few free slots: {}", free.len());
        used.extend(free[..5].iter().cloned());
        let (slot, others) = (free[0].clone(), &free[1..5]);

        // Other people's slots on the day shown: one booked, one held, one blocked.
        app.book_as_other(&others[0], patient(10 * n)).await?;
        let _holding = app.hold_as_other(&others[1]).await?;
        app.block(&others[2]).await?;
        page.wait_slot_status(&others[0], "booked").await?;
        page.wait_slot_status(&others[1], "held").await?;
        page.wait_slot_status(&others[2], "blocked").await?;
        audit.check(&page, &format!("schedule ({language})")).await?;

        page.click(&slot_css(&slot)).await?;
        page.wait_for("#hold-note[data-hold='held']").await?;
        audit.check(&page, &format!("booking dialog, slot held ({language})")).await?;
        page.confirm().await?;
        page.wait_for("#name-problem").await?;
        audit.check(&page, &format!("booking dialog, problem on a field ({language})")).await?;
        let who = patient(10 * n + 1);
        page.fill_details(&who.name, &who.phone).await?;
        page.confirm().await?;
        page.wait_booked().await?;
        audit.check(&page, &format!("booking dialog, booked ({language})")).await?;
        page.click("#close-dialog").await?;
        page.wait_slot_status(&slot, "mine").await?;
        audit.check(&page, &format!("schedule with the patient's booking ({language})")).await?;

        // The race lost: staff end this page's hold and another patient books
        // the slot while the dialog is still open.
        let lost = others[3].clone();
        page.click(&slot_css(&lost)).await?;
        page.wait_for("#hold-note[data-hold='held']").await?;
        app.end_hold(&lost).await?;
        page.wait_for("#hold-note[data-hold='ended']").await?;
        audit.check(&page, &format!("booking dialog, hold ended ({language})")).await?;
        app.book_as_other(&lost, patient(10 * n + 2)).await?;
        page.wait_for("#booking-taken").await?;
        page.screenshot(&format!("a11y-lost-race-{language}")).await?;
        audit.check(&page, &format!("booking dialog, race lost ({language})")).await?;
        page.click("#close-dialog").await?;
        page.close().await?;
    }
    audit.finish()
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver, axe-core and the built page (cargo xtask test runs it)"]
async fn the_manage_page_meets_wcag_2_2_aa_through_every_step_in_every_language() -> Result<()> {
    require_browser!();
    require_axe!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let mut audit = Audit::default();
    for (n, language) in LANGUAGES.into_iter().enumerate() {
        let page = page_in(&driver, &app, language).await?;
        let (_, slot) = page.first_free_slot().await?;
        let token = app.book_as_other(&slot, patient(10 * n)).await?;

        // The language chosen is kept across visits: the manage link, loaded
        // anew, is in it too.
        page.browser.goto(&format!("{}manage#{token}", app.url())).await?;
        page.wait_live().await?;
        page.wait_language(language).await?;
        page.wait_for("#manage-status").await?;
        audit.check(&page, &format!("manage page ({language})")).await?;

        page.click("#start-reschedule").await?;
        let (_, target) = page.first_free_slot().await?;
        audit.check(&page, &format!("manage page, choosing a new time ({language})")).await?;
        page.click(&slot_css(&target)).await?;
        page.wait_for("#confirm-move").await?;
        audit.check(&page, &format!("manage page, confirming the move ({language})")).await?;
        page.click("#confirm-move").await?;
        page.wait_for("#manage-said").await?;
        audit.check(&page, &format!("manage page, moved ({language})")).await?;

        page.click("#start-cancel").await?;
        page.wait_for("#confirm-cancel").await?;
        audit.check(&page, &format!("manage page, confirming the cancellation ({language})")).await?;
        page.click("#confirm-cancel").await?;
        eventually("the cancellation is shown", || async {
            Ok(page.browser.find(Locator::Css("#start-cancel, #confirm-cancel")).await.is_err())
        })
        .await?;
        audit.check(&page, &format!("manage page, cancelled ({language})")).await?;

        page.browser.goto(&format!("{}manage#{token}0", app.url())).await?;
        page.wait_for("#manage-not-found").await?;
        audit.check(&page, &format!("manage page, no such link ({language})")).await?;
        page.close().await?;
    }
    audit.finish()
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver, axe-core and the built page (cargo xtask test runs it)"]
async fn the_staff_console_meets_wcag_2_2_aa_in_every_state_and_language() -> Result<()> {
    require_browser!();
    require_axe!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let mut audit = Audit::default();
    for (n, language) in LANGUAGES.into_iter().enumerate() {
        let page = page_in(&driver, &app, language).await?;
        let (day, slot) = page.first_free_slot().await?;
        app.book_as_other(&slot, patient(10 * n)).await?;

        page.open_at(&app, "staff").await?;
        page.wait_language(language).await?;
        page.wait_for("#staff-name").await?;
        audit.check(&page, &format!("staff login ({language})")).await?;
        page.wait_for("#staff-name").await?.send_keys(ADMIN).await?;
        page.wait_for("#staff-password").await?.send_keys("not-the-password").await?;
        page.click("#staff-login").await?;
        page.wait_for("#staff-problem").await?;
        audit.check(&page, &format!("staff login, wrong password ({language})")).await?;

        // The wrong password may still be in its field.
        let password = page.wait_for("#staff-password").await?;
        password.clear().await?;
        password.send_keys(ADMIN_PASSWORD).await?;
        page.click("#staff-login").await?;
        page.wait_for("#staff-count").await?;
        page.click(&format!("#agenda-day option[value='{day}']")).await?;
        page.wait_for("#agenda tbody tr[data-code]").await?;
        audit.check(&page, &format!("staff console, the day agenda ({language})")).await?;
        page.click("#agenda tbody tr[data-code] button.history").await?;
        page.wait_for("#history-dialog tbody tr").await?;
        audit.check(&page, &format!("staff console, a booking's history ({language})")).await?;
        page.click("#history-close").await?;
        page.click("#agenda tbody tr[data-code] button.cancel").await?;
        page.wait_for("#confirm-dialog").await?;
        audit.check(&page, &format!("staff console, asked to cancel ({language})")).await?;
        page.click("#confirm-keep").await?;

        page.click("#view-activity").await?;
        page.wait_for("#activity[data-loaded='true'] tbody tr").await?;
        audit.check(&page, &format!("staff console, the activity ({language})")).await?;

        page.click("#view-staff").await?;
        page.wait_for("#staff-accounts tbody tr").await?;
        page.click("#add-staff").await?;
        page.wait_for("#new-staff-name[aria-invalid='true']").await?;
        audit.check(&page, &format!("staff console, the accounts with a problem ({language})")).await?;

        page.click("#view-schedule").await?;
        page.choose_day(&day).await?;
        page.wait_slot_status(&slot, "booked").await?;
        audit.check(&page, &format!("staff console, the schedule ({language})")).await?;
        page.click(&slot_css(&slot)).await?;
        page.wait_for("#staff-booking").await?;
        audit.check(&page, &format!("staff console, a booking's details ({language})")).await?;

        page.click("#open-reset").await?;
        page.wait_for("#reset-dialog").await?;
        audit.check(&page, &format!("staff reset dialog ({language})")).await?;
        page.click("#reset-keep").await?;
        page.close().await?;
    }
    audit.finish()
}
