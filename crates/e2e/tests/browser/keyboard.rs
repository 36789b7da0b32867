//! The page by keyboard alone and by screen reader, in each of its languages: a
//! patient books a slot with key presses only (Tab and the arrow keys through
//! days and slots, Enter to open, the form, Escape to close), and the focus is
//! checked at every step; and every slot button's accessible name says its day,
//! time, doctor and state in the page's language (see `slot_names`).

use anyhow::{Context, Result, bail, ensure};
use e2e::{App, Driver, Focus, Session, eventually, patient, require_browser};
use fantoccini::Locator;
use fantoccini::key::Key;
use protocol::{DoctorId, Patient, Schedule, ServerMessage};

use crate::DESKTOP;
use crate::slot_names::{LANGUAGES, Language, check_names, expected_names, name_problems};

/// The schedule as the server has it when the test starts.
async fn schedule(app: &App) -> Result<Schedule> {
    let mut client = app.client().await?;
    match client.recv().await? {
        ServerMessage::InitialState(schedule) => Ok(schedule),
        other => bail!("the server began with {other:?}"),
    }
}

/// The day the page shows.
async fn chosen_day(page: &Session) -> Result<Option<String>> {
    let day = page
        .browser
        .execute(
            "const day = document.querySelector('[data-day][aria-selected=true], [data-day][aria-pressed=true]');
             return day && day.getAttribute('data-day');",
            vec![],
        )
        .await?;
    Ok(day.as_str().map(str::to_owned))
}

/// How many of the elements matching `css` are in the Tab order.
async fn in_tab_order(page: &Session, css: &str) -> Result<u64> {
    let count = page
        .browser
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0]))
                 .filter(e => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length > 0).length;",
            vec![serde_json::json!(css)],
        )
        .await?;
    count.as_u64().context("a count")
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn every_slot_buttons_accessible_name_says_its_day_time_doctor_and_state() -> Result<()> {
    require_browser!();
    let driver = Driver::start().await?;
    for (n, tag) in LANGUAGES.into_iter().enumerate() {
        let language = Language::load(tag)?;
        names_in(&driver, &language, patient(1 + n)).await.with_context(|| format!("the page in {tag}"))?;
    }
    Ok(())
}

/// Checks every slot button's accessible name with the page in `language`, on
/// a server of its own (so that the limits on holds and bookings per address
/// start afresh), with slots booked by `other`, held and blocked among them.
async fn names_in(driver: &Driver, language: &Language, other: Patient) -> Result<()> {
    let app = App::start().await?;
    let schedule = schedule(&app).await?;
    let page = driver.session(DESKTOP.0, DESKTOP.1).await?;
    page.open(&app).await?;
    if page.language().await? != language.tag {
        page.choose_language(language.tag).await?;
    }
    let expected = expected_names(&page, &schedule, language).await?;
    let (_, slot) = page.day_with_free_slots(4).await?;
    let others: Vec<String> = page.slot_ids(Some("free")).await?.into_iter().filter(|s| *s != slot).collect();
    ensure!(others.len() >= 3, "the day shown has too few free slots: {}", others.len());
    app.book_as_other(&others[0], other).await?;
    let _holding = app.hold_as_other(&others[1]).await?;
    app.block(&others[2]).await?;
    page.wait_slot_status(&others[2], "blocked").await?;
    page.wait_slot_status(&others[1], "held").await?;
    page.wait_slot_status(&others[0], "booked").await?;

    let mut wrong = Vec::new();
    let mut seen = 0;
    let days = page.browser.find_all(Locator::Css("[data-day]")).await?;
    for day in days {
        day.click().await?;
        seen += page.browser.find_all(Locator::Css("button.slot")).await?.len();
        wrong.extend(check_names(&page, &expected, language).await?);
    }
    eprintln!("checked the accessible names of {seen} slot buttons in {}", language.tag);
    ensure!(seen > 0, "no slot buttons to check");
    if !wrong.is_empty() {
        bail!(
            "{} of {seen} slot names in {} miss what they must say, such as:\n  {}",
            wrong.len(),
            language.tag,
            wrong[..wrong.len().min(12)].join("\n  ")
        );
    }
    page.close().await?;
    Ok(())
}

/// The slots of one doctor shown on the page, earliest first.
fn column<'a>(schedule: &'a Schedule, shown: &[String], doctor: &DoctorId) -> Vec<&'a str> {
    let mut slots: Vec<_> =
        schedule.slots.iter().filter(|s| &s.doctor_id == doctor && shown.contains(&s.id.0)).collect();
    slots.sort_by_key(|s| s.start);
    slots.into_iter().map(|s| s.id.0.as_str()).collect()
}

/// The doctor of a slot.
fn doctor_of<'a>(schedule: &'a Schedule, slot: &str) -> Result<&'a DoctorId> {
    Ok(&schedule.slots.iter().find(|s| s.id.0 == slot).context("a slot not in the schedule")?.doctor_id)
}

/// Presses `key` and waits until the focus is on slot `to`.
async fn move_to_slot(page: &Session, key: Key, to: &str) -> Result<Focus> {
    page.press(key).await?;
    page.wait_focus(&format!("{key:?} brings the focus to slot {to}"), |f| f.slot.as_deref() == Some(to))
        .await
}

/// Presses `key` and waits until the focus is on a slot of `doctor`.
async fn move_to_doctor(page: &Session, schedule: &Schedule, key: Key, doctor: &DoctorId) -> Result<String> {
    page.press(key).await?;
    let focus = page
        .wait_focus(&format!("{key:?} brings the focus to a slot of {doctor}"), |f| {
            f.slot.as_deref().is_some_and(|s| doctor_of(schedule, s).is_ok_and(|d| d == doctor))
        })
        .await?;
    focus.slot.context("a slot")
}

/// Presses `key` and waits until day `to` has the focus and is shown.
async fn move_to_day(page: &Session, key: Key, to: &str) -> Result<()> {
    page.press(key).await?;
    page.wait_focus(&format!("{key:?} brings the focus to day {to}"), |f| f.day.as_deref() == Some(to))
        .await?;
    eventually(&format!("day {to} is shown"), || async {
        Ok(chosen_day(page).await?.as_deref() == Some(to))
    })
    .await?;
    Ok(())
}

/// Presses ArrowDown, or ArrowUp at the end of the column, from `from`: to the
/// next (or previous) slot of the same doctor. Returns that slot and the key
/// that goes back.
async fn along_column(page: &Session, column: &[&str], from: &str) -> Result<(String, Key)> {
    let at = column.iter().position(|s| *s == from).context("the slot in its column")?;
    let (key, to, back) = match column.get(at + 1) {
        Some(next) => (Key::Down, *next, Key::Up),
        None => {
            let previous = at.checked_sub(1).and_then(|i| column.get(i)).context("a doctor with one slot")?;
            (Key::Up, *previous, Key::Down)
        }
    };
    move_to_slot(page, key, to).await?;
    Ok((to.to_owned(), back))
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn a_patient_books_a_slot_with_the_keyboard_alone_and_the_focus_is_always_where_it_should_be()
-> Result<()> {
    require_browser!();
    let driver = Driver::start().await?;
    for (n, tag) in LANGUAGES.into_iter().enumerate() {
        let language = Language::load(tag)?;
        book_by_keyboard(&driver, &language, booker(tag, 7 + n))
            .await
            .with_context(|| format!("the page in {tag}"))?;
    }
    Ok(())
}

/// Who books in the language `tag`: a name in its own script, typed key by
/// key, and a phone number of their own (the server allows only a few upcoming
/// bookings per phone).
fn booker(tag: &str, n: usize) -> Patient {
    let name = match tag {
        "ru" => format!("Анна Кузнецова {n}"),
        _ => patient(n).name,
    };
    Patient { name, phone: patient(n).phone }
}

/// A patient books a slot with the page in `language`, with key presses only,
/// on a server of its own (so that the limits on holds and bookings per
/// address start afresh); the focus is checked at every step.
async fn book_by_keyboard(driver: &Driver, language: &Language, who: Patient) -> Result<()> {
    let app = App::start().await?;
    let schedule = schedule(&app).await?;
    let page = driver.session(DESKTOP.0, DESKTOP.1).await?;
    page.open(&app).await?;
    page.wait_for("button.slot").await?;
    let expected = expected_names(&page, &schedule, language).await?;
    // From here on, nothing but key presses.

    // The language, chosen with the keyboard when the page starts in another
    // one; the focus stays on the switcher.
    let tag = language.tag;
    if page.language().await? != tag {
        page.press_until(Key::Tab, 20, &format!("the switcher's {tag}"), |f| {
            f.language.as_deref() == Some(tag)
        })
        .await?;
        page.press(Key::Enter).await?;
        page.wait_language(tag).await?;
        page.wait_focus(&format!("the focus stays on the switcher's {tag}"), |f| {
            f.language.as_deref() == Some(tag)
        })
        .await?;
        eprintln!("chose {tag} with the keyboard");
    }

    // The days: one of them in the Tab order, the one shown; the arrows move
    // between them and show the day they reach.
    let day = page.press_until(Key::Tab, 30, "a day", |f| f.day.is_some()).await?.day;
    ensure!(day == chosen_day(&page).await?, "Tab reaches the day shown first, not {day:?}");
    let in_order = in_tab_order(&page, "[data-day]").await?;
    ensure!(in_order == 1, "one day is in the Tab order, not {in_order}");
    let days: Vec<String> = serde_json::from_value(
        page.browser
            .execute("return Array.from(document.querySelectorAll('[data-day]'), d => d.getAttribute('data-day'));", vec![])
            .await?,
    )?;
    // The day after the one shown first: every slot on it is still to come.
    let first = days.iter().position(|d| Some(d) == day.as_ref()).context("the day shown is a day")?;
    let next = days.get(first + 1).with_context(|| format!("a day after {day:?}: {days:?}"))?;
    move_to_day(&page, Key::Right, next).await?;
    move_to_day(&page, Key::Left, &days[first]).await?;
    move_to_day(&page, Key::Right, next).await?;

    // The slots: Tab enters the grid at one slot; the arrows move along a
    // doctor's slots and across to the neighbouring doctor's.
    let shown = page.slot_ids(None).await?;
    let free = page.slot_ids(Some("free")).await?;
    ensure!(
        !shown.is_empty() && shown == free,
        "every slot on {next} is free: {} of {}",
        free.len(),
        shown.len()
    );
    let entry = page.press_until(Key::Tab, 2, "a slot of the day shown", |f| f.slot.is_some()).await?;
    let entry = entry.slot.context("a slot")?;
    ensure!(shown.contains(&entry), "Tab entered the grid at a slot of the day shown, not {entry}");
    let in_order = in_tab_order(&page, "button.slot").await?;
    ensure!(in_order == 1, "one slot is in the Tab order, not {in_order}");
    let doctor = doctor_of(&schedule, &entry)?;
    let its_slots = column(&schedule, &shown, doctor);
    let (_, back) = along_column(&page, &its_slots, &entry).await?;
    move_to_slot(&page, back, &entry).await?;
    let working: Vec<&DoctorId> =
        schedule.doctors.iter().map(|d| &d.id).filter(|d| !column(&schedule, &shown, d).is_empty()).collect();
    ensure!(working.len() >= 2, "two doctors work on {next}: {working:?}");
    let at = working.iter().position(|d| *d == doctor).context("the doctor")?;
    let slot = if at + 1 < working.len() {
        move_to_doctor(&page, &schedule, Key::Right, working[at + 1]).await?;
        move_to_doctor(&page, &schedule, Key::Left, doctor).await?
    } else {
        move_to_doctor(&page, &schedule, Key::Left, working[at - 1]).await?;
        move_to_doctor(&page, &schedule, Key::Right, doctor).await?
    };

    // Space opens the dialog with the focus on its first field; Escape closes
    // it, lets go of the slot and puts the focus back on the slot.
    page.press(Key::Space).await?;
    page.wait_for("#booking-dialog").await?;
    page.wait_focus("the dialog's first field has the focus", |f| f.is("patient-name")).await?;
    page.wait_for("#hold-note[data-hold='held']").await?;
    page.wait_slot_status(&slot, "held").await?;
    page.press(Key::Escape).await?;
    eventually("Escape closes the dialog", || async {
        Ok(page.browser.find(Locator::Css("#booking-dialog")).await.is_err())
    })
    .await?;
    page.wait_slot_status(&slot, "free").await?;
    page.wait_focus(&format!("the focus is back on slot {slot}"), |f| {
        f.slot.as_deref() == Some(slot.as_str())
    })
    .await?;

    // Another slot of the same doctor, booked: Enter opens the dialog; the
    // form is filled in and sent with keys; the outcome is announced.
    let (chosen, _) = along_column(&page, &its_slots, &slot).await?;
    page.press(Key::Enter).await?;
    page.wait_focus("the dialog's first field has the focus", |f| f.is("patient-name")).await?;
    page.type_keys(&who.name).await?;
    let typed = page.browser.execute("return document.activeElement.value;", vec![]).await?;
    ensure!(typed.as_str() == Some(who.name.as_str()), "typing {:?} wrote {typed}", who.name);
    page.press(Key::Tab).await?;
    page.wait_focus("Tab goes from the name to the phone", |f| f.is("patient-phone")).await?;
    page.type_keys(&who.phone).await?;
    let mut stops = Vec::new();
    loop {
        ensure!(
            stops.len() < 5,
            "Tab did not reach the confirm button; it went to:\n  {}",
            stops.join("\n  ")
        );
        page.press(Key::Tab).await?;
        let focus = page.focus().await?;
        ensure!(focus.in_dialog, "Tab stays in the dialog, but went to {}", focus.html);
        if focus.is("confirm-booking") {
            break;
        }
        if focus.kind.as_deref() == Some("checkbox") {
            page.press(Key::Space).await?;
        }
        stops.push(focus.html);
    }
    page.press(Key::Enter).await?;
    let code = page.wait_booked().await?;
    let announced = page
        .browser
        .execute(
            "const live = '[role=status], [role=alert], [aria-live=polite], [aria-live=assertive]';
             const code = arguments[0];
             return !!document.getElementById('booking-code').closest(live)
                 || [...document.querySelectorAll('#booking-dialog ' + live)]
                     .some(e => e.textContent.includes(code));",
            vec![serde_json::Value::String(code.clone())],
        )
        .await?;
    ensure!(announced == serde_json::Value::Bool(true), "the booking {code} is announced in a live region");
    page.wait_focus("the focus stays in the dialog after booking", |f| f.in_dialog).await?;
    page.screenshot(&format!("desktop-booked-by-keyboard-{tag}")).await?;
    page.press(Key::Escape).await?;
    page.wait_slot_status(&chosen, "mine").await?;
    page.wait_focus(&format!("the focus is back on slot {chosen}"), |f| {
        f.slot.as_deref() == Some(chosen.as_str())
    })
    .await?;
    let button = page.browser.active_element().await?;
    let name = page.accessible_name(&button).await?;
    let problems = name_problems(&name, expected.get(&chosen).context("the slot")?, "mine", language);
    ensure!(problems.is_empty(), "the booked slot is named “{name}”: {}", problems.join(", "));
    page.close().await?;
    Ok(())
}
