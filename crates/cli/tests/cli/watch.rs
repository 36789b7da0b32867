//! `booking watch`: the schedule first, then the changes made by others, in
//! JSON and for people, and through a restart of the server.

use chrono_tz::Tz;
use protocol::Schedule;

use crate::common::{Running, TestServer, free_slots, run};

#[tokio::test]
async fn watch_json_prints_the_schedule_then_the_update_of_a_booking_made_elsewhere() {
    let server = TestServer::start().await;
    let mut watch = Running::spawn(&["watch", "--json", &server.page()]);

    let first = watch.json().await;
    assert_eq!(first["event"], "schedule");
    let schedule: Schedule =
        serde_json::from_value(first.clone()).expect("the schedule as the server sends it");
    let slot = free_slots(&schedule).into_iter().next().expect("a free slot");
    server.book_elsewhere(&slot, "Anna Petrova").await;

    let update = watch.until_json(|line| line["event"] == "update" && line["slot"]["id"] == slot.id.0).await;
    assert_eq!(update["slot"]["status"], "booked");
    assert!(update["version"].as_u64().expect("a version") > schedule.version);
}

#[tokio::test]
async fn watch_for_people_shows_the_slots_and_a_line_when_one_is_booked() {
    let server = TestServer::start().await;
    let (_, schedule) = server.client().await;
    let slot = free_slots(&schedule).into_iter().next().expect("a free slot");
    let zone: Tz = schedule.clinic.time_zone.parse().expect("a known zone");
    let time = slot.start.with_timezone(&zone).format("%H:%M").to_string();
    let mut watch = Running::spawn(&["watch", &server.page(), "--doctor", &slot.doctor_id.0]);

    let header = watch.line().await;
    assert!(header.contains("live") && header.contains(&schedule.clinic.time_zone), "{header}");
    let row = watch.until(|line| line.contains(&slot.id.0)).await;
    assert!(row.contains(&time) && row.contains("free"), "the slot's row: {row}");
    watch.until(|line| line.contains("Ctrl-C")).await;

    server.book_elsewhere(&slot, "Anna Petrova").await;
    let change = watch.until(|line| line.contains(&slot.id.0)).await;
    assert!(change.contains(&time) && change.ends_with("booked"), "the change: {change}");
    assert!(!change.contains('\x1b'), "no colours when NO_COLOR is set: {change:?}");
}

#[tokio::test]
async fn watch_says_when_the_link_drops_and_resumes_when_the_server_is_back() {
    let mut server = TestServer::start().await;
    let mut watch = Running::spawn(&["watch", "--json", &server.page()]);
    let schedule: Schedule = serde_json::from_value(watch.json().await).expect("the schedule");

    server.stop().await;
    let dropped = watch.until_json(|line| line["event"] == "link").await;
    assert_eq!(dropped["state"], "reconnecting");
    assert_eq!(dropped["version"], schedule.version);
    server.restart().await;
    watch.until_json(|line| line["event"] == "link" && line["state"] == "live").await;

    let slot = free_slots(&schedule).into_iter().next().expect("a free slot");
    server.book_elsewhere(&slot, "Anna Petrova").await;
    let update = watch.until_json(|line| line["event"] == "update" && line["slot"]["id"] == slot.id.0).await;
    assert_eq!(update["slot"]["status"], "booked");
}

#[tokio::test]
async fn watch_of_a_doctor_the_clinic_does_not_have_is_a_usage_error() {
    let server = TestServer::start().await;
    let run = run(&["watch", &server.page(), "--doctor", "vet"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("therapist"), "the doctors are named: {run:?}");
}
