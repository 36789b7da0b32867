//! Tests of the waitlist link: watching, the offers pushed to it, the answers
//! to the patient's actions, a dropped connection, the countdown, and the
//! entries this browser remembers.

use super::*;
use protocol::{ErrorCode, Offer, Patient, SlotStatus};

use crate::fixtures::slot;

fn entry(status: WaitStatus) -> WaitlistEntry {
    WaitlistEntry {
        doctor_id: DoctorId("d".into()),
        window: WaitWindow {
            from_day: "2026-11-24".parse().unwrap(),
            to_day: "2026-11-26".parse().unwrap(),
            from_time: None,
            to_time: None,
        },
        patient: Patient { name: "Anna".into(), phone: "+7 912 345-67-89".into() },
        status,
        place: matches!(status, WaitStatus::Waiting | WaitStatus::Offered).then_some(2),
        offer: None,
        booking_code: None,
        joined_at: "2026-11-24T07:00:00Z".parse().unwrap(),
    }
}

/// The entry with slot `a` offered to it until 06:10 on the 24th.
fn offered() -> WaitlistEntry {
    let offer =
        Offer { slot: slot("a", SlotStatus::Held), expires_at: "2026-11-24T06:10:00Z".parse().unwrap() };
    WaitlistEntry { offer: Some(offer), ..entry(WaitStatus::Offered) }
}

fn push(entry: WaitlistEntry) -> ServerMessage {
    ServerMessage::Waitlist { request_id: None, entry }
}

fn answer(request_id: &str, entry: WaitlistEntry) -> ServerMessage {
    ServerMessage::Waitlist { request_id: Some(request_id.into()), entry }
}

fn done(request_id: &str, ok: bool, reason: Option<BookingFailure>) -> ServerMessage {
    ServerMessage::ActionResult { request_id: request_id.into(), ok, reason }
}

/// A link showing `shown`, as the answer to its watch.
fn shown(shown: WaitlistEntry) -> WaitLink {
    let mut link = WaitLink::new("w".into());
    assert_eq!(
        link.watch("watch".into()),
        ClientMessage::WatchWaitlist { request_id: "watch".into(), wait_token: "w".into() }
    );
    assert_eq!(link.on_reply(&answer("watch", shown)), Some(Reply::Taken));
    link
}

fn step(link: &WaitLink) -> &Step {
    match &link.state {
        Wait::Shown { step, .. } => step,
        other => panic!("nothing shown: {other:?}"),
    }
}

#[test]
fn the_answer_to_the_watch_shows_the_entry_and_an_unknown_link_shows_not_found() {
    let link = shown(entry(WaitStatus::Waiting));
    assert_eq!(link.entry().map(|e| (e.status, e.place)), Some((WaitStatus::Waiting, Some(2))));
    assert!(!link.over());

    let mut link = WaitLink::new("nope".into());
    link.watch("watch".into());
    link.on_reply(&done("watch", false, Some(BookingFailure::NotFound)));
    assert_eq!(link.state, Wait::NotFound);
    assert!(link.over(), "a link with nothing behind it is forgotten");

    let mut link = WaitLink::new("w".into());
    link.watch("watch".into());
    let error = ServerMessage::Error {
        code: ErrorCode::RateLimited,
        message: "slow".into(),
        request_id: Some("watch".into()),
    };
    link.on_reply(&error);
    assert_eq!(link.state, Wait::Unavailable(Say::Error(ErrorCode::RateLimited)));
}

#[test]
fn a_pushed_offer_shows_at_once_and_its_end_puts_the_entry_back_in_line() {
    let mut link = shown(entry(WaitStatus::Waiting));
    assert_eq!(link.on_reply(&push(offered())), Some(Reply::Taken));
    assert_eq!(link.entry().and_then(|e| e.offer.as_ref()).map(|o| o.slot.id.0.as_str()), Some("a"));
    assert_eq!(link.entry().map(|e| e.status), Some(WaitStatus::Offered));
    link.on_reply(&push(entry(WaitStatus::Waiting)));
    assert_eq!(link.entry().map(|e| (e.status, e.offer.is_some())), Some((WaitStatus::Waiting, false)));
}

#[test]
fn a_push_about_another_entry_or_before_the_entry_is_shown_changes_nothing() {
    let mut link = shown(entry(WaitStatus::Waiting));
    let other = WaitlistEntry { joined_at: "2026-11-20T07:00:00Z".parse().unwrap(), ..offered() };
    link.on_reply(&push(other));
    assert_eq!(link.entry().map(|e| e.status), Some(WaitStatus::Waiting), "an entry watched before");

    let mut loading = WaitLink::new("w".into());
    loading.watch("watch".into());
    assert_eq!(loading.on_reply(&push(offered())), Some(Reply::Taken));
    assert_eq!(loading.state, Wait::Loading, "the watch's answer brings the entry as it is");
}

#[test]
fn taking_the_offer_books_it_and_gives_the_booking_to_remember() {
    let mut link = shown(offered());
    let sent = link.accept("a1".into());
    assert_eq!(sent, Some(ClientMessage::AcceptOffer { request_id: "a1".into(), wait_token: "w".into() }));
    assert!(link.accepting() && link.busy());
    assert_eq!(link.decline("d1".into()), None, "one action at a time");
    let booked = ServerMessage::BookingResult {
        request_id: "a1".into(),
        ok: true,
        booking_code: Some("K7M2-QX4P".into()),
        manage_token: Some("m-secret".into()),
        reason: None,
    };
    let mine = Mine { code: "K7M2-QX4P".into(), token: Some("m-secret".into()) };
    assert_eq!(link.on_reply(&booked), Some(Reply::Booked { slot: SlotId("a".into()), mine }));
    let entry = link.entry().expect("shown");
    assert_eq!((entry.status, entry.booking_code.as_deref()), (WaitStatus::Booked, Some("K7M2-QX4P")));
    let accepted = link.accepted.as_ref().expect("accepted");
    assert_eq!((accepted.slot.id.0.as_str(), accepted.token.as_deref()), ("a", Some("m-secret")));
    assert!(link.over() && !link.busy());
}

#[test]
fn an_offer_gone_before_it_was_taken_is_said_and_the_entry_waits_again() {
    let mut link = shown(offered());
    link.accept("a1".into());
    let refused = ServerMessage::BookingResult {
        request_id: "a1".into(),
        ok: false,
        booking_code: None,
        manage_token: None,
        reason: Some(BookingFailure::NoOffer),
    };
    assert_eq!(link.on_reply(&refused), Some(Reply::Taken));
    assert_eq!(step(&link), &Step::Said(Say::Refused(BookingFailure::NoOffer)));
    assert_eq!(link.entry().map(|e| (e.status, e.offer.is_some())), Some((WaitStatus::Waiting, false)));
    assert_eq!(link.accepted, None);
}

#[test]
fn turning_the_offer_down_keeps_the_place_and_says_so() {
    let mut link = shown(offered());
    assert!(matches!(link.decline("d1".into()), Some(ClientMessage::DeclineOffer { .. })));
    link.on_reply(&done("d1", true, None));
    assert_eq!(step(&link), &Step::Said(Say::Declined));
    assert_eq!(link.entry().map(|e| (e.status, e.place)), Some((WaitStatus::Waiting, Some(2))));
    // The next offer's push makes what was said about the last one stale.
    link.on_reply(&push(offered()));
    assert_eq!(step(&link), &Step::Idle);
}

#[test]
fn leaving_ends_the_entry() {
    let mut link = shown(entry(WaitStatus::Waiting));
    link.step(Step::ConfirmLeave);
    assert!(matches!(link.leave("l1".into()), Some(ClientMessage::LeaveWaitlist { .. })));
    assert_eq!(step(&link), &Step::Sending);
    link.on_reply(&done("l1", true, None));
    assert_eq!(step(&link), &Step::Said(Say::Left));
    assert_eq!(link.entry().map(|e| (e.status, e.place)), Some((WaitStatus::Left, None)));
    assert!(link.over());
    assert_eq!(link.leave("l2".into()), None, "nothing more to leave");
}

#[test]
fn a_new_window_is_sent_while_waiting_and_its_refusal_goes_back_to_the_form() {
    let mut link = shown(offered());
    let window = entry(WaitStatus::Waiting).window;
    assert_eq!(link.change(window, "c0".into()), None, "not while an offer stands");

    let mut link = shown(entry(WaitStatus::Waiting));
    let wider = WaitWindow { to_day: "2026-11-27".parse().unwrap(), ..window };
    let sent = link.change(wider, "c1".into());
    assert_eq!(
        sent,
        Some(ClientMessage::ChangeWaitlist {
            request_id: "c1".into(),
            wait_token: "w".into(),
            window: wider
        })
    );
    link.on_reply(&done("c1", false, Some(BookingFailure::InvalidWindow)));
    assert_eq!(step(&link), &Step::Changing { problem: Some(Say::Refused(BookingFailure::InvalidWindow)) });

    link.change(wider, "c2".into());
    let changed = WaitlistEntry { window: wider, ..entry(WaitStatus::Waiting) };
    link.on_reply(&answer("c2", changed));
    assert_eq!(step(&link), &Step::Said(Say::WindowChanged));
    assert_eq!(link.entry().map(|e| e.window), Some(wider));
}

#[test]
fn a_drop_forgets_what_was_in_flight_and_the_next_watch_shows_the_entry_again() {
    let mut link = shown(offered());
    link.accept("a1".into());
    link.on_disconnect();
    assert_eq!(step(&link), &Step::Said(Say::AcceptDropped), "the booking may have been made");
    assert!(!link.busy());
    let late = done("a1", true, None);
    assert_eq!(link.on_reply(&late), None, "an answer on the old connection is not taken");

    link.watch("watch-2".into());
    let booked =
        WaitlistEntry { booking_code: Some("K7M2-QX4P".into()), place: None, ..entry(WaitStatus::Booked) };
    link.on_reply(&answer("watch-2", booked));
    assert_eq!(link.entry().map(|e| e.status), Some(WaitStatus::Booked), "the watch tells what happened");

    let mut link = shown(entry(WaitStatus::Waiting));
    link.step(Step::ConfirmLeave);
    link.leave("l1".into());
    link.on_disconnect();
    assert_eq!(step(&link), &Step::Idle);
}

#[test]
fn the_countdown_shows_minutes_and_seconds_rounded_up_and_stops_at_zero() {
    assert_eq!(clock(600_000, 0), "10:00");
    assert_eq!(clock(600_000, 1), "10:00", "a part of a second counts as a second");
    assert_eq!(clock(65_000, 0), "1:05");
    assert_eq!(clock(1_000, 999), "0:01");
    assert_eq!(clock(1_000, 1_000), "0:00");
    assert_eq!(clock(1_000, 90_000), "0:00", "never below zero");
}

#[test]
fn the_time_left_is_told_in_a_few_steps_only() {
    let steps: Vec<Left> = [600_000, 300_001, 300_000, 120_000, 60_001, 60_000, 1, 0, -5]
        .into_iter()
        .map(|left| Left::of(left, 0))
        .collect();
    use Left::{AtMost, Over, Plenty};
    assert_eq!(steps, [Plenty, Plenty, AtMost(5), AtMost(2), AtMost(2), AtMost(1), AtMost(1), Over, Over]);
}

#[test]
fn an_entry_is_remembered_once_and_forgotten_by_its_secret() {
    let waiting = |token: &str| Waiting { token: token.into(), doctor: DoctorId("d".into()) };
    let mut all = Vec::new();
    remember(&mut all, waiting("a"));
    remember(&mut all, waiting("b"));
    remember(&mut all, waiting("a"));
    assert_eq!(all, [waiting("a"), waiting("b")]);
    assert!(forget(&mut all, "a"));
    assert!(!forget(&mut all, "a"), "already forgotten");
    assert_eq!(all, [waiting("b")]);
    let stored = serde_json::to_string(&all).unwrap();
    assert_eq!(serde_json::from_str::<Vec<Waiting>>(&stored).unwrap(), all, "it survives storage");
}
