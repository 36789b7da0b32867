//! The audit trail through real sockets: after a scenario with every kind of
//! change (`scenario`), `staffHistory` returns exactly the rows of what
//! happened, in order, with who did it and from where, and its filters select
//! the right ones; on SQLite, and on PostgreSQL across two instances, whose
//! rows make one trail. Only staff read it.

mod scenario;
mod store;

use std::sync::{Arc, Mutex};

use chrono::Duration;
use client::Client;
use protocol::{Actor, AuditAction, AuditEntry, ClientMessage, ErrorCode, HistoryQuery, ServerMessage};
use server::Limits;

use crate::common::postgres::TestDatabase;
use crate::common::{Options, RITA, TestApp, spawn_on, spawn_with, test_limits, test_now};
use scenario::{Trail, patients, slot};

/// One row as a test expects it. The detail is compared only when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Row {
    actor: Actor,
    action: AuditAction,
    slot: Option<String>,
    other_slot: Option<String>,
    code: Option<String>,
    entry: Option<u64>,
    detail: Option<String>,
}

impl Row {
    fn new(actor: Actor, action: AuditAction) -> Self {
        Self { actor, action, slot: None, other_slot: None, code: None, entry: None, detail: None }
    }

    fn slot(self, time: &str) -> Self {
        Self { slot: Some(slot(time).0), ..self }
    }

    fn other(self, time: &str) -> Self {
        Self { other_slot: Some(slot(time).0), ..self }
    }

    fn code(self, code: &str) -> Self {
        Self { code: Some(code.to_owned()), ..self }
    }

    fn entry(self, id: u64) -> Self {
        Self { entry: Some(id), ..self }
    }

    fn detail(self, detail: &str) -> Self {
        Self { detail: Some(detail.to_owned()), ..self }
    }

    /// The row as read back, its detail kept only where `expected` has one.
    fn of(entry: &AuditEntry, expected: Option<&Row>) -> Self {
        Self {
            actor: entry.actor.clone(),
            action: entry.action,
            slot: entry.slot_id.as_ref().map(|s| s.0.clone()),
            other_slot: entry.other_slot_id.as_ref().map(|s| s.0.clone()),
            code: entry.booking_code.clone(),
            entry: entry.entry_id,
            detail: entry.detail.clone().filter(|_| expected.is_some_and(|e| e.detail.is_some())),
        }
    }
}

/// Sends a request carrying a fresh request id and waits for its answer.
pub(super) async fn call(client: &mut Client, make: impl FnOnce(String) -> ClientMessage) -> ServerMessage {
    let request_id = client.request_id();
    client.call(make(request_id)).await.unwrap()
}

/// Sends a request whose answer must be a successful `actionResult`.
pub(super) async fn ok(client: &mut Client, make: impl FnOnce(String) -> ClientMessage) {
    let reply = call(client, make).await;
    assert!(matches!(reply, ServerMessage::ActionResult { ok: true, .. }), "{reply:?}");
}

/// The rows `query` selects, newest first, as the server sends them.
async fn history(client: &mut Client, query: HistoryQuery) -> Vec<AuditEntry> {
    match call(client, |request_id| ClientMessage::StaffHistory { request_id, query }).await {
        ServerMessage::StaffHistory { entries, .. } => entries,
        other => panic!("expected the history, got {other:?}"),
    }
}

/// Whether a row is about staff accounts (logins, accounts made at start-up)
/// rather than the schedule and the waitlist the scenario changes.
fn about_accounts(entry: &AuditEntry) -> bool {
    matches!(
        entry.action,
        AuditAction::LoggedIn
            | AuditAction::LoginFailed
            | AuditAction::LoggedOut
            | AuditAction::StaffAdded
            | AuditAction::StaffRemoved
            | AuditAction::PasswordChanged
    )
}

/// The schedule's and waitlist's rows `query` selects, oldest first, compared
/// with `expected` (oldest first).
async fn selects(client: &mut Client, query: HistoryQuery, expected: &[Row]) {
    let mut entries = history(client, query.clone()).await;
    entries.retain(|e| !about_accounts(e));
    entries.reverse();
    let got: Vec<Row> = entries.iter().enumerate().map(|(i, e)| Row::of(e, expected.get(i))).collect();
    assert_eq!(got, expected, "the rows of {query:?}");
}

/// The scenario's whole trail, then each filter.
async fn check(trail: Trail) {
    let Trail { rows, mut admin, waitlist_since, moved_code, secrets } = trail;
    let all = history(&mut admin, HistoryQuery::default()).await;
    let ours: Vec<&AuditEntry> = all.iter().filter(|e| !about_accounts(e)).collect();
    assert!(all.windows(2).all(|w| w[0].id > w[1].id && w[0].at >= w[1].at), "newest first");
    for entry in &ours {
        let expected = if entry.actor == Actor::System { None } else { Some("127.0.0.1") };
        assert_eq!(
            entry.address.as_deref(),
            expected,
            "the client's address, none for the server: {entry:?}"
        );
        assert!(entry.at >= test_now() && entry.at <= test_now() + Duration::minutes(5), "{entry:?}");
        let detail = entry.detail.as_deref().unwrap_or_default();
        let told = patients().into_iter().flat_map(|p| [p.name, p.phone]).chain(secrets.clone());
        for secret in told {
            assert!(!detail.contains(&secret), "a row tells a patient's details or a secret: {entry:?}");
        }
    }
    let held = ours.iter().rev().find(|e| e.action == AuditAction::Held).expect("the first hold's row");
    assert_eq!(held.detail.as_deref(), Some("until 2026-11-24T07:12:00Z"), "the hold's end, nothing else");
    selects(&mut admin, HistoryQuery::default(), &rows).await;

    let about_0900: Vec<Row> =
        rows.iter().filter(|r| [&r.slot, &r.other_slot].contains(&&Some(slot("0900").0))).cloned().collect();
    assert_eq!(about_0900.len(), 4, "held, extended, booked, and moved away");
    selects(&mut admin, HistoryQuery { slot_id: Some(slot("0900")), ..HistoryQuery::default() }, &about_0900)
        .await;

    let moved: Vec<Row> = rows.iter().filter(|r| r.code.as_ref() == Some(&moved_code)).cloned().collect();
    assert_eq!(moved.len(), 3, "booked, rescheduled, cancelled");
    let by_code = HistoryQuery { booking_code: Some(moved_code), ..HistoryQuery::default() };
    selects(&mut admin, by_code, &moved).await;

    let first_joined = rows.iter().position(|r| r.action == AuditAction::Joined).expect("a join");
    let since = HistoryQuery { since: Some(waitlist_since), ..HistoryQuery::default() };
    selects(&mut admin, since, &rows[first_joined..]).await;

    let offers = [AuditAction::Offered, AuditAction::Declined];
    let offered: Vec<Row> = rows.iter().filter(|r| offers.contains(&r.action)).cloned().collect();
    assert_eq!(offered.len(), 3);
    selects(&mut admin, HistoryQuery { actions: offers.to_vec(), ..HistoryQuery::default() }, &offered).await;

    let by_rita: Vec<Row> =
        rows.iter().filter(|r| r.actor == Actor::Staff { name: RITA.0.into() }).cloned().collect();
    assert_eq!(by_rita.len(), 5, "a cancel, a block, an unblock, a hold ended, an entry removed");
    let by_name = HistoryQuery { staff_name: Some(RITA.0.into()), ..HistoryQuery::default() };
    selects(&mut admin, by_name, &by_rita).await;

    let newest = history(&mut admin, HistoryQuery { limit: Some(3), ..HistoryQuery::default() }).await;
    assert_eq!(
        newest.iter().map(|e| e.id).collect::<Vec<_>>(),
        all[..3].iter().map(|e| e.id).collect::<Vec<_>>()
    );
    assert_eq!(newest[0].action, AuditAction::Reset);
}

/// Servers for these tests: the test limits, with messages as fast as the
/// scenario sends them.
fn options() -> Options {
    Options { limits: Limits { messages_per_sec: 10_000, ..test_limits() }, ..Options::default() }
}

#[tokio::test]
async fn the_history_has_a_row_for_every_change_with_who_made_it_and_its_filters_select_rows() {
    let app = spawn_with(options()).await;
    let trail = scenario::run(&app, &app).await;
    check(trail).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn two_instances_on_postgres_write_one_trail_that_either_reads_whole() {
    let db = TestDatabase::require("two_instances_on_postgres_write_one_trail…").await;
    let now = Arc::new(Mutex::new(test_now()));
    let one: TestApp = spawn_on(&db.url, now.clone(), options()).await;
    let two: TestApp = spawn_on(&db.url, now.clone(), options()).await;
    let (mut other, _) = two.connect_with_state().await;
    crate::common::log_in_admin(&mut other).await;
    let trail = scenario::run(&one, &two).await;
    // The other instance reads the same trail.
    let mut from_two = history(&mut other, HistoryQuery::default()).await;
    from_two.retain(|e| !about_accounts(e));
    assert_eq!(from_two.len(), trail.rows.len(), "every row, whichever instance wrote it");
    check(trail).await;
}

#[tokio::test]
async fn only_staff_read_the_history() {
    let app = spawn_with(options()).await;
    let (mut page, _) = app.connect_with_state().await;
    let reply = call(&mut page, |request_id| ClientMessage::StaffHistory {
        request_id,
        query: HistoryQuery::default(),
    })
    .await;
    assert!(matches!(reply, ServerMessage::Error { code: ErrorCode::Forbidden, .. }), "{reply:?}");
    let slot_id = slot("0900");
    let held = call(&mut page, |request_id| ClientMessage::Hold { request_id, slot_id }).await;
    assert!(matches!(held, ServerMessage::HoldResult { ok: true, .. }), "{held:?}");
    let (mut desk, _) = app.connect_with_state().await;
    crate::common::log_in(&mut desk, RITA).await;
    let rows =
        history(&mut desk, HistoryQuery { actions: vec![AuditAction::Held], ..HistoryQuery::default() })
            .await;
    let held: Vec<Row> = rows.iter().map(|e| Row::of(e, None)).collect();
    assert_eq!(
        held,
        [Row::new(Actor::Patient, AuditAction::Held).slot("0900")],
        "a receptionist reads it too"
    );
}
