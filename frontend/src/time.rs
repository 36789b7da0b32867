//! Instants shown in the clinic's time zone, using the browser's own time-zone
//! database (`Intl`), so the page carries none of its own.

use chrono::NaiveDate;
use js_sys::{Date, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

fn options(time_zone: &str, fields: &[(&str, &str)]) -> JsValue {
    let options = Object::new();
    let set = |k: &str, v: &str| {
        let _ = Reflect::set(&options, &JsValue::from_str(k), &JsValue::from_str(v));
    };
    set("timeZone", time_zone);
    for (k, v) in fields {
        set(k, v);
    }
    options.into()
}

fn date(ms: i64) -> Date {
    Date::new(&JsValue::from_f64(ms as f64))
}

/// The clinic's local date as `YYYY-MM-DD`, usable as a key and sorting by date.
pub fn day_key(ms: i64, time_zone: &str) -> String {
    let opts = options(time_zone, &[("year", "numeric"), ("month", "2-digit"), ("day", "2-digit")]);
    date(ms).to_locale_date_string("en-CA", &opts).into()
}

/// A short day label in the language `intl` (a BCP 47 tag), such as
/// `Tue 24 Nov` or `вт 24 нояб.`.
pub fn day_label(ms: i64, time_zone: &str, intl: &str) -> String {
    let opts = options(time_zone, &[("weekday", "short"), ("day", "numeric"), ("month", "short")]);
    String::from(date(ms).to_locale_date_string(intl, &opts)).replace(',', "")
}

/// A long day label for screen readers and sentences, such as
/// `Tuesday 24 November` or `вторник, 24 ноября`.
pub fn long_day_label(ms: i64, time_zone: &str, intl: &str) -> String {
    let opts = options(time_zone, &[("weekday", "long"), ("day", "numeric"), ("month", "long")]);
    date(ms).to_locale_date_string(intl, &opts).into()
}

/// The local time of day such as `09:30`: 24-hour in both languages.
pub fn time_label(ms: i64, time_zone: &str) -> String {
    let opts = options(time_zone, &[("hour", "2-digit"), ("minute", "2-digit"), ("hourCycle", "h23")]);
    date(ms).to_locale_time_string_with_options("en-GB", &opts).into()
}

/// The time zone's name in the language `intl`, such as `Moscow Standard Time`
/// or `Москва, стандартное время`; the IANA name where the browser has none.
pub fn zone_name(ms: i64, time_zone: &str, intl: &str) -> String {
    let opts = options(time_zone, &[("timeZoneName", "long")]);
    let format = js_sys::Intl::DateTimeFormat::new(
        &js_sys::Array::of1(&JsValue::from_str(intl)),
        opts.unchecked_ref(),
    );
    let parts = format.format_to_parts(&date(ms));
    parts
        .iter()
        .find(|part| {
            Reflect::get(part, &"type".into()).ok().and_then(|t| t.as_string()).as_deref()
                == Some("timeZoneName")
        })
        .and_then(|part| Reflect::get(&part, &"value".into()).ok()?.as_string())
        .unwrap_or_else(|| time_zone.replace('_', " "))
}

/// Noon (UTC) of a calendar date, which the date labels below, read in UTC,
/// name as that date whatever the zone of the computer.
fn noon(date: NaiveDate) -> i64 {
    date.and_hms_opt(12, 0, 0).map_or(0, |t| t.and_utc().timestamp_millis())
}

/// A calendar date (such as a waitlist's day) in the words of `long_day_label`.
pub fn date_label(date: NaiveDate, intl: &str) -> String {
    long_day_label(noon(date), "UTC", intl)
}

/// A calendar date in the words of `day_label`.
pub fn short_date_label(date: NaiveDate, intl: &str) -> String {
    day_label(noon(date), "UTC", intl)
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    Date::now() as i64
}
