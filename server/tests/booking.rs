//! Booking through real sockets: the initial state, fan-out, races, refusals,
//! reset and durability across restarts.

mod common;

use std::time::Duration;

use client::BookingReply;
use common::*;
use protocol::{BookingFailure, ErrorCode, ServerMessage, SlotId, SlotStatus};

#[tokio::test]
async fn a_new_client_receives_the_whole_schedule_first() {
    let app = spawn_app().await;

    let (_client, state) = app.connect_with_state().await;

    assert_eq!(state.clinic.name, "City Clinic");
    assert_eq!(state.clinic.time_zone, "Europe/Moscow");
    let specialties: Vec<_> = state.doctors.iter().map(|d| d.specialty.as_str()).collect();
    assert_eq!(specialties, ["Therapist · Терапевт", "Dentist · Стоматолог", "Surgeon · Хирург"]);
    let configured = server::clinic::ClinicConfig::demo().slots_from(test_now().date_naive());
    assert_eq!(state.slots.len(), configured.len());
    assert_eq!(state.clinic.min_notice_minutes, 30);
    assert!(state.slots.iter().all(|s| s.status == SlotStatus::Free));
    assert!(state.version >= 1, "creating the slots was a change");
}

#[tokio::test]
async fn one_booking_reaches_all_twenty_clients_as_one_update_each() {
    let app = spawn_app().await;
    let mut clients = Vec::new();
    for _ in 0..20 {
        clients.push(app.connect_with_state().await);
    }
    let (schedule, version) = (clients[0].1.clone(), clients[0].1.version);
    let slot = free_future_slot(&schedule);

    let reply = clients[0].0.book(slot.id.clone(), patient()).await.unwrap();

    let BookingReply::Booked { code, .. } = reply else { panic!("expected a booking, got {reply:?}") };
    assert_eq!(code.len(), 9);
    for (client, _) in &mut clients {
        match recv(client).await {
            ServerMessage::Update { version: v, slot: s } => {
                assert_eq!(v, version + 1);
                assert_eq!(s.id, slot.id);
                assert_eq!(s.status, SlotStatus::Booked);
            }
            other => panic!("expected the update, got {other:?}"),
        }
        assert_silent(client, Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_hundred_clients_racing_for_one_slot_get_exactly_one_success() {
    let app = spawn_app().await;
    let mut clients = Vec::new();
    for _ in 0..100 {
        clients.push(app.connect_with_state().await.0);
    }
    let (_, schedule) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;

    let attempts = clients.into_iter().map(|mut client| {
        let slot = slot.clone();
        tokio::spawn(async move {
            let reply = client.book(slot, patient()).await.unwrap();
            (reply, client)
        })
    });
    let results: Vec<_> =
        futures_util::future::join_all(attempts).await.into_iter().map(Result::unwrap).collect();

    let wins = results.iter().filter(|(r, _)| matches!(r, BookingReply::Booked { .. })).count();
    let lost =
        results.iter().filter(|(r, _)| *r == BookingReply::Refused(BookingFailure::AlreadyBooked)).count();
    assert_eq!((wins, lost), (1, 99));
    for (_, mut client) in results {
        let updates = match recv(&mut client).await {
            ServerMessage::Update { slot: s, .. } => s,
            other => panic!("expected one update, got {other:?}"),
        };
        assert_eq!(updates.id, slot);
        assert_silent(&mut client, Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn refused_bookings_say_why_and_change_nothing() {
    let app = spawn_app().await;
    let (mut booker, schedule) = app.connect_with_state().await;
    let (mut watcher, _) = app.connect_with_state().await;
    let started = schedule.slots.iter().find(|s| s.start <= test_now()).expect("a slot already started");
    let free = free_future_slot(&schedule);

    let past = booker.book(started.id.clone(), patient()).await.unwrap();
    let missing = booker.book(SlotId("no-such-slot".into()), patient()).await.unwrap();
    let mut nameless = patient();
    nameless.name = "  ".into();
    let invalid = booker.book(free.id.clone(), nameless).await.unwrap();

    assert_eq!(past, BookingReply::Refused(BookingFailure::Past));
    assert_eq!(missing, BookingReply::Refused(BookingFailure::NotFound));
    assert_eq!(invalid, BookingReply::Refused(BookingFailure::InvalidPatient));
    assert_silent(&mut watcher, Duration::from_millis(100)).await;
    assert_silent(&mut booker, Duration::from_millis(10)).await;
}

#[tokio::test]
async fn booking_a_taken_slot_tells_only_the_sender() {
    let app = spawn_app().await;
    let (mut first, schedule) = app.connect_with_state().await;
    let (mut second, _) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;
    assert!(matches!(first.book(slot.clone(), patient()).await.unwrap(), BookingReply::Booked { .. }));
    assert!(matches!(recv(&mut second).await, ServerMessage::Update { .. }));
    assert!(matches!(recv(&mut first).await, ServerMessage::Update { .. }));

    let again = second.book(slot, patient()).await.unwrap();

    assert_eq!(again, BookingReply::Refused(BookingFailure::AlreadyBooked));
    assert_silent(&mut first, Duration::from_millis(100)).await;
}

#[tokio::test]
async fn reset_needs_the_admin_token_and_then_gives_everyone_a_fresh_schedule() {
    let app = spawn_app().await;
    let (mut staff, schedule) = app.connect_with_state().await;
    let (mut patient_page, _) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;
    staff.book(slot.clone(), patient()).await.unwrap();
    let _ = recv(&mut staff).await;
    let _ = recv(&mut patient_page).await;

    staff.reset("wrong").await.unwrap();
    match recv(&mut staff).await {
        ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::Forbidden),
        other => panic!("expected forbidden, got {other:?}"),
    }
    assert_silent(&mut patient_page, Duration::from_millis(100)).await;

    staff.reset(ADMIN_TOKEN).await.unwrap();
    for client in [&mut staff, &mut patient_page] {
        match recv(client).await {
            ServerMessage::InitialState(fresh) => {
                assert!(fresh.version > schedule.version + 1, "the version keeps growing");
                assert!(fresh.slots.iter().all(|s| s.status == SlotStatus::Free));
            }
            other => panic!("expected initialState, got {other:?}"),
        }
    }
    let rebooked = staff.book(slot, patient()).await.unwrap();
    assert!(matches!(rebooked, BookingReply::Booked { .. }));
}

#[tokio::test]
async fn a_booking_survives_a_restart_and_the_version_continues() {
    let app = spawn_app().await;
    let (mut client, schedule) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;
    client.book(slot.clone(), patient()).await.unwrap();
    let ServerMessage::Update { version: booked_version, .. } = recv(&mut client).await else {
        panic!("expected the update")
    };
    drop(client);

    let data = app.stop().await;
    let app = TestApp::restart(data).await;
    let (mut client, state) = app.connect_with_state().await;

    assert_eq!(state.version, booked_version, "a restart alone changes nothing");
    let stored = state.slots.iter().find(|s| s.id == slot).unwrap();
    assert_eq!(stored.status, SlotStatus::Booked);
    let other = free_future_slot(&state).id;
    client.book(other, patient()).await.unwrap();
    let ServerMessage::Update { version, .. } = recv(&mut client).await else {
        panic!("expected the update")
    };
    assert_eq!(version, booked_version + 1);
}

#[tokio::test]
async fn the_http_schedule_is_the_same_snapshot_as_the_initial_state() {
    let app = spawn_app().await;
    let (_client, state) = app.connect_with_state().await;

    let (status, body) = http_get(app.addr, "/api/schedule").await;
    let (health_status, health) = http_get(app.addr, "/healthz").await;

    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<protocol::Schedule>(&body).unwrap(), state);
    assert_eq!(health_status, 200);
    assert!(health.contains("\"ok\""));
}

#[tokio::test]
async fn the_root_explains_how_to_build_the_page_until_it_is_built() {
    let app = spawn_app().await;
    let (status, body) = http_get(app.addr, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("cargo xtask"), "{body}");

    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<title>Booking page</title>").unwrap();
    std::fs::write(dist.path().join("app.js"), "console.log(1)").unwrap();
    let app = spawn_with(Options { static_dir: dist.path().into(), ..Options::default() }).await;
    assert!(http_get(app.addr, "/").await.1.contains("Booking page"));
    assert_eq!(http_get(app.addr, "/app.js").await.1, "console.log(1)");
    assert!(http_get(app.addr, "/manage/abc").await.1.contains("Booking page"), "deep links get the app");
}
