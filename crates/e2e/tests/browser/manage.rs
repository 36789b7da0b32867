//! The manage link: showing, moving and cancelling an appointment.

use anyhow::{Context, Result, ensure};
use e2e::{App, Driver, eventually, require_browser, slot_css, two_sessions_on_one_slot};

use crate::PHONE;

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn the_manage_link_shows_moves_and_cancels_the_appointment() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let (patient, watcher, slot) = two_sessions_on_one_slot(&driver, &app).await?;
    patient.fill_booking(&slot, "Anna Petrova", "+7 912 345-67-89").await?;
    patient.confirm().await?;
    patient.wait_booked().await?;
    let link = patient.wait_for("#manage-link").await?.attr("href").await?.context("href")?;

    // Following the link from the dialog, and the footer's link back, change
    // pages without loading the page again: the connection stays up.
    patient.browser.execute("window.notReloaded = true;", vec![]).await?;
    patient.click("#manage-link").await?;
    ensure!(patient.text("#manage-status").await?.contains("Confirmed"), "the link shows the appointment");
    patient.click(".footer a").await?;
    patient.wait_slot_status(&slot, "mine").await?;
    let stayed = patient.browser.execute("return window.notReloaded === true;", vec![]).await?;
    ensure!(stayed == serde_json::Value::Bool(true), "the page was loaded again");

    // The link opened in another browser (say, on the patient's phone).
    let phone = driver.session(PHONE.0, PHONE.1).await?;
    phone.browser.goto(&link).await?;
    phone.wait_live().await?;
    phone.watch_csp().await?;
    let when = phone.text("#manage-when").await?;
    ensure!(phone.text("#manage-status").await?.contains("Confirmed"), "the appointment stands");
    phone.screenshot("phone-manage-link").await?;

    phone.click("#start-reschedule").await?;
    let (_, target) = phone.first_free_slot().await?;
    phone.click(&slot_css(&target)).await?;
    phone.click("#confirm-move").await?;
    ensure!(phone.text("#manage-said").await?.contains("moved"), "the move is reported");
    ensure!(phone.text("#manage-when").await? != when, "the appointment shows its new time");
    watcher.wait_slot_status(&slot, "free").await?;
    phone.screenshot("phone-manage-moved").await?;
    // The calendar file is made in the page and handed over as a blob link.
    phone.click("#download-ics").await?;

    phone.click("#start-cancel").await?;
    phone.click("#confirm-cancel").await?;
    phone.wait_for("#manage-status").await?;
    let took = eventually("the cancellation is shown", || async {
        Ok(phone.text("#manage-status").await?.contains("Cancelled"))
    })
    .await?;
    eprintln!("the cancellation was shown after {took:?}");
    phone.screenshot("phone-manage-cancelled").await?;
    let violations = phone.csp_violations().await?;
    ensure!(violations.is_empty(), "the manage page broke its content security policy: {violations:?}");
    watcher.wait_slot_status(&slot, "free").await?;
    let mut wrong = link.clone();
    wrong.push('0');
    phone.browser.goto(&wrong).await?;
    phone.wait_for("#manage-not-found").await?;
    patient.close().await?;
    watcher.close().await?;
    phone.close().await?;
    Ok(())
}
