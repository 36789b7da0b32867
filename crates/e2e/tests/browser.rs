//! The page in a real headless Chromium against the real server: live updates
//! between two sessions, the race for one slot, reconnecting after a restart,
//! the staff reset, and screenshots at desktop and phone widths.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use e2e::{ADMIN_TOKEN, App, Driver, require_browser, slot_css, two_sessions_on_one_slot};
use fantoccini::Locator;
use protocol::{Patient, SlotId};

const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (375, 812);

#[tokio::test]
async fn a_booking_in_one_browser_appears_in_the_other_within_a_second() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let (first, second, slot) = two_sessions_on_one_slot(&driver, &app).await?;
    second.screenshot("desktop-schedule").await?;
    ensure!(second.slot_status(&slot).await? == "free");

    first.fill_booking(&slot, "Anna Petrova", "+7 912 345-67-89").await?;
    first.screenshot("desktop-booking-form").await?;
    first.confirm().await?;
    let code = first.wait_for("#booking-code", Duration::from_secs(5)).await?.text().await?;
    let seen_after = second.wait_slot_status(&slot, "booked", Duration::from_secs(1)).await?;

    ensure!(code.len() == 9 && code.as_bytes()[4] == b'-', "booking code looks like XXXX-XXXX: {code}");
    first.screenshot("desktop-booked").await?;
    second.screenshot("desktop-other-session-sees-booking").await?;
    eprintln!("the second session showed the booking {seen_after:?} after the first saw its code");
    first.browser.find(Locator::Css("#close-dialog")).await?.click().await?;
    ensure!(first.slot_status(&slot).await? == "mine", "the booker's slot is marked as theirs");
    first.close().await?;
    second.close().await?;
    Ok(())
}

#[tokio::test]
async fn two_browsers_confirming_the_same_slot_at_once_get_exactly_one_booking() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let (first, second, slot) = two_sessions_on_one_slot(&driver, &app).await?;
    first.fill_booking(&slot, "Anna Petrova", "+7 912 345-67-89").await?;
    second.fill_booking(&slot, "Boris Orlov", "+7 915 000-11-22").await?;

    // A click may find the dialog already turned to "taken" when the other
    // booking's update arrived first; either way that session must say so.
    let _ = tokio::join!(first.confirm(), second.confirm());

    let mut booked = 0;
    let mut told_taken = 0;
    for (name, session) in [("first", &first), ("second", &second)] {
        let outcome = session
            .wait_for("#booking-code, #booking-taken", Duration::from_secs(5))
            .await
            .with_context(|| format!("the {name} session shows no outcome"))?;
        match outcome.attr("id").await?.as_deref() {
            Some("booking-code") => booked += 1,
            Some("booking-taken") => {
                told_taken += 1;
                session.screenshot("desktop-lost-race").await?;
            }
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    ensure!((booked, told_taken) == (1, 1), "booked {booked}, told taken {told_taken}");
    first.close().await?;
    second.close().await?;
    Ok(())
}

#[tokio::test]
async fn the_page_reconnects_by_itself_after_a_server_restart_and_shows_the_new_state() -> Result<()> {
    require_browser!();
    let mut app = App::start().await?;
    let driver = Driver::start().await?;
    let page = driver.session(DESKTOP.0, DESKTOP.1).await?;
    page.open(&app).await?;
    let (_, slot) = page.first_free_slot().await?;

    app.stop().await?;
    page.wait_for("#connection[data-state='reconnecting']", Duration::from_secs(5)).await?;
    page.wait_for("#stale-banner", Duration::from_secs(1)).await?;
    let while_down = page.browser.find(Locator::Css(&slot_css(&slot))).await?;
    ensure!(!while_down.is_enabled().await?, "booking is paused while the page is not live");
    page.screenshot("desktop-reconnecting").await?;

    app.restart().await?;
    let mut client = app.client().await?;
    let _initial = client.recv().await?;
    let patient = Patient { name: "Clara Smirnova".into(), phone: "+7 916 111-22-33".into() };
    client.book(SlotId(slot.clone()), patient).await?;

    page.wait_live().await?;
    page.wait_slot_status(&slot, "booked", Duration::from_secs(5)).await?;
    ensure!(page.browser.find(Locator::Css("#stale-banner")).await.is_err(), "no stale banner once live");
    page.close().await?;
    Ok(())
}

#[tokio::test]
async fn staff_reset_reports_a_wrong_token_and_clears_bookings_with_the_right_one() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let page = driver.session(PHONE.0, PHONE.1).await?;
    page.open(&app).await?;
    page.screenshot("phone-schedule").await?;
    let (_, slot) = page.first_free_slot().await?;
    page.fill_booking(&slot, "Anna Petrova", "+7 912 345-67-89").await?;
    page.screenshot("phone-booking-form").await?;
    page.confirm().await?;
    page.wait_for("#booking-code", Duration::from_secs(5)).await?;
    page.screenshot("phone-booked").await?;
    page.browser.find(Locator::Css("#close-dialog")).await?.click().await?;

    page.browser.find(Locator::Css("#open-reset")).await?.click().await?;
    page.wait_for("#admin-token", Duration::from_secs(2)).await?.send_keys("not-the-token").await?;
    page.browser.find(Locator::Css("#confirm-reset")).await?.click().await?;
    let problem = page.wait_for("#reset-problem", Duration::from_secs(5)).await?.text().await?;
    ensure!(problem.contains("not valid"), "the wrong token is reported: {problem}");
    page.screenshot("phone-reset-wrong-token").await?;
    let confirm = page.browser.find(Locator::Css("#confirm-reset")).await?;
    ensure!(confirm.is_enabled().await?, "the reset can be tried again");
    ensure!(page.slot_status(&slot).await? == "mine", "nothing was reset");

    let token = page.browser.find(Locator::Css("#admin-token")).await?;
    token.clear().await?;
    token.send_keys(ADMIN_TOKEN).await?;
    page.browser.find(Locator::Css("#confirm-reset")).await?.click().await?;
    let notice = page.wait_for("#notice", Duration::from_secs(5)).await?.text().await?;
    ensure!(notice.contains("reset"), "{notice}");
    page.wait_slot_status(&slot, "free", Duration::from_secs(2)).await?;
    page.close().await?;
    Ok(())
}
