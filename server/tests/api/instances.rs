//! Several server instances on one PostgreSQL, as separate processes: a change
//! made through one reaches the clients of every other, the database decides
//! races between instances, killing an instance loses nothing and its clients
//! carry on with another, and an instance whose listening connection is cut
//! catches up without its clients missing an update. They need PostgreSQL, so
//! they run only when asked to (see `crate::common::postgres`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::instance::Instance;
use crate::common::postgres::TestDatabase;
use crate::common::{ADMIN, follow_to, free_port, http_get, make_test_staff_at, patient};
use client::{BookingReply, Client, Followed, Follower};
use protocol::{
    BookingFailure, BookingStatus, ClientMessage, Schedule, ServerMessage, Slot, SlotId, SlotStatus, Version,
};
use tokio::sync::watch;

/// Two instances on a fresh database.
async fn two_instances(test: &str) -> (TestDatabase, tempfile::TempDir, Instance, Instance) {
    let db = TestDatabase::require(test).await;
    let logs = tempfile::tempdir().unwrap();
    let a = Instance::start(&db.url, free_port(), logs.path());
    a.connect().await;
    make_test_staff_at(&db.url).await;
    let b = Instance::start(&db.url, free_port(), logs.path());
    b.connect().await;
    (db, logs, a, b)
}

/// Free slots far enough ahead to be bookable now.
fn bookable(schedule: &Schedule) -> Vec<SlotId> {
    let from = chrono::Utc::now() + chrono::Duration::hours(1);
    schedule
        .slots
        .iter()
        .filter(|s| s.status == SlotStatus::Free && s.start > from)
        .map(|s| s.id.clone())
        .collect()
}

/// The next `update`, within a few seconds.
async fn next_update(client: &mut Client) -> (Version, Slot) {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), client.recv()).await;
        if let ServerMessage::Update { version, slot } = message.expect("an update in time").unwrap() {
            return (version, slot);
        }
    }
}

async fn call(client: &mut Client, make: impl FnOnce(String) -> ClientMessage) -> ServerMessage {
    let request_id = client.request_id();
    client.call(make(request_id)).await.unwrap()
}

async fn served_schedule(instance: &Instance) -> Schedule {
    let (status, body) = http_get(([127, 0, 0, 1], instance.port).into(), "/api/schedule").await;
    assert_eq!(status, 200);
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn a_booking_through_one_instance_reaches_the_clients_of_the_other() {
    let (_db, _logs, a, b) = two_instances("a_booking_through_one_instance_reaches…").await;
    let (mut on_a, schedule) = a.connect().await;
    let (mut on_b, schedule_b) = b.connect().await;
    assert_eq!(schedule.version, schedule_b.version, "both serve the same schedule");
    let slot = bookable(&schedule)[0].clone();

    let reply = on_a.book(slot.clone(), patient()).await.unwrap();

    assert!(matches!(reply, BookingReply::Booked { .. }), "{reply:?}");
    let (version, seen) = next_update(&mut on_b).await;
    assert_eq!((version, &seen.id, seen.status), (schedule.version + 1, &slot, SlotStatus::Booked));
    assert_eq!(next_update(&mut on_a).await.0, version, "the same version on both instances");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn two_hundred_clients_split_across_two_instances_race_for_one_slot_and_one_wins() {
    let (_db, _logs, a, b) = two_instances("two_hundred_clients…").await;
    let mut clients = Vec::new();
    for i in 0..200 {
        clients.push(if i % 2 == 0 { a.connect().await.0 } else { b.connect().await.0 });
    }
    let slot = bookable(&served_schedule(&a).await)[3].clone();
    let start = Arc::new(tokio::sync::Barrier::new(clients.len()));

    let racers: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            let (slot, start) = (slot.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let reply = client.book(slot, patient()).await.unwrap();
                (reply, next_update(&mut client).await)
            })
        })
        .collect();

    let mut winners = 0;
    let mut updates = HashMap::new();
    for racer in racers {
        let (reply, (version, seen)) = racer.await.unwrap();
        match reply {
            BookingReply::Booked { .. } => winners += 1,
            BookingReply::Refused(reason) => assert_eq!(reason, BookingFailure::AlreadyBooked),
        }
        *updates.entry((version, seen.id, seen.status)).or_insert(0) += 1;
    }
    assert_eq!(winners, 1, "exactly one of 200 wins");
    assert_eq!(updates.len(), 1, "everyone saw the same single update: {updates:?}");
    assert_eq!(updates.values().sum::<i32>(), 200);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn holds_cancels_and_staff_actions_propagate_across_instances() {
    let (_db, _logs, a, b) = two_instances("holds_cancels_and_staff_actions…").await;
    let (mut holder, schedule) = a.connect().await;
    let (mut watcher_a, _) = a.connect().await;
    let (mut other, _) = b.connect().await;
    let (mut staff, _) = b.connect().await;
    staff.staff_login(ADMIN.0, ADMIN.1).await.expect("the admin logs in");
    loop {
        match tokio::time::timeout(Duration::from_secs(5), staff.recv()).await.unwrap().unwrap() {
            ServerMessage::StaffState { .. } => break,
            ServerMessage::Error { message, .. } => panic!("staff login: {message}"),
            _ => {}
        }
    }
    let slots = bookable(&schedule);
    let (x, y) = (slots[0].clone(), slots[1].clone());

    // A hold on A keeps B's clients out, and B's staff see it.
    let reply = call(&mut holder, |request_id| ClientMessage::Hold { request_id, slot_id: x.clone() }).await;
    assert!(matches!(reply, ServerMessage::HoldResult { ok: true, .. }), "{reply:?}");
    assert_eq!(next_update(&mut other).await.1.status, SlotStatus::Held);
    let refused = call(&mut other, |request_id| ClientMessage::Hold { request_id, slot_id: x.clone() }).await;
    assert!(matches!(
        refused,
        ServerMessage::HoldResult { ok: false, reason: Some(BookingFailure::Held), .. }
    ));
    assert_eq!(other.book(x.clone(), patient()).await.unwrap(), BookingReply::Refused(BookingFailure::Held));

    // The holder books; B's staff get the patient with the update.
    let BookingReply::Booked { manage_token: Some(token), .. } =
        holder.book(x.clone(), patient()).await.unwrap()
    else {
        panic!("the holder books")
    };
    assert_eq!(next_update(&mut other).await.1.status, SlotStatus::Booked);
    let staff_update = loop {
        match tokio::time::timeout(Duration::from_secs(5), staff.recv()).await.unwrap().unwrap() {
            ServerMessage::StaffUpdate { slot_id, booking: Some(booking), .. } if slot_id == x => {
                break booking;
            }
            _ => {}
        }
    };
    assert_eq!(staff_update.patient, patient());

    // The manage link works through the other instance.
    let cancelled =
        call(&mut other, |request_id| ClientMessage::Cancel { request_id, manage_token: token }).await;
    assert!(matches!(cancelled, ServerMessage::ActionResult { ok: true, .. }), "{cancelled:?}");
    let seen = loop {
        let (_, slot) = next_update(&mut watcher_a).await;
        if slot.id == x && slot.status == SlotStatus::Free {
            break slot;
        }
    };
    assert_eq!(seen.id, x);

    // Staff on B block a slot: A's clients see it and cannot book it.
    let blocked =
        call(&mut staff, |request_id| ClientMessage::Block { request_id, slot_id: y.clone() }).await;
    assert!(matches!(blocked, ServerMessage::ActionResult { ok: true, .. }), "{blocked:?}");
    loop {
        let (_, slot) = next_update(&mut watcher_a).await;
        if slot.id == y {
            assert_eq!(slot.status, SlotStatus::Blocked);
            break;
        }
    }
    assert_eq!(
        holder.book(y.clone(), patient()).await.unwrap(),
        BookingReply::Refused(BookingFailure::Blocked)
    );
    let unblocked =
        call(&mut staff, |request_id| ClientMessage::Unblock { request_id, slot_id: y.clone() }).await;
    assert!(matches!(unblocked, ServerMessage::ActionResult { ok: true, .. }));
    // A books by what it knows: once its clients see the slot free again.
    loop {
        let (_, slot) = next_update(&mut watcher_a).await;
        if slot.id == y && slot.status == SlotStatus::Free {
            break;
        }
    }
    assert!(matches!(holder.book(y, patient()).await.unwrap(), BookingReply::Booked { .. }));
    let deadline = Instant::now() + Duration::from_secs(5);
    let (mut a_now, mut b_now) = (served_schedule(&a).await, served_schedule(&b).await);
    while a_now != b_now {
        assert!(Instant::now() < deadline, "the instances agree");
        tokio::time::sleep(Duration::from_millis(50)).await;
        (a_now, b_now) = (served_schedule(&a).await, served_schedule(&b).await);
    }
}

/// Books the given slots one after another through one client of the server at
/// `url`, counting each acknowledged booking in `acks`, until the slots run out or
/// the connection fails; the codes acknowledged, and how many requests failed.
async fn keep_booking(
    url: String,
    slots: Vec<SlotId>,
    acks: watch::Sender<usize>,
) -> (Vec<(String, SlotId)>, usize) {
    let mut booked = Vec::new();
    let Ok(mut client) = Client::connect(&url).await else { return (booked, 1) };
    for slot in slots {
        match client.book(slot.clone(), patient()).await {
            Ok(BookingReply::Booked { code, .. }) => {
                booked.push((code, slot));
                acks.send_modify(|n| *n += 1);
            }
            Ok(BookingReply::Refused(_)) => {}
            Err(_) => return (booked, 1),
        }
    }
    (booked, 0)
}

/// Waits until the count behind `acks` reaches `n`, failing the test if that
/// takes a minute.
async fn acknowledged(acks: &mut watch::Receiver<usize>, n: usize, what: &str) {
    let reached = tokio::time::timeout(Duration::from_secs(60), acks.wait_for(|count| *count >= n))
        .await
        .is_ok_and(|r| r.is_ok());
    assert!(reached, "{what}: {} bookings acknowledged, waiting for {n}", *acks.borrow());
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn killing_an_instance_loses_no_acknowledged_booking_and_its_clients_carry_on_with_the_other() {
    let (db, _logs, mut a, b) = two_instances("killing_an_instance…").await;
    let schedule = served_schedule(&a).await;
    let slots = bookable(&schedule);
    let (for_a, for_b): (Vec<_>, Vec<_>) =
        slots.iter().take(120).cloned().enumerate().partition(|(i, _)| i % 2 == 0);
    let for_a: Vec<SlotId> = for_a.into_iter().map(|(_, s)| s).collect();
    let for_b: Vec<SlotId> = for_b.into_iter().map(|(_, s)| s).collect();
    let after_kill = slots[120].clone();
    let mut followers = Vec::new();
    for _ in 0..5 {
        followers.push(Follower::connect(&[&a.ws_url(), &b.ws_url()]).await.unwrap());
    }
    assert!(followers.iter().all(|f| f.url() == a.ws_url()));

    let (acks_a, mut acked_a) = watch::channel(0);
    let (acks_b, mut acked_b) = watch::channel(0);
    let on_a = tokio::spawn(keep_booking(a.ws_url(), for_a, acks_a));
    let on_b = tokio::spawn(keep_booking(b.ws_url(), for_b, acks_b));
    acknowledged(&mut acked_a, 3, "A before the kill").await;
    acknowledged(&mut acked_b, 3, "B before the kill").await;
    a.kill();
    let (mut late, _) = b.connect().await;
    let late_reply = late.book(after_kill.clone(), patient()).await.unwrap();
    let (booked_a, _) = on_a.await.unwrap();
    let (mut booked_b, failures_b) = on_b.await.unwrap();

    assert_eq!(failures_b, 0, "B kept serving throughout");
    let BookingReply::Booked { code, .. } = late_reply else {
        panic!("B books after the kill: {late_reply:?}")
    };
    booked_b.push((code, after_kill));
    let final_schedule = served_schedule(&b).await;
    let mut resumed = 0;
    for follower in &mut followers {
        let seen = follow_to(follower, final_schedule.version).await;
        assert_eq!(follower.url(), b.ws_url(), "moved to the other instance");
        assert_eq!(follower.schedule(), &final_schedule, "the copy is exact");
        resumed += usize::from(seen.contains(&Followed::Resumed));
    }
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let active: Vec<(String, String)> =
        sqlx::query_as("SELECT code, slot_id FROM bookings WHERE cancelled_at IS NULL")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    let active: HashMap<String, String> = active.into_iter().collect();
    for (code, slot) in booked_a.iter().chain(&booked_b) {
        assert_eq!(active.get(code), Some(&slot.0), "acknowledged booking {code} is there");
    }
    eprintln!(
        "killed A after {} bookings through A and {} through B; {resumed} of 5 followers resumed on B",
        booked_a.len(),
        booked_b.len()
    );
}

/// The pid of `instance`'s listening connection in PostgreSQL, once it has one.
async fn listener_backend(pool: &sqlx::PgPool, instance: &Instance) -> i32 {
    let name = format!("booking-listener-{}", instance.pid());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pid: Option<i32> =
            sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
                .bind(&name)
                .fetch_optional(pool)
                .await
                .unwrap();
        if let Some(pid) = pid {
            return pid;
        }
        assert!(Instant::now() < deadline, "the listener of {name} is back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn an_instance_whose_listening_connection_is_cut_catches_up_and_its_clients_miss_nothing() {
    let (db, _logs, a, b) = two_instances("an_instance_whose_listening…").await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let mut follower = Follower::connect(&[&a.ws_url()]).await.unwrap();
    let (mut booker, schedule) = b.connect().await;
    let mut slots = bookable(&schedule).into_iter();

    for _ in 0..3 {
        let backend = listener_backend(&pool, &a).await;
        let cut: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(backend)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(cut);
        for slot in slots.by_ref().take(10) {
            assert!(matches!(booker.book(slot, patient()).await.unwrap(), BookingReply::Booked { .. }));
        }
        let version = served_schedule(&b).await.version;
        let seen = follow_to(&mut follower, version).await;
        assert!(seen.iter().all(|s| matches!(s, Followed::Changed(_))), "every update, in order: {seen:?}");
        assert_eq!(seen.len(), 10);
        assert_ne!(listener_backend(&pool, &a).await, backend, "a new listening connection");
    }
    assert_eq!(follower.reconnects(), 0, "the clients' connections were never touched");
    assert_eq!(follower.schedule(), &served_schedule(&a).await);
    pool.close().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn an_instance_that_loses_its_database_says_so_and_recovers_when_it_is_back() {
    let db = TestDatabase::require("an_instance_that_loses_its_database…").await;
    let logs = tempfile::tempdir().unwrap();
    let a = Instance::start(&db.url, free_port(), logs.path());
    let (mut client, schedule) = a.connect().await;
    let admin = sqlx::PgPool::connect(db.admin_url()).await.unwrap();
    let health = || async { http_get(([127, 0, 0, 1], a.port).into(), "/healthz").await };
    assert_eq!(health().await.0, 200);

    // The database refuses new connections and drops the instance's.
    let name = db.name();
    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).execute(&admin).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(name)
        .execute(&admin)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let (status, body) = loop {
        let (status, body) = health().await;
        if status != 200 || Instant::now() > deadline {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("unavailable"), "{body}");

    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).execute(&admin).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while health().await.0 != 200 {
        assert!(Instant::now() < deadline, "healthy again once the database is back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reply = client.book(bookable(&schedule)[0].clone(), patient()).await.unwrap();
    assert!(matches!(reply, BookingReply::Booked { .. }), "books again: {reply:?}");
    admin.close().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn retries_moves_and_staff_cancels_work_through_either_instance() {
    let (_db, _logs, a, b) = two_instances("retries_moves_and_staff_cancels…").await;
    let (mut on_a, schedule) = a.connect().await;
    let (mut on_b, _) = b.connect().await;
    let (mut watcher_a, _) = a.connect().await;
    let slots = bookable(&schedule);
    let (x, y) = (slots[0].clone(), slots[1].clone());

    let request_id = on_a.request_id();
    let BookingReply::Booked { code, manage_token: Some(token) } =
        on_a.book_as(request_id.clone(), x.clone(), patient()).await.unwrap()
    else {
        panic!("booked through A")
    };
    // The same request again, through the other instance (the page reconnected
    // there before it saw the answer): the same booking, nothing new.
    next_update(&mut on_b).await;
    let again = on_b.book_as(request_id, x.clone(), patient()).await.unwrap();
    assert_eq!(again, BookingReply::Booked { code: code.clone(), manage_token: None });

    // Moved through B: A's clients see the old slot free and the new one booked,
    // one version after the other.
    let moved = call(&mut on_b, |request_id| ClientMessage::Reschedule {
        request_id,
        manage_token: token.clone(),
        slot_id: y.clone(),
    })
    .await;
    let ServerMessage::Booking { booking, .. } = moved else { panic!("moved: {moved:?}") };
    assert_eq!((booking.code, booking.slot.id.clone(), booking.sequence), (code, y.clone(), 1));
    let (first_version, first) = loop {
        let (version, slot) = next_update(&mut watcher_a).await;
        if slot.id == x && slot.status == SlotStatus::Free {
            break (version, slot);
        }
    };
    let (second_version, second) = next_update(&mut watcher_a).await;
    assert_eq!((first.id, second.id.clone(), second.status), (x, y.clone(), SlotStatus::Booked));
    assert_eq!(second_version, first_version + 1);

    // Staff on A cancel it; B's clients see the slot free.
    let mut staff = a.connect().await.0;
    staff.staff_login(ADMIN.0, ADMIN.1).await.expect("the admin logs in");
    let cancelled =
        call(&mut staff, |request_id| ClientMessage::StaffCancel { request_id, slot_id: y.clone() }).await;
    assert!(matches!(cancelled, ServerMessage::ActionResult { ok: true, .. }), "{cancelled:?}");
    loop {
        let (_, slot) = next_update(&mut on_b).await;
        if slot.id == y && slot.status == SlotStatus::Free {
            break;
        }
    }
    // Both instances read the calendar sequence from the database: one move
    // and the cancel.
    let shown = call(&mut on_b, |request_id| ClientMessage::Lookup { request_id, manage_token: token }).await;
    let ServerMessage::Booking { booking, .. } = shown else { panic!("shown: {shown:?}") };
    assert_eq!((booking.status, booking.sequence), (BookingStatus::Cancelled, 2));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn more_time_on_a_hold_reaches_the_clients_of_the_other_instance() {
    let (_db, _logs, a, b) = two_instances("more_time_on_a_hold…").await;
    let (mut holder, schedule) = a.connect().await;
    let (mut watcher_b, _) = b.connect().await;
    let x = bookable(&schedule)[0].clone();

    let held = call(&mut holder, |request_id| ClientMessage::Hold { request_id, slot_id: x.clone() }).await;
    let ServerMessage::HoldResult { expires_at: Some(until), .. } = held else { panic!("held: {held:?}") };
    let (_, seen) = next_update(&mut watcher_b).await;
    assert_eq!((seen.id.clone(), seen.held_until), (x.clone(), Some(until)));
    let extended =
        call(&mut holder, |request_id| ClientMessage::ExtendHold { request_id, slot_id: x.clone() }).await;
    let ServerMessage::HoldResult { expires_at: Some(later), .. } = extended else { panic!("{extended:?}") };

    assert_eq!(later, until + chrono::Duration::seconds(120));
    let (_, seen) = next_update(&mut watcher_b).await;
    assert_eq!((seen.id.clone(), seen.status, seen.held_until), (x.clone(), SlotStatus::Held, Some(later)));
    let (_, fresh) = b.connect().await;
    let shown = fresh.slots.iter().find(|s| s.id == x).unwrap();
    assert_eq!(shown.held_until, Some(later), "in the other instance's whole schedule too");
    let refused =
        call(&mut watcher_b, |request_id| ClientMessage::ExtendHold { request_id, slot_id: x.clone() }).await;
    assert!(matches!(
        refused,
        ServerMessage::HoldResult { ok: false, reason: Some(BookingFailure::Held), .. }
    ));
}
