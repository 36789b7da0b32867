//! The staff console's day agenda: it shows a patient's booking made in
//! another browser at once and drops one cancelled through the protocol, filters
//! by doctor, resumes the session after a reload, shows a booking's history and
//! the day's activity; a receptionist sees no admin tools, an admin manages
//! accounts and erases a patient's details, and the console of an account
//! removed meanwhile is told its session ended at its next request.

use anyhow::{Context, Result, ensure};
use e2e::{ADMIN, ADMIN_PASSWORD, App, Driver, RECEPTIONISTS, Session, eventually, patient, require_browser};
use fantoccini::Locator;

use crate::{DESKTOP, PHONE};

/// The booking codes of the agenda's rows, in order.
async fn agenda_codes(page: &Session) -> Result<Vec<String>> {
    let mut codes = Vec::new();
    for row in page.browser.find_all(Locator::Css("#agenda tbody tr")).await? {
        codes.push(row.attr("data-code").await?.context("an agenda row without a code")?);
    }
    Ok(codes)
}

/// Waits until the agenda's codes are `wanted`.
async fn wait_codes(page: &Session, wanted: &[&str]) -> Result<()> {
    let took = eventually(&format!("the agenda shows {wanted:?}"), || async {
        Ok(agenda_codes(page).await.ok().is_some_and(|codes| codes == wanted))
    })
    .await?;
    eprintln!("the agenda showed {wanted:?} after {took:?}");
    Ok(())
}

/// Picks `value` in the `<select>` `select`.
async fn pick(page: &Session, select: &str, value: &str) -> Result<()> {
    page.click(&format!("{select} option[value='{value}']")).await
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn the_day_agenda_follows_bookings_made_and_cancelled_elsewhere_live() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let (rita, rita_password) = RECEPTIONISTS[0];
    let desk = driver.session(DESKTOP.0, DESKTOP.1).await?;
    let patient_page = driver.session(PHONE.0, PHONE.1).await?;
    patient_page.open(&app).await?;
    let (day, slot) = patient_page.first_free_slot().await?;

    desk.staff_login(&app, rita, rita_password).await?;
    desk.wait_for("#agenda").await?;
    let who = desk.text("#staff-who").await?;
    ensure!(who.contains("rita") && who.contains("Receptionist"), "who is logged in: {who}");
    for admin_only in ["#open-reset", "#view-staff"] {
        ensure!(
            desk.browser.find(Locator::Css(admin_only)).await.is_err(),
            "{admin_only} is for admins only"
        );
    }
    pick(&desk, "#agenda-day", &day).await?;
    wait_codes(&desk, &[]).await?;

    // A patient books in another browser: the row appears at once.
    patient_page.fill_booking(&slot, "Anna Petrova", "+7 912 345-67-89").await?;
    patient_page.confirm().await?;
    let code = patient_page.wait_booked().await?;
    wait_codes(&desk, &[&code]).await?;
    let row = desk.text(&format!("#agenda tr[data-code='{code}']")).await?;
    ensure!(row.contains("Anna Petrova") && row.contains("+7 912 345-67-89"), "the row: {row}");
    let state = desk.browser.find(Locator::Css(&format!("#agenda tr[data-code='{code}']"))).await?;
    ensure!(state.attr("data-state").await?.as_deref() == Some("upcoming"), "an appointment to come");
    ensure!(
        desk.browser.find_all(Locator::Css("#agenda .no-show")).await?.is_empty(),
        "no no-show mark before the appointment starts"
    );

    // Another patient books through the protocol and cancels again.
    let other_slot = patient_page
        .slot_ids(Some("free"))
        .await?
        .into_iter()
        .next()
        .context("a second free slot that day")?;
    let token = app.book_as_other(&other_slot, patient(7)).await?;
    eventually("the second booking shows", || async { Ok(agenda_codes(&desk).await?.len() == 2) }).await?;
    let both = desk.text("#agenda tbody").await?;
    ensure!(both.contains("Patient Number 7"), "the other patient: {both}");
    desk.screenshot("desktop-staff-agenda").await?;

    // Each doctor's agenda has only that doctor's rows; all doctors, both.
    let mut seen = 0;
    for option in desk.browser.find_all(Locator::Css("#agenda-doctor option")).await? {
        let value = option.attr("value").await?.unwrap_or_default();
        if value.is_empty() {
            continue;
        }
        pick(&desk, "#agenda-doctor", &value).await?;
        let rows = desk.browser.find_all(Locator::Css("#agenda tbody tr")).await?.len();
        let caption = desk.text("#agenda caption").await?;
        ensure!(!caption.contains("All doctors"), "the caption names the doctor: {caption}");
        seen += rows;
    }
    ensure!(seen == 2, "the doctors' agendas together show both bookings, not {seen}");
    pick(&desk, "#agenda-doctor", "").await?;
    app.cancel_as_other(&token).await?;
    wait_codes(&desk, &[&code]).await?;

    // A reload logs in again with the session the tab keeps.
    desk.browser.refresh().await?;
    desk.wait_for("#agenda").await?;
    pick(&desk, "#agenda-day", &day).await?;
    wait_codes(&desk, &[&code]).await?;

    // The booking's history, newest first.
    desk.click(&format!("#agenda tr[data-code='{code}'] button.history")).await?;
    desk.wait_for("#history-dialog tbody tr[data-action='booked']").await?;
    let history = desk.text("#history-dialog").await?;
    ensure!(history.contains(&code) && history.contains("Patient"), "the history: {history}");
    desk.screenshot("desktop-staff-history").await?;
    desk.click("#history-close").await?;
    ensure!(desk.browser.find(Locator::Css("#history-dialog")).await.is_err(), "the dialog closed");

    // The day's activity, filtered by kind.
    desk.click("#view-activity").await?;
    desk.wait_for("#activity[data-loaded='true'] tbody tr[data-action='cancelled']").await?;
    pick(&desk, "#activity-action", "booked").await?;
    eventually("only bookings show", || async {
        let rows = desk.browser.find_all(Locator::Css("#activity tbody tr")).await?;
        let mut all_booked = !rows.is_empty();
        for row in rows {
            // A row re-drawn meanwhile is stale: read again on the next try.
            all_booked &= row.attr("data-action").await.ok().flatten().as_deref() == Some("booked");
        }
        Ok(all_booked)
    })
    .await?;
    desk.screenshot("desktop-staff-activity").await?;

    desk.click("#staff-logout").await?;
    desk.wait_for("#staff-logged-out").await?;
    desk.browser.refresh().await?;
    desk.wait_for("#staff-name").await?;
    ensure!(desk.browser.find(Locator::Css("#agenda")).await.is_err(), "logged out for good");
    desk.close().await?;
    patient_page.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn an_admin_manages_accounts_and_erases_details_and_a_removed_account_is_logged_out() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let (remy, remy_password) = RECEPTIONISTS[1];
    let admin = driver.session(DESKTOP.0, DESKTOP.1).await?;
    let other = driver.session(DESKTOP.0, DESKTOP.1).await?;
    admin.open(&app).await?;
    let (day, slot) = admin.first_free_slot().await?;
    app.book_as_other(&slot, patient(3)).await?;

    other.staff_login(&app, remy, remy_password).await?;
    other.wait_for("#agenda").await?;
    admin.staff_login(&app, ADMIN, ADMIN_PASSWORD).await?;
    admin.click("#view-staff").await?;
    admin.wait_for("#staff-accounts tr[data-name='remy']").await?;

    // A short password is refused on the page, a good one makes the account.
    admin.wait_for("#new-staff-name").await?.send_keys("nina").await?;
    admin.wait_for("#new-staff-password").await?.send_keys("too short").await?;
    admin.click("#add-staff").await?;
    let problem = admin.text("#new-password-problem").await?;
    ensure!(problem.contains("12"), "the password's rule is said: {problem}");
    admin.wait_for("#new-staff-password").await?.send_keys(" but longer now").await?;
    admin.click("#add-staff").await?;
    admin.wait_for("#staff-accounts tr[data-name='nina']").await?;

    // The last admin stays, and the server's reason is said.
    admin.click("button.remove-account[data-name='admin']").await?;
    admin.click("#confirm-yes").await?;
    let said = admin.wait_for("#admin-said .problem").await?.text().await?;
    ensure!(said.contains("last admin"), "the last admin is kept: {said}");
    admin.screenshot("desktop-staff-accounts").await?;

    // Removing remy ends remy's open console.
    admin.click("button.remove-account[data-name='remy']").await?;
    admin.wait_for("#confirm-dialog").await?;
    admin.click("#confirm-yes").await?;
    eventually("remy is gone", || async {
        Ok(admin.browser.find(Locator::Css("#staff-accounts tr[data-name='remy']")).await.is_err())
    })
    .await?;
    // Its console is told at once, without asking anything.
    let ended = other.wait_for("#staff-problem").await?.text().await?;
    ensure!(ended.contains("session has ended"), "the removed account is told: {ended}");

    // Erasing a patient's details keeps the booking.
    admin.click("#view-agenda").await?;
    pick(&admin, "#agenda-day", &day).await?;
    // The row may be re-drawn between finding it and reading it (the booking
    // made above can still be arriving): its code is read in one script.
    let code = std::cell::RefCell::new(None);
    eventually("a row's code is read", || async {
        let read = "return document.querySelector('#agenda tbody tr[data-code]')?.dataset.code ?? null;";
        let found = admin.browser.execute(read, vec![]).await?;
        *code.borrow_mut() = found.as_str().map(str::to_owned);
        Ok(code.borrow().is_some())
    })
    .await?;
    let code = code.into_inner().context("a code")?;
    admin.click("#view-staff").await?;
    admin.wait_for("#erase-code").await?.send_keys(&code).await?;
    admin.click("#erase-open").await?;
    admin.click("#confirm-yes").await?;
    let done = admin.wait_for("#erase-said .done").await?.text().await?;
    ensure!(done.contains("erased"), "the erasure is said: {done}");
    admin.click("#view-agenda").await?;
    pick(&admin, "#agenda-day", &day).await?;
    // The erasure's change may still be on its way and re-draw the row while
    // it is read: it is read again until it shows the name gone.
    let row = format!("#agenda tr[data-code='{code}']");
    eventually("the name is gone from the agenda", || async {
        Ok(admin.text(&row).await.is_ok_and(|text| !text.contains("Patient Number 3")))
    })
    .await?;
    admin.close().await?;
    other.close().await?;
    Ok(())
}
