//! Hostile clients against the server's default limits, over real sockets: each
//! attack a short script could make, and the defence that stops it while
//! well-behaved patients book undisturbed. Every honest patient and every
//! attacker has an address of its own on the loopback network (127.0.0.x), as
//! they would on the internet.

mod bookings;
mod connections;
mod guessing;
mod holds;
mod identity;
mod under_attack;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::common::*;
use client::{Client, ConnectOptions};
use protocol::{ClientMessage, Patient, ServerMessage, SlotId};
use server::Limits;

/// A server on the default limits (the write timeout shortened, as in every
/// test, so that a stuck test ends sooner).
async fn spawn_defaults() -> TestApp {
    let limits = Limits { write_timeout: Duration::from_secs(5), ..Limits::DEFAULT };
    spawn_with(Options { limits, ..Options::default() }).await
}

/// The address of a party: 127.0.0.`n`.
fn address(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// An attacker's address.
const MALLORY: u8 = 66;

/// A connection from 127.0.0.`n`, past its `initialState`.
async fn connect_from(app: &TestApp, n: u8) -> Client {
    let options = ConnectOptions { local_ip: Some(address(n)), ..ConnectOptions::default() };
    let mut client = Client::connect_with(&app.ws_url(), options).await.expect("connects");
    assert!(matches!(recv(&mut client).await, ServerMessage::InitialState(_)));
    client
}

/// A patient with a phone number of their own.
fn someone(n: u32) -> Patient {
    Patient { name: format!("Patient {n}"), phone: format!("+7 900 {:03} {:04}", n / 10_000, n % 10_000) }
}

/// The free slots bookable at the tests' clock, as a new page sees them.
async fn bookable(app: &TestApp) -> Vec<SlotId> {
    let (_, schedule) = app.connect_with_state().await;
    free_future_slots(&schedule).map(|s| s.id.clone()).collect()
}

/// Holds a slot; the hold's refusal, if refused.
async fn hold(client: &mut Client, slot: &SlotId) -> Result<(), protocol::BookingFailure> {
    let request_id = client.request_id();
    match client.call(ClientMessage::Hold { request_id, slot_id: slot.clone() }).await.unwrap() {
        ServerMessage::HoldResult { ok: true, .. } => Ok(()),
        ServerMessage::HoldResult { reason: Some(reason), .. } => Err(reason),
        other => panic!("expected a holdResult, got {other:?}"),
    }
}
