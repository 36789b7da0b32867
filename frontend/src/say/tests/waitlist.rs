//! Tests of the waitlist's words: places in line, who is ahead, the days and
//! hours, what is wrong with them, and the end of an offer, in both languages
//! and in the form each number needs.

use super::*;

#[test]
fn places_in_line_take_the_ordinal_of_each_language() {
    let en = |n: u32| place(n, Locale::en).0;
    assert_eq!(
        [en(1), en(2), en(3), en(4)],
        ["You are 1st in line", "You are 2nd in line", "You are 3rd in line", "You are 4th in line"]
    );
    assert_eq!(
        [en(11), en(12), en(13), en(21), en(22), en(23), en(111)],
        [
            "You are 11th in line",
            "You are 12th in line",
            "You are 13th in line",
            "You are 21st in line",
            "You are 22nd in line",
            "You are 23rd in line",
            "You are 111th in line"
        ]
    );
    let ru = |n: u32| place(n, Locale::ru).0;
    assert_eq!(
        [ru(1), ru(2), ru(23)],
        ["Вы на 1-м месте в очереди", "Вы на 2-м месте в очереди", "Вы на 23-м месте в очереди"]
    );
}

#[test]
fn who_is_ahead_is_counted_in_the_form_each_number_needs() {
    assert_eq!(place(1, Locale::en).1, td_string!(Locale::en, wait_next));
    assert_eq!(place(2, Locale::en).1, "1 patient is ahead of you.");
    assert_eq!(place(3, Locale::en).1, "2 patients are ahead of you.");
    let ru = |n: u32| place(n, Locale::ru).1;
    assert_eq!(ru(1), td_string!(Locale::ru, wait_next));
    assert_eq!(
        [ru(2), ru(3), ru(6), ru(12), ru(22)],
        [
            "Перед вами 1 пациент.",
            "Перед вами 2 пациента.",
            "Перед вами 5 пациентов.",
            "Перед вами 11 пациентов.",
            "Перед вами 21 пациент."
        ]
    );
}

#[test]
fn every_window_problem_and_status_has_words_in_both_languages() {
    use crate::waitlist::window::WindowProblem as P;
    let problems = [
        P::NoFromDay,
        P::NoToDay,
        P::BeforeSchedule,
        P::AfterSchedule,
        P::DaysOutOfOrder,
        P::BadFromTime,
        P::BadToTime,
        P::TimesOutOfOrder,
    ];
    for problem in problems {
        let say = |l| window_problem(problem, "FIRST", "LAST", l);
        assert_translated(&format!("{problem:?}"), &say(Locale::en), &say(Locale::ru));
    }
    let words: BTreeSet<String> = problems.iter().map(|p| window_problem(*p, "F", "L", Locale::ru)).collect();
    assert_eq!(words.len(), problems.len(), "each problem has words of its own");
    assert!(
        window_problem(P::BeforeSchedule, "Tuesday 24 November", "L", Locale::en)
            .contains("Tuesday 24 November")
    );
    assert!(window_problem(P::AfterSchedule, "F", "30 ноября", Locale::ru).contains("30 ноября"));
    use protocol::WaitStatus as S;
    for status in [S::Waiting, S::Offered, S::Booked, S::Left, S::Removed] {
        assert_translated(
            &format!("{status:?}"),
            wait_status(status, Locale::en),
            wait_status(status, Locale::ru),
        );
    }
}

#[test]
fn a_window_is_said_with_its_days_once_and_its_hours_only_when_given() {
    let en = |to: &str, from_time, to_time| window_words("Tue 24 Nov", to, from_time, to_time, Locale::en);
    assert_eq!(en("Thu 26 Nov", None, None), "Tue 24 Nov to Thu 26 Nov, any time of day");
    assert_eq!(en("Tue 24 Nov", Some("09:00"), None), "Tue 24 Nov, from 09:00");
    assert_eq!(en("Tue 24 Nov", None, Some("13:00")), "Tue 24 Nov, starting before 13:00");
    assert_eq!(en("Thu 26 Nov", Some("09:00"), Some("13:00")), "Tue 24 Nov to Thu 26 Nov, 09:00–13:00");
    let ru = window_words("вт 24 нояб.", "чт 26 нояб.", Some("09:00"), Some("13:00"), Locale::ru);
    assert_eq!(ru, "вт 24 нояб. — чт 26 нояб.; с 09:00 до 13:00");
}

#[test]
fn the_end_of_an_offer_is_told_in_steps_and_in_the_form_each_number_needs() {
    use crate::waitlist::Left;
    assert_eq!(offer_left(Left::Plenty, Locale::en), None, "nothing while there is plenty");
    assert_eq!(
        offer_left(Left::AtMost(1), Locale::en).as_deref(),
        Some("Less than 1 minute is left to book the time held for you.")
    );
    assert_eq!(
        offer_left(Left::AtMost(5), Locale::ru).as_deref(),
        Some("Осталось меньше 5 минут, чтобы записаться на закреплённое за вами время.")
    );
    assert!(offer_left(Left::AtMost(1), Locale::ru).unwrap().contains("меньше 1 минуты"));
    assert!(offer_left(Left::AtMost(2), Locale::ru).unwrap().contains("меньше 2 минут,"));
    let (en, ru) = (offer_left(Left::Over, Locale::en).unwrap(), offer_left(Left::Over, Locale::ru).unwrap());
    assert_translated("over", &en, &ru);
    let explain = |n: u32| td_string!(Locale::ru, wait_explain, count = n).to_string();
    assert!(explain(1).contains("на 1 минуту,"));
    assert!(explain(3).contains("на 3 минуты,"));
    assert!(explain(10).contains("на 10 минут,"));
}
