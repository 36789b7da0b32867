//! What a slot button's accessible name must say in each language of the page,
//! worked out apart from the page: the slot's local time, its day of the month
//! and month as the browser's own calendar writes them in that language, its
//! doctor's name in that language, and its state in the page's own words (read
//! from frontend/locales, so that the test follows the page's wording).

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use e2e::Session;
use fantoccini::Locator;
use protocol::Schedule;

/// The page's languages, as `<html lang>` and the switcher's `data-language`
/// say them.
pub(crate) const LANGUAGES: [&str; 2] = ["ru", "en"];

/// Each state of a slot (its `data-status`) with the key, in frontend/locales,
/// of the word its button shows, which its accessible name starts with.
const STATES: [(&str, &str); 7] = [
    ("free", "look_free"),
    ("held", "look_held"),
    ("booked", "look_booked"),
    ("blocked", "look_blocked"),
    ("mine", "look_mine"),
    ("past", "look_past"),
    ("soon", "look_soon"),
];

/// One language of the page, with the words it says a slot's state with.
pub(crate) struct Language {
    /// Its tag, as `<html lang>` and the switcher's `data-language` say it.
    pub(crate) tag: &'static str,
    /// The tag the page formats days with in the browser's `Intl`
    /// (frontend/src/language.rs).
    intl: &'static str,
    /// Each state's word, by `data-status`, as frontend/locales has it.
    states: HashMap<&'static str, String>,
}

impl Language {
    /// The language `tag` with the page's words from frontend/locales/`tag`.json.
    pub(crate) fn load(tag: &'static str) -> Result<Self> {
        let intl = match tag {
            "ru" => "ru-RU",
            "en" => "en-GB",
            other => bail!("a language the page does not speak: {other}"),
        };
        let path = e2e::root().join("frontend").join("locales").join(format!("{tag}.json"));
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let words: HashMap<String, serde_json::Value> =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let mut states = HashMap::new();
        for (status, key) in STATES {
            let word = words.get(key).and_then(|w| w.as_str());
            let word = word.with_context(|| format!("{} has no {key}", path.display()))?;
            states.insert(status, word.to_owned());
        }
        Ok(Self { tag, intl, states })
    }
}

/// What a slot's accessible name must say, worked out from the schedule
/// rather than from the page: its local time, day of the month and month (the
/// clinic's time zone, by the browser's own calendar), and its doctor.
#[derive(Debug, Clone)]
pub(crate) struct Expected {
    time: String,
    day: String,
    month: String,
    doctor: String,
}

/// What every slot of `schedule` must be named in `language`, by slot id.
pub(crate) async fn expected_names(
    page: &Session,
    schedule: &Schedule,
    language: &Language,
) -> Result<HashMap<String, Expected>> {
    let slots: Vec<_> =
        schedule.slots.iter().map(|s| serde_json::json!([s.id.0, s.start.to_rfc3339()])).collect();
    // The page writes times the same way in every language; the day and month
    // are the parts of its long day label (in Russian the month is in the
    // genitive, as after a day: "26 ноября").
    let found = page
        .browser
        .execute(
            "const [slots, zone, intl] = arguments;
             const time = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
             const date = new Intl.DateTimeFormat(intl, { timeZone: zone, weekday: 'long', day: 'numeric', month: 'long' });
             const part = (parts, type) => parts.find(p => p.type === type).value;
             return Object.fromEntries(slots.map(([id, start]) => {
                 const at = new Date(start);
                 const parts = date.formatToParts(at);
                 return [id, [time.format(at), part(parts, 'day'), part(parts, 'month')]];
             }));",
            vec![
                serde_json::json!(slots),
                serde_json::json!(schedule.clinic.time_zone),
                serde_json::json!(language.intl),
            ],
        )
        .await?;
    let when: HashMap<String, (String, String, String)> = serde_json::from_value(found)?;
    let mut expected = HashMap::new();
    for slot in &schedule.slots {
        let doctor = schedule.doctors.iter().find(|d| d.id == slot.doctor_id).context("the slot's doctor")?;
        let (time, day, month) = when.get(&slot.id.0).cloned().context("the slot's time")?;
        let doctor = doctor.text_in(language.tag).name;
        expected.insert(slot.id.0.clone(), Expected { time, day, month, doctor });
    }
    Ok(expected)
}

/// What a slot's accessible `name` in `language` fails to say, if anything.
pub(crate) fn name_problems(
    name: &str,
    expected: &Expected,
    status: &str,
    language: &Language,
) -> Vec<String> {
    let lower = name.to_lowercase();
    let mut problems = Vec::new();
    if !name.contains(&expected.time) {
        problems.push(format!("no time {}", expected.time));
    }
    // The day of the month, as a number of its own (not part of the time).
    let rest = name.replace(&expected.time, " ");
    if !rest.split(|c: char| !c.is_ascii_digit()).any(|n| n == expected.day) {
        problems.push(format!("no day {}", expected.day));
    }
    if !lower.contains(&expected.month.to_lowercase()) {
        problems.push(format!("no month {}", expected.month));
    }
    if !name.contains(&expected.doctor) {
        problems.push(format!("no doctor {}", expected.doctor));
    }
    let Some(word) = language.states.get(status) else {
        problems.push(format!("a state the test does not know: {status}"));
        return problems;
    };
    // Another state's word that holds this one ("being booked" holds
    // "booked") does not say this state.
    let wanted = word.to_lowercase();
    let said = language
        .states
        .values()
        .map(|w| w.to_lowercase())
        .filter(|w| *w != wanted && w.contains(&wanted))
        .fold(lower, |said, longer| said.replace(&longer, " "));
    if !said.contains(&wanted) {
        problems.push(format!("no state ({status}: “{word}”)"));
    }
    problems
}

/// Checks the accessible name of every slot shown; returns each one that does
/// not say what it must in `language`.
pub(crate) async fn check_names(
    page: &Session,
    expected: &HashMap<String, Expected>,
    language: &Language,
) -> Result<Vec<String>> {
    let mut wrong = Vec::new();
    for button in page.browser.find_all(Locator::Css("button.slot")).await? {
        let id = button.attr("data-slot-id").await?.context("slot without id")?;
        let status = button.attr("data-status").await?.context("slot without status")?;
        let name = page.accessible_name(&button).await?;
        let expected = expected.get(&id).context("a slot not in the schedule")?;
        let problems = name_problems(&name, expected, &status, language);
        if !problems.is_empty() {
            wrong.push(format!("{id} ({status}) is named “{name}”: {}", problems.join(", ")));
        }
    }
    Ok(wrong)
}

#[test]
fn a_slot_name_without_its_day_month_or_state_is_found_out() -> Result<()> {
    let en = Language::load("en")?;
    let expected = Expected {
        time: "10:15".into(),
        day: "15".into(),
        month: "November".into(),
        doctor: "Dr. Elena Sokolova".into(),
    };
    let good = "10:15 Free, Tuesday 15 November, Dr. Elena Sokolova";
    assert!(name_problems(good, &expected, "free", &en).is_empty());
    let today = name_problems("10:15 with Dr. Elena Sokolova: Free", &expected, "free", &en);
    assert_eq!(today, ["no day 15", "no month November"]);
    let held = name_problems("15 November 10:15 Dr. Elena Sokolova, being booked", &expected, "booked", &en);
    assert_eq!(held, ["no state (booked: “Booked”)"]);
    let booked = "10:15 Booked, Tuesday 15 November, Dr. Elena Sokolova";
    assert!(name_problems(booked, &expected, "booked", &en).is_empty());
    let other = name_problems("15 November 10:15 Dr. Igor Volkov, free", &expected, "free", &en);
    assert_eq!(other, ["no doctor Dr. Elena Sokolova"]);

    let ru = Language::load("ru")?;
    let expected = Expected {
        time: "10:15".into(),
        day: "15".into(),
        month: "ноября".into(),
        doctor: "Елена Соколова".into(),
    };
    let good = "10:15 Занято, вторник, 15 ноября, Елена Соколова";
    assert!(name_problems(good, &expected, "booked", &ru).is_empty());
    let nominative = name_problems("10:15 Занято, 15 ноябрь, Елена Соколова", &expected, "booked", &ru);
    assert_eq!(nominative, ["no month ноября"]);
    let english = name_problems("10:15 Booked, 15 ноября, Dr. Elena Sokolova", &expected, "booked", &ru);
    assert_eq!(english, ["no doctor Елена Соколова", "no state (booked: “Занято”)"]);
    let held = "10:15 Бронь до 10:20, вторник, 15 ноября, Елена Соколова: Кто-то записывается, до 10:20";
    assert!(name_problems(held, &expected, "held", &ru).is_empty());
    assert_eq!(name_problems(held, &expected, "free", &ru), ["no state (free: “Свободно”)"]);
    Ok(())
}
