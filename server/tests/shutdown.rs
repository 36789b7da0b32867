//! Graceful shutdown of the server binary: on SIGTERM or SIGINT it stops taking
//! connections, answers what it was asked, closes every socket with 1001 and
//! exits 0, with nothing lost.

mod common;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use client::{BookingReply, Client, Error};
use common::{free_port, start_binary};
use protocol::{Patient, ServerMessage, SlotStatus};

async fn connect(port: u16) -> (Client, protocol::Schedule) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(mut client) = Client::connect(&format!("ws://127.0.0.1:{port}/ws")).await
            && let Ok(ServerMessage::InitialState(state)) = client.recv().await
        {
            return (client, state);
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill").arg(format!("-{name}")).arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
}

async fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
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
        let mut server = start_binary(dir.path(), port);
        let (mut idle, state) = connect(port).await;
        let (mut booker, _) = connect(port).await;
        let later = chrono::Utc::now() + chrono::Duration::hours(1);
        let slot =
            state.slots.iter().find(|s| s.status == SlotStatus::Free && s.start > later).unwrap().id.clone();
        let patient = Patient { name: "Shutdown Test".into(), phone: "+7 900 000-00-01".into() };

        // A booking on its way when the signal arrives.
        let in_flight = tokio::spawn(async move { (booker.book(slot.clone(), patient).await, slot) });
        tokio::time::sleep(Duration::from_millis(2)).await;
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

        let (outcome, slot) = in_flight.await.unwrap();
        let mut again = start_binary(dir.path(), port);
        let (_, after) = connect(port).await;
        let shown = after.slots.iter().find(|s| s.id == slot).unwrap().status;
        if let Ok(BookingReply::Booked { .. }) = outcome {
            assert_eq!(shown, SlotStatus::Booked, "an acknowledged booking survives the shutdown");
        }
        signal(&again, "TERM");
        assert_eq!(wait_exit(&mut again).await.code(), Some(0));
    }
}
