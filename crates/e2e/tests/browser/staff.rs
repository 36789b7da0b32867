//! The staff console on the schedule: logging in by name and password,
//! patients' details, cancelling, blocking, ending a hold, and the reset.

use anyhow::{Result, ensure};
use e2e::{ADMIN, ADMIN_PASSWORD, App, Driver, require_browser, slot_css, two_sessions_on_one_slot};
use fantoccini::Locator;

use crate::{DESKTOP, PHONE};

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn the_staff_console_shows_patients_and_cancels_blocks_and_resets() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let staff = driver.session(DESKTOP.0, DESKTOP.1).await?;
    let patient = driver.session(PHONE.0, PHONE.1).await?;
    patient.open(&app).await?;
    patient.screenshot("phone-schedule").await?;
    let (day, slot) = patient.first_free_slot().await?;
    patient.fill_booking(&slot, "Anna Petrova", "+7 912 345-67-89").await?;
    patient.screenshot("phone-booking-form").await?;
    patient.confirm().await?;
    patient.wait_booked().await?;
    patient.screenshot("phone-booked").await?;
    patient.click("#close-dialog").await?;

    staff.staff_login(&app, ADMIN, "not-the-password").await?;
    let problem = staff.text("#staff-problem").await?;
    ensure!(problem.contains("do not match"), "a wrong password is reported: {problem}");
    // The wrong password may still be in its field.
    let password = staff.wait_for("#staff-password").await?;
    password.clear().await?;
    password.send_keys(ADMIN_PASSWORD).await?;
    staff.click("#staff-login").await?;
    staff.wait_for("#staff-count").await?;
    staff.watch_csp().await?;
    staff.click("#view-schedule").await?;
    staff.choose_day(&day).await?;
    let label = staff.text(&format!("{} .state", slot_css(&slot))).await?;
    ensure!(label == "Anna Petrova", "staff see who booked: {label}");
    staff.click(&slot_css(&slot)).await?;
    ensure!(staff.text("#staff-patient").await? == "Anna Petrova");
    staff.screenshot("desktop-staff-console").await?;

    staff.click("#staff-cancel").await?;
    patient.wait_slot_status(&slot, "free").await?;
    staff.click(&slot_css(&slot)).await?;
    staff.click("#staff-block").await?;
    patient.wait_slot_status(&slot, "blocked").await?;
    patient.screenshot("phone-blocked-slot").await?;

    // The reset asks first; going back changes nothing.
    staff.click("#open-reset").await?;
    staff.wait_for("#reset-keep").await?.click().await?;
    ensure!(staff.browser.find(Locator::Css("#reset-dialog")).await.is_err(), "going back closes the dialog");
    staff.click("#open-reset").await?;
    staff.wait_for("#confirm-reset").await?;
    staff.screenshot("desktop-reset-dialog").await?;
    staff.click("#confirm-reset").await?;
    ensure!(staff.text("#notice").await?.contains("reset"), "the reset is reported");
    patient.wait_slot_status(&slot, "free").await?;
    let violations = staff.csp_violations().await?;
    ensure!(violations.is_empty(), "the staff console broke its content security policy: {violations:?}");

    // The console at a phone's width, reached by the footer's link.
    patient.click(".footer a").await?;
    patient.wait_for("#staff-name").await?.send_keys(ADMIN).await?;
    patient.wait_for("#staff-password").await?.send_keys(ADMIN_PASSWORD).await?;
    patient.click("#staff-login").await?;
    patient.wait_for("#agenda").await?;
    patient.screenshot("phone-staff-console").await?;
    staff.close().await?;
    patient.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn the_staff_console_ends_a_patients_hold_and_other_browsers_see_the_slot_free_again() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let (patient, watcher, slot) = two_sessions_on_one_slot(&driver, &app).await?;
    let day = patient.chosen_day().await?;
    patient.click(&slot_css(&slot)).await?;
    patient.wait_for("#hold-note[data-hold='held']").await?;
    watcher.wait_slot_status(&slot, "held").await?;

    let staff = driver.session(DESKTOP.0, DESKTOP.1).await?;
    staff.staff_login(&app, ADMIN, ADMIN_PASSWORD).await?;
    staff.wait_for("#staff-count").await?;
    staff.click("#view-schedule").await?;
    staff.choose_day(&day).await?;
    staff.wait_slot_status(&slot, "held").await?;
    staff.click(&slot_css(&slot)).await?;
    staff.wait_for("#staff-end-hold").await?;
    staff.screenshot("desktop-staff-held-slot").await?;
    staff.click("#staff-end-hold").await?;

    watcher.wait_slot_status(&slot, "free").await?;
    staff.wait_slot_status(&slot, "free").await?;
    let note = patient.wait_for("#hold-note[data-hold='ended']").await?.text().await?;
    ensure!(note.contains("has ended") && note.contains("someone else may book it first"), "{note}");
    ensure!(staff.browser.find(Locator::Css("#staff-said")).await.is_err(), "no refusal shown to staff");
    patient.screenshot("desktop-hold-ended-by-staff").await?;
    staff.close().await?;
    patient.close().await?;
    watcher.close().await?;
    Ok(())
}
