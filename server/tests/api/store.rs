//! The store's one test suite, which SQLite and PostgreSQL must both pass: the
//! schedule's rules hold in the database itself, every change is logged with its
//! version in commit order, and writers on separate connections (as separate
//! server instances have) take turns.

use std::collections::HashSet;
use std::time::Duration;

use crate::common::offering;
use crate::common::postgres::TestDatabase;
use chrono::{DateTime, Utc};
use protocol::{Actor, AuditAction, Patient, SlotId, Version};
use server::audit::Origin;
use server::clinic::{ClinicConfig, SlotDef};
use server::store::{BookError, Change, Changed, NewBooking, Refusal, Signal, SqlStore, Store, StoredState};

/// Generates, for a check `async fn name(url: String)`, the tests
/// `name::on_sqlite` and `name::on_postgres`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn on_sqlite() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(format!("sqlite://{}/store.db", dir.path().display())).await;
            }

            #[tokio::test]
            #[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
            async fn on_postgres() {
                let db = super::TestDatabase::require(concat!(stringify!($name), "::on_postgres")).await;
                super::$name(db.url.clone()).await;
            }
        }
    )*};
}

on_both!(
    a_batch_commits_each_free_slot_once_with_consecutive_versions,
    holds_keep_everybody_but_their_holder_out,
    a_hold_is_extended_only_by_its_holder_while_it_lasts,
    blocks_keep_everybody_out_and_end_only_by_unblocking,
    a_reschedule_moves_a_booking_or_changes_nothing,
    every_change_is_logged_in_order_and_can_be_read_back,
    a_pruned_log_sends_readers_to_the_whole_schedule,
    a_reset_cancels_everything_and_is_logged_as_a_whole_new_schedule,
    orphaned_holds_end_at_start_up,
    writers_on_separate_connections_take_turns_and_one_of_them_wins_a_slot,
    other_writers_commits_are_announced_on_a_shared_database,
    staff_end_anybodys_hold_and_block_a_held_slot,
    a_proof_of_work_pays_for_one_booking_only,
    every_instance_reads_the_same_secret,
);

/// Who makes the changes of these tests, for their audit rows.
static WHO: Origin = Origin { actor: Actor::Patient, address: None };

fn at() -> DateTime<Utc> {
    "2026-11-24T07:00:00Z".parse().unwrap()
}

fn slots() -> Vec<SlotDef> {
    ClinicConfig::demo().slots_from(at().date_naive())
}

fn slot(id: &str) -> SlotId {
    let id = SlotId(id.into());
    assert!(slots().iter().any(|s| s.id == id), "the demo clinic has {id}");
    id
}

fn patient() -> Patient {
    Patient { name: "A".into(), phone: "12345".into() }
}

async fn open(url: &str) -> (SqlStore, Version) {
    let store = SqlStore::open(url).await.expect("opens");
    let version = store.add_slots(&slots(), false).await.unwrap();
    (store, version)
}

/// Books one slot as `holder`; the outcome.
async fn book(
    store: &SqlStore,
    slot: &SlotId,
    code: &str,
    holder: &str,
) -> Result<(Version, i64), BookError> {
    let patient = patient();
    let hash = format!("hash-{code}");
    let booking = NewBooking {
        slot_id: slot,
        code,
        manage_hash: &hash,
        patient: &patient,
        retry_key: code,
        proof: None,
        holder,
        at: at(),
        origin: &WHO,
    };
    store.book_many(&[booking]).await.unwrap().remove(0)
}

async fn state_of(store: &SqlStore, slot: &SlotId) -> StoredState {
    let loaded = store.load(at()).await.unwrap();
    loaded.slots.into_iter().find(|s| &s.id == slot).expect("stored").state
}

async fn a_batch_commits_each_free_slot_once_with_consecutive_versions(url: String) {
    let (store, start) = open(&url).await;
    let p = patient();
    let booking = |id: &'static str, code: &'static str, hash: &'static str| (slot(id), code, hash);
    let wanted = [
        booking("therapist-20261124-1000", "AAAA-0001", "h1"),
        booking("therapist-20261124-1000", "AAAA-0002", "h2"),
        booking("therapist-20261124-1030", "AAAA-0003", "h3"),
        booking("dentist-20261124-0945", "AAAA-0003", "h4"),
    ];
    let batch: Vec<NewBooking<'_>> = wanted
        .iter()
        .map(|(slot, code, hash)| NewBooking {
            slot_id: slot,
            code,
            manage_hash: hash,
            patient: &p,
            retry_key: "r",
            proof: None,
            holder: "x/1",
            at: at(),
            origin: &WHO,
        })
        .collect();

    let outcomes = store.book_many(&batch).await.unwrap();

    let versions: Vec<_> = outcomes.iter().map(|o| o.map(|(version, _)| version)).collect();
    assert_eq!(
        versions,
        vec![
            Ok(start + 1),
            Err(BookError::Refused(Refusal::Booked)),
            Ok(start + 2),
            Err(BookError::CodeTaken)
        ]
    );
    let loaded = store.load(at()).await.unwrap();
    assert_eq!(loaded.version, start + 2);
    assert_eq!(loaded.slots.iter().filter(|s| s.state == StoredState::Booked).count(), 2);
    assert_eq!(loaded.bookings.len(), 2);
}

async fn holds_keep_everybody_but_their_holder_out(url: String) {
    let (store, start) = open(&url).await;
    let (held, other) = (slot("therapist-20261124-1000"), slot("therapist-20261124-1030"));
    let until = at() + chrono::Duration::minutes(2);

    assert_eq!(store.hold(&held, "a/1", until, at(), &WHO).await.unwrap(), Ok(start + 1));
    assert_eq!(store.hold(&held, "b/1", until, at(), &WHO).await.unwrap(), Err(Refusal::Held));
    assert_eq!(book(&store, &held, "B-1", "b/1").await, Err(BookError::Refused(Refusal::Held)));
    assert_eq!(
        store.release(&held, "b/1", offering(at()), &WHO, AuditAction::Released).await.unwrap(),
        None,
        "only the holder releases"
    );
    assert_eq!(store.expire(&held, offering(at())).await.unwrap(), None, "not yet expired");
    assert_eq!(state_of(&store, &held).await, StoredState::Held { holder: "a/1".into(), expires: until });

    let (version, _) = book(&store, &held, "A-1", "a/1").await.expect("the holder books");
    assert_eq!(version, start + 2);
    assert_eq!(state_of(&store, &held).await, StoredState::Booked, "the hold ended with the booking");
    assert_eq!(store.hold(&held, "c/1", until, at(), &WHO).await.unwrap(), Err(Refusal::Booked));

    assert_eq!(store.hold(&other, "a/1", until, at(), &WHO).await.unwrap(), Ok(start + 3));
    assert_eq!(
        store.release(&other, "a/1", offering(at()), &WHO, AuditAction::Released).await.unwrap(),
        Some(start + 4)
    );
    assert_eq!(store.hold(&other, "c/1", until, at(), &WHO).await.unwrap(), Ok(start + 5));
    assert_eq!(
        store.expire(&other, offering(until)).await.unwrap(),
        Some(start + 6),
        "anyone may end an expired hold"
    );
    assert_eq!(state_of(&store, &other).await, StoredState::Free);
    assert_eq!(
        store.hold(&slot("dentist-20261124-0945"), "a/1", until, at(), &WHO).await.unwrap(),
        Ok(start + 7)
    );
    assert_eq!(
        store.hold(&SlotId("no-such-slot".into()), "a/1", until, at(), &WHO).await.unwrap(),
        Err(Refusal::NoSuchSlot)
    );
}

async fn a_hold_is_extended_only_by_its_holder_while_it_lasts(url: String) {
    let (store, start) = open(&url).await;
    let held = slot("therapist-20261124-1000");
    let until = at() + chrono::Duration::minutes(2);
    let later = until + chrono::Duration::minutes(2);
    store.hold(&held, "a/1", until, at(), &WHO).await.unwrap().unwrap();

    assert_eq!(store.extend_hold(&held, "b/1", later, at(), &WHO).await.unwrap(), None, "only by its holder");
    assert_eq!(
        store.extend_hold(&held, "a/1", later, until, &WHO).await.unwrap(),
        None,
        "not once it ran out"
    );
    assert_eq!(store.extend_hold(&held, "a/1", later, at(), &WHO).await.unwrap(), Some(start + 2));

    let extended = StoredState::Held { holder: "a/1".into(), expires: later };
    assert_eq!(state_of(&store, &held).await, extended);
    let logged = store.changes_since(start + 1, None).await.unwrap().unwrap();
    let what = Changed::Slot { id: held.clone(), state: extended, booking: None };
    assert_eq!(logged, vec![Change { version: start + 2, what }], "logged as a hold, for other instances");
    assert_eq!(store.expire(&held, offering(until)).await.unwrap(), None, "the old end is no longer its end");
    assert_eq!(store.expire(&held, offering(later)).await.unwrap(), Some(start + 3));
    assert_eq!(store.extend_hold(&held, "a/1", later, at(), &WHO).await.unwrap(), None, "an ended hold");
}

async fn blocks_keep_everybody_out_and_end_only_by_unblocking(url: String) {
    let (store, start) = open(&url).await;
    let blocked = slot("therapist-20261124-1000");
    let until = at() + chrono::Duration::minutes(2);

    assert_eq!(store.block(&blocked, at(), &WHO).await.unwrap(), Ok(start + 1));
    assert_eq!(store.block(&blocked, at(), &WHO).await.unwrap(), Err(Refusal::Blocked));
    assert_eq!(store.hold(&blocked, "a/1", until, at(), &WHO).await.unwrap(), Err(Refusal::Blocked));
    assert_eq!(book(&store, &blocked, "A-1", "a/1").await, Err(BookError::Refused(Refusal::Blocked)));
    assert_eq!(store.unblock(&blocked, offering(at()), &WHO).await.unwrap(), Some(start + 2));
    assert_eq!(store.unblock(&blocked, offering(at()), &WHO).await.unwrap(), None);
    let (_, id) = book(&store, &blocked, "A-1", "a/1").await.unwrap();
    assert_eq!(store.block(&blocked, at(), &WHO).await.unwrap(), Err(Refusal::Booked));
    assert_eq!(store.cancel(id, offering(at()), &WHO).await.unwrap(), Some(start + 4));
    assert_eq!(store.cancel(id, offering(at()), &WHO).await.unwrap(), None, "cancelled once only");
    assert_eq!(store.version().await.unwrap(), start + 4, "refusals change nothing");
}

async fn a_reschedule_moves_a_booking_or_changes_nothing(url: String) {
    let (store, start) = open(&url).await;
    let [from, taken, blocked, held, free] = [
        "therapist-20261124-1000",
        "therapist-20261124-1030",
        "therapist-20261124-1100",
        "therapist-20261124-1130",
        "therapist-20261124-1200",
    ]
    .map(slot);
    let (_, id) = book(&store, &from, "A-1", "a/1").await.unwrap();
    let sequence = async || store.booking_by_hash("hash-A-1").await.unwrap().expect("found").sequence;
    assert_eq!(sequence().await, 0, "a new booking's calendar sequence");
    book(&store, &taken, "B-1", "b/1").await.unwrap();
    store.block(&blocked, at(), &WHO).await.unwrap().unwrap();
    store.hold(&held, "c/1", at() + chrono::Duration::minutes(2), at(), &WHO).await.unwrap().unwrap();
    let before = store.version().await.unwrap();
    assert_eq!(before, start + 4);

    assert_eq!(
        store.reschedule(id, &taken, "a/1", offering(at()), &WHO).await.unwrap(),
        Err(Refusal::Booked)
    );
    assert_eq!(
        store.reschedule(id, &blocked, "a/1", offering(at()), &WHO).await.unwrap(),
        Err(Refusal::Blocked)
    );
    assert_eq!(store.reschedule(id, &held, "a/1", offering(at()), &WHO).await.unwrap(), Err(Refusal::Held));
    assert_eq!(store.version().await.unwrap(), before);

    assert_eq!(sequence().await, 0, "a refused move is no revision");

    assert_eq!(store.reschedule(id, &free, "a/1", offering(at()), &WHO).await.unwrap(), Ok((before + 2, 1)));
    assert_eq!(state_of(&store, &from).await, StoredState::Free);
    assert_eq!(state_of(&store, &free).await, StoredState::Booked);
    assert_eq!(sequence().await, 1);
    store.cancel(id, offering(at()), &WHO).await.unwrap().unwrap();
    assert_eq!(sequence().await, 2, "the cancel outranks the last move");
    assert_eq!(
        store.reschedule(id, &from, "a/1", offering(at()), &WHO).await.unwrap(),
        Err(Refusal::NotActive)
    );
    assert_eq!(store.cancel(id, offering(at()), &WHO).await.unwrap(), None);
    assert_eq!(sequence().await, 2, "a refused cancel is no revision");
}

async fn every_change_is_logged_in_order_and_can_be_read_back(url: String) {
    let (store, start) = open(&url).await;
    let (a, b) = (slot("therapist-20261124-1000"), slot("dentist-20261124-0945"));
    let until = at() + chrono::Duration::minutes(2);
    store.hold(&a, "x/7", until, at(), &WHO).await.unwrap().unwrap();
    let (_, id) = book(&store, &a, "A-1", "x/7").await.unwrap();
    store.block(&b, at(), &WHO).await.unwrap().unwrap();
    store.cancel(id, offering(at()), &WHO).await.unwrap().unwrap();

    let changes = store.changes_since(start, None).await.unwrap().expect("all logged");

    let seen: Vec<(Version, Option<String>, StoredState)> = changes
        .iter()
        .map(|Change { version, what }| match what {
            Changed::Slot { id, state, .. } => (*version, Some(id.0.clone()), state.clone()),
            Changed::Reload => (*version, None, StoredState::Free),
        })
        .collect();
    let expected = vec![
        (start + 1, Some(a.0.clone()), StoredState::Held { holder: "x/7".into(), expires: until }),
        (start + 2, Some(a.0.clone()), StoredState::Booked),
        (start + 3, Some(b.0.clone()), StoredState::Blocked),
        (start + 4, Some(a.0.clone()), StoredState::Free),
    ];
    assert_eq!(seen, expected);
    let Changed::Slot { booking: Some(booking), .. } = &changes[1].what else { panic!("{changes:?}") };
    assert_eq!((booking.id, booking.code.as_str(), &booking.slot_id), (id, "A-1", &a));
    let middle = store.changes_since(start + 1, Some(start + 3)).await.unwrap().unwrap();
    assert_eq!(middle.iter().map(|c| c.version).collect::<Vec<_>>(), [start + 2, start + 3]);
    assert_eq!(store.changes_since(start + 4, None).await.unwrap(), Some(vec![]));
}

async fn a_pruned_log_sends_readers_to_the_whole_schedule(url: String) {
    let (store, start) = open(&url).await;
    for id in ["therapist-20261124-1000", "therapist-20261124-1030", "therapist-20261124-1100"] {
        store.block(&slot(id), at(), &WHO).await.unwrap().unwrap();
    }

    store.prune_changes(start + 1).await.unwrap();

    assert_eq!(store.changes_since(start, None).await.unwrap(), None, "the first change is gone");
    let rest = store.changes_since(start + 1, None).await.unwrap().expect("the rest is there");
    assert_eq!(rest.len(), 2);
}

async fn a_reset_cancels_everything_and_is_logged_as_a_whole_new_schedule(url: String) {
    let (store, start) = open(&url).await;
    let (a, b, c) =
        (slot("therapist-20261124-1000"), slot("therapist-20261124-1030"), slot("dentist-20261124-0945"));
    book(&store, &a, "A-1", "x/1").await.unwrap();
    let (_, cancelled) = book(&store, &slot("surgeon-20261125-0800"), "A-2", "x/1").await.unwrap();
    store.cancel(cancelled, offering(at()), &WHO).await.unwrap().unwrap();
    store.block(&b, at(), &WHO).await.unwrap().unwrap();
    store.hold(&c, "x/2", at() + chrono::Duration::minutes(2), at(), &WHO).await.unwrap().unwrap();

    let version = store.reset(&slots(), at(), &WHO).await.unwrap();

    assert_eq!(version, start + 6);
    let sequence = async |hash| store.booking_by_hash(hash).await.unwrap().expect("kept").sequence;
    assert_eq!(sequence("hash-A-1").await, 1, "a reset cancels, and raises the sequence");
    assert_eq!(sequence("hash-A-2").await, 1, "of the bookings it cancels only");
    let loaded = store.load(at()).await.unwrap();
    assert!(loaded.slots.iter().all(|s| s.state == StoredState::Free));
    assert!(loaded.bookings.is_empty());
    let changes = store.changes_since(start + 5, None).await.unwrap().unwrap();
    assert_eq!(changes, vec![Change { version, what: Changed::Reload }]);
}

async fn orphaned_holds_end_at_start_up(url: String) {
    let (store, _) = open(&url).await;
    let (stale, live) = (slot("therapist-20261124-1000"), slot("therapist-20261124-1030"));
    store.hold(&stale, "gone/1", at() - chrono::Duration::minutes(1), at(), &WHO).await.unwrap().unwrap();
    store.hold(&live, "other/1", at() + chrono::Duration::minutes(1), at(), &WHO).await.unwrap().unwrap();

    store.release_orphaned_holds(offering(at())).await.unwrap();

    assert_eq!(state_of(&store, &stale).await, StoredState::Free, "an expired hold always ends");
    let live_state = state_of(&store, &live).await;
    if store.shared() {
        assert!(matches!(live_state, StoredState::Held { .. }), "another instance's live hold stays");
    } else {
        assert_eq!(live_state, StoredState::Free, "nobody else uses an embedded database");
    }
}

async fn writers_on_separate_connections_take_turns_and_one_of_them_wins_a_slot(url: String) {
    let (first, start) = open(&url).await;
    let (second, _) = open(&url).await;
    let target = slot("therapist-20261124-1500");
    let others: Vec<SlotId> = slots().into_iter().map(|s| s.id).filter(|id| id != &target).take(40).collect();

    let attempts = others.into_iter().enumerate().map(|(i, other)| {
        let store = if i % 2 == 0 { first.clone() } else { second.clone() };
        let target = target.clone();
        tokio::spawn(async move {
            let code = format!("R-{i:04}");
            // Each writer also books a slot of its own, so that versions interleave.
            let own = book(&store, &other, &format!("O-{i:04}"), &format!("w/{i}")).await;
            (book(&store, &target, &code, &format!("w/{i}")).await, own)
        })
    });
    let mut winners = 0;
    let mut versions = HashSet::new();
    for attempt in attempts {
        let (race, own) = attempt.await.unwrap();
        for (version, _) in [race, own].into_iter().flatten() {
            assert!(versions.insert(version), "version {version} given twice");
        }
        match race {
            Ok(_) => winners += 1,
            Err(e) => assert_eq!(e, BookError::Refused(Refusal::Booked)),
        }
    }

    assert_eq!(winners, 1);
    let last = first.version().await.unwrap();
    assert_eq!(versions, (start + 1..=last).collect(), "versions are gap-free across writers");
    let log = second.changes_since(start, None).await.unwrap().expect("logged");
    assert_eq!(log.len() as Version, last - start);
}

async fn other_writers_commits_are_announced_on_a_shared_database(url: String) {
    let (listener, start) = open(&url).await;
    let (writer, _) = open(&url).await;
    let Some(mut signals) = listener.listen().await.unwrap() else {
        assert!(!listener.shared(), "a shared database must announce changes");
        return;
    };

    writer.block(&slot("therapist-20261124-1000"), at(), &WHO).await.unwrap().unwrap();

    let deadline = Duration::from_secs(5);
    loop {
        let signal = tokio::time::timeout(deadline, signals.recv()).await.expect("a signal in time").unwrap();
        if signal == Signal::Committed(start + 1) {
            break;
        }
        assert_eq!(signal, Signal::CatchUp, "only a catch-up may come first");
    }
}

async fn staff_end_anybodys_hold_and_block_a_held_slot(url: String) {
    let (store, start) = open(&url).await;
    let (x, y) = (slot("therapist-20261124-1000"), slot("therapist-20261124-1030"));
    let until = at() + chrono::Duration::minutes(2);
    store.hold(&x, "a/1", until, at(), &WHO).await.unwrap().unwrap();
    store.hold(&y, "b/2", until, at(), &WHO).await.unwrap().unwrap();

    assert_eq!(store.end_hold(&x, offering(at()), &WHO).await.unwrap(), Some(start + 3));
    assert_eq!(state_of(&store, &x).await, StoredState::Free);
    assert_eq!(store.end_hold(&x, offering(at()), &WHO).await.unwrap(), None, "no hold to end");

    assert_eq!(store.block(&y, at(), &WHO).await.unwrap(), Ok(start + 4));
    assert_eq!(state_of(&store, &y).await, StoredState::Blocked, "one change: held to blocked");
    assert_eq!(
        store.release(&y, "b/2", offering(at()), &WHO, AuditAction::Released).await.unwrap(),
        None,
        "the hold is gone with the block"
    );
    let log = store.changes_since(start + 2, None).await.unwrap().unwrap();
    assert_eq!(log.len(), 2);
}

async fn a_proof_of_work_pays_for_one_booking_only(url: String) {
    let (store, _) = open(&url).await;
    let p = patient();
    let slots = [
        slot("therapist-20261124-1000"),
        slot("therapist-20261124-1030"),
        slot("dentist-20261124-0945"),
        slot("therapist-20261124-1100"),
    ];
    let new = |slot, code, proof| NewBooking {
        slot_id: slot,
        code,
        manage_hash: code,
        patient: &p,
        retry_key: code,
        proof: Some(proof),
        holder: "x/1",
        at: at(),
        origin: &WHO,
    };
    let first = store.book_many(&[new(&slots[0], "PROO-F001", "nonce-1")]).await.unwrap();
    assert!(first[0].is_ok());
    // Spent before, or spent twice within one batch: only the first counts.
    let outcomes = store
        .book_many(&[
            new(&slots[1], "PROO-F002", "nonce-1"),
            new(&slots[2], "PROO-F003", "nonce-2"),
            new(&slots[3], "PROO-F004", "nonce-2"),
        ])
        .await
        .unwrap();
    assert_eq!(outcomes[0], Err(BookError::Refused(Refusal::ProofSpent)));
    assert!(outcomes[1].is_ok());
    assert_eq!(outcomes[2], Err(BookError::Refused(Refusal::ProofSpent)));
    assert_eq!(state_of(&store, &slots[1]).await, StoredState::Free);
}

async fn every_instance_reads_the_same_secret(url: String) {
    let (first, _) = open(&url).await;
    let (second, _) = open(&url).await;
    let one = first.secret("test", || "made by the first".into()).await.unwrap();
    let other = second.secret("test", || "made by the second".into()).await.unwrap();
    assert_eq!(one, "made by the first");
    assert_eq!(other, one);
}
