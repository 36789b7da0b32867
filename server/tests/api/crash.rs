//! Crash safety: the server binary, as its own process, is killed with SIGKILL
//! after a random number of acknowledged bookings while clients hold, book and
//! cancel, and restarted on the same database each time; after every kill the
//! database is checked. Every acknowledged booking must be there, every
//! acknowledged cancellation must hold, nothing nobody asked for may appear, no
//! slot may have two bookings, no hold may outlive the process that made it, and
//! the version must never go backwards.

use std::collections::{HashMap, HashSet};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::instance::Instance;
use crate::common::{database_url, free_port};
use client::{BookingReply, Client};
use protocol::{ClientMessage, Patient, Schedule, ServerMessage, SlotId, SlotStatus};
use tokio::sync::watch;

const ROUNDS: usize = 10;
const CLIENTS: usize = 6;

/// What the clients were told, over all rounds.
#[derive(Default, Clone)]
struct Ledger {
    /// Slots somebody tried to book (acknowledged or not).
    attempted: HashSet<SlotId>,
    /// Acknowledged bookings: code → slot.
    booked: HashMap<String, SlotId>,
    /// Codes whose cancellation was asked for (acknowledged or not).
    cancel_attempted: HashSet<String>,
    /// Codes whose cancellation was acknowledged.
    cancelled: HashSet<String>,
    /// The highest version any client saw.
    version: u64,
}

async fn connect(port: u16) -> Client {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(client) = Client::connect(&format!("ws://127.0.0.1:{port}/ws")).await {
            return client;
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn random(below: usize) -> usize {
    use std::hash::{BuildHasher, Hasher};
    (std::collections::hash_map::RandomState::new().build_hasher().finish() % below as u64) as usize
}

/// One client's work until its connection dies: hold a free slot (as the page
/// does when the form opens), book it, and cancel about a third of its bookings
/// through their manage links. Each acknowledged booking is counted in `acks`.
async fn work(port: u16, ledger: Arc<Mutex<Ledger>>, acks: Arc<watch::Sender<usize>>) {
    let mut client = connect(port).await;
    let Ok(ServerMessage::InitialState(schedule)) = client.recv().await else { return };
    let now = chrono::Utc::now() + chrono::Duration::minutes(40);
    let mut free: Vec<SlotId> = schedule
        .slots
        .iter()
        .filter(|s| s.status == SlotStatus::Free && s.start > now)
        .map(|s| s.id.clone())
        .collect();
    let patient = Patient { name: "Crash Test".into(), phone: "+7 900 000-00-00".into() };
    loop {
        if free.is_empty() {
            return;
        }
        let slot = free.swap_remove(random(free.len()));
        ledger.lock().unwrap().attempted.insert(slot.clone());
        let request_id = client.request_id();
        match client.call(ClientMessage::Hold { request_id, slot_id: slot.clone() }).await {
            Ok(ServerMessage::HoldResult { ok: true, .. }) => {}
            Ok(_) => continue,
            Err(_) => return,
        }
        let (code, token) = match client.book(slot.clone(), patient.clone()).await {
            Ok(BookingReply::Booked { code, manage_token: Some(token) }) => (code, token),
            Ok(_) => continue,
            Err(_) => return,
        };
        ledger.lock().unwrap().booked.insert(code.clone(), slot);
        acks.send_modify(|n| *n += 1);
        if random(3) == 0 {
            ledger.lock().unwrap().cancel_attempted.insert(code.clone());
            let request_id = client.request_id();
            match client.call(ClientMessage::Cancel { request_id, manage_token: token }).await {
                Ok(ServerMessage::ActionResult { ok: true, .. }) => {
                    ledger.lock().unwrap().cancelled.insert(code);
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
        while let Ok(Ok(message)) = tokio::time::timeout(Duration::ZERO, client.recv()).await {
            if let ServerMessage::Update { version, .. } = message {
                let mut ledger = ledger.lock().unwrap();
                ledger.version = ledger.version.max(version);
            }
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    slot_id: String,
    code: String,
    cancelled: bool,
}

/// The schedule a server that just started serves, after checking that the
/// version did not go back.
async fn schedule_after_start(server: &Instance, ledger: &Mutex<Ledger>) -> Schedule {
    let (_, state) = server.connect().await;
    let mut ledger = ledger.lock().unwrap();
    assert!(
        state.version >= ledger.version,
        "the version went back from {} to {}",
        ledger.version,
        state.version
    );
    ledger.version = state.version;
    state
}

/// Checks the database in `dir` and the schedule a freshly started server serves
/// from it against everything the clients were told.
async fn check(dir: &Path, ledger: &Ledger, state: &Schedule) {
    let pool = sqlx::SqlitePool::connect(&database_url(dir)).await.unwrap();
    let rows: Vec<Row> =
        sqlx::query_as("SELECT slot_id, code, cancelled_at IS NOT NULL AS cancelled FROM bookings")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    let by_code: HashMap<&str, &Row> = rows.iter().map(|r| (r.code.as_str(), r)).collect();
    for (code, slot) in &ledger.booked {
        let row = by_code.get(code.as_str()).unwrap_or_else(|| panic!("acknowledged booking {code} is lost"));
        assert_eq!(row.slot_id, slot.0);
        // An acknowledged cancellation holds; one cut off by the kill may or may
        // not have been committed, but nothing was cancelled unasked.
        if ledger.cancelled.contains(code) {
            assert!(row.cancelled, "the acknowledged cancellation of {code} is lost");
        }
        if row.cancelled {
            assert!(ledger.cancel_attempted.contains(code), "{code} was cancelled unasked");
        }
    }
    let held: Vec<&SlotId> =
        state.slots.iter().filter(|s| s.status == SlotStatus::Held).map(|s| &s.id).collect();
    assert!(held.is_empty(), "holds outlived the process that made them: {held:?}");
    let mut active = HashSet::new();
    for row in rows.iter().filter(|r| !r.cancelled) {
        assert!(ledger.attempted.contains(&SlotId(row.slot_id.clone())), "ghost booking of {}", row.slot_id);
        assert!(active.insert(&row.slot_id), "{} is booked twice", row.slot_id);
        let shown = state.slots.iter().find(|s| s.id.0 == row.slot_id).map(|s| s.status);
        assert_eq!(shown, Some(SlotStatus::Booked), "the schedule shows {}", row.slot_id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_bookings_survive_repeated_sigkills() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let acks = Arc::new(watch::Sender::new(0_usize));
    for round in 0..ROUNDS {
        let mut server = Instance::start(&database_url(dir.path()), port, dir.path());
        let state = schedule_after_start(&server, &ledger).await;
        // What the previous round's kill left behind (nothing, in the first
        // round) is checked before this round's clients change anything.
        let told = ledger.lock().unwrap().clone();
        check(dir.path(), &told, &state).await;

        // The kill comes after a random number of acknowledged bookings, while
        // the clients are still busy: a moment chosen by events, not by the clock.
        let target = *acks.borrow() + 1 + random(24);
        let workers: Vec<_> =
            (0..CLIENTS).map(|_| tokio::spawn(work(port, ledger.clone(), acks.clone()))).collect();
        let mut counted = acks.subscribe();
        tokio::time::timeout(Duration::from_secs(60), counted.wait_for(|n| *n >= target))
            .await
            .unwrap_or_else(|_| panic!("round {round}: the acknowledged bookings never reached {target}"))
            .unwrap();
        assert_eq!(server.exited(), None, "round {round}: the server was running until the kill");
        let status = server.kill().expect("the server was waited for");
        assert_eq!(status.signal(), Some(9), "round {round}: the server died of the SIGKILL: {status:?}");
        for worker in workers {
            worker.await.unwrap();
        }
    }

    // What the last kill left behind.
    let server = Instance::start(&database_url(dir.path()), port, dir.path());
    let state = schedule_after_start(&server, &ledger).await;
    let ledger = ledger.lock().unwrap().clone();
    check(dir.path(), &ledger, &state).await;
    drop(server);
    eprintln!(
        "{ROUNDS} kills survived: {} acknowledged bookings, {} acknowledged cancellations, version {}",
        ledger.booked.len(),
        ledger.cancelled.len(),
        state.version
    );
}
