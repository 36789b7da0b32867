//! Attacks on staff logins, sessions and accounts: bursts of wrong logins on
//! many connections get no more checks than the address's budget, and no more
//! at once than the machine has cores; a session ended here stops every
//! console using it before the next change reaches them; two admins removing
//! each other at once leave one (on PostgreSQL too); names are one account's
//! in any case and never given to another; and what was typed as a name is
//! recorded only when it is one.

use protocol::{Actor, AuditAction, ClientMessage, ErrorCode, ServerMessage, StaffRole};
use server::audit::Origin;
use server::staff::{Refusal, Staff};
use server::store::SqlStore;

use super::*;
use crate::common::postgres::TestDatabase;
use crate::common::{ADMIN, RITA, free_future_slot, log_in, patient, spawn_app, staff_state, test_now};

/// What became of one login of a burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Checked, and wrong.
    Forbidden,
    /// Not checked: the address's budget was spent.
    OverBudget,
    /// Not checked: every core was checking a password.
    Busy,
}

/// Sends a login of `name` with a wrong password on each of `count` new
/// connections at once, then reads every answer.
async fn burst(app: &TestApp, name: &str, count: usize) -> Vec<Answer> {
    let mut clients = Vec::new();
    for _ in 0..count {
        clients.push(app.connect_ws().await);
    }
    for client in &mut clients {
        let request_id = client.request_id();
        let login = ClientMessage::StaffLogin {
            request_id,
            name: name.to_owned(),
            password: "a wrong password".to_owned(),
        };
        client.send(&login).await.unwrap();
    }
    let mut answers = Vec::new();
    for client in &mut clients {
        let answer = loop {
            match client.recv().await.unwrap() {
                ServerMessage::Error { code: ErrorCode::Forbidden, .. } => break Answer::Forbidden,
                ServerMessage::Error { code: ErrorCode::RateLimited, message, .. } => {
                    break if message.contains("as many logins as it can") {
                        Answer::Busy
                    } else {
                        Answer::OverBudget
                    };
                }
                ServerMessage::Error { code, message, .. } => panic!("unexpected {code:?}: {message}"),
                _ => {}
            }
        };
        answers.push(answer);
    }
    answers
}

fn count(answers: &[Answer], which: Answer) -> usize {
    answers.iter().filter(|a| **a == which).count()
}

#[tokio::test]
async fn bursts_of_wrong_logins_from_one_address_get_exactly_its_budget_of_checks() {
    let app = spawn_app().await;
    let budget = test_limits().failed_staff_logins_per_min as usize;
    let mut checked = 0;
    // Each burst finds its room for a few checks; once the budget is spent,
    // a burst gets none.
    for _ in 0..budget + 1 {
        let answers = burst(&app, RITA.0, 16).await;
        checked += count(&answers, Answer::Forbidden);
        if count(&answers, Answer::OverBudget) == answers.len() {
            break;
        }
    }
    assert_eq!(checked, budget, "checked: as many as the budget, never more");
    assert_eq!(audit_rows(&app, AuditAction::LoginFailed).await.len(), budget);
    // The right password is not checked any more from this address.
    let mut rita = app.connect_ws().await;
    let limited = rita.staff_login(RITA.0, RITA.1).await;
    assert!(
        matches!(limited, Err(client::Error::Server { code: ErrorCode::RateLimited, .. })),
        "{limited:?}"
    );
}

#[tokio::test]
async fn no_more_passwords_are_checked_at_once_than_the_machine_has_cores() {
    let limits = server::Limits { failed_staff_logins_per_min: 10_000, ..test_limits() };
    let app = spawn_with(Options { limits, ..Options::default() }).await;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let answers = burst(&app, RITA.0, cores + 16).await;
    let checked = count(&answers, Answer::Forbidden);
    assert!(checked >= 1, "{answers:?}");
    assert!(count(&answers, Answer::Busy) >= 1, "the rest are answered at once: {answers:?}");
    assert_eq!(count(&answers, Answer::OverBudget), 0, "{answers:?}");
    assert_eq!(audit_rows(&app, AuditAction::LoginFailed).await.len(), checked, "only the checked");
    // Their room is free again: the right password logs in.
    let (mut rita, _) = app.connect_with_state().await;
    log_in(&mut rita, RITA).await;
}

#[tokio::test]
async fn a_logout_stops_the_staff_frames_of_every_console_of_the_session_at_once() {
    // A re-check far away: only the notice of the logout can end the other
    // console before the booking's frame.
    let limits = server::Limits { staff_recheck: Duration::from_secs(600), ..test_limits() };
    let app = spawn_with(Options { limits, ..Options::default() }).await;
    let (mut first, schedule) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;
    let session = log_in(&mut first, RITA).await;
    let (mut second, _) = app.connect_with_state().await;
    second.staff_resume(&session.session).await.unwrap();
    staff_state(&mut second).await;

    second.staff_logout().await.unwrap();
    let (mut page, _) = app.connect_with_state().await;
    let booked = page.book(slot.clone(), patient()).await.unwrap();
    assert!(matches!(booked, client::BookingReply::Booked { .. }), "{booked:?}");
    loop {
        match recv(&mut first).await {
            ServerMessage::StaffEnded {} => break,
            ServerMessage::Update { .. } => {}
            other => panic!("expected staffEnded before anything else for staff, got {other:?}"),
        }
    }
    // The booking's update comes, with no patient's details after it.
    loop {
        match recv(&mut first).await {
            ServerMessage::Update { slot: updated, .. } if updated.id == slot => break,
            ServerMessage::Update { .. } => {}
            other => panic!("expected the booking's update, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_new_password_ends_the_accounts_consoles_at_once_and_leaves_its_row() {
    let limits = server::Limits { staff_recheck: Duration::from_secs(600), ..test_limits() };
    let app = spawn_with(Options { limits, ..Options::default() }).await;
    let (mut rita, _) = app.connect_with_state().await;
    log_in(&mut rita, RITA).await;
    let changed = app
        .state()
        .staff()
        .set_password("Rita", "a-new-password-for-rita", test_now(), &Origin::system())
        .await;
    assert_eq!(changed.unwrap(), Ok(()));
    staff_ended(&mut rita).await;
    let rows = audit_rows(&app, AuditAction::PasswordChanged).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((&rows[0].actor, rows[0].detail.as_deref()), (&Actor::System, Some("rita")));
    let (mut again, _) = app.connect_with_state().await;
    log_in(&mut again, ("rita", "a-new-password-for-rita")).await;
}

#[tokio::test]
async fn names_are_one_accounts_in_any_case_and_a_removed_name_is_never_given_again() {
    let app = spawn_app().await;
    let (mut admin, _) = app.connect_with_state().await;
    log_in(&mut admin, ADMIN).await;
    let refusal = |result: Result<(), client::Error>| match result {
        Err(client::Error::Server { code: ErrorCode::InvalidMessage, message }) => message,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(
        refusal(admin.add_staff("RITA", StaffRole::Admin, "long-enough-password").await).contains("exists")
    );
    admin.add_staff("Nina", StaffRole::Receptionist, "nina-password-12").await.unwrap();
    assert_eq!(admin.remove_staff("nina").await.unwrap(), Ok(()));
    for name in ["Nina", "nina", "NINA"] {
        let message = refusal(admin.add_staff(name, StaffRole::Receptionist, "long-enough-password").await);
        assert!(message.contains("removed account had that name"), "{message}");
    }
    // The command line's function says the same.
    let state = app.state();
    let system = Origin::system();
    let again =
        state.staff().add("nInA", StaffRole::Receptionist, "long-enough-password", test_now(), &system);
    assert_eq!(again.await.unwrap(), Err(Refusal::NameUsed));
    // The database itself holds to it, whatever writes to it.
    let mut db = <sqlx::SqliteConnection as sqlx::Connection>::connect(&crate::common::database_url(
        app.data_dir.path(),
    ))
    .await
    .unwrap();
    let insert = sqlx::query(
        "INSERT INTO staff (name, role, password_hash, created_at) VALUES ('NiNa', 'admin', 'x', 0)",
    )
    .execute(&mut db)
    .await;
    assert!(insert.is_err(), "a second account named nina in another case was stored");

    // A login names the account in any case; the session has its own name.
    let (mut rita, _) = app.connect_with_state().await;
    let session = log_in(&mut rita, ("RiTa", RITA.1)).await;
    assert_eq!(session.name, "rita");
    let logged_in = audit_rows(&app, AuditAction::LoggedIn).await;
    assert_eq!(
        logged_in.iter().map(|r| &r.actor).collect::<Vec<_>>(),
        [&staff_actor("rita"), &staff_actor("admin")]
    );
}

fn staff_actor(name: &str) -> Actor {
    Actor::Staff { name: name.to_owned() }
}

#[tokio::test]
async fn a_failed_login_records_the_name_tried_only_when_it_is_a_name() {
    let app = spawn_app().await;
    let mut guesser = app.connect_ws().await;
    for name in ["nobody", "my secret password", "rita"] {
        let refused = guesser.staff_login(name, "wrong password here").await;
        assert!(
            matches!(refused, Err(client::Error::Server { code: ErrorCode::Forbidden, .. })),
            "{refused:?}"
        );
    }
    let rows = audit_rows(&app, AuditAction::LoginFailed).await;
    let details: Vec<_> = rows.iter().rev().filter_map(|r| r.detail.as_deref()).collect();
    assert_eq!(details, ["name tried: nobody", "name tried: not a valid name", "name tried: rita"]);
}

/// Two admins remove each other at once, `rounds` times, on the database at
/// `url`: each time exactly one goes.
async fn admins_removing_each_other(url: &str, rounds: usize) {
    let store = SqlStore::open(url).await.unwrap();
    let staff = Staff::new(&store);
    let system = Origin::system();
    let mut survivor: Option<String> = None;
    for round in 0..rounds {
        let (ada, bea) = (format!("ada{round}"), format!("bea{round}"));
        for name in [&ada, &bea] {
            staff
                .add(name, StaffRole::Admin, "an-admin-password", test_now(), &system)
                .await
                .unwrap()
                .unwrap();
        }
        // Exactly these two admins are left.
        if let Some(last) = survivor.take() {
            staff.remove(&last, test_now(), &system, false).await.unwrap().unwrap();
        }
        let as_ada = Origin::new(staff_actor(&ada), server::ClientKey::of([127, 0, 0, 1].into()));
        let as_bea = Origin::new(staff_actor(&bea), server::ClientKey::of([127, 0, 0, 1].into()));
        let (one, two) = tokio::join!(
            staff.remove(&bea, test_now(), &as_ada, false),
            staff.remove(&ada, test_now(), &as_bea, false)
        );
        let (one, two) = (one.unwrap(), two.unwrap());
        match (one, two) {
            (Ok(StaffRole::Admin), Err(Refusal::LastAdmin)) => survivor = Some(ada),
            (Err(Refusal::LastAdmin), Ok(StaffRole::Admin)) => survivor = Some(bea),
            other => panic!("round {round}: exactly one admin goes, got {other:?}"),
        }
        let admins: Vec<_> =
            staff.list().await.unwrap().into_iter().filter(|a| a.role == StaffRole::Admin).collect();
        assert_eq!(admins.len(), 1, "round {round}");
    }
    store.close().await;
}

#[tokio::test]
async fn two_admins_removing_each_other_at_once_leave_one_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    admins_removing_each_other(&database_url(dir.path()), 5).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn two_admins_removing_each_other_at_once_leave_one_on_postgres() {
    let db = TestDatabase::require("two_admins_removing_each_other_at_once_leave_one_on_postgres").await;
    admins_removing_each_other(&db.url, 10).await;
}
