//! Tests of what the page says: every `Say` and every refusal has words in
//! each language, the translation files agree with each other, and plurals
//! take the form each language needs for a number.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// Every language of the page.
const LOCALES: [Locale; 2] = [Locale::en, Locale::ru];

/// The refusal after `last`, in declaration order. A new refusal fails to
/// compile here until it joins the chain, so the tests below cover every one.
fn failure_after(last: BookingFailure) -> Option<BookingFailure> {
    use BookingFailure as F;
    match last {
        F::AlreadyBooked => Some(F::NotFound),
        F::NotFound => Some(F::Past),
        F::Past => Some(F::InvalidPatient),
        F::InvalidPatient => Some(F::Held),
        F::Held => Some(F::TooSoon),
        F::TooSoon => Some(F::Blocked),
        F::Blocked => Some(F::Cancelled),
        F::Cancelled => Some(F::WrongState),
        F::WrongState => Some(F::TooManyHolds),
        F::TooManyHolds => Some(F::HoldCooldown),
        F::HoldCooldown => Some(F::LimitReached),
        F::LimitReached => Some(F::TooManyBookings),
        F::TooManyBookings => Some(F::ChallengeFailed),
        F::ChallengeFailed => Some(F::TooManyExtensions),
        F::TooManyExtensions => Some(F::InvalidWindow),
        F::InvalidWindow => Some(F::NoOffer),
        F::NoOffer => Some(F::AlreadyWaiting),
        F::AlreadyWaiting => None,
    }
}

/// The kind of error after `last`, as `failure_after` does for refusals.
fn code_after(last: ErrorCode) -> Option<ErrorCode> {
    use ErrorCode as E;
    match last {
        E::InvalidJson => Some(E::UnknownType),
        E::UnknownType => Some(E::InvalidMessage),
        E::InvalidMessage => Some(E::BinaryFrame),
        E::BinaryFrame => Some(E::Forbidden),
        E::Forbidden => Some(E::RateLimited),
        E::RateLimited => Some(E::Internal),
        E::Internal => None,
    }
}

/// The admin's change after `last`, as `failure_after` does for refusals.
fn act_after(last: AdminAct) -> Option<AdminAct> {
    match last {
        AdminAct::Add => Some(AdminAct::Remove),
        AdminAct::Remove => Some(AdminAct::Erase),
        AdminAct::Erase => None,
    }
}

/// What the page says after `last`, as `failure_after` does for refusals,
/// with every refusal and every kind of error. A new `Say` fails to compile
/// here until it is given a successor; it must also be made one's successor.
fn say_after(last: Say) -> Option<Say> {
    Some(match last {
        Say::Refused(reason) => match failure_after(reason) {
            Some(next) => Say::Refused(next),
            None => Say::Error(ErrorCode::InvalidJson),
        },
        Say::Error(code) => match code_after(code) {
            Some(next) => Say::Error(next),
            None => Say::Unexpected,
        },
        Say::Unexpected => Say::DroppedWhileSending,
        Say::DroppedWhileSending => Say::DroppedBeforeSending,
        Say::DroppedBeforeSending => Say::NotConnected,
        Say::NotConnected => Say::RobotCheckUnavailable,
        Say::RobotCheckUnavailable => Say::Moved,
        Say::Moved => Say::Cancelled,
        Say::Cancelled => Say::MoveTaken,
        Say::MoveTaken => Say::BadLogin,
        Say::BadLogin => Say::SessionOver,
        Say::SessionOver => Say::SessionEnded,
        Say::SessionEnded => Say::LoginDropped,
        Say::LoginDropped => Say::LoggedOut,
        Say::LoggedOut => Say::Forbidden,
        Say::Forbidden => Say::AdminDone(AdminAct::Add),
        Say::AdminDone(act) => match act_after(act) {
            Some(next) => Say::AdminDone(next),
            None => Say::AdminRefused(AdminAct::Add, BookingFailure::AlreadyBooked),
        },
        Say::AdminRefused(act, reason) => match (failure_after(reason), act_after(act)) {
            (Some(next), _) => Say::AdminRefused(act, next),
            (None, Some(next)) => Say::AdminRefused(next, BookingFailure::AlreadyBooked),
            (None, None) => Say::AdminRejected(AdminAct::Add),
        },
        Say::AdminRejected(act) => match act_after(act) {
            Some(next) => Say::AdminRejected(next),
            None => Say::ResetNotConnected,
        },
        Say::ResetNotConnected => Say::ResetDropped,
        Say::ResetDropped => Say::ScheduleReset,
        Say::ScheduleReset => Say::CalendarFailed,
        Say::CalendarFailed => Say::MoreTimeRefused,
        Say::MoreTimeRefused => Say::JoinDroppedWhileSending,
        Say::JoinDroppedWhileSending => Say::JoinDroppedBeforeSending,
        Say::JoinDroppedBeforeSending => Say::Declined,
        Say::Declined => Say::Left,
        Say::Left => Say::WindowChanged,
        Say::WindowChanged => Say::AcceptDropped,
        Say::AcceptDropped => return None,
    })
}

/// Every value of a chain, from `first` on.
fn chain<T: Copy + PartialEq + std::fmt::Debug>(first: T, after: impl Fn(T) -> Option<T>) -> Vec<T> {
    let mut all = vec![first];
    while let Some(next) = after(*all.last().expect("never empty")) {
        assert!(!all.contains(&next), "{next:?} comes twice in the chain");
        all.push(next);
    }
    all
}

fn every_failure() -> Vec<BookingFailure> {
    chain(BookingFailure::AlreadyBooked, failure_after)
}

fn every_code() -> Vec<ErrorCode> {
    chain(ErrorCode::InvalidJson, code_after)
}

fn every_say() -> Vec<Say> {
    chain(Say::Refused(BookingFailure::AlreadyBooked), say_after)
}

fn is_russian(text: &str) -> bool {
    text.chars().any(|c| ('\u{0410}'..='\u{044F}').contains(&c))
}

/// Checks that the English and the Russian words of `what` are both there,
/// with no variable left unfilled, and that each is in its own language.
fn assert_translated(what: &str, en: &str, ru: &str) {
    for text in [en, ru] {
        assert!(!text.trim().is_empty(), "{what}: no words");
        assert!(!text.contains("{{"), "{what}: a variable is left in {text:?}");
    }
    assert_ne!(en, ru, "{what}: the Russian is the English");
    assert!(!is_russian(en), "{what}: the English is Russian: {en}");
    assert!(is_russian(ru), "{what}: the Russian is not: {ru}");
}

/// The names of every variant of a protocol enum, as its wire format knows
/// them: from the refusal of a name it does not know.
fn wire_names<T: serde::de::DeserializeOwned + std::fmt::Debug>() -> BTreeSet<String> {
    let refused = serde_json::from_str::<T>("\"noSuchVariant\"").expect_err("no such variant").to_string();
    let (_, listed) = refused.split_once("expected one of ").expect(&refused);
    listed.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

fn names_of<T: serde::Serialize>(values: &[T]) -> BTreeSet<String> {
    values.iter().map(|v| serde_json::to_value(v).unwrap().as_str().unwrap().to_owned()).collect()
}

#[test]
fn the_chains_reach_every_refusal_and_every_kind_of_error() {
    // A variant given a dead end in a chain compiles, but is missed here.
    assert_eq!(names_of(&every_failure()), wire_names::<BookingFailure>());
    assert_eq!(names_of(&every_code()), wire_names::<ErrorCode>());
    let said = every_say();
    assert!(every_failure().into_iter().all(|r| said.contains(&Say::Refused(r))));
    assert!(every_code().into_iter().all(|c| said.contains(&Say::Error(c))));
    assert!(said.contains(&Say::AcceptDropped), "the chain of things said runs to its end");
}

#[test]
fn everything_the_page_says_has_words_in_both_languages() {
    for say in every_say() {
        assert_translated(&format!("{say:?}"), &say.text(Locale::en), &say.text(Locale::ru));
    }
}

#[test]
fn a_refusal_is_said_in_the_words_of_its_reason() {
    for reason in every_failure() {
        for l in LOCALES {
            assert_eq!(Say::Refused(reason).text(l), failure(reason, l), "{reason:?}");
        }
    }
    // Each reason has words of its own.
    let words: BTreeSet<String> = every_failure().into_iter().map(|r| failure(r, Locale::ru)).collect();
    assert_eq!(words.len(), every_failure().len());
}

#[test]
fn an_error_is_said_by_its_kind() {
    for l in LOCALES {
        let say = |code| Say::Error(code).text(l);
        // A patient's page never learns of admin tokens from an error.
        assert_eq!(say(ErrorCode::Forbidden), say(ErrorCode::Internal));
        assert_ne!(say(ErrorCode::RateLimited), say(ErrorCode::Internal));
        assert_eq!(say(ErrorCode::InvalidMessage), say(ErrorCode::Internal));
    }
    assert!(Say::Error(ErrorCode::RateLimited).text(Locale::en).contains("Too many requests"));
}

#[test]
fn every_refusal_has_a_title_and_an_explanation_in_both_languages() {
    for reason in every_failure() {
        let (en_title, en_text) = refusal(reason, Locale::en);
        let (ru_title, ru_text) = refusal(reason, Locale::ru);
        assert_translated(&format!("{reason:?} title"), &en_title, &ru_title);
        assert_translated(&format!("{reason:?} text"), &en_text, &ru_text);
        for (title, text) in [(&en_title, &en_text), (&ru_title, &ru_text)] {
            // The ✕ before a refusal's title is drawn by the style sheet, so that
            // screen readers do not read it out.
            assert!(!title.starts_with('✕') && text.ends_with('.'), "{reason:?}: {title} / {text}");
        }
    }
    // The refusals the dialog explains at length, and one it says in a line.
    assert_eq!(refusal(BookingFailure::Held, Locale::en).0, "Someone else is booking this slot");
    let (title, text) = refusal(BookingFailure::Past, Locale::en);
    assert_eq!(
        (title.as_str(), text),
        ("This slot cannot be booked", failure(BookingFailure::Past, Locale::en))
    );
}

#[test]
fn each_problem_with_the_details_has_words_in_both_languages() {
    for problem in [PatientProblem::Name, PatientProblem::Phone] {
        let (en, ru) = (patient_problem(problem, Locale::en), patient_problem(problem, Locale::ru));
        assert_translated(&format!("{problem:?}"), &en, &ru);
    }
    assert!(patient_problem(PatientProblem::Phone, Locale::ru).contains("от 5 до 15 цифр"));
}

#[test]
fn russian_counts_take_the_form_their_number_needs() {
    let ru = |n: u32| td_string!(Locale::ru, free_slots, count = n).to_string();
    assert_eq!(ru(1), "1 свободный слот");
    assert_eq!(ru(2), "2 свободных слота");
    assert_eq!(ru(5), "5 свободных слотов");
    assert_eq!(ru(11), "11 свободных слотов");
    assert_eq!(ru(21), "21 свободный слот");
    assert_eq!(ru(22), "22 свободных слота");
    assert_eq!(ru(0), "0 свободных слотов");
    let minutes = |n: u32| td_string!(Locale::ru, hold_left, count = n).to_string();
    assert_eq!(minutes(1), "Это время закреплено за вами ещё на 1 минуту.");
    assert_eq!(minutes(3), "Это время закреплено за вами ещё на 3 минуты.");
    assert_eq!(minutes(12), "Это время закреплено за вами ещё на 12 минут.");
    let bookings = |n: u32| td_string!(Locale::ru, active_bookings, count = n).to_string();
    assert!(bookings(31).starts_with("31 действующая запись."), "{}", bookings(31));
    assert!(bookings(44).starts_with("44 действующие записи."), "{}", bookings(44));
    assert!(bookings(111).starts_with("111 действующих записей."), "{}", bookings(111));
}

#[test]
fn english_counts_take_the_form_their_number_needs() {
    let en = |n: u32| td_string!(Locale::en, free_slots, count = n).to_string();
    assert_eq!(en(1), "1 free slot");
    assert_eq!(en(2), "2 free slots");
    assert_eq!(en(21), "21 free slots");
    assert_eq!(en(0), "0 free slots");
    let minutes = |n: u32| td_string!(Locale::en, hold_left, count = n).to_string();
    assert_eq!(minutes(1), "This time is held for you for 1 more minute.");
    assert_eq!(minutes(2), "This time is held for you for 2 more minutes.");
}

/// A translation file's entries in file order, duplicates kept, so that a key
/// given twice (of which JSON keeps only the last) is seen.
fn entries(json: &str) -> Vec<(String, String)> {
    struct Entries;
    impl<'de> serde::de::Visitor<'de> for Entries {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of texts")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut all = Vec::new();
            while let Some(entry) = map.next_entry()? {
                all.push(entry);
            }
            Ok(all)
        }
    }
    let mut de = serde_json::Deserializer::from_str(json);
    serde::Deserializer::deserialize_map(&mut de, Entries).expect("a flat object of texts")
}

/// The plural categories (CLDR) a key may end with: those of counts, and
/// those of ordinals ("1st", "2nd"), which leptos_i18n marks with `_ordinal`.
const CATEGORIES: [&str; 12] = [
    "ordinal_zero",
    "ordinal_one",
    "ordinal_two",
    "ordinal_few",
    "ordinal_many",
    "ordinal_other",
    "zero",
    "one",
    "two",
    "few",
    "many",
    "other",
];

/// A language's texts by key, plural forms gathered under their key: the
/// categories given (`""` for a plain text), and each text. As leptos_i18n
/// reads them, keys ending in `_{category}` are one plural only when there
/// are several of them and one is `_other`: `hold_too_many` alone is plain.
fn by_key(json: &str) -> BTreeMap<String, BTreeMap<&'static str, String>> {
    let mut keys: BTreeMap<String, BTreeMap<&'static str, String>> = BTreeMap::new();
    let mut forms: BTreeMap<String, Vec<(&'static str, String, String)>> = BTreeMap::new();
    for (key, text) in entries(json) {
        // The ordinal categories come first, so that `_ordinal_one` is not
        // read as `_one` of a key ending in `_ordinal`.
        let form = CATEGORIES.iter().find_map(|c| Some((key.strip_suffix(&format!("_{c}"))?.to_owned(), *c)));
        match form {
            Some((base, category)) => forms.entry(base).or_default().push((category, key, text)),
            None => insert(&mut keys, key, "", text),
        }
    }
    for (base, forms) in forms {
        let plural = forms.len() > 1 && forms.iter().any(|(category, ..)| category.ends_with("other"));
        for (category, key, text) in forms {
            if plural {
                insert(&mut keys, base.clone(), category, text);
            } else {
                insert(&mut keys, key, "", text);
            }
        }
    }
    keys
}

fn insert(
    keys: &mut BTreeMap<String, BTreeMap<&'static str, String>>,
    key: String,
    category: &'static str,
    text: String,
) {
    let before = keys.entry(key.clone()).or_default().insert(category, text);
    assert!(before.is_none(), "{key} {category} is given twice");
}

#[test]
fn the_translation_files_are_read_as_leptos_i18n_reads_them() {
    let keys = by_key(
        r#"{"a_one": "1", "a_other": "n", "hold_too_many": "x", "b_one": "y", "c": "{{ v }}",
            "d_ordinal_one": "1st", "d_ordinal_other": "nth"}"#,
    );
    let categories = |key: &str| keys[key].keys().copied().collect::<Vec<_>>();
    assert_eq!(keys.keys().collect::<Vec<_>>(), ["a", "b_one", "c", "d", "hold_too_many"]);
    assert_eq!((categories("a"), categories("b_one")), (vec!["one", "other"], vec![""]));
    assert_eq!(categories("d"), ["ordinal_one", "ordinal_other"]);
}

#[test]
#[should_panic(expected = "given twice")]
fn a_key_given_twice_in_a_translation_file_is_seen() {
    by_key(r#"{"a": "first", "b": "other", "a": "second"}"#);
}

/// The `{{ var }}` names a text uses.
fn variables(text: &str) -> BTreeSet<String> {
    text.split("{{")
        .skip(1)
        .map(|rest| rest.split("}}").next().unwrap_or_default().trim().to_owned())
        .collect()
}

const EN: &str = include_str!("../../locales/en.json");
const RU: &str = include_str!("../../locales/ru.json");

#[test]
fn both_translation_files_have_the_same_keys() {
    let (en, ru) = (by_key(EN), by_key(RU));
    let missing_in_ru: Vec<_> = en.keys().filter(|k| !ru.contains_key(*k)).collect();
    let missing_in_en: Vec<_> = ru.keys().filter(|k| !en.contains_key(*k)).collect();
    assert!(missing_in_ru.is_empty(), "missing in Russian: {missing_in_ru:?}");
    assert!(missing_in_en.is_empty(), "missing in English: {missing_in_en:?}");
    for (key, forms) in en.iter().chain(&ru) {
        assert!(forms.values().all(|t| !t.trim().is_empty()), "{key} has an empty text");
    }
}

#[test]
fn every_plural_has_the_forms_its_language_needs() {
    // Russian ordinals written in figures ("2-м") take one form, so a Russian
    // text of an English ordinal is plain.
    let en_ordinals = &["ordinal_few", "ordinal_one", "ordinal_other", "ordinal_two"][..];
    for (json, language, counts, ordinals) in
        [(EN, "en", &["one", "other"][..], en_ordinals), (RU, "ru", &["few", "many", "one", "other"], &[])]
    {
        let keys = by_key(json);
        let plurals: Vec<_> = keys.iter().filter(|(_, forms)| !forms.contains_key("")).collect();
        assert!(!plurals.is_empty(), "{language} has plurals");
        for (key, forms) in plurals {
            let ordinal = forms.keys().any(|c| c.starts_with("ordinal_"));
            let needs = if ordinal { ordinals } else { counts };
            assert_eq!(forms.keys().copied().collect::<Vec<_>>(), needs, "{language} {key}");
            for (category, text) in forms {
                assert!(variables(text).contains("count"), "{language} {key}_{category} shows no count");
            }
        }
        for (key, forms) in &keys {
            assert!(forms.len() == 1 || !forms.contains_key(""), "{language} {key} is both plain and plural");
        }
    }
}

#[test]
fn both_languages_fill_in_the_same_variables() {
    let (en, ru) = (by_key(EN), by_key(RU));
    let used =
        |forms: &BTreeMap<&str, String>| forms.values().flat_map(|t| variables(t)).collect::<BTreeSet<_>>();
    for (key, forms) in &en {
        let Some(russian) = ru.get(key) else { continue };
        assert_eq!(used(forms), used(russian), "{key}");
    }
    // The variables are found, however they are spaced.
    assert_eq!(variables("{{ from }}–{{to}} are over"), BTreeSet::from(["from".into(), "to".into()]));
    let slot_name = BTreeSet::from(["day", "doctor", "shown", "time"].map(String::from));
    assert_eq!(used(&en["slot_name"]), slot_name);
}

mod staff;
mod waitlist;
