//! Staff sessions: resumed after a reconnect, ended everywhere by a logout,
//! by the removal of the account (over the socket or by the command line's
//! library function) and by running out; on PostgreSQL, a session made on
//! one instance resumes on another.

use std::sync::{Arc, Mutex};

use protocol::{AuditAction, ClientMessage, ServerMessage, SlotId};
use server::audit::Origin;

use super::*;
use crate::common::postgres::TestDatabase;
use crate::common::{ADMIN, REMY, RITA, free_future_slot, log_in, spawn_on, staff_state, test_now};

/// Blocks `slot` and unblocks it again as `console`: the answer to the block.
async fn block_and_unblock(console: &mut Client, slot: &SlotId) -> ServerMessage {
    let block = call(console, |request_id| ClientMessage::Block { request_id, slot_id: slot.clone() }).await;
    if matches!(block, ServerMessage::ActionResult { ok: true, .. }) {
        let unblock =
            call(console, |request_id| ClientMessage::Unblock { request_id, slot_id: slot.clone() }).await;
        assert!(matches!(unblock, ServerMessage::ActionResult { ok: true, .. }), "{unblock:?}");
    }
    block
}

#[tokio::test]
async fn a_session_resumes_after_a_reconnect_and_a_logout_ends_it_on_every_connection() {
    let app = spawn_rechecking().await;
    let (mut first, schedule) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;
    let session = log_in(&mut first, RITA).await;
    assert_eq!(session.expires_at, test_now() + chrono::Duration::hours(12), "a shift");
    assert_eq!(session.session.len(), 64);

    // The page reloads: a new connection resumes with the session.
    let (mut second, _) = app.connect_with_state().await;
    let resumed = second.staff_resume(&session.session).await.unwrap();
    assert_eq!(resumed, session);
    staff_state(&mut second).await;
    assert!(matches!(
        block_and_unblock(&mut second, &slot).await,
        ServerMessage::ActionResult { ok: true, .. }
    ));

    // Logging out on one ends the session on both.
    first.staff_logout().await.unwrap();
    staff_ended(&mut second).await;
    assert!(forbidden(&block_and_unblock(&mut first, &slot).await));
    assert!(forbidden(&block_and_unblock(&mut second, &slot).await));
    let (mut third, _) = app.connect_with_state().await;
    let refused = third.staff_resume(&session.session).await;
    assert!(matches!(refused, Err(client::Error::Server { code: protocol::ErrorCode::Forbidden, .. })));

    let logged_out = audit_rows(&app, AuditAction::LoggedOut).await;
    assert_eq!(logged_out.len(), 1);
    assert_eq!((&logged_out[0].actor, logged_out[0].address.as_deref()), (&staff("rita"), Some("127.0.0.1")));
    assert_eq!(audit_rows(&app, AuditAction::LoggedIn).await.len(), 1, "a resume is no new login");
}

#[tokio::test]
async fn a_staff_request_finds_a_session_ended_elsewhere_before_the_next_check() {
    // The default re-check comes every 30 s; the request itself reads the session.
    let app = crate::common::spawn_app().await;
    let (mut first, schedule) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;
    let session = log_in(&mut first, REMY).await;
    let (mut second, _) = app.connect_with_state().await;
    second.staff_resume(&session.session).await.unwrap();
    staff_state(&mut second).await;
    first.staff_logout().await.unwrap();

    assert!(forbidden(&block_and_unblock(&mut second, &slot).await));
    staff_ended(&mut second).await;
}

#[tokio::test]
async fn removing_an_account_ends_its_live_consoles_over_the_socket_and_from_the_command_line() {
    let app = spawn_rechecking().await;
    let (mut admin, _) = app.connect_with_state().await;
    let (mut remy, _) = app.connect_with_state().await;
    let (mut rita, _) = app.connect_with_state().await;
    log_in(&mut admin, ADMIN).await;
    log_in(&mut remy, REMY).await;
    log_in(&mut rita, RITA).await;

    assert_eq!(admin.remove_staff("remy").await.unwrap(), Ok(()));
    staff_ended(&mut remy).await;
    let again = remy.staff_login(REMY.0, REMY.1).await;
    assert!(matches!(again, Err(client::Error::Server { code: protocol::ErrorCode::Forbidden, .. })));

    // `server staff remove` calls the same function on the database.
    let removed = app.state().staff().remove("rita", test_now(), &Origin::system(), false).await.unwrap();
    assert_eq!(removed, Ok(protocol::StaffRole::Receptionist));
    staff_ended(&mut rita).await;

    let rows = audit_rows(&app, AuditAction::StaffRemoved).await;
    let who: Vec<_> = rows.iter().map(|row| (row.actor.clone(), row.detail.clone().unwrap())).collect();
    assert_eq!(
        who,
        [
            (protocol::Actor::System, "rita (receptionist)".to_owned()),
            (staff("admin"), "remy (receptionist)".to_owned())
        ]
    );
    // The admin's console was not touched.
    assert_eq!(admin.staff_accounts().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_session_runs_out_after_its_hours() {
    let app = spawn_rechecking().await;
    let (mut console, schedule) = app.connect_with_state().await;
    // A slot still ahead when the clock has moved on by a shift.
    let later = test_now() + chrono::Duration::hours(14);
    let slot = schedule.slots.iter().find(|s| s.status == protocol::SlotStatus::Free && s.start > later);
    let slot = slot.expect("a free slot on a later day").id.clone();
    let session = log_in(&mut console, RITA).await;

    app.advance(chrono::Duration::hours(11));
    assert!(matches!(
        block_and_unblock(&mut console, &slot).await,
        ServerMessage::ActionResult { ok: true, .. }
    ));
    app.advance(chrono::Duration::hours(1));
    staff_ended(&mut console).await;
    assert!(forbidden(&block_and_unblock(&mut console, &slot).await));
    let refused = console.staff_resume(&session.session).await;
    assert!(matches!(refused, Err(client::Error::Server { code: protocol::ErrorCode::Forbidden, .. })));
    // A new login gives a new shift.
    let next = log_in(&mut console, RITA).await;
    assert_eq!(next.expires_at, test_now() + chrono::Duration::hours(24));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn on_postgres_a_session_made_on_one_instance_resumes_on_another_and_ends_on_both() {
    let db = TestDatabase::require("on_postgres_a_session_made_on_one_instance…").await;
    let now = Arc::new(Mutex::new(test_now()));
    let one = spawn_on(&db.url, now.clone(), rechecking()).await;
    let two = spawn_on(&db.url, now.clone(), rechecking()).await;
    let (mut on_one, schedule) = one.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;
    let session = log_in(&mut on_one, ADMIN).await;

    let (mut on_two, _) = two.connect_with_state().await;
    assert_eq!(on_two.staff_resume(&session.session).await.unwrap(), session);
    staff_state(&mut on_two).await;
    assert!(matches!(
        block_and_unblock(&mut on_two, &slot).await,
        ServerMessage::ActionResult { ok: true, .. }
    ));
    assert_eq!(on_two.staff_accounts().await.unwrap().len(), 3, "both instances share the accounts");

    on_two.staff_logout().await.unwrap();
    staff_ended(&mut on_one).await;

    // The audit trail of both is the one table.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT action, actor_name FROM audit WHERE action IN ('loggedIn', 'loggedOut') ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let admin = Some("admin".to_owned());
    assert_eq!(rows, [("loggedIn".to_owned(), admin.clone()), ("loggedOut".to_owned(), admin)]);
}
