//! Staff accounts through real sockets: an admin and two receptionists log in,
//! each role may do what it may and is refused the rest, wrong passwords are
//! counted like any guessed secret, sessions resume after a reconnect and end
//! on logout, on removal of the account and when they run out (on PostgreSQL
//! too, across instances), and the `server staff` commands manage the
//! accounts. Every login, refusal, logout and change of the accounts leaves
//! its row in the audit trail.

mod attacks;
mod cli;
mod roles;
mod sessions;

use std::time::Duration;

use client::Client;
use protocol::{Actor, AuditAction, AuditEntry, ClientMessage, ErrorCode, HistoryQuery, ServerMessage};
use server::store::{SqlStore, Store};

use crate::common::{Options, TestApp, database_url, recv, spawn_with, test_limits};

/// A server whose consoles check their sessions every 100 ms, so that a
/// session ended elsewhere ends a live console at once.
async fn spawn_rechecking() -> TestApp {
    spawn_with(rechecking()).await
}

/// Options whose consoles check their sessions every 100 ms.
fn rechecking() -> Options {
    let limits = server::Limits { staff_recheck: Duration::from_millis(100), ..test_limits() };
    Options { limits, ..Options::default() }
}

/// Sends `make(request_id)` and waits for its answer.
async fn call(client: &mut Client, make: impl FnOnce(String) -> ClientMessage) -> ServerMessage {
    let request_id = client.request_id();
    client.call(make(request_id)).await.expect("an answer")
}

/// Whether `reply` is the `forbidden` error.
fn forbidden(reply: &ServerMessage) -> bool {
    matches!(reply, ServerMessage::Error { code: ErrorCode::Forbidden, .. })
}

/// Reads until `staffEnded`, skipping schedule and staff updates; fails the
/// test on anything else, or when it does not come within five seconds.
async fn staff_ended(client: &mut Client) {
    loop {
        match recv(client).await {
            ServerMessage::StaffEnded {} => return,
            ServerMessage::Update { .. }
            | ServerMessage::StaffUpdate { .. }
            | ServerMessage::StaffState { .. } => {}
            other => panic!("expected staffEnded, got {other:?}"),
        }
    }
}

/// The audit rows of `action` on the app's database, newest first.
async fn audit_rows(app: &TestApp, action: AuditAction) -> Vec<AuditEntry> {
    audit_rows_at(&database_url(app.data_dir.path()), action).await
}

/// The audit rows of `action` on the database at `url`, newest first.
async fn audit_rows_at(url: &str, action: AuditAction) -> Vec<AuditEntry> {
    let store = SqlStore::open(url).await.expect("the database opens");
    let query = HistoryQuery { actions: vec![action], ..HistoryQuery::default() };
    let rows = store.history(&query).await.expect("the audit trail reads");
    store.close().await;
    rows
}

/// The member of staff `name`, as the audit trail names them.
fn staff(name: &str) -> Actor {
    Actor::Staff { name: name.to_owned() }
}
