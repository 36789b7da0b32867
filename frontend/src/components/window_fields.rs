//! The waitlist's days and hours as form fields, shared by the join dialog and
//! the waitlist page's "change" form, and a window put in words.

use leptos::prelude::*;
use protocol::WaitWindow;

use crate::i18n::{Locale, t, use_i18n};
use crate::say::{window_problem, window_words};
use crate::waitlist::window::{Bounds, Field, WindowInput, WindowProblem};
use crate::{language, time};

/// The id of a window field of the form whose ids start with `prefix`.
pub(crate) fn field_id(prefix: &str, field: Field) -> String {
    let name = match field {
        Field::FromDay => "from-day",
        Field::ToDay => "to-day",
        Field::FromTime => "from-time",
        Field::ToTime => "to-time",
    };
    format!("{prefix}-{name}")
}

/// A window in words: its days in full (or short, for the staff's table) and
/// its hours.
pub(crate) fn window_text(window: &WaitWindow, l: Locale, short: bool) -> String {
    let intl = language::intl(l);
    let day = |d| if short { time::short_date_label(d, intl) } else { time::date_label(d, intl) };
    let hhmm = |t: Option<chrono::NaiveTime>| t.map(|t| t.format("%H:%M").to_string());
    let (from_time, to_time) = (hhmm(window.from_time), hhmm(window.to_time));
    window_words(&day(window.from_day), &day(window.to_day), from_time.as_deref(), to_time.as_deref(), l)
}

/// The four fields of a window, each with its label, and what is wrong with
/// them under them. The days are bounded to the schedule's.
#[component]
pub(crate) fn WindowFields(
    /// The start of every id in the fields, such as `join`.
    prefix: &'static str,
    /// The fields' values.
    input: RwSignal<WindowInput>,
    /// What is wrong with them, said on its field.
    problem: RwSignal<Option<WindowProblem>>,
    /// The schedule's first and last day.
    bounds: Signal<Option<Bounds>>,
    /// Whether the fields are locked (the form was sent).
    disabled: Signal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let problem_id = format!("{prefix}-window-problem");
    let hours_hint = format!("{prefix}-hours-hint");
    let day_value = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let min = move || bounds.get().map(|b| day_value(b.first));
    let max = move || bounds.get().map(|b| day_value(b.last));
    let problem_text = move || {
        let l = i18n.get_locale();
        let intl = language::intl(l);
        let (first, last) =
            bounds.get().map(|b| (time::date_label(b.first, intl), time::date_label(b.last, intl))).unzip();
        problem.get().map(|p| window_problem(p, &first.unwrap_or_default(), &last.unwrap_or_default(), l))
    };
    // One field: its input, marked and described when the problem is its own.
    let hint_id = hours_hint.clone();
    let field = move |which: Field,
                      kind: &'static str,
                      get: fn(&WindowInput) -> &String,
                      set: fn(&mut WindowInput, String)| {
        let wrong = move || problem.get().is_some_and(|p| p.field() == which);
        let problem_id = problem_id.clone();
        let hint = (kind == "time").then(|| hint_id.clone());
        let described = move || {
            let ids: Vec<String> =
                hint.clone().into_iter().chain(wrong().then(|| problem_id.clone())).collect();
            (!ids.is_empty()).then(|| ids.join(" "))
        };
        let (min, max) = if kind == "date" { (Some(min), Some(max)) } else { (None, None) };
        view! {
            <input id=field_id(prefix, which) type=kind disabled=move || disabled.get()
                min=move || min.and_then(|m| m()) max=move || max.and_then(|m| m())
                required=kind == "date"
                aria-invalid=move || wrong().to_string() aria-describedby=described
                prop:value=move || input.with(|i| get(i).clone())
                on:input=move |ev| {
                    input.update(|i| set(i, event_target_value(&ev)));
                    if wrong() {
                        problem.set(None);
                    }
                }/>
        }
    };
    view! {
        <fieldset class="window-set">
            <legend>{t!(i18n, days_legend)}</legend>
            <div class="pair">
                <div class="field">
                    <label for=field_id(prefix, Field::FromDay)>{t!(i18n, from_day_label)}</label>
                    {field(Field::FromDay, "date", |i| &i.from_day, |i, v| i.from_day = v)}
                </div>
                <div class="field">
                    <label for=field_id(prefix, Field::ToDay)>{t!(i18n, to_day_label)}</label>
                    {field(Field::ToDay, "date", |i| &i.to_day, |i, v| i.to_day = v)}
                </div>
            </div>
        </fieldset>
        <fieldset class="window-set">
            <legend>{t!(i18n, hours_legend)}</legend>
            <p class="hint" id=hours_hint.clone()>{t!(i18n, hours_hint)}</p>
            <div class="pair">
                <div class="field">
                    <label for=field_id(prefix, Field::FromTime)>{t!(i18n, from_time_label)}</label>
                    {field(Field::FromTime, "time", |i| &i.from_time, |i, v| i.from_time = v)}
                </div>
                <div class="field">
                    <label for=field_id(prefix, Field::ToTime)>{t!(i18n, to_time_label)}</label>
                    {field(Field::ToTime, "time", |i| &i.to_time, |i, v| i.to_time = v)}
                </div>
            </div>
        </fieldset>
        <Show when=move || problem.get().is_some()>
            <p class="field-problem" role="alert" id=format!("{prefix}-window-problem")>{problem_text}</p>
        </Show>
    }
}
