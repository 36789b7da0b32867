//! The audit rows the store writes with each change, read back through the
//! store on both databases: above all the server's own (offers made, run out
//! and lapsed, holds left behind by a restart), which no client asks for.

use chrono::{DateTime, Duration, Utc};
use protocol::{Actor, AuditAction as A, AuditEntry, DoctorId, HistoryQuery, Patient, SlotId, WaitWindow};
use server::ClientKey;
use server::audit::Origin;
use server::clinic::ClinicConfig;
use server::store::{Backend, NewBooking, NewWaiting, SqlStore, Store};

use crate::common::offering;
use crate::common::postgres::TestDatabase;

/// A row as compared: actor, action, slot, booking code, entry, address and
/// detail.
type Row = (Actor, A, Option<String>, Option<String>, Option<u64>, Option<String>, Option<String>);

fn row(entry: &AuditEntry) -> Row {
    (
        entry.actor.clone(),
        entry.action,
        entry.slot_id.as_ref().map(|s| s.0.clone()),
        entry.booking_code.clone(),
        entry.entry_id,
        entry.address.clone(),
        entry.detail.clone(),
    )
}

fn at() -> DateTime<Utc> {
    "2026-11-24T07:00:00Z".parse().unwrap()
}

fn slot(time: &str) -> SlotId {
    SlotId(format!("therapist-20261124-{time}"))
}

fn patient() -> Patient {
    Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() }
}

const ADDRESS: &str = "192.0.2.7";

fn from(actor: Actor) -> Origin {
    Origin::new(actor, ClientKey::of(ADDRESS.parse().unwrap()))
}

/// Books `slot` as code `code` for the patient page; the booking's id.
async fn book(store: &SqlStore, slot: &SlotId, code: &str) -> i64 {
    let (patient, origin) = (patient(), from(Actor::Patient));
    let booking = NewBooking {
        slot_id: slot,
        code,
        manage_hash: code,
        patient: &patient,
        retry_key: code,
        proof: None,
        holder: "x/1",
        at: at(),
        origin: &origin,
    };
    store.book_many(&[booking]).await.unwrap().remove(0).expect("booked").1
}

/// Puts the patient on the therapist's waitlist for the test's day.
async fn join(store: &SqlStore, hash: &str) -> i64 {
    let (patient, origin) = (patient(), from(Actor::Patient));
    let day = at().date_naive();
    let window = WaitWindow { from_day: day, to_day: day, from_time: None, to_time: None };
    let entry = NewWaiting {
        doctor_id: &DoctorId("therapist".into()),
        window: &window,
        patient: &patient,
        token_hash: hash,
        at: at(),
        per_phone: 10,
        proof: None,
        origin: &origin,
    };
    store.join_waitlist(&entry).await.unwrap().expect("joined")
}

#[tokio::test]
async fn the_servers_own_doings_are_rows_of_the_system_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    the_servers_own_doings_are_rows_of_the_system(format!("sqlite://{}/store.db", dir.path().display()))
        .await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn the_servers_own_doings_are_rows_of_the_system_on_postgres() {
    let db = TestDatabase::require("the_servers_own_doings_are_rows_of_the_system_on_postgres").await;
    the_servers_own_doings_are_rows_of_the_system(db.url.clone()).await;
}

async fn the_servers_own_doings_are_rows_of_the_system(url: String) {
    let store = SqlStore::open(&url).await.unwrap();
    store.add_slots(&ClinicConfig::demo().slots_from(at().date_naive()), false).await.unwrap();
    let olga = from(Actor::Staff { name: "olga".into() });
    let mut expected: Vec<Row> = Vec::new();
    let client = |actor: Actor, action: A| (actor, action, None, None, None, Some(ADDRESS.to_owned()), None);
    let system = |action: A| (Actor::System, action, None, None, None, None, None);

    // Two offers to one entry run out unanswered: the second time it lapses.
    let first = join(&store, "hash-1").await;
    let id = u64::try_from(first).unwrap();
    let mut now = at();
    for (time, code) in [("1100", "AUDT-0001"), ("1130", "AUDT-0002")] {
        let freed = slot(time);
        let booking = book(&store, &freed, code).await;
        store.cancel(booking, offering(now), &olga).await.unwrap().expect("cancelled");
        now += Duration::minutes(11);
        store.expire(&freed, offering(now)).await.unwrap().expect("the offer ran out");
        let s = Some(freed.0.clone());
        let c = Some(code.to_owned());
        expected.push((Actor::Patient, A::Booked, s.clone(), c.clone(), None, Some(ADDRESS.into()), None));
        expected.push((olga.actor.clone(), A::Cancelled, s.clone(), c, None, Some(ADDRESS.into()), None));
        expected.push((Actor::System, A::Offered, s.clone(), None, Some(id), None, None));
        expected.push((Actor::System, A::Expired, s, None, Some(id), None, None));
    }
    expected.insert(0, about(client(Actor::Patient, A::Joined), id, "doctor therapist"));
    expected.push(about(system(A::Lapsed), id, "its offers ran out unanswered"));

    // An entry whose days are over lapses with the new day.
    let second = u64::try_from(join(&store, "hash-2").await).unwrap();
    let next_day = at().date_naive() + chrono::Days::new(1);
    assert_eq!(store.lapse_past_waiting(next_day, now).await.unwrap(), 1);
    expected.push(about(client(Actor::Patient, A::Joined), second, "doctor therapist"));
    expected.push(about(system(A::Lapsed), second, "its days are over"));

    // Staff block a held slot; a reset says how much it cancelled.
    let held = slot("1200");
    store.hold(&held, "a/1", at() + Duration::minutes(1), now, &from(Actor::Patient)).await.unwrap().unwrap();
    store.block(&held, now, &olga).await.unwrap().unwrap();
    book(&store, &slot("1230"), "AUDT-0003").await;
    store.reset(&[], now, &olga).await.unwrap();
    let h = Some(held.0.clone());
    let a = Some(ADDRESS.to_owned());
    expected.push((
        Actor::Patient,
        A::Held,
        h.clone(),
        None,
        None,
        a.clone(),
        Some("until 2026-11-24T07:01:00Z".into()),
    ));
    expected.push((olga.actor.clone(), A::Blocked, h, None, None, a.clone(), Some("its hold ended".into())));
    let booked = Some(slot("1230").0);
    let code = Some("AUDT-0003".to_owned());
    expected.push((Actor::Patient, A::Booked, booked.clone(), code.clone(), None, a.clone(), None));
    // The reset's cancel is in the booking's own history, then the summary.
    expected.push((olga.actor.clone(), A::Cancelled, booked, code, None, a.clone(), Some("reset".into())));
    let counted = Some("bookings cancelled: 1; waitlist entries removed: 0".to_owned());
    expected.push((olga.actor.clone(), A::Reset, None, None, None, a, counted));

    // Holds no connection can own any more end at start-up, as the server's.
    let (stale, live) = (slot("1400"), slot("1430"));
    store
        .hold(&stale, "gone/1", now - Duration::minutes(1), now, &from(Actor::Patient))
        .await
        .unwrap()
        .unwrap();
    store
        .hold(&live, "live/1", now + Duration::minutes(1), now, &from(Actor::Patient))
        .await
        .unwrap()
        .unwrap();
    store.release_orphaned_holds(offering(now)).await.unwrap();
    let mut history = store.history(&HistoryQuery::default()).await.unwrap();
    history.reverse();
    let got: Vec<Row> = history.iter().map(row).collect();
    let (got, at_start) = got.split_at(expected.len() + 2);
    assert_eq!(got[..expected.len()], expected[..], "every row, in order");
    assert_eq!(got[expected.len()..].iter().map(|r| r.1).collect::<Vec<_>>(), [A::Held, A::Held]);
    let mut at_start: Vec<(A, Option<String>, Option<String>)> =
        at_start.iter().map(|r| (r.1, r.2.clone(), r.6.clone())).collect();
    at_start.sort_by(|x, y| x.1.cmp(&y.1));
    let mut ended = vec![(A::Expired, Some(stale.0.clone()), None)];
    if store.backend() == Backend::Sqlite {
        // Only on a database of one process alone is a live hold left behind.
        ended.push((
            A::Released,
            Some(live.0.clone()),
            Some("its page was lost with a server restart".into()),
        ));
    }
    assert_eq!(at_start, ended);
    assert!(
        history.iter().all(|e| e.actor != Actor::System || e.address.is_none()),
        "the server has no address"
    );
    store.close().await;
}

/// The row `kind` about waitlist entry `entry`, saying `detail`.
fn about((actor, action, slot, code, _, address, _): Row, entry: u64, detail: &str) -> Row {
    (actor, action, slot, code, Some(entry), address, Some(detail.to_owned()))
}
