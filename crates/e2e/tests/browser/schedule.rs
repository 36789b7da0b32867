//! The schedule between browsers: live updates, the race for one slot, and
//! reconnecting after a server restart.

use anyhow::{Context, Result, ensure};
use e2e::{App, Driver, eventually, require_browser, slot_css, two_sessions_on_one_slot};
use fantoccini::Locator;
use protocol::{Patient, SlotId};

use crate::DESKTOP;

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn a_booking_in_one_browser_appears_in_the_other_as_it_happens() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let (first, second, slot) = two_sessions_on_one_slot(&driver, &app).await?;
    second.screenshot("desktop-schedule").await?;
    ensure!(second.slot_status(&slot).await? == "free");

    first.fill_booking(&slot, "Anna Petrova", "+7 912 345-67-89").await?;
    let held_after = second.wait_slot_status(&slot, "held").await?;
    first.screenshot("desktop-booking-form").await?;
    second.screenshot("desktop-other-session-sees-being-booked").await?;
    // Unavailable slots stay focusable, so that their state can be read, and
    // say they are unavailable; choosing one opens nothing.
    let held_button = second.browser.find(Locator::Css(&slot_css(&slot))).await?;
    held_button.click().await?;
    ensure!(
        held_button.attr("aria-disabled").await?.as_deref() == Some("true")
            && second.browser.find(Locator::Css("#booking-dialog")).await.is_err(),
        "a slot being booked cannot be chosen by anyone else"
    );
    first.confirm().await?;
    let code = first.wait_booked().await?;
    let seen_after = second.wait_slot_status(&slot, "booked").await?;

    ensure!(code.len() == 9 && code.as_bytes()[4] == b'-', "booking code looks like XXXX-XXXX: {code}");
    let link =
        first.browser.find(Locator::Css("#manage-link")).await?.attr("href").await?.context("a link")?;
    ensure!(link.contains("/manage#") && link.len() > 64, "a private manage link: {link}");
    first.screenshot("desktop-booked").await?;
    second.screenshot("desktop-other-session-sees-booking").await?;
    eprintln!(
        "the second session showed the hold after {held_after:?} and the booking {seen_after:?} after the code"
    );
    first.click("#close-dialog").await?;
    ensure!(first.slot_status(&slot).await? == "mine", "the booker's slot is marked as theirs");
    first.close().await?;
    second.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn two_browsers_choosing_the_same_slot_at_once_get_exactly_one_booking() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let (first, second, slot) = two_sessions_on_one_slot(&driver, &app).await?;
    let (a, b) = (
        first.browser.find(Locator::Css(&slot_css(&slot))).await?,
        second.browser.find(Locator::Css(&slot_css(&slot))).await?,
    );

    // The slot is held for whoever's click reaches the server first. The other
    // session's dialog says the slot is taken, or, when its click came after
    // the hold had disabled the slot there, no dialog opened at all.
    let _ = tokio::join!(a.click(), b.click());
    let held = "#hold-note[data-hold='held']";
    let found = |session: &e2e::Session, css: &'static str| {
        let browser = session.browser.clone();
        async move { browser.find(Locator::Css(css)).await.is_ok() }
    };
    eventually("one session holds the slot", || async {
        Ok(found(&first, held).await || found(&second, held).await)
    })
    .await?;

    let mut holding = Vec::new();
    let mut told = 0;
    for (name, session) in [("first", &first), ("second", &second)] {
        if !found(session, "#booking-dialog").await {
            session.wait_slot_status(&slot, "held").await.with_context(|| format!("the {name} session"))?;
            continue;
        }
        let shown = session.wait_for(&format!("{held}, #booking-taken")).await?;
        if shown.attr("id").await?.as_deref() == Some("booking-taken") {
            told += 1;
            session.screenshot("desktop-lost-race").await?;
        } else {
            holding.push(session);
        }
    }
    ensure!(holding.len() == 1, "exactly one session holds the slot, not {}", holding.len());
    let winner = holding[0];
    winner.fill_details("Anna Petrova", "+7 912 345-67-89").await?;
    winner.confirm().await?;
    winner.wait_booked().await?;
    for session in [&first, &second] {
        if !std::ptr::eq(session, winner) {
            session.wait_slot_status(&slot, "booked").await?;
        }
    }
    eprintln!("told taken in the dialog: {told}");
    first.close().await?;
    second.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn the_page_reconnects_by_itself_after_a_server_restart_and_resumes_from_its_version() -> Result<()> {
    require_browser!();
    let mut app = App::start().await?;
    let driver = Driver::start().await?;
    let page = driver.session(DESKTOP.0, DESKTOP.1).await?;
    page.open(&app).await?;
    let (_, slot) = page.first_free_slot().await?;

    app.stop().await?;
    page.wait_for("#connection[data-state='reconnecting']").await?;
    page.wait_for("#stale-banner").await?;
    let while_down = page.browser.find(Locator::Css(&slot_css(&slot))).await?;
    ensure!(
        while_down.attr("aria-disabled").await?.as_deref() == Some("true"),
        "booking is paused while the page is not live"
    );
    page.screenshot("desktop-reconnecting").await?;

    app.restart().await?;
    let mut client = app.client().await?;
    let _initial = client.recv().await?;
    let patient = Patient { name: "Clara Smirnova".into(), phone: "+7 916 111-22-33".into() };
    client.book(SlotId(slot.clone()), patient).await?;

    page.wait_live().await?;
    page.wait_slot_status(&slot, "booked").await?;
    ensure!(page.browser.find(Locator::Css("#stale-banner")).await.is_err(), "no stale banner once live");
    let synced = page.browser.find(Locator::Css("#connection")).await?.attr("data-synced").await?;
    ensure!(synced.as_deref() == Some("resumed"), "the page resumed from its version: {synced:?}");
    page.close().await?;
    Ok(())
}
