//! The waitlist on two server instances sharing one PostgreSQL database (in
//! this process, on one test clock): an offer made through one instance
//! reaches its patient on the other, both show the same versions, and an offer
//! runs out once, whichever instance ends it. They need PostgreSQL, so they
//! run only when asked to (see `crate::common::postgres`).

use std::sync::{Arc, Mutex};

use chrono::Duration;
use protocol::{SlotId, SlotStatus, WaitStatus};
use sqlx::PgPool;

use super::{Page, anna, book, boris, cancel, carl, days, dora, kept_out, slot, update_of};
use crate::common::postgres::TestDatabase;
use crate::common::{Options, TestApp, spawn_on, test_now};

/// The offers made so far, as the database keeps them: each entry's patient
/// and the slot it was offered.
async fn offers(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT w.patient_name, o.slot_id FROM offers o JOIN waitlist w ON w.id = o.entry_id
         ORDER BY o.offered_at, w.id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// How often the change log says `slot` was held for the entry of `patient`:
/// once per offer made, however many instances tried.
async fn offers_logged(pool: &PgPool, slot: &SlotId, patient: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM changes c JOIN waitlist w ON c.holder = 'wait/' || CAST(w.id AS TEXT)
         WHERE c.slot_id = $1 AND w.patient_name = $2",
    )
    .bind(&slot.0)
    .bind(patient)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The same change of `slot` as both plain pages see it: its status and end.
async fn both_see(
    one: &mut client::Client,
    two: &mut client::Client,
    slot: &SlotId,
) -> (SlotStatus, Option<chrono::DateTime<chrono::Utc>>) {
    let (version, seen) = update_of(one, slot).await;
    let (other_version, other_seen) = update_of(two, slot).await;
    assert_eq!((version, &seen), (other_version, &other_seen), "one change, one version, on both instances");
    (seen.status, seen.held_until)
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn an_offer_made_through_one_instance_reaches_its_patient_on_the_other_and_runs_out_once() {
    let db = TestDatabase::require("an_offer_made_through_one_instance_reaches…").await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    let now = Arc::new(Mutex::new(test_now()));
    let one: TestApp = spawn_on(&db.url, now.clone(), Options::default()).await;
    let two: TestApp = spawn_on(&db.url, now.clone(), Options::default()).await;
    let freed = slot("therapist-20261125-0900");
    let (mut carl_page, _) = two.connect_with_state().await;
    let (_, manage) = book(&mut carl_page, &freed, carl()).await;
    let (mut anna_page, _) = Page::open(&one, days("2026-11-25", "2026-11-25"), anna()).await;
    let (mut boris_page, _) = Page::open(&two, days("2026-11-25", "2026-11-26"), boris()).await;
    let (mut plain_one, _) = one.connect_with_state().await;
    let (mut plain_two, _) = two.connect_with_state().await;

    cancel(&mut carl_page, &manage).await;

    let until = anna_page.offered(&freed).await;
    assert_eq!(until, test_now() + Duration::seconds(600));
    assert_eq!(both_see(&mut plain_one, &mut plain_two, &freed).await, (SlotStatus::Held, Some(until)));
    kept_out(&mut plain_one, &freed, dora()).await;
    kept_out(&mut plain_two, &freed, dora()).await;
    assert_eq!(offers(&pool).await, [("Anna Petrova".to_owned(), freed.0.clone())]);
    assert_eq!(boris_page.watch().await.status, WaitStatus::Waiting, "Boris is second");

    // Both instances see the offer run out; one of them ends it.
    *now.lock().unwrap() += Duration::seconds(600);

    let passed = boris_page.offered(&freed).await;
    assert_eq!(passed, until + Duration::seconds(600));
    let ran_out = anna_page.pushed().await;
    assert_eq!((ran_out.status, ran_out.offer), (WaitStatus::Waiting, None));
    assert_eq!(both_see(&mut plain_one, &mut plain_two, &freed).await, (SlotStatus::Held, Some(passed)));
    let made = offers(&pool).await;
    assert_eq!(
        made,
        [("Anna Petrova".to_owned(), freed.0.clone()), ("Boris Orlov".to_owned(), freed.0.clone())]
    );
    assert_eq!(offers_logged(&pool, &freed, "Anna Petrova").await, 1);
    assert_eq!(offers_logged(&pool, &freed, "Boris Orlov").await, 1, "passed on once, not once per instance");

    // Taken through the instance Anna watches on, seen booked on both.
    let token = boris_page.token.clone();
    let mut boris_elsewhere = Page { client: one.connect_with_state().await.0, token };
    boris_elsewhere.accept().await;
    assert_eq!(both_see(&mut plain_one, &mut plain_two, &freed).await, (SlotStatus::Booked, None));
    let taken = boris_page.pushed().await;
    assert_eq!(taken.status, WaitStatus::Booked, "the page watching on the other instance learns of it");
    pool.close().await;
}
