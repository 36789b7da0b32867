//! Which language the page speaks. A choice made with the switcher is kept in
//! this browser and wins; without one, the browser's preferred languages, in
//! their order; without a match among them, the clinic's default language.

use crate::i18n::Locale;

/// Where the switcher's choice is kept.
const KEY: &str = "booking.language";

/// Every language of the page, in the switcher's order, with its own name.
pub const ALL: [(Locale, &str); 2] = [(Locale::ru, "Русский"), (Locale::en, "English")];

/// The page's language for a BCP 47 tag such as `ru`, `ru-RU` or `en-GB`.
pub fn parse(tag: &str) -> Option<Locale> {
    let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
    match primary.as_str() {
        "ru" => Some(Locale::ru),
        "en" => Some(Locale::en),
        _ => None,
    }
}

/// The tag given to the browser's `Intl` to format dates and times.
pub fn intl(locale: Locale) -> &'static str {
    match locale {
        Locale::ru => "ru-RU",
        Locale::en => "en-GB",
    }
}

/// The short tag of a language, as in `<html lang>` and the clinic file.
pub fn tag(locale: Locale) -> &'static str {
    match locale {
        Locale::ru => "ru",
        Locale::en => "en",
    }
}

/// The language to speak: the stored choice, else the first of the browser's
/// languages the page speaks, else the clinic's default, else English.
pub fn choose(stored: Option<&str>, browser: &[String], clinic: Option<&str>) -> Locale {
    stored
        .and_then(parse)
        .or_else(|| browser.iter().find_map(|t| parse(t)))
        .or_else(|| clinic.and_then(parse))
        .unwrap_or(Locale::en)
}

/// Whether the visitor's own preferences (a stored choice or the browser's
/// languages) name a language the page speaks; if not, the clinic decides.
pub fn visitor_decides(stored: Option<&str>, browser: &[String]) -> bool {
    stored.and_then(parse).is_some() || browser.iter().any(|t| parse(t).is_some())
}

/// The choice kept in this browser, if any.
pub fn stored() -> Option<String> {
    storage()?.get_item(KEY).ok().flatten()
}

/// Keeps the switcher's choice for later visits.
pub fn store(locale: Locale) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(KEY, tag(locale));
    }
}

/// The browser's preferred languages, most preferred first.
pub fn browser() -> Vec<String> {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else { return Vec::new() };
    let listed: Vec<String> = navigator.languages().iter().filter_map(|v| v.as_string()).collect();
    if listed.is_empty() { navigator.language().into_iter().collect() } else { listed }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs(tags: &[&str]) -> Vec<String> {
        tags.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn a_stored_choice_wins_over_the_browser_and_the_clinic() {
        assert_eq!(choose(Some("en"), &langs(&["ru-RU"]), Some("ru")), Locale::en);
        assert_eq!(choose(Some("ru"), &langs(&["en-US"]), Some("en")), Locale::ru);
    }

    #[test]
    fn the_browser_wins_over_the_clinic_default_in_its_own_order() {
        assert_eq!(choose(None, &langs(&["de-DE", "en-US", "ru"]), Some("ru")), Locale::en);
        assert_eq!(choose(None, &langs(&["ru_RU", "en"]), Some("en")), Locale::ru);
        assert!(visitor_decides(None, &langs(&["de", "EN"])));
    }

    #[test]
    fn the_clinic_decides_when_the_visitor_names_no_language_of_the_page() {
        assert_eq!(choose(None, &langs(&["de-DE", "fr"]), Some("ru")), Locale::ru);
        assert_eq!(choose(Some("xx"), &[], Some("ru")), Locale::ru);
        assert!(!visitor_decides(Some("xx"), &langs(&["fr"])));
        assert_eq!(choose(None, &[], None), Locale::en);
    }
}
