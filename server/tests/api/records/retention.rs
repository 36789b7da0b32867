//! The retention job: the name and phone of bookings whose appointment ended,
//! and of waitlist entries that ended or whose last day passed, more than the
//! retention period ago are erased, exactly those, each with one audit row of
//! the system's; on SQLite, and on PostgreSQL with two instances running the
//! job on one database.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use client::Client;
use protocol::{
    Actor, AuditAction, ClientMessage, DoctorId, HistoryQuery, Patient, ServerMessage, WaitWindow,
};
use server::Limits;
use server::secret::manage_hash;
use server::store::{SqlStore, Store};

use super::{book, slot};
use crate::common::postgres::TestDatabase;
use crate::common::{Options, TestApp, database_url, spawn_on, spawn_with, test_limits, test_now};

/// The retention period of these tests.
const DAYS: u32 = 30;

fn options() -> Options {
    Options { limits: Limits { retention_days: DAYS, ..test_limits() }, ..Options::default() }
}

fn someone(name: &str, phone: &str) -> Patient {
    Patient { name: name.into(), phone: phone.into() }
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn window(from: &str, to: &str) -> WaitWindow {
    let day = |text: &str| text.parse::<NaiveDate>().unwrap();
    WaitWindow { from_day: day(from), to_day: day(to), from_time: None, to_time: None }
}

/// What the scenario made: each row by a name, with the hash that finds it.
#[derive(Default)]
struct Rows {
    bookings: BTreeMap<&'static str, (String, Patient)>,
    entries: BTreeMap<&'static str, (String, Patient)>,
}

/// Books and joins through `client`, at the test's start (Tuesday 10:10 in
/// Moscow): appointments ending on Wednesday at 09:30 (`b1`), 09:45 (`c`,
/// cancelled at once) and 10:00 (`b2`), and on Thursday at 09:30 (`b3`); a
/// waitlist entry that is left at once (`e1`), and one waiting until Friday
/// (`e2`).
async fn make_rows(client: &mut Client) -> Rows {
    let mut rows = Rows::default();
    let bookings = [
        ("b1", "therapist-20261125-0900", someone("Anna Petrova", "+7 912 000-00-01")),
        ("c", "dentist-20261125-0900", someone("Carl Berg", "+7 912 000-00-02")),
        ("b2", "therapist-20261125-0930", someone("Boris Orlov", "+7 912 000-00-03")),
        ("b3", "therapist-20261126-0900", someone("Dora Lind", "+7 912 000-00-04")),
    ];
    for (name, id, who) in bookings {
        let (_, token) = book(client, &slot(id), who.clone()).await;
        if name == "c" {
            let request_id = client.request_id();
            let cancel = ClientMessage::Cancel { request_id, manage_token: token.clone() };
            assert!(matches!(
                client.call(cancel).await.unwrap(),
                ServerMessage::ActionResult { ok: true, .. }
            ));
        }
        rows.bookings.insert(name, (manage_hash(&token), who));
    }
    let therapist = DoctorId("therapist".into());
    let entries = [
        ("e1", window("2026-11-24", "2026-11-24"), someone("Eva Sten", "+7 912 000-00-05")),
        ("e2", window("2026-11-25", "2026-11-27"), someone("Fred Holm", "+7 912 000-00-06")),
    ];
    for (name, window, who) in entries {
        let token = client.join_waitlist(therapist.clone(), window, who.clone()).await.unwrap().unwrap();
        if name == "e1" {
            assert_eq!(client.leave_waitlist(&token).await.unwrap(), Ok(()));
        }
        rows.entries.insert(name, (manage_hash(&token), who));
    }
    rows
}

/// The rows whose details are erased now, by name; the others must still
/// have theirs.
async fn erased(store: &SqlStore, rows: &Rows) -> Vec<&'static str> {
    let mut erased = Vec::new();
    for (&name, (hash, who)) in &rows.bookings {
        let stored = store.booking_by_hash(hash).await.unwrap().expect("a booking's row stays");
        erased.extend(gone(name, &stored.patient, who));
    }
    for (&name, (hash, who)) in &rows.entries {
        let stored = store.waiting_by_hash(hash).await.unwrap().expect("an entry's row stays");
        erased.extend(gone(name, &stored.patient, who));
    }
    erased
}

/// `Some(name)` when `stored` is erased, `None` when it is `original`.
fn gone(name: &'static str, stored: &Patient, original: &Patient) -> Option<&'static str> {
    let nobody = Patient { name: String::new(), phone: String::new() };
    assert!(stored == original || *stored == nobody, "{name} is neither kept nor erased: {stored:?}");
    (*stored == nobody).then_some(name)
}

/// Moves every instance's clock to `now` and runs their periodic work.
async fn at_time(now: &Mutex<DateTime<Utc>>, instances: &[&TestApp], when: &str) {
    *now.lock().unwrap() = at(when);
    for app in instances {
        app.state().engine().tick().await.unwrap();
    }
}

/// The scenario, on the instances given (which share `now` and `store`'s
/// database): each step sets the clock just before or after a row's limit.
async fn scenario(now: &Mutex<DateTime<Utc>>, instances: &[&TestApp], store: &SqlStore) {
    let (mut client, _) = instances[0].connect_with_state().await;
    let rows = make_rows(&mut client).await;
    assert!(erased(store, &rows).await.is_empty(), "nothing is erased at first");

    // E1 ended at the start, 2026-11-24 07:10 UTC; B1's appointment ends at
    // 06:30 UTC the next day.
    at_time(now, instances, "2026-12-25T06:29:00Z").await;
    assert_eq!(erased(store, &rows).await, ["e1"]);
    // C, although cancelled, counts from its appointment's end: 06:45.
    at_time(now, instances, "2026-12-25T06:50:00Z").await;
    assert_eq!(erased(store, &rows).await, ["b1", "c", "e1"]);
    // B3's appointment ended on Thursday; E2 (lapsed with its last day, when
    // the days rolled on) counts from the end of Friday in Moscow, 21:00 UTC.
    at_time(now, instances, "2026-12-27T20:59:00Z").await;
    assert_eq!(erased(store, &rows).await, ["b1", "b2", "b3", "c", "e1"]);
    at_time(now, instances, "2026-12-27T21:01:00Z").await;
    assert_eq!(erased(store, &rows).await, ["b1", "b2", "b3", "c", "e1", "e2"]);

    let query = HistoryQuery { actions: vec![AuditAction::Erased], ..HistoryQuery::default() };
    let rows = store.history(&query).await.unwrap();
    assert!(rows.iter().all(|r| r.actor == Actor::System), "the system erased them: {rows:?}");
    let mut codes: Vec<_> = rows.iter().filter_map(|r| r.booking_code.clone()).collect();
    codes.sort();
    codes.dedup();
    let entries = rows.iter().filter(|r| r.entry_id.is_some()).count();
    assert_eq!((rows.len(), codes.len(), entries), (6, 4, 2), "one row per booking and per entry: {rows:?}");
}

#[tokio::test]
async fn the_retention_job_erases_exactly_the_details_past_the_limit() {
    let app = spawn_with(options()).await;
    let store = SqlStore::open(&database_url(app.data_dir.path())).await.unwrap();
    scenario(&app.now, &[&app], &store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn the_retention_job_erases_exactly_the_details_past_the_limit_on_postgres_from_two_instances() {
    let db =
        TestDatabase::require("the_retention_job_erases_exactly_the_details_past_the_limit_on_postgres…")
            .await;
    let now = Arc::new(Mutex::new(test_now()));
    let one = spawn_on(&db.url, now.clone(), options()).await;
    let two = spawn_on(&db.url, now.clone(), options()).await;
    let store = SqlStore::open(&db.url).await.unwrap();
    scenario(&now, &[&one, &two], &store).await;
}
