//! Instants shown in the clinic's time zone, using the browser's own time-zone
//! database (`Intl`), so the page carries none of its own.

use js_sys::{Date, Object, Reflect};
use wasm_bindgen::JsValue;

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

/// A short day label such as `Tue 24 Nov`.
pub fn day_label(ms: i64, time_zone: &str) -> String {
    let opts = options(time_zone, &[("weekday", "short"), ("day", "numeric"), ("month", "short")]);
    String::from(date(ms).to_locale_date_string("en-GB", &opts)).replace(',', "")
}

/// The local time of day such as `09:30`.
pub fn time_label(ms: i64, time_zone: &str) -> String {
    let opts = options(time_zone, &[("hour", "2-digit"), ("minute", "2-digit"), ("hourCycle", "h23")]);
    date(ms).to_locale_time_string_with_options("en-GB", &opts).into()
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    Date::now() as i64
}
