//! Coming back: a client that lost its connection says which version it holds
//! and gets only the updates it missed, while the server still has them, and the
//! whole schedule otherwise; a client that notices a gap asks on the open
//! connection; and `client::Follower` keeps an exact copy through all of it.

use std::time::Duration;

use crate::common::*;
use client::tungstenite::Message;
use client::{BookingReply, Client, Followed, Follower};
use futures_util::StreamExt;
use protocol::{ClientMessage, ServerMessage, SlotId, Version};

/// Books `n` free future slots through `booker`; their ids.
async fn book_some(booker: &mut Client, schedule: &protocol::Schedule, skip: usize, n: usize) -> Vec<SlotId> {
    let slots: Vec<SlotId> = free_future_slots(schedule).skip(skip).take(n).map(|s| s.id.clone()).collect();
    for slot in &slots {
        let reply = booker.book(slot.clone(), patient()).await.unwrap();
        assert!(matches!(reply, BookingReply::Booked { .. }), "{reply:?}");
    }
    slots
}

/// The next `n` messages, each of which must be an `update`: their versions and
/// slots.
async fn updates(client: &mut Client, n: usize) -> Vec<(Version, SlotId)> {
    let mut seen = Vec::new();
    while seen.len() < n {
        match recv(client).await {
            ServerMessage::Update { version, slot } => seen.push((version, slot.id)),
            other => panic!("expected only updates, got {other:?}"),
        }
    }
    seen
}

/// Shows that nothing else was on its way to `client`: `booker` books the free
/// slot `skip` places on, and its update, one version past `version`, must be
/// the very next message `client` gets.
async fn next_is_the_next_change(
    client: &mut Client,
    booker: &mut Client,
    schedule: &protocol::Schedule,
    skip: usize,
    version: Version,
) {
    let booked = book_some(booker, schedule, skip, 1).await;
    assert_eq!(updates(client, 1).await, [(version + 1, booked[0].clone())], "nothing came in between");
}

#[tokio::test]
async fn a_returning_client_gets_resumed_and_exactly_the_updates_it_missed() {
    let app = spawn_app().await;
    let (away, schedule) = app.connect_with_state().await;
    let held = schedule.version;
    drop(away);
    let (mut booker, _) = app.connect_with_state().await;
    let booked = book_some(&mut booker, &schedule, 0, 3).await;

    let mut back = Client::connect_resuming(&app.ws_url(), held).await.unwrap();

    assert_eq!(recv(&mut back).await, ServerMessage::Resumed { version: held + 3 });
    let expected: Vec<(Version, SlotId)> = (held + 1..).zip(booked).collect();
    assert_eq!(updates(&mut back, 3).await, expected);
    next_is_the_next_change(&mut back, &mut booker, &schedule, 3, held + 3).await;
}

/// Holds `slot` through `client` and lets it go, `pairs` times: two updates each.
async fn churn(client: &mut Client, slot: &SlotId, pairs: usize) {
    for _ in 0..pairs {
        let request_id = client.request_id();
        let reply = client.call(ClientMessage::Hold { request_id, slot_id: slot.clone() }).await.unwrap();
        assert!(matches!(reply, ServerMessage::HoldResult { ok: true, .. }), "{reply:?}");
        client.send(&ClientMessage::Release { slot_id: slot.clone() }).await.unwrap();
    }
}

/// Reads `client`'s messages until the update of `version`.
async fn until(client: &mut Client, version: Version) {
    loop {
        if let ServerMessage::Update { version: v, .. } = recv(client).await
            && v == version
        {
            return;
        }
    }
}

/// Options for a client that makes a few hundred changes in a row.
fn churning() -> Options {
    let mut options = Options::default();
    options.limits.messages_per_sec = 100_000;
    options
}

/// A server started with `options` on which a client has made `pairs` hold
/// and release pairs on one slot: the server, that client, the version before
/// the pairs and the slot.
async fn churned(options: Options, pairs: usize) -> (TestApp, Client, Version, SlotId) {
    let app = spawn_with(options).await;
    let (mut churner, schedule) = app.connect_with_state().await;
    let held = schedule.version;
    let slot = free_future_slot(&schedule).id.clone();
    churn(&mut churner, &slot, pairs).await;
    until(&mut churner, held + 2 * pairs as Version).await;
    (app, churner, held, slot)
}

#[tokio::test]
async fn a_client_far_behind_gets_every_update_it_missed_over_several_writes() {
    let app = spawn_with(churning()).await;
    let (away, schedule) = app.connect_with_state().await;
    let held = schedule.version;
    drop(away);
    let (mut churner, _) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id.clone();
    // More than three of the server's replay windows (64 updates each).
    churn(&mut churner, &slot, 100).await;
    until(&mut churner, held + 200).await;

    let mut back = Client::connect_resuming(&app.ws_url(), held).await.unwrap();

    assert_eq!(recv(&mut back).await, ServerMessage::Resumed { version: held + 200 });
    let versions: Vec<Version> = updates(&mut back, 200).await.into_iter().map(|(v, _)| v).collect();
    assert_eq!(versions, (held + 1..=held + 200).collect::<Vec<_>>());
    next_is_the_next_change(&mut back, &mut churner, &schedule, 1, held + 200).await;
}

#[tokio::test]
async fn a_slow_reader_whose_replay_the_log_outran_gets_the_whole_schedule_midway() {
    let mut options = churning();
    options.limits.replay_log = 100;
    options.limits.outgoing_queue = 1000;
    // The stuck reader is never cut off for a write that timed out here.
    options.limits.write_timeout = Duration::from_secs(60);
    // The server's side of the socket gets the smallest send buffer the
    // kernel allows.
    options.limits.send_buffer = 1024;
    let (app, mut churner, held, slot) = churned(options, 40).await;
    // A client that comes back 80 updates behind and reads nothing for now, on
    // a socket whose buffers are as small as the kernel allows: the first
    // window (64 updates, about 13 KB) does not fit.
    let (client_side, served) = stuck_peer(&app, Some(held)).await;
    // The replay has begun once its first bytes arrive.
    client_side.readable().await.unwrap();
    // Meanwhile the log (100 updates) lets go of the rest of what it still needs.
    churn(&mut churner, &slot, 60).await;
    until(&mut churner, held + 200).await;

    let mut stuck = tokio_tungstenite::WebSocketStream::from_raw_socket(
        client_side,
        tokio_tungstenite::tungstenite::protocol::Role::Client,
        None,
    )
    .await;
    let mut next = async || match tokio::time::timeout(Duration::from_secs(10), stuck.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str::<ServerMessage>(&text).unwrap(),
        other => panic!("expected a message, got {other:?}"),
    };
    assert_eq!(next().await, ServerMessage::Resumed { version: held + 80 });
    let mut version = held;
    let fresh = loop {
        match next().await {
            ServerMessage::Update { version: v, .. } => {
                assert_eq!(v, version + 1, "in order, without a gap");
                version = v;
            }
            ServerMessage::InitialState(fresh) => break fresh,
            other => panic!("expected updates, then the schedule: {other:?}"),
        }
    };
    assert!(version >= held + 64 && version < held + 80, "the first windows, not all of them: {version}");
    assert_eq!(fresh.version, held + 200);
    churn(&mut churner, &slot, 1).await;
    assert!(matches!(next().await, ServerMessage::Update { version, .. } if version == held + 201));
    drop(stuck);
    tokio::time::timeout(Duration::from_secs(10), served).await.expect("its connection ended").unwrap();
}

#[tokio::test]
async fn a_client_that_takes_a_long_replay_slowly_is_not_dropped_as_idle_meanwhile() {
    let mut options = churning();
    // Pings every half second; silent for 1.5 s, a client is dropped (2 s
    // at most, with the sweep's period).
    options.limits.idle_timeout = Duration::from_millis(1500);
    options.limits.send_buffer = 1024;
    let (app, churner, held, slot) = churned(options, 300).await;

    // 600 updates back, taken one every 5 ms through buffers as small as the
    // kernel allows: the replay lasts over 3 s, a window about 0.3 s, and the
    // server reads nothing from this client (its pongs either) until it is
    // over.
    let (client_side, served) = stuck_peer(&app, Some(held)).await;
    let mut slow = tokio_tungstenite::WebSocketStream::from_raw_socket(
        client_side,
        tokio_tungstenite::tungstenite::protocol::Role::Client,
        None,
    )
    .await;
    let started = tokio::time::Instant::now();
    let mut next = async || loop {
        tokio::time::sleep(Duration::from_millis(5)).await;
        match tokio::time::timeout(Duration::from_secs(10), slow.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => break serde_json::from_str::<ServerMessage>(&text).unwrap(),
            Ok(Some(Ok(Message::Ping(_)))) => {}
            other => panic!("expected a message, got {other:?}"),
        }
    };
    assert_eq!(next().await, ServerMessage::Resumed { version: held + 600 });
    for expected in held + 1..=held + 600 {
        match next().await {
            ServerMessage::Update { version, .. } => assert_eq!(version, expected, "in order, without a gap"),
            other => panic!("expected update {expected}, got {other:?}"),
        }
    }
    assert!(started.elapsed() > Duration::from_secs(2), "longer than the idle timeout allows a silence");
    // The churner, which read nothing meanwhile either, was dropped: another
    // connection makes the next change, while this client reads on (and
    // answers pings).
    drop(churner);
    let change = tokio::spawn(async move {
        let (mut changer, _) = app.connect_with_state().await;
        churn(&mut changer, &slot, 1).await;
        (app, changer)
    });
    assert!(matches!(next().await, ServerMessage::Update { version, .. } if version == held + 601));
    let _still_up = change.await.unwrap();
    drop(slow);
    tokio::time::timeout(Duration::from_secs(10), served).await.expect("its connection ended").unwrap();
}

#[tokio::test]
async fn a_client_that_is_up_to_date_gets_resumed_and_nothing_else() {
    let app = spawn_app().await;
    let (mut booker, schedule) = app.connect_with_state().await;

    let mut back = Client::connect_resuming(&app.ws_url(), schedule.version).await.unwrap();

    assert_eq!(recv(&mut back).await, ServerMessage::Resumed { version: schedule.version });
    next_is_the_next_change(&mut back, &mut booker, &schedule, 0, schedule.version).await;
}

#[tokio::test]
async fn a_client_further_behind_than_the_log_gets_the_whole_schedule() {
    let mut options = Options::default();
    options.limits.replay_log = 2;
    let app = spawn_with(options).await;
    let (_, schedule) = app.connect_with_state().await;
    let (mut booker, _) = app.connect_with_state().await;
    book_some(&mut booker, &schedule, 0, 3).await;

    let mut back = Client::connect_resuming(&app.ws_url(), schedule.version).await.unwrap();

    let ServerMessage::InitialState(fresh) = recv(&mut back).await else { panic!("expected the schedule") };
    assert_eq!(fresh.version, schedule.version + 3);
    let mut recent = Client::connect_resuming(&app.ws_url(), schedule.version + 1).await.unwrap();
    assert_eq!(recv(&mut recent).await, ServerMessage::Resumed { version: schedule.version + 3 });
}

#[tokio::test]
async fn a_reset_or_a_version_this_server_never_had_means_the_whole_schedule() {
    let app = spawn_app().await;
    let (mut staff, schedule) = app.connect_with_state().await;

    for bogus in
        [format!("{}/ws?lastVersion={}", app.ws_url().trim_end_matches("/ws"), schedule.version + 1000)]
            .into_iter()
            .chain([format!("{}?lastVersion=not-a-number", app.ws_url())])
    {
        let mut client = Client::connect(&bogus).await.unwrap();
        assert!(matches!(recv(&mut client).await, ServerMessage::InitialState(_)), "for {bogus}");
    }
    log_in_admin(&mut staff).await;
    staff.reset().await.unwrap();
    let ServerMessage::InitialState(after_reset) = recv(&mut staff).await else { panic!("a new schedule") };

    let mut back = Client::connect_resuming(&app.ws_url(), schedule.version).await.unwrap();

    let ServerMessage::InitialState(fresh) = recv(&mut back).await else { panic!("expected the schedule") };
    assert_eq!(fresh.version, after_reset.version);
}

#[tokio::test]
async fn hello_on_an_open_connection_replays_what_the_client_says_it_missed() {
    let app = spawn_app().await;
    let (mut client, schedule) = app.connect_with_state().await;
    let (mut booker, _) = app.connect_with_state().await;
    let booked = book_some(&mut booker, &schedule, 0, 2).await;
    let expected: Vec<(Version, SlotId)> = (schedule.version + 1..).zip(booked).collect();
    assert_eq!(updates(&mut client, 2).await, expected);

    client.hello(schedule.version).await.unwrap();

    assert_eq!(recv(&mut client).await, ServerMessage::Resumed { version: schedule.version + 2 });
    assert_eq!(updates(&mut client, 2).await, expected);
    next_is_the_next_change(&mut client, &mut booker, &schedule, 2, schedule.version + 2).await;
}

/// A connection to `app`, once a place is free (it refuses connections over its
/// limit with 503 until then).
async fn connect_once_there_is_room(app: &TestApp) -> Client {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match Client::connect(&app.ws_url()).await {
            Ok(mut client) => {
                assert!(matches!(recv(&mut client).await, ServerMessage::InitialState(_)));
                return client;
            }
            Err(client::Error::WebSocket(client::tungstenite::Error::Http(response))) => {
                assert_eq!(response.status().as_u16(), 503);
            }
            Err(e) => panic!("{e}"),
        }
        assert!(std::time::Instant::now() < deadline, "a place became free");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_follower_keeps_an_exact_copy_when_dropped_and_across_a_restart() {
    let port = free_port();
    // One place only, so that the booker gets in once the follower is gone, and
    // the follower gets back in once the booker is.
    let mut options = Options { port: Some(port), ..Options::default() };
    options.limits.idle_timeout = Duration::from_millis(600);
    options.limits.max_connections = 1;
    let app = spawn_with(options.clone()).await;
    let mut follower = Follower::connect(&[&app.ws_url()]).await.unwrap();
    let schedule = follower.schedule().clone();

    // Not reading, the follower answers no ping: the server drops it, and it
    // comes back for what it missed.
    let mut booker = connect_once_there_is_room(&app).await;
    book_some(&mut booker, &schedule, 0, 5).await;
    drop(booker);
    let seen = follow_to(&mut follower, schedule.version + 5).await;
    assert_eq!(follower.reconnects(), 1, "dropped once and back");
    assert!(seen.contains(&Followed::Resumed), "resumed, not sent everything again: {seen:?}");
    assert!(!seen.contains(&Followed::Replaced), "{seen:?}");

    let dir = app.stop().await;
    let app = TestApp::restart_with(dir, options).await;
    let mut booker = connect_once_there_is_room(&app).await;
    book_some(&mut booker, &schedule, 5, 2).await;
    drop(booker);
    follow_to(&mut follower, schedule.version + 7).await;

    let (_, body) = http_get(app.addr, "/api/schedule").await;
    let served: protocol::Schedule = serde_json::from_str(&body).unwrap();
    assert_eq!(follower.schedule(), &served, "the copy is exact");
    assert_eq!(follower.reconnects(), 2);
}
