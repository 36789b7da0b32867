//! The clinic file's texts in several languages: a text given once or per
//! BCP 47 language tag, the check that a tag is well formed and names a known
//! language, and its canonical spelling.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A text of the clinic file: one string, in the clinic's default language, or
/// a table of strings by BCP 47 language tag (`{ ru = "Терапевт", en =
/// "Therapist" }`). Once the file is read (`ClinicConfig::parse`) every text is
/// a table whose tags are checked and spelled canonically.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    untagged,
    expecting = "a text, or a table of texts by language tag such as { ru = \"Терапевт\", en = \"Therapist\" }"
)]
pub enum Texts {
    /// One text, in the clinic's default language.
    Plain(String),
    /// Texts by BCP 47 language tag.
    ByLanguage(BTreeMap<String, String>),
}

impl Texts {
    /// The same texts as a table by canonical tag, a plain text under
    /// `default`; or what is wrong with them, for `what` (such as "the name of
    /// doctor `therapist`").
    pub(super) fn resolve(&self, default: &str, what: &str) -> Result<BTreeMap<String, String>, String> {
        let given = match self {
            Self::Plain(text) => BTreeMap::from([(default.to_owned(), text.clone())]),
            Self::ByLanguage(texts) => texts.clone(),
        };
        let mut resolved = BTreeMap::new();
        for (tag, text) in given {
            let canonical = canonical_tag(&tag).map_err(|problem| format!("{what}: {problem}"))?;
            if text.trim().is_empty() {
                return Err(format!("{what} is empty in `{canonical}`"));
            }
            if resolved.insert(canonical.clone(), text).is_some() {
                return Err(format!("{what} is given twice in `{canonical}` (tags ignore case)"));
            }
        }
        if !resolved.contains_key(default) {
            return Err(format!("{what} has no text in the clinic's default language `{default}`"));
        }
        Ok(resolved)
    }

    /// The text in `language` (a canonical tag), once resolved.
    pub fn get(&self, language: &str) -> Option<&str> {
        match self {
            Self::Plain(_) => None,
            Self::ByLanguage(texts) => texts.get(language).map(String::as_str),
        }
    }

    /// The canonical tags of the languages it has a text in, once resolved.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        let texts = match self {
            Self::Plain(_) => None,
            Self::ByLanguage(texts) => Some(texts),
        };
        texts.into_iter().flat_map(|t| t.keys().map(String::as_str))
    }
}

/// The languages of ISO 639-1: what a two-letter primary language subtag may be.
const ISO_639_1: &str = "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr \
    cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr \
    ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb \
    lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os \
    pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th \
    ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu";

/// A BCP 47 (RFC 5646) language tag in its canonical case (`pt-BR`,
/// `sr-Latn-RS`, `zh-Hant`), or why it is not one this clinic can use: not
/// well formed, or a primary language that is not known. A two-letter language
/// must be one of ISO 639-1; a three-letter one (ISO 639-2 and 639-3) is taken
/// on its form; the reserved and registered longer ones, grandfathered tags and
/// private-use-only tags are refused.
pub fn canonical_tag(tag: &str) -> Result<String, String> {
    let malformed =
        || format!("`{tag}` is not a BCP 47 language tag (such as `ru`, `en`, `pt-BR` or `sr-Latn-RS`)");
    let subtags: Vec<&str> = tag.split('-').collect();
    if subtags.iter().any(|s| s.is_empty() || s.len() > 8 || !s.chars().all(|c| c.is_ascii_alphanumeric())) {
        return Err(malformed());
    }
    let alpha = |s: &str| s.chars().all(|c| c.is_ascii_alphabetic());
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let language = subtags[0].to_ascii_lowercase();
    if !alpha(&language) || !(2..=3).contains(&language.len()) {
        return Err(malformed());
    }
    if language.len() == 2 && !ISO_639_1.split_ascii_whitespace().any(|known| known == language) {
        return Err(format!("`{tag}` names no known language (`{language}` is not an ISO 639-1 code)"));
    }
    let mut out = vec![language];
    let mut rest = subtags[1..].iter().copied().peekable();
    // Extended language subtags, up to three.
    for _ in 0..3 {
        match rest.peek() {
            Some(s) if s.len() == 3 && alpha(s) => out.push(s.to_ascii_lowercase()),
            _ => break,
        }
        rest.next();
    }
    if let Some(script) = rest.next_if(|s| s.len() == 4 && alpha(s)) {
        out.push(script[..1].to_ascii_uppercase() + &script[1..].to_ascii_lowercase());
    }
    if let Some(region) = rest.next_if(|s| (s.len() == 2 && alpha(s)) || (s.len() == 3 && digits(s))) {
        out.push(region.to_ascii_uppercase());
    }
    while let Some(variant) =
        rest.next_if(|s| s.len() >= 5 || (s.len() == 4 && s.starts_with(|c: char| c.is_ascii_digit())))
    {
        out.push(variant.to_ascii_lowercase());
    }
    // Extensions (a singleton and its subtags) and private use (`x` and the
    // rest of the tag).
    while let Some(singleton) = rest.next() {
        if singleton.len() != 1 {
            return Err(malformed());
        }
        out.push(singleton.to_ascii_lowercase());
        let before = out.len();
        if singleton.eq_ignore_ascii_case("x") {
            out.extend(rest.by_ref().map(str::to_ascii_lowercase));
        } else {
            while let Some(part) = rest.next_if(|s| s.len() >= 2) {
                out.push(part.to_ascii_lowercase());
            }
        }
        if out.len() == before {
            return Err(malformed());
        }
    }
    Ok(out.join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_spelled_canonically() {
        for (given, canonical) in [
            ("ru", "ru"),
            ("EN", "en"),
            ("pt-br", "pt-BR"),
            ("sr-latn-rs", "sr-Latn-RS"),
            ("zh-HANT", "zh-Hant"),
            ("es-419", "es-419"),
            ("zh-yue-HK", "zh-yue-HK"),
            ("de-CH-1996", "de-CH-1996"),
            ("sl-rozaj-biske", "sl-rozaj-biske"),
            ("en-US-u-ca-gregory", "en-US-u-ca-gregory"),
            ("en-x-Clinic", "en-x-clinic"),
            ("tlh", "tlh"),
        ] {
            assert_eq!(canonical_tag(given).as_deref(), Ok(canonical), "{given}");
        }
    }

    #[test]
    fn malformed_tags_and_unknown_languages_are_refused_by_name() {
        for bad in [
            "",
            "english",
            "en_US",
            "e",
            "ru-",
            "-ru",
            "en--US",
            "en-US-US",
            "en-u",
            "x-private",
            "i-klingon",
        ] {
            let problem = canonical_tag(bad).unwrap_err();
            assert!(problem.contains("is not a BCP 47 language tag"), "{bad}: {problem}");
        }
        let problem = canonical_tag("xx-RU").unwrap_err();
        assert!(problem.contains("names no known language"), "{problem}");
    }

    fn texts(pairs: &[(&str, &str)]) -> Texts {
        Texts::ByLanguage(pairs.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect())
    }

    #[test]
    fn texts_resolve_to_canonical_tags_with_the_default_language_required() {
        let plain = Texts::Plain("Терапевт".into());
        assert_eq!(plain.resolve("ru", "x").unwrap(), BTreeMap::from([("ru".into(), "Терапевт".into())]));
        let both = texts(&[("RU", "Терапевт"), ("en", "Therapist")]).resolve("ru", "x").unwrap();
        assert_eq!(both.keys().collect::<Vec<_>>(), ["en", "ru"]);
        let missing = texts(&[("en", "Therapist")]).resolve("ru", "the specialty of `t`").unwrap_err();
        assert_eq!(missing, "the specialty of `t` has no text in the clinic's default language `ru`");
        let twice = texts(&[("en", "A"), ("EN", "B"), ("ru", "C")]).resolve("ru", "x").unwrap_err();
        assert!(twice.contains("given twice in `en`"), "{twice}");
        let empty = texts(&[("en", " "), ("ru", "C")]).resolve("ru", "x").unwrap_err();
        assert!(empty.contains("empty in `en`"), "{empty}");
        let unknown = texts(&[("english", "A"), ("ru", "C")]).resolve("ru", "the name").unwrap_err();
        assert!(unknown.starts_with("the name: `english` is not a BCP 47"), "{unknown}");
    }

    /// The error of the demo clinic with `from` replaced by `to`.
    fn refusal(from: &str, to: &str) -> String {
        use crate::clinic::{ClinicConfig, DEMO_CONFIG};
        let bad = DEMO_CONFIG.replacen(from, to, 1);
        assert_ne!(bad, DEMO_CONFIG, "{from} is in the demo file");
        ClinicConfig::parse(&bad).expect_err(to).to_string()
    }

    #[test]
    fn the_clinic_file_names_its_language_mistakes() {
        let problem = refusal("default_language = \"ru\"", "default_language = \"russian\"");
        assert!(problem.contains("default_language: `russian` is not a BCP 47 language tag"), "{problem}");
        let problem = refusal("en = \"Therapist\"", "en_GB = \"Therapist\"");
        assert!(problem.contains("the specialty of `therapist`: `en_GB` is not a BCP 47"), "{problem}");
        let problem = refusal("ru = \"Хирург\", ", "");
        assert!(
            problem.contains("the specialty of `surgeon` has no text in the clinic's default language `ru`")
        );
        let problem =
            refusal("{ ru = \"Городская клиника\", en = \"City Clinic\" }", "{ en = \"City Clinic\" }");
        assert!(
            problem.contains("the clinic's name has no text in the clinic's default language"),
            "{problem}"
        );
        let problem = refusal("name = { ru = \"Игорь Волков\"", "name = { zz = \"Игорь Волков\"");
        assert!(problem.contains("`zz` names no known language"), "{problem}");
        let problem = refusal("name = { ru = \"Игорь Волков\", en = \"Dr. Igor Volkov\" }", "name = 7");
        assert!(problem.contains("a text, or a table of texts by language tag"), "{problem}");
    }

    #[test]
    fn the_demo_clinic_speaks_russian_first_and_english_too_each_text_clean() {
        let demo = crate::clinic::ClinicConfig::demo();
        let clinic = demo.clinic();
        assert_eq!((clinic.default_language.as_str(), clinic.name.as_str()), ("ru", "Городская клиника"));
        assert_eq!(clinic.name_in("en"), "City Clinic");
        let doctors = demo.doctors();
        let specialties: Vec<(&str, String)> =
            doctors.iter().map(|d| (d.specialty.as_str(), d.text_in("en").specialty)).collect();
        assert_eq!(
            specialties,
            [
                ("Терапевт", "Therapist".into()),
                ("Стоматолог", "Dentist".into()),
                ("Хирург", "Surgeon".into())
            ]
        );
        assert!(doctors.iter().all(|d| d.texts.keys().eq(["en", "ru"])), "{doctors:?}");
    }

    #[test]
    fn a_file_older_than_languages_is_read_as_english_with_plain_texts() {
        let text = "name = \"Old Clinic\"\ntime_zone = \"UTC\"\nhorizon_days = 1\nslot_minutes = 30\n\
                    [hours]\nmon = [\"09:00-10:00\"]\n[[doctors]]\nid = \"d\"\nname = \"D\"\nspecialty = \"S\"\n";
        let old = crate::clinic::ClinicConfig::parse(text).unwrap();
        assert_eq!(old.clinic().default_language, "en");
        assert_eq!(old.clinic().names, BTreeMap::from([("en".into(), "Old Clinic".into())]));
        let doctor = &old.doctors()[0];
        assert_eq!((doctor.name.as_str(), doctor.specialty.as_str()), ("D", "S"));
    }
}
