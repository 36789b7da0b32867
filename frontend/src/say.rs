//! What the page tells people, as data: the logic modules say *what* happened
//! (`Say`), and only here is it put into words, in the page's language, from the
//! translation files (`locales/*.json`). Nothing else turns a state into text.

use protocol::{BookingFailure, ErrorCode, PatientProblem};

use crate::booking::{Hold, HoldNote};
use crate::i18n::{Locale, td_string};

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
    /// The admin token was refused.
    BadAdminToken,
    /// The admin token field was empty.
    EnterAdminToken,
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
            Self::BadAdminToken => td_string!(l, say_bad_admin_token).to_string(),
            Self::EnterAdminToken => td_string!(l, say_enter_admin_token).to_string(),
            Self::ResetNotConnected => td_string!(l, say_reset_not_connected).to_string(),
            Self::ResetDropped => td_string!(l, say_reset_dropped).to_string(),
            Self::ScheduleReset => td_string!(l, say_schedule_reset).to_string(),
            Self::CalendarFailed => td_string!(l, say_calendar_failed).to_string(),
            Self::MoreTimeRefused => td_string!(l, more_time_refused).to_string(),
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
    }
    .to_string()
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

#[cfg(test)]
mod tests;
