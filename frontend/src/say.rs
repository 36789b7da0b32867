//! What the page tells people, as data: the logic modules say *what* happened
//! (`Say`), and only here is it put into words, in the page's language, from the
//! translation files (`locales/*.json`). Nothing else turns a state into text.

use protocol::{BookingFailure, ErrorCode, PatientProblem, WaitStatus};

/// The staff console's own words, built with the console only (and for their
/// tests).
#[cfg(any(feature = "staff", test))]
pub(crate) mod staff;

use crate::booking::{Hold, HoldNote};
use crate::i18n::{Locale, td_string};
use crate::staff::admin::AdminAct;
use crate::waitlist::Left;
use crate::waitlist::window::WindowProblem;

/// Something the page tells the patient or staff, in no language yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Say {
    /// The server refused, for this reason.
    Refused(BookingFailure),
    /// The server answered with an error of this kind.
    Error(ErrorCode),
    /// The server's answer made no sense for the request.
    Unexpected,
    /// The connection dropped after the booking was sent: its fate is unknown.
    DroppedWhileSending,
    /// The connection dropped before the booking was sent: nothing was booked.
    DroppedBeforeSending,
    /// Not connected, so nothing was sent.
    NotConnected,
    /// The robot check could not be done in this browser.
    RobotCheckUnavailable,
    /// A manage link's appointment moved.
    Moved,
    /// A manage link's appointment was cancelled.
    Cancelled,
    /// The slot a manage link tried to move to was taken meanwhile.
    MoveTaken,
    /// The name and password match no staff account.
    BadLogin,
    /// The session kept by this tab could not be resumed.
    SessionOver,
    /// The session ended while the console was open.
    SessionEnded,
    /// The connection dropped while a login waited for its answer.
    LoginDropped,
    /// The staff member logged out.
    LoggedOut,
    /// The account logged in may not do this.
    Forbidden,
    /// An admin's change was done.
    AdminDone(AdminAct),
    /// An admin's change was refused, for this reason.
    AdminRefused(AdminAct, BookingFailure),
    /// An admin's change was refused as one the server will not make: a name
    /// taken, or the last admin's removal.
    AdminRejected(AdminAct),
    /// The reset was not sent: no connection.
    ResetNotConnected,
    /// The connection dropped while a reset waited for its answer.
    ResetDropped,
    /// The schedule was reset.
    ScheduleReset,
    /// The browser could not make the calendar file.
    CalendarFailed,
    /// The server would not hold the slot any longer.
    MoreTimeRefused,
    /// The connection dropped after the join was sent: its fate is unknown.
    JoinDroppedWhileSending,
    /// The connection dropped before the join was sent: nobody joined.
    JoinDroppedBeforeSending,
    /// The patient turned an offer down and keeps waiting.
    Declined,
    /// The patient left the waitlist.
    Left,
    /// The waitlist entry's days and hours were changed.
    WindowChanged,
    /// The connection dropped after the patient took an offer: whether it was
    /// booked shows once the entry is watched again.
    AcceptDropped,
}

impl Say {
    /// The words, in `locale`.
    pub fn text(self, locale: Locale) -> String {
        let l = locale;
        match self {
            Self::Refused(reason) => failure(reason, l),
            Self::Error(ErrorCode::RateLimited) => td_string!(l, say_rate_limited).to_string(),
            Self::Error(_) => td_string!(l, say_error).to_string(),
            Self::Unexpected => td_string!(l, say_unexpected).to_string(),
            Self::DroppedWhileSending => td_string!(l, say_dropped_sending).to_string(),
            Self::DroppedBeforeSending => td_string!(l, say_dropped_before).to_string(),
            Self::NotConnected => td_string!(l, say_not_connected).to_string(),
            Self::RobotCheckUnavailable => td_string!(l, say_robot_unavailable).to_string(),
            Self::Moved => td_string!(l, say_moved).to_string(),
            Self::Cancelled => td_string!(l, say_cancelled).to_string(),
            Self::MoveTaken => td_string!(l, say_move_taken).to_string(),
            Self::BadLogin => td_string!(l, say_bad_login).to_string(),
            Self::SessionOver => td_string!(l, say_session_over).to_string(),
            Self::SessionEnded => td_string!(l, say_session_ended).to_string(),
            Self::LoginDropped => td_string!(l, say_login_dropped).to_string(),
            Self::LoggedOut => td_string!(l, say_logged_out).to_string(),
            Self::Forbidden => td_string!(l, say_forbidden).to_string(),
            Self::AdminDone(act) => admin_done(act, l).to_owned(),
            Self::AdminRefused(act, reason) => admin_refused(act, reason, l),
            Self::AdminRejected(act) => admin_rejected(act, l).to_owned(),
            Self::ResetNotConnected => td_string!(l, say_reset_not_connected).to_string(),
            Self::ResetDropped => td_string!(l, say_reset_dropped).to_string(),
            Self::ScheduleReset => td_string!(l, say_schedule_reset).to_string(),
            Self::CalendarFailed => td_string!(l, say_calendar_failed).to_string(),
            Self::MoreTimeRefused => td_string!(l, more_time_refused).to_string(),
            Self::JoinDroppedWhileSending => td_string!(l, say_join_dropped_sending).to_string(),
            Self::JoinDroppedBeforeSending => td_string!(l, say_join_dropped_before).to_string(),
            Self::Declined => td_string!(l, say_declined).to_string(),
            Self::Left => td_string!(l, say_left).to_string(),
            Self::WindowChanged => td_string!(l, say_window_changed).to_string(),
            Self::AcceptDropped => td_string!(l, say_accept_dropped).to_string(),
        }
    }
}

/// Why the server refused, in one sentence.
pub fn failure(reason: BookingFailure, l: Locale) -> String {
    match reason {
        BookingFailure::AlreadyBooked => td_string!(l, failure_already_booked),
        BookingFailure::NotFound => td_string!(l, failure_not_found),
        BookingFailure::Past => td_string!(l, failure_past),
        BookingFailure::InvalidPatient => td_string!(l, failure_invalid_patient),
        BookingFailure::Held => td_string!(l, failure_held),
        BookingFailure::TooSoon => td_string!(l, failure_too_soon),
        BookingFailure::Blocked => td_string!(l, failure_blocked),
        BookingFailure::Cancelled => td_string!(l, failure_cancelled),
        BookingFailure::WrongState => td_string!(l, failure_wrong_state),
        BookingFailure::TooManyHolds => td_string!(l, failure_too_many_holds),
        BookingFailure::HoldCooldown => td_string!(l, failure_hold_cooldown),
        BookingFailure::LimitReached => td_string!(l, failure_limit_reached),
        BookingFailure::TooManyBookings => td_string!(l, failure_too_many_bookings),
        BookingFailure::ChallengeFailed => td_string!(l, failure_challenge_failed),
        BookingFailure::TooManyExtensions => td_string!(l, failure_too_many_extensions),
        BookingFailure::InvalidWindow => td_string!(l, failure_invalid_window),
        BookingFailure::NoOffer => td_string!(l, failure_no_offer),
        BookingFailure::AlreadyWaiting => td_string!(l, failure_already_waiting),
    }
    .to_string()
}

/// An admin's change that was done.
pub fn admin_done(act: AdminAct, l: Locale) -> &'static str {
    match act {
        AdminAct::Add => td_string!(l, staff_added),
        AdminAct::Remove => td_string!(l, staff_removed),
        AdminAct::Erase => td_string!(l, erased),
    }
}

/// Why an admin's change was refused: the server refuses an account or a
/// booking it does not know with `notFound`.
pub fn admin_refused(act: AdminAct, reason: BookingFailure, l: Locale) -> String {
    match (act, reason) {
        (AdminAct::Remove, BookingFailure::NotFound) => td_string!(l, staff_unknown).to_string(),
        (AdminAct::Erase, BookingFailure::NotFound) => td_string!(l, erase_not_found).to_string(),
        (_, other) => failure(other, l),
    }
}

/// Why the server would not make an admin's change. The page checks a new
/// account's name and password first, so an account refused has a name
/// taken; a removal refused is of the last admin.
pub fn admin_rejected(act: AdminAct, l: Locale) -> &'static str {
    match act {
        AdminAct::Add => td_string!(l, staff_exists),
        AdminAct::Remove => td_string!(l, staff_last_admin),
        AdminAct::Erase => td_string!(l, erase_rejected),
    }
}

/// The title and the explanation of a booking the dialog could not make.
pub fn refusal(reason: BookingFailure, l: Locale) -> (String, String) {
    let (title, text) = match reason {
        BookingFailure::AlreadyBooked => {
            (td_string!(l, taken_already_booked_title), td_string!(l, taken_already_booked))
        }
        BookingFailure::Held => (td_string!(l, taken_held_title), td_string!(l, taken_held)),
        BookingFailure::TooManyBookings => {
            (td_string!(l, not_booked_title), td_string!(l, taken_too_many_bookings))
        }
        BookingFailure::LimitReached => (td_string!(l, not_booked_title), td_string!(l, taken_limit_reached)),
        BookingFailure::ChallengeFailed => {
            (td_string!(l, not_booked_title), td_string!(l, taken_challenge_failed))
        }
        other => return (td_string!(l, cannot_book_title).to_string(), failure(other, l)),
    };
    (title.to_string(), text.to_string())
}

/// What the form says about its hold.
pub fn hold_note_text(note: HoldNote, hold: &Hold, l: Locale) -> String {
    let not_reserved = td_string!(l, not_reserved);
    let text = match note {
        HoldNote::Minutes(n) => td_string!(l, hold_left, count = n).to_string(),
        HoldNote::LessThanAMinute => td_string!(l, hold_left_seconds).to_string(),
        HoldNote::NotHeld(BookingFailure::HoldCooldown) => {
            format!("{} {not_reserved}", td_string!(l, hold_cooldown))
        }
        HoldNote::NotHeld(BookingFailure::TooManyHolds) => {
            format!("{} {not_reserved}", td_string!(l, hold_too_many))
        }
        HoldNote::NotHeld(other) => format!("{} {not_reserved}", failure(other, l)),
        HoldNote::Ended => format!("{} {not_reserved}", td_string!(l, hold_ended)),
    };
    if matches!(hold, Hold::Final { .. }) { format!("{text} {}", Say::MoreTimeRefused.text(l)) } else { text }
}

/// What is wrong with a patient's detail, for the field it is about.
pub fn patient_problem(problem: PatientProblem, l: Locale) -> String {
    match problem {
        PatientProblem::Name => td_string!(l, problem_name),
        PatientProblem::Phone => td_string!(l, problem_phone),
    }
    .to_string()
}

/// What is wrong with the waitlist's days and hours, for the field it is
/// about; `first` and `last` are the schedule's first and last day in words.
pub fn window_problem(problem: WindowProblem, first: &str, last: &str, l: Locale) -> String {
    match problem {
        WindowProblem::NoFromDay => td_string!(l, window_no_from_day).to_string(),
        WindowProblem::NoToDay => td_string!(l, window_no_to_day).to_string(),
        WindowProblem::BeforeSchedule => td_string!(l, window_before_schedule, first = first).to_string(),
        WindowProblem::AfterSchedule => td_string!(l, window_after_schedule, last = last).to_string(),
        WindowProblem::DaysOutOfOrder => td_string!(l, window_days_order).to_string(),
        WindowProblem::BadFromTime => td_string!(l, window_bad_from_time).to_string(),
        WindowProblem::BadToTime => td_string!(l, window_bad_to_time).to_string(),
        WindowProblem::TimesOutOfOrder => td_string!(l, window_times_order).to_string(),
    }
}

/// A waitlist window in words, from its days and its hours (`HH:MM`) as the
/// page writes them: a single day once, and hours only when there are some.
pub fn window_words(
    from_day: &str,
    to_day: &str,
    from_time: Option<&str>,
    to_time: Option<&str>,
    l: Locale,
) -> String {
    let days = if from_day == to_day {
        from_day.to_owned()
    } else {
        td_string!(l, window_days, from = from_day, to = to_day).to_string()
    };
    let times = match (from_time, to_time) {
        (None, None) => td_string!(l, window_any_time).to_string(),
        (Some(from), None) => td_string!(l, window_from_time, time = from).to_string(),
        (None, Some(to)) => td_string!(l, window_to_time, time = to).to_string(),
        (Some(from), Some(to)) => td_string!(l, window_times, from = from, to = to).to_string(),
    };
    td_string!(l, window_value, days = days, times = times).to_string()
}

/// Where a waitlist entry stands, in a few words.
pub fn wait_status(status: WaitStatus, l: Locale) -> &'static str {
    match status {
        WaitStatus::Waiting => td_string!(l, wait_status_waiting),
        WaitStatus::Offered => td_string!(l, wait_status_offered),
        WaitStatus::Booked => td_string!(l, wait_status_booked),
        WaitStatus::Left => td_string!(l, wait_status_left),
        WaitStatus::Removed => td_string!(l, wait_status_removed),
        WaitStatus::Lapsed => td_string!(l, wait_status_lapsed),
    }
}

/// The entry's place in line, and who is ahead.
pub fn place(place: u32, l: Locale) -> (String, String) {
    let ahead = match place.saturating_sub(1) {
        0 => td_string!(l, wait_next).to_string(),
        n => td_string!(l, wait_ahead, count = n).to_string(),
    };
    (td_string!(l, wait_place, count = place).to_string(), ahead)
}

/// What a screen reader is told as an offer's time runs down: nothing while
/// there is plenty.
pub fn offer_left(left: Left, l: Locale) -> Option<String> {
    match left {
        Left::Plenty => None,
        Left::AtMost(minutes) => Some(td_string!(l, offer_left_minutes, count = minutes).to_string()),
        Left::Over => Some(td_string!(l, offer_over).to_string()),
    }
}

#[cfg(test)]
mod tests;
