//! What each role may do: receptionists keep the day going, admins also
//! reset, erase and manage the staff; wrong passwords are refused and counted.

use client::BookingReply;
use protocol::{AuditAction, BookingFailure, ClientMessage, ServerMessage, StaffRole};

use super::*;
use crate::common::{ADMIN, REMY, RITA, free_future_slots, log_in, patient, spawn_app};

#[tokio::test]
async fn two_receptionists_and_an_admin_log_in_and_each_role_may_do_what_it_may() {
    let app = spawn_app().await;
    let (mut page, schedule) = app.connect_with_state().await;
    let mut slots = free_future_slots(&schedule).map(|s| s.id.clone());
    let (booked, blocked) = (slots.next().unwrap(), slots.next().unwrap());
    let BookingReply::Booked { code, .. } = page.book(booked.clone(), patient()).await.unwrap() else {
        panic!("the patient books")
    };

    let (mut rita, _) = app.connect_with_state().await;
    let (mut remy, _) = app.connect_with_state().await;
    let (mut admin, _) = app.connect_with_state().await;
    let sessions =
        [log_in(&mut rita, RITA).await, log_in(&mut remy, REMY).await, log_in(&mut admin, ADMIN).await];
    let roles: Vec<_> = sessions.iter().map(|s| (s.name.as_str(), s.role)).collect();
    assert_eq!(
        roles,
        [("rita", StaffRole::Receptionist), ("remy", StaffRole::Receptionist), ("admin", StaffRole::Admin)]
    );
    assert_ne!(sessions[0].session, sessions[1].session, "each login has a session of its own");

    // Receptionists block and unblock, cancel, and read the waitlist.
    let block =
        call(&mut rita, |request_id| ClientMessage::Block { request_id, slot_id: blocked.clone() }).await;
    assert!(matches!(block, ServerMessage::ActionResult { ok: true, .. }), "{block:?}");
    let unblock =
        call(&mut remy, |request_id| ClientMessage::Unblock { request_id, slot_id: blocked.clone() }).await;
    assert!(matches!(unblock, ServerMessage::ActionResult { ok: true, .. }), "{unblock:?}");
    assert_eq!(rita.staff_waitlist().await.unwrap(), []);
    let cancel =
        call(&mut remy, |request_id| ClientMessage::StaffCancel { request_id, slot_id: booked.clone() })
            .await;
    assert!(matches!(cancel, ServerMessage::ActionResult { ok: true, .. }), "{cancel:?}");

    // They may not reset, erase or manage staff.
    let refusals = [
        call(&mut rita, |request_id| ClientMessage::Reset { request_id }).await,
        call(&mut rita, |request_id| ClientMessage::StaffErase { request_id, booking_code: code.clone() })
            .await,
        call(&mut remy, |request_id| ClientMessage::StaffAccounts { request_id }).await,
        call(&mut remy, |request_id| ClientMessage::AddStaff {
            request_id,
            name: "mallory".into(),
            role: StaffRole::Admin,
            password: "mallory-password-1".into(),
        })
        .await,
        call(&mut rita, |request_id| ClientMessage::RemoveStaff { request_id, name: "admin".into() }).await,
    ];
    for refusal in &refusals {
        assert!(forbidden(refusal), "{refusal:?}");
    }
    // A refusal for the role is no guess: it costs the login budget nothing.
    assert!(rita.staff_login(RITA.0, RITA.1).await.is_ok());

    // The admin manages staff and resets.
    let names =
        |accounts: Vec<protocol::StaffAccount>| accounts.into_iter().map(|a| a.name).collect::<Vec<_>>();
    assert_eq!(names(admin.staff_accounts().await.unwrap()), ["admin", "remy", "rita"]);
    admin.add_staff("nina", StaffRole::Receptionist, "nina-password-77").await.unwrap();
    assert_eq!(names(admin.staff_accounts().await.unwrap()), ["admin", "nina", "remy", "rita"]);
    assert_eq!(admin.remove_staff("nina").await.unwrap(), Ok(()));
    assert_eq!(admin.remove_staff("nina").await.unwrap(), Err(BookingFailure::NotFound));
    admin.reset().await.unwrap();
    loop {
        match recv(&mut admin).await {
            ServerMessage::InitialState(_) => break,
            ServerMessage::Update { .. } | ServerMessage::StaffUpdate { .. } => {}
            other => panic!("expected the reset schedule, got {other:?}"),
        }
    }

    // Each login and each change of the accounts is in the audit trail, by
    // whom and from where.
    let logins = audit_rows(&app, AuditAction::LoggedIn).await;
    let who: Vec<_> = logins.iter().map(|row| row.actor.clone()).collect();
    assert_eq!(who, [staff("rita"), staff("admin"), staff("remy"), staff("rita")], "newest first");
    assert!(logins.iter().all(|row| row.address.as_deref() == Some("127.0.0.1")), "{logins:?}");
    let added = audit_rows(&app, AuditAction::StaffAdded).await;
    assert_eq!(
        (&added[0].actor, added[0].detail.as_deref()),
        (&staff("admin"), Some("nina as receptionist"))
    );
    let removed = audit_rows(&app, AuditAction::StaffRemoved).await;
    assert_eq!(removed.len(), 1);
    assert_eq!(
        (&removed[0].actor, removed[0].detail.as_deref()),
        (&staff("admin"), Some("nina (receptionist)"))
    );
    assert_eq!(removed[0].address.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn wrong_names_and_passwords_are_refused_recorded_and_counted_until_the_address_is_stopped() {
    let app = spawn_app().await;
    let budget = test_limits().failed_staff_logins_per_min;
    let mut guesser = app.connect_ws().await;
    for i in 0..budget {
        // Wrong passwords of a real name and names that do not exist alike.
        let name = if i % 2 == 0 { "rita" } else { "nobody" };
        let refused = guesser.staff_login(name, "wrong-password-here").await;
        assert!(
            matches!(refused, Err(client::Error::Server { code: protocol::ErrorCode::Forbidden, .. })),
            "{refused:?}"
        );
    }
    // Now even the right password is not checked, and neither is a session,
    // on any connection from this address.
    let limited = guesser.staff_login(RITA.0, RITA.1).await;
    assert!(
        matches!(limited, Err(client::Error::Server { code: protocol::ErrorCode::RateLimited, .. })),
        "{limited:?}"
    );
    let mut again = app.connect_ws().await;
    let resumed = again.staff_resume(&"0".repeat(64)).await;
    assert!(
        matches!(resumed, Err(client::Error::Server { code: protocol::ErrorCode::RateLimited, .. })),
        "{resumed:?}"
    );

    let failed = audit_rows(&app, AuditAction::LoginFailed).await;
    assert_eq!(failed.len(), budget as usize, "only the checked attempts are recorded");
    assert!(failed.iter().all(|row| row.actor == protocol::Actor::Patient));
    assert!(failed.iter().all(|row| row.address.as_deref() == Some("127.0.0.1")));
    let mut tried: Vec<_> = failed.iter().filter_map(|row| row.detail.clone()).collect();
    tried.sort();
    tried.dedup();
    assert_eq!(tried, ["name tried: nobody", "name tried: rita"]);
    assert!(audit_rows(&app, AuditAction::LoggedIn).await.is_empty());
}

#[tokio::test]
async fn staff_accounts_refuse_bad_names_short_passwords_twins_and_removing_the_last_admin() {
    let app = spawn_rechecking().await;
    let (mut admin, _) = app.connect_with_state().await;
    log_in(&mut admin, ADMIN).await;
    let refused = |result: Result<(), client::Error>, why: &str| match result {
        Err(client::Error::Server { code: protocol::ErrorCode::InvalidMessage, message }) => {
            assert!(message.contains(why), "{message}");
        }
        other => panic!("expected a refusal saying {why:?}, got {other:?}"),
    };
    refused(
        admin.add_staff("night shift", StaffRole::Receptionist, "long-enough-password").await,
        "login name",
    );
    refused(admin.add_staff("nina", StaffRole::Receptionist, "short").await, "at least 12 characters");
    refused(admin.add_staff("rita", StaffRole::Admin, "long-enough-password").await, "exists already");
    let last = admin.remove_staff("admin").await;
    assert!(
        matches!(&last, Err(client::Error::Server { message, .. }) if message.contains("last admin")),
        "{last:?}"
    );

    // With a second admin, the first may go: its own console ends with it.
    admin.add_staff("ada", StaffRole::Admin, "ada-password-12").await.unwrap();
    assert_eq!(admin.remove_staff("admin").await.unwrap(), Ok(()));
    staff_ended(&mut admin).await;
    let (mut ada, _) = app.connect_with_state().await;
    log_in(&mut ada, ("ada", "ada-password-12")).await;
    let last = ada.remove_staff("ada").await;
    assert!(matches!(&last, Err(client::Error::Server { .. })), "{last:?}");
    let names: Vec<_> = ada.staff_accounts().await.unwrap().into_iter().map(|a| a.name).collect();
    assert_eq!(names, ["ada", "remy", "rita"]);
}
