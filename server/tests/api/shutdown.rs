//! Graceful shutdown of the server binary: on SIGTERM or SIGINT it stops taking
//! connections, answers what it was asked, closes every socket with 1001 and
//! exits 0, with nothing lost.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::instance::Instance;
use crate::common::{database_url, free_port};
use client::{BookingReply, Error};
use protocol::{Patient, ServerMessage, SlotStatus};

fn signal(server: &Instance, name: &str) {
    let status = Command::new("kill").arg(format!("-{name}")).arg(server.pid().to_string()).status().unwrap();
    assert!(status.success());
}

async fn wait_exit(server: &mut Instance) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = server.exited() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sigterm_and_sigint_close_every_socket_with_1001_and_exit_0_losing_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    for signal_name in ["TERM", "INT"] {
        let mut server = Instance::start(&database_url(dir.path()), port, dir.path());
        let (mut idle, state) = server.connect().await;
        let (mut booker, _) = server.connect().await;
        let later = chrono::Utc::now() + chrono::Duration::hours(1);
        let slot =
            state.slots.iter().find(|s| s.status == SlotStatus::Free && s.start > later).unwrap().id.clone();
        let patient = Patient { name: "Shutdown Test".into(), phone: "+7 900 000-00-01".into() };

        // A booking on its way when the signal arrives: the server has committed
        // it (the idle client sees its update), and its answer may still be on
        // the way to the booker.
        let in_flight = {
            let slot = slot.clone();
            tokio::spawn(async move { booker.book(slot, patient).await })
        };
        let seen = loop {
            match tokio::time::timeout(Duration::from_secs(10), idle.recv()).await.expect("an update in time")
            {
                Ok(ServerMessage::Update { slot: seen, .. }) if seen.id == slot => break seen,
                Ok(_) => {}
                Err(e) => panic!("the idle client lost its connection before the signal: {e:?}"),
            }
        };
        assert_eq!(seen.status, SlotStatus::Booked);
        signal(&server, signal_name);

        let closed = loop {
            match tokio::time::timeout(Duration::from_secs(10), idle.recv()).await.expect("closed in time") {
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert!(matches!(closed, Error::Closed { code: Some(1001), .. }), "{closed:?}");
        let status = wait_exit(&mut server).await;
        assert_eq!(status.code(), Some(0), "SIG{signal_name}: {status:?}");
        let outcome = in_flight.await.unwrap();
        assert!(
            matches!(outcome, Ok(BookingReply::Booked { .. })),
            "SIG{signal_name}: the booking the server had was answered: {outcome:?}"
        );

        let mut again = Instance::start(&database_url(dir.path()), port, dir.path());
        let (_, after) = again.connect().await;
        let shown = after.slots.iter().find(|s| s.id == slot).unwrap().status;
        assert_eq!(shown, SlotStatus::Booked, "SIG{signal_name}: the acknowledged booking survives");
        signal(&again, "TERM");
        assert_eq!(wait_exit(&mut again).await.code(), Some(0));
    }
}
