//! The waitlist's days and hours as the patient types them: four fields read
//! into a `WaitWindow` by the rules the server applies (days in order and within
//! the schedule shown, hours in order), so that a window the server would refuse
//! is never sent, and what is wrong is said on the field it is about.

use chrono::{NaiveDate, NaiveTime};
use protocol::WaitWindow;

/// The window's four fields as typed: dates as `YYYY-MM-DD` and times as
/// `HH:MM`, as the browser's date and time inputs give them; the times may be
/// left empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowInput {
    /// The first day.
    pub from_day: String,
    /// The last day, included.
    pub to_day: String,
    /// The earliest start, or empty.
    pub from_time: String,
    /// The start a slot must come before, or empty.
    pub to_time: String,
}

/// One of the window's fields, to mark the one a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The first day.
    FromDay,
    /// The last day.
    ToDay,
    /// The earliest start.
    FromTime,
    /// The latest start.
    ToTime,
}

/// What is wrong with a window as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowProblem {
    /// The first day is missing or is not a date.
    NoFromDay,
    /// The last day is missing or is not a date.
    NoToDay,
    /// The first day comes before the schedule's first day.
    BeforeSchedule,
    /// The last day comes after the schedule's last day.
    AfterSchedule,
    /// The last day comes before the first.
    DaysOutOfOrder,
    /// The earliest start is not a time of day.
    BadFromTime,
    /// The latest start is not a time of day.
    BadToTime,
    /// The hours are given but the latest start is not after the earliest.
    TimesOutOfOrder,
}

impl WindowProblem {
    /// The field the problem is said on.
    pub fn field(self) -> Field {
        match self {
            Self::NoFromDay | Self::BeforeSchedule => Field::FromDay,
            Self::NoToDay | Self::AfterSchedule | Self::DaysOutOfOrder => Field::ToDay,
            Self::BadFromTime => Field::FromTime,
            Self::BadToTime | Self::TimesOutOfOrder => Field::ToTime,
        }
    }
}

/// The schedule's first and last day, which a window must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The first day shown.
    pub first: NaiveDate,
    /// The last day shown.
    pub last: NaiveDate,
}

impl Bounds {
    /// The bounds of days given as `YYYY-MM-DD` keys, in any order; `None`
    /// when there are none.
    pub fn of<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let days: Vec<NaiveDate> = keys.into_iter().filter_map(day).collect();
        Some(Self { first: *days.iter().min()?, last: *days.iter().max()? })
    }
}

fn day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// A time of day as `HH:MM` (or `HH:MM:SS`, which browsers give when asked for
/// seconds); `Ok(None)` for an empty field.
fn time(text: &str) -> Result<Option<NaiveTime>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .map(Some)
        .map_err(|_| ())
}

impl WindowInput {
    /// The fields of a window the server gave, to change it.
    pub fn of(window: &WaitWindow) -> Self {
        let time = |t: Option<NaiveTime>| t.map(|t| t.format("%H:%M").to_string()).unwrap_or_default();
        Self {
            from_day: window.from_day.format("%Y-%m-%d").to_string(),
            to_day: window.to_day.format("%Y-%m-%d").to_string(),
            from_time: time(window.from_time),
            to_time: time(window.to_time),
        }
    }

    /// The window typed, or the first thing wrong with it, field by field in
    /// the order the form shows them. Without `bounds` (no schedule yet) the
    /// days are only checked to be in order.
    pub fn read(&self, bounds: Option<Bounds>) -> Result<WaitWindow, WindowProblem> {
        let from_day = day(&self.from_day).ok_or(WindowProblem::NoFromDay)?;
        if bounds.is_some_and(|b| from_day < b.first) {
            return Err(WindowProblem::BeforeSchedule);
        }
        let to_day = day(&self.to_day).ok_or(WindowProblem::NoToDay)?;
        if to_day < from_day {
            return Err(WindowProblem::DaysOutOfOrder);
        }
        if bounds.is_some_and(|b| to_day > b.last) {
            return Err(WindowProblem::AfterSchedule);
        }
        let from_time = time(&self.from_time).map_err(|()| WindowProblem::BadFromTime)?;
        let to_time = time(&self.to_time).map_err(|()| WindowProblem::BadToTime)?;
        let window = WaitWindow { from_day, to_day, from_time, to_time };
        if !window.is_valid() {
            return Err(WindowProblem::TimesOutOfOrder);
        }
        Ok(window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(from_day: &str, to_day: &str, from_time: &str, to_time: &str) -> WindowInput {
        WindowInput {
            from_day: from_day.into(),
            to_day: to_day.into(),
            from_time: from_time.into(),
            to_time: to_time.into(),
        }
    }

    fn bounds() -> Option<Bounds> {
        Bounds::of(["2026-11-27", "2026-11-24", "2026-11-25"])
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn the_bounds_are_the_first_and_last_day_whatever_their_order() {
        let bounds = bounds().expect("days");
        assert_eq!((bounds.first, bounds.last), (date("2026-11-24"), date("2026-11-27")));
        assert_eq!(Bounds::of([]), None);
        assert_eq!(Bounds::of(["not a day"]), None);
    }

    #[test]
    fn days_alone_make_a_window_of_any_hour() {
        let window = input("2026-11-24", "2026-11-25", "", " ").read(bounds()).unwrap();
        assert_eq!(
            window,
            WaitWindow {
                from_day: date("2026-11-24"),
                to_day: date("2026-11-25"),
                from_time: None,
                to_time: None
            }
        );
        let one_day = input("2026-11-27", "2026-11-27", "", "").read(bounds()).unwrap();
        assert_eq!(one_day.from_day, one_day.to_day, "a single day is a window");
    }

    #[test]
    fn hours_are_read_with_or_without_seconds_and_each_may_be_left_out() {
        let window = input("2026-11-24", "2026-11-24", "09:30", "13:00:00").read(bounds()).unwrap();
        assert_eq!(window.from_time, NaiveTime::from_hms_opt(9, 30, 0));
        assert_eq!(window.to_time, NaiveTime::from_hms_opt(13, 0, 0));
        let evening = input("2026-11-24", "2026-11-24", "17:00", "").read(bounds()).unwrap();
        assert_eq!((evening.from_time.is_some(), evening.to_time), (true, None));
    }

    #[test]
    fn each_problem_is_found_and_said_on_its_field() {
        let cases = [
            (input("", "2026-11-25", "", ""), WindowProblem::NoFromDay, Field::FromDay),
            (input("2026-11-24", "25.11.2026", "", ""), WindowProblem::NoToDay, Field::ToDay),
            (input("2026-11-23", "2026-11-25", "", ""), WindowProblem::BeforeSchedule, Field::FromDay),
            (input("2026-11-24", "2026-11-28", "", ""), WindowProblem::AfterSchedule, Field::ToDay),
            (input("2026-11-25", "2026-11-24", "", ""), WindowProblem::DaysOutOfOrder, Field::ToDay),
            (input("2026-11-24", "2026-11-25", "9 am", ""), WindowProblem::BadFromTime, Field::FromTime),
            (input("2026-11-24", "2026-11-25", "", "25:00"), WindowProblem::BadToTime, Field::ToTime),
            (
                input("2026-11-24", "2026-11-25", "12:00", "12:00"),
                WindowProblem::TimesOutOfOrder,
                Field::ToTime,
            ),
            (
                input("2026-11-24", "2026-11-25", "13:00", "09:00"),
                WindowProblem::TimesOutOfOrder,
                Field::ToTime,
            ),
        ];
        for (typed, problem, field) in cases {
            assert_eq!(typed.read(bounds()), Err(problem), "{typed:?}");
            assert_eq!(problem.field(), field, "{problem:?}");
        }
    }

    #[test]
    fn without_a_schedule_only_the_order_of_the_days_is_checked() {
        assert!(input("2020-01-01", "2030-01-01", "", "").read(None).is_ok());
        assert_eq!(input("2030-01-01", "2020-01-01", "", "").read(None), Err(WindowProblem::DaysOutOfOrder));
    }

    #[test]
    fn a_window_from_the_server_reads_back_as_itself() {
        let window = WaitWindow {
            from_day: date("2026-11-24"),
            to_day: date("2026-11-26"),
            from_time: NaiveTime::from_hms_opt(8, 0, 0),
            to_time: None,
        };
        let typed = WindowInput::of(&window);
        assert_eq!(typed, input("2026-11-24", "2026-11-26", "08:00", ""));
        assert_eq!(typed.read(bounds()), Ok(window));
    }
}
