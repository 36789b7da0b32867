//! The checks a patient meets: booking with the default robot check,
//! confirming before the check is done, holding a slot again right after
//! letting it go, and details the shared rule refuses before anything is sent.

use anyhow::{Result, ensure};
use e2e::{App, Driver, eventually, require_browser, slot_css};
use fantoccini::Locator;
use server::Limits;

use crate::{DESKTOP, PHONE};

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn a_patient_books_twice_with_the_default_robot_check_under_the_content_security_policy() -> Result<()>
{
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let page = driver.session(DESKTOP.0, DESKTOP.1).await?;
    page.open(&app).await?;
    page.watch_csp().await?;
    let policy = page.served_csp().await?;
    ensure!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"), "the policy: {policy}");
    ensure!(!policy.contains("unsafe-inline"), "the policy: {policy}");

    let (_, first) = page.first_free_slot().await?;
    page.fill_booking(&first, "Boris Ivanov", "+7 921 555-01-02").await?;
    page.confirm().await?;
    page.wait_booked().await?;
    let first_ms = page.pow_ms().await?;
    page.click("#close-dialog").await?;
    page.wait_slot_status(&first, "mine").await?;

    // The first solution is spent: the second booking needs a check of its own.
    // The dialog remembers the patient's details, so the patient only confirms.
    let (_, second) = page.first_free_slot().await?;
    page.click(&slot_css(&second)).await?;
    page.wait_for("#patient-name").await?;
    page.confirm().await?;
    page.wait_booked().await?;
    let second_ms = page.pow_ms().await?;
    page.click("#close-dialog").await?;
    page.wait_slot_status(&second, "mine").await?;

    eprintln!(
        "the page's robot check at the default cost ({} thousand hashes at most) took {first_ms} ms and {second_ms} ms",
        Limits::DEFAULT.challenge_work
    );
    ensure!(first_ms > 0 && second_ms > 0, "the solving times are recorded");
    let violations = page.csp_violations().await?;
    ensure!(violations.is_empty(), "the page broke its content security policy: {violations:?}");
    // The watch itself works: a style attribute, which the policy forbids, is
    // refused and recorded.
    page.browser.execute("document.body.setAttribute('style', 'outline: 1px solid red');", vec![]).await?;
    let took = eventually("a forbidden style attribute is reported", || async {
        Ok(!page.csp_violations().await?.is_empty())
    })
    .await?;
    eprintln!("the forbidden style attribute was reported after {took:?}");
    page.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn a_patient_who_confirms_before_the_robot_check_is_done_is_booked_once_it_is() -> Result<()> {
    require_browser!();
    // At the default work the check takes a few seconds of the browser's time,
    // far longer than the test takes to fill in the form, so it is still
    // running when the patient confirms and the waiting can be seen.
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let page = driver.session(DESKTOP.0, DESKTOP.1).await?;
    page.open(&app).await?;
    let (_, slot) = page.first_free_slot().await?;
    page.fill_booking(&slot, "Vera Orlova", "+7 903 777-12-34").await?;
    let phase = page.browser.find(Locator::Css("#booking-dialog")).await?.attr("data-pow").await?;
    ensure!(matches!(phase.as_deref(), Some("asking" | "solving")), "the check is under way: {phase:?}");

    page.confirm().await?;
    // The waiting is shown, or the check was over before the confirmation
    // and the booking is under way. Status and button are read in one
    // script, so from the same moment: a fast machine may finish the check
    // between two separate reads.
    let seen = std::cell::RefCell::new(None);
    eventually("the robot check is shown or over", || async {
        let now = page
            .browser
            .execute(
                "const status = document.querySelector('#robot-check'); \
                 if (status) return [status.textContent, document.querySelector('#confirm-booking').textContent]; \
                 const phase = document.querySelector('#booking-dialog').dataset.pow; \
                 return phase === 'asking' || phase === 'solving' ? null : [];",
                vec![],
            )
            .await?;
        let now = serde_json::from_value::<Option<Vec<String>>>(now)?;
        let over = now.is_some();
        *seen.borrow_mut() = now;
        Ok(over)
    })
    .await?;
    if let Some([waiting, button]) = seen.into_inner().as_deref() {
        ensure!(waiting.contains("Checking you are not a robot"), "{waiting}");
        ensure!(button.contains("Checking"), "the button says so too: {button}");
    }
    page.screenshot("desktop-booking-robot-check").await?;

    page.wait_booked().await?;
    let ms = page.pow_ms().await?;
    eprintln!("the page's robot check at the default cost took {ms} ms");
    page.screenshot("desktop-booked-after-robot-check").await?;
    page.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn holding_a_slot_again_right_after_letting_it_go_explains_the_cooldown_and_still_books() -> Result<()>
{
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let page = driver.session(DESKTOP.0, DESKTOP.1).await?;
    page.open(&app).await?;
    let (_, slot) = page.first_free_slot().await?;
    page.click(&slot_css(&slot)).await?;
    page.wait_for("#hold-note[data-hold='held']").await?;
    page.click("#cancel-booking").await?;
    page.wait_slot_status(&slot, "free").await?;

    page.click(&slot_css(&slot)).await?;
    let note = page.wait_for("#hold-note[data-hold='not-held']").await?.text().await?;
    ensure!(note.contains("others get a turn"), "the cooldown is explained: {note}");
    ensure!(note.contains("not reserved for you"), "the risk is said: {note}");
    page.fill_details("Gleb Sokolov", "+7 905 222-33-44").await?;
    page.screenshot("desktop-hold-cooldown").await?;
    page.confirm().await?;
    page.wait_booked().await?;
    page.click("#close-dialog").await?;
    page.wait_slot_status(&slot, "mine").await?;
    page.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn a_mistyped_phone_is_said_on_its_field_and_nothing_is_sent_until_it_is_mended() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    let page = driver.session(PHONE.0, PHONE.1).await?;
    page.open(&app).await?;
    let (_, slot) = page.first_free_slot().await?;
    page.fill_booking(&slot, "Dina Kuznetsova", "12-34").await?;
    page.confirm().await?;

    let said = page.text("#phone-problem").await?;
    ensure!(said.contains("phone number") && said.contains("5 to 15 digits"), "{said}");
    page.wait_for("#patient-phone[aria-invalid='true']").await?;
    ensure!(page.browser.find(Locator::Css("#name-problem")).await.is_err(), "the name is fine");
    let button = page.text("#confirm-booking").await?;
    ensure!(button == "Confirm booking", "nothing was sent: {button}");
    page.screenshot("phone-booking-wrong-phone").await?;

    // Typing in the field takes the problem away; the mended details book.
    page.browser.find(Locator::Css("#patient-phone")).await?.send_keys("56").await?;
    eventually("the problem is gone", || async {
        Ok(page.browser.find(Locator::Css("#phone-problem")).await.is_err())
    })
    .await?;
    page.confirm().await?;
    page.wait_booked().await?;
    page.close().await?;
    Ok(())
}
