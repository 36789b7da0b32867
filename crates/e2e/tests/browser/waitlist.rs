//! The live waitlist in the browser: two patients wait for a doctor whose slot
//! a third patient cancels. The first waiting page is offered the slot the
//! moment it turns free and books it, while the second gets nothing and every
//! other page sees the slot held, then booked. In a second round the offer runs
//! out and passes to the patient next in line. The same runs across two
//! instances on PostgreSQL.

use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use e2e::{App, Driver, PostgresDatabase, Session, patient, require_browser};
use fantoccini::Locator;
use server::clinic::ClinicConfig;

use crate::DESKTOP;

/// How long an offer lasts in these tests: the shortest a clinic may set, so
/// that the second round's offer runs out soon.
const OFFER_SECONDS: u32 = 10;

fn clinic() -> ClinicConfig {
    ClinicConfig { offer_seconds: OFFER_SECONDS, ..ClinicConfig::demo() }
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn a_freed_slot_is_offered_to_the_first_waiting_page_and_passes_on_when_its_offer_runs_out()
-> Result<()> {
    require_browser!();
    let app = App::start_clinic(clinic(), None).await?;
    let driver = Driver::start().await?;
    two_rounds(&driver, [&app, &app], "one server").await
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver, the built page and PostgreSQL (cargo xtask test runs it)"]
async fn the_waitlist_works_the_same_across_two_instances_on_postgresql() -> Result<()> {
    require_browser!();
    let database = PostgresDatabase::create().await?;
    let first = App::start_clinic(clinic(), Some(&database.url)).await?;
    let second = App::start_clinic(clinic(), Some(&database.url)).await?;
    let driver = Driver::start().await?;
    let result = two_rounds(&driver, [&first, &second], "two instances").await;
    drop(driver);
    for mut app in [first, second] {
        app.stop().await?;
    }
    database.drop().await?;
    result
}

/// Both rounds. Anna's page and the watching page are served by `apps[0]`;
/// Boris's page, and Carl who books and cancels, by `apps[1]`.
async fn two_rounds(driver: &Driver, apps: [&App; 2], label: &str) -> Result<()> {
    let [near, far] = apps;
    let anna = driver.session(DESKTOP.0, DESKTOP.1).await?;
    let boris = driver.session(DESKTOP.0, DESKTOP.1).await?;
    let watcher = driver.session(DESKTOP.0, DESKTOP.1).await?;
    anna.open(near).await?;
    let (day, slot) = anna.first_free_slot().await?;
    let doctor = slot.split('-').next().context("a slot id names its doctor")?.to_owned();

    // Carl books the slot; Anna, then Boris, join the doctor's waitlist for
    // every day from that one on.
    let carl = far.book_as_other(&slot, patient(1)).await?;
    anna.wait_slot_status(&slot, "booked").await?;
    join(&anna, &doctor, "Anna Petrova", "+7 912 345-67-01").await?;
    expect_entry(&anna, "waiting", Some(1)).await?;
    boris.open(far).await?;
    boris.choose_day(&day).await?;
    join(&boris, &doctor, "Boris Ivanov", "+7 912 345-67-02").await?;
    expect_entry(&boris, "waiting", Some(2)).await?;
    watcher.open(near).await?;
    watcher.choose_day(&day).await?;
    watcher.wait_slot_status(&slot, "booked").await?;

    // Round one: Carl cancels; Anna's page shows the offer at once, and only hers.
    let cancelled = Instant::now();
    far.cancel_as_other(&carl).await?;
    anna.wait_for("#wait-status[data-wait-status='offered']").await?;
    let shown = cancelled.elapsed();
    eprintln!(
        "{label}: the offer showed on the first waiting page {} ms after the cancel",
        shown.as_millis()
    );
    watcher.wait_slot_status(&slot, "held").await?;
    expect_entry(&boris, "waiting", Some(2)).await?;
    anna.screenshot(&format!("waitlist-offer-{}", label.replace(' ', "-"))).await?;
    anna.click("#accept-offer").await?;
    let code = anna.text("#booking-code").await?;
    ensure!(!code.is_empty(), "the taken offer shows its booking code");
    expect_entry(&anna, "booked", None).await?;
    watcher.wait_slot_status(&slot, "booked").await?;
    expect_entry(&boris, "waiting", Some(1)).await?;

    // Round two: Anna waits again, now behind Boris. Carl books another slot of
    // the doctor and cancels it: Boris is offered it and lets the offer run
    // out, and it passes to Anna; when she turns it down, nobody is left and
    // it is free for everyone.
    anna.open(near).await?;
    anna.choose_day(&day).await?;
    let second = free_slot_of(&anna, &doctor, &day).await?;
    let carl = far.book_as_other(&second, patient(2)).await?;
    anna.wait_slot_status(&second, "booked").await?;
    join(&anna, &doctor, "Anna Petrova", "+7 912 345-67-01").await?;
    expect_entry(&anna, "waiting", Some(2)).await?;
    watcher.open(near).await?;
    watcher.choose_day(&second_day(&watcher, &second).await?).await?;
    let cancelled = Instant::now();
    far.cancel_as_other(&carl).await?;
    boris.wait_for("#wait-status[data-wait-status='offered']").await?;
    eprintln!(
        "{label}: the second offer showed on its page {} ms after the cancel",
        cancelled.elapsed().as_millis()
    );
    watcher.wait_slot_status(&second, "held").await?;
    expect_entry(&anna, "waiting", Some(2)).await?;
    boris.screenshot(&format!("waitlist-countdown-{}", label.replace(' ', "-"))).await?;
    // The offer's time runs out on its own; nothing is clicked.
    boris
        .wait_solved("#wait-status[data-wait-status='waiting']")
        .await
        .context("the first patient's offer ran out")?;
    anna.wait_for("#wait-status[data-wait-status='offered']").await?;
    let passed = cancelled.elapsed();
    ensure!(
        passed.as_secs() >= u64::from(OFFER_SECONDS) - 1,
        "the offer passed on after {passed:?}, before it ran out"
    );
    eprintln!(
        "{label}: the offer ran out and passed to the next page {} ms after the cancel",
        passed.as_millis()
    );
    watcher.wait_slot_status(&second, "held").await?;
    anna.click("#decline-offer").await?;
    expect_entry(&anna, "waiting", Some(2)).await?;
    watcher.wait_slot_status(&second, "free").await?;
    expect_entry(&boris, "waiting", Some(1)).await?;
    for session in [anna, boris, watcher] {
        session.close().await?;
    }
    Ok(())
}

/// Joins `doctor`'s waitlist from the schedule in view, for the days the
/// dialog offers (the day in view and every later one), and waits for the
/// entry's own page.
async fn join(session: &Session, doctor: &str, name: &str, phone: &str) -> Result<()> {
    session.click(&format!("button[data-waitlist-join='{doctor}']")).await?;
    session.wait_for("#join-name").await?.send_keys(name).await?;
    session.browser.find(Locator::Css("#join-phone")).await?.send_keys(phone).await?;
    session.click("#confirm-join").await?;
    session.wait_solved("#wait-status").await?;
    Ok(())
}

/// Waits until the waitlist page shows the entry in `status` at `place`.
async fn expect_entry(session: &Session, status: &str, place: Option<u32>) -> Result<()> {
    session.wait_for(&format!("#wait-status[data-wait-status='{status}']")).await?;
    match place {
        Some(n) => {
            session.wait_for(&format!("#wait-place[data-place='{n}']")).await?;
        }
        None => {
            ensure!(
                session.browser.find(Locator::Css("#wait-place")).await.is_err(),
                "an entry that is over has no place"
            );
        }
    }
    Ok(())
}

/// A free slot of `doctor` on `from_day` or later, choosing its day.
async fn free_slot_of(session: &Session, doctor: &str, from_day: &str) -> Result<String> {
    for tab in session.browser.find_all(Locator::Css(".tab")).await? {
        // The waitlist covers the days from the first slot's on: an earlier
        // one would be offered to nobody. Day keys are ISO dates.
        if tab.attr("data-day").await?.context("tab without day")?.as_str() < from_day {
            continue;
        }
        tab.click().await?;
        let css = format!("button.slot[data-status='free'][data-slot-id^='{doctor}-']");
        if let Ok(slot) = session.browser.find(Locator::Css(&css)).await {
            return slot.attr("data-slot-id").await?.context("slot without id");
        }
    }
    bail!("{doctor} has no free slot left")
}

/// The day of the tab that shows `slot`.
async fn second_day(session: &Session, slot: &str) -> Result<String> {
    for tab in session.browser.find_all(Locator::Css(".tab")).await? {
        tab.click().await?;
        let day = tab.attr("data-day").await?.context("tab without day")?;
        if session.browser.find(Locator::Css(&e2e::slot_css(slot))).await.is_ok() {
            return Ok(day);
        }
    }
    bail!("no day shows {slot}")
}
