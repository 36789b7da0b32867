//! `booking staff`: a receptionist's agenda with patients, cancelling,
//! blocking, unblocking and ending a hold, the audit trail, and the logins
//! that are refused or have no password.

use chrono_tz::Tz;
use protocol::{ClientMessage, ServerMessage, SlotStatus};

use crate::common::{RITA, Run, TestServer, booking, free_slots, run, run_with};

/// `booking staff` as Rita, with her password in the environment.
async fn staff(server: &TestServer, args: &[&str]) -> Run {
    let mut command = booking(&[&["staff", "--url", &server.page(), "--name", RITA.0], args].concat());
    command.env("BOOKING_STAFF_PASSWORD", RITA.1);
    run_with(command, None).await
}

#[tokio::test]
async fn the_agenda_lists_the_days_bookings_with_their_patients() {
    let server = TestServer::start().await;
    let (_, schedule) = server.client().await;
    let slot = &free_slots(&schedule)[0];
    server.book_elsewhere(slot, "Anna Petrova").await;
    let zone: Tz = schedule.clinic.time_zone.parse().expect("a known zone");
    let day = slot.start.with_timezone(&zone).date_naive().to_string();

    let agenda = staff(&server, &["agenda", "--day", &day]).await;
    assert_eq!(agenda.code, 0, "{agenda:?}");
    let row = agenda.stdout.lines().find(|l| l.contains(&slot.id.0)).expect("the booking's row");
    let time = slot.start.with_timezone(&zone).format("%H:%M").to_string();
    assert!(
        row.starts_with(&time) && row.contains("Anna Petrova") && row.contains("+7 912 345-67-89"),
        "{row}"
    );

    let agenda = staff(&server, &["--json", "agenda", "--day", &day]).await.json();
    let bookings = agenda["bookings"].as_array().expect("bookings");
    assert_eq!(bookings.len(), 1, "{agenda}");
    assert_eq!(bookings[0]["patient"]["name"], "Anna Petrova");
    assert_eq!(bookings[0]["slotId"], slot.id.0);
    assert_eq!(bookings[0]["noShow"], false);
}

#[tokio::test]
async fn staff_cancel_block_unblock_and_end_hold_change_the_slots_and_the_history_shows_them() {
    let server = TestServer::start().await;
    let (mut holder, schedule) = server.client().await;
    let free = free_slots(&schedule);
    let (booked, blocked, held) = (&free[0], &free[1], &free[2]);
    server.book_elsewhere(booked, "Anna Petrova").await;

    let cancel = staff(&server, &["cancel", &booked.id.0]).await;
    assert_eq!(cancel.code, 0, "{cancel:?}");
    assert!(cancel.stdout.starts_with("Cancelled the booking of"), "{cancel:?}");
    let again = staff(&server, &["--json", "cancel", &booked.id.0]).await;
    assert_eq!(again.code, 1, "nothing to cancel any more: {again:?}");

    assert_eq!(staff(&server, &["block", &blocked.id.0]).await.code, 0);
    assert_eq!(status(&server, &blocked.id.0).await, SlotStatus::Blocked);
    let twice = staff(&server, &["--json", "block", &blocked.id.0]).await;
    assert_eq!(twice.code, 1, "{twice:?}");
    assert_eq!(twice.json()["ok"], false);
    let unblock = staff(&server, &["--json", "unblock", &blocked.id.0]).await;
    assert_eq!((unblock.code, unblock.json()["action"].as_str()), (0, Some("unblock")));
    assert_eq!(status(&server, &blocked.id.0).await, SlotStatus::Free);

    let request_id = holder.request_id();
    let hold = holder.call(ClientMessage::Hold { request_id, slot_id: held.id.clone() }).await.expect("held");
    assert!(matches!(hold, ServerMessage::HoldResult { ok: true, .. }), "{hold:?}");
    assert_eq!(staff(&server, &["end-hold", &held.id.0]).await.code, 0);
    assert_eq!(status(&server, &held.id.0).await, SlotStatus::Free);

    let history = staff(&server, &["--json", "history", "--slot", &booked.id.0]).await;
    assert_eq!(history.code, 0, "{history:?}");
    let actions: Vec<String> = history.json()["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|row| row["action"].as_str().expect("an action").to_owned())
        .collect();
    assert_eq!(actions, ["cancelled", "booked"], "newest first");
    let history = staff(&server, &["history", "--slot", &blocked.id.0, "--limit", "1"]).await;
    let lines: Vec<&str> = history.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{history:?}");
    assert!(lines[0].contains("staff rita") && lines[0].contains("unblocked"), "{history:?}");
}

#[tokio::test]
async fn the_password_may_come_on_stdin_and_a_wrong_or_missing_one_is_refused() {
    let server = TestServer::start().await;
    let page = server.page();
    let base = ["staff", "--url", &page, "--name", RITA.0];

    let piped = run_with(
        booking(&[&base[..], &["--password-stdin", "today"]].concat()),
        Some(&format!("{}\n", RITA.1)),
    )
    .await;
    assert_eq!(piped.code, 0, "{piped:?}");

    let mut wrong = booking(&[&base[..], &["--json", "today"]].concat());
    wrong.env("BOOKING_STAFF_PASSWORD", "not-ritas-password");
    let wrong = run_with(wrong, None).await;
    assert_eq!((wrong.code, wrong.json()["reason"].as_str()), (4, Some("forbidden")));

    let missing = run(&[&base[..], &["today"]].concat()).await;
    assert_eq!(missing.code, 2, "no password given: {missing:?}");
    assert!(missing.stderr.contains("BOOKING_STAFF_PASSWORD"), "{missing:?}");
}

/// The status of slot `id` as a new connection sees it.
async fn status(server: &TestServer, id: &str) -> SlotStatus {
    let (_, schedule) = server.client().await;
    schedule.slots.iter().find(|s| s.id.0 == id).expect("the slot").status
}
