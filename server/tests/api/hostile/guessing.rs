//! Guessing secrets behind a reverse proxy: each client is known by the address
//! the trusted proxy names (an IPv6 client by its /64), so a guesser locks out
//! itself only, guessing manage links never locks staff out, and a forged
//! header from anybody but the proxy is ignored.

use std::net::Ipv6Addr;

use client::BookingReply;
use protocol::ErrorCode;

use super::*;

/// A server that trusts 127.0.0.1 as its reverse proxy, as behind the README's
/// nginx set-up; the other limits are the defaults.
async fn behind_proxy() -> TestApp {
    let limits = Limits { write_timeout: Duration::from_secs(5), ..Limits::DEFAULT };
    let trusted_proxies = "127.0.0.1".parse().unwrap();
    spawn_with(Options { limits, trusted_proxies, ..Options::default() }).await
}

/// A connection through the proxy (from 127.0.0.1) for the client at `client`.
async fn through_proxy(app: &TestApp, client: IpAddr) -> Client {
    through_proxy_with(app, client, None).await
}

/// The same, with a header of the client's own that the proxy passes on.
async fn through_proxy_with(
    app: &TestApp,
    client: IpAddr,
    header: Option<(&'static str, &'static str)>,
) -> Client {
    let options = ConnectOptions { forwarded_for: Some(client), header, ..ConnectOptions::default() };
    let mut connection = Client::connect_with(&app.ws_url(), options).await.expect("connects");
    assert!(matches!(recv(&mut connection).await, ServerMessage::InitialState(_)));
    connection
}

async fn lookup(client: &mut Client, token: &str) -> ServerMessage {
    let request_id = client.request_id();
    client.call(ClientMessage::Lookup { request_id, manage_token: token.into() }).await.unwrap()
}

/// Tries the admin's login with `password`: the answer.
async fn login(client: &mut Client, password: &str) -> ServerMessage {
    client
        .send(&ClientMessage::StaffLogin {
            request_id: "login".into(),
            name: ADMIN.0.into(),
            password: password.into(),
        })
        .await
        .unwrap();
    loop {
        match recv(client).await {
            ServerMessage::Update { .. } => {}
            other => return other,
        }
    }
}

fn rate_limited(reply: &ServerMessage) -> bool {
    matches!(reply, ServerMessage::Error { code: ErrorCode::RateLimited, .. })
}

#[tokio::test]
async fn behind_a_proxy_a_guesser_locks_out_only_itself() {
    let app = behind_proxy().await;
    let slot = bookable(&app).await[0].clone();
    let anna_address: IpAddr = "198.51.100.7".parse().unwrap();
    let mut anna = through_proxy(&app, anna_address).await;
    let BookingReply::Booked { manage_token: Some(token), .. } = anna.book(slot, patient()).await.unwrap()
    else {
        panic!("Anna books");
    };

    // Mallory guesses manage links from one IPv6 /64, a new address each time,
    // and claims to be Anna in a `Forwarded` header of her own, which the proxy
    // passes on (the server reads only what the proxy appends).
    let limit = Limits::DEFAULT.failed_secrets_per_min;
    let mut refused = false;
    for i in 0..=limit {
        let address = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 7, 0, 0, 0, i as u16 + 1));
        let mut mallory = through_proxy_with(&app, address, Some(("forwarded", "for=198.51.100.7"))).await;
        let reply = lookup(&mut mallory, &"0".repeat(64)).await;
        refused = rate_limited(&reply);
        assert_eq!(refused, i == limit, "guess {i}: {reply:?}");
    }
    assert!(refused);
    // Mallory's forged header, sent straight to the server, is not believed:
    // the guesses count against the address it really comes from.
    let options = ConnectOptions {
        local_ip: Some(address(MALLORY)),
        forwarded_for: Some(anna_address),
        ..ConnectOptions::default()
    };
    let mut forger = Client::connect_with(&app.ws_url(), options).await.unwrap();
    for _ in 0..limit {
        assert!(!rate_limited(&lookup(&mut forger, &"1".repeat(64)).await));
    }
    assert!(rate_limited(&lookup(&mut forger, &"1".repeat(64)).await));

    // Anna, through the same proxy, still finds her booking, and staff log in.
    assert!(matches!(lookup(&mut anna, &token).await, ServerMessage::Booking { .. }));
    let mut staff = through_proxy(&app, "198.51.100.9".parse().unwrap()).await;
    assert!(matches!(login(&mut staff, ADMIN.1).await, ServerMessage::StaffSession { .. }));
}

#[tokio::test]
async fn guessing_staff_passwords_has_its_own_budget_and_never_locks_out_manage_links() {
    let app = behind_proxy().await;
    let slot = bookable(&app).await[0].clone();
    let mut guesser = through_proxy(&app, "203.0.113.5".parse().unwrap()).await;
    let BookingReply::Booked { manage_token: Some(token), .. } = guesser.book(slot, patient()).await.unwrap()
    else {
        panic!("books");
    };
    let limit = Limits::DEFAULT.failed_staff_logins_per_min;
    for _ in 0..limit {
        assert!(matches!(
            login(&mut guesser, "wrong").await,
            ServerMessage::Error { code: ErrorCode::Forbidden, .. }
        ));
    }
    assert!(rate_limited(&login(&mut guesser, ADMIN.1).await), "even the right password is not checked now");
    assert!(matches!(lookup(&mut guesser, &token).await, ServerMessage::Booking { .. }));
    let mut staff = through_proxy(&app, "198.51.100.9".parse().unwrap()).await;
    assert!(matches!(login(&mut staff, ADMIN.1).await, ServerMessage::StaffSession { .. }));
}

#[tokio::test]
async fn many_guessing_addresses_reach_the_total_but_never_lock_out_staff_with_the_right_password() {
    let app = behind_proxy().await;
    let limits = Limits::DEFAULT;
    let per_address = limits.failed_staff_logins_per_min;
    let addresses = limits.failed_staff_logins_per_min_total / per_address + 1;
    for n in 0..addresses {
        let address = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, n as u8 + 1));
        let mut guesser = through_proxy(&app, address).await;
        for _ in 0..per_address {
            let reply = login(&mut guesser, "wrong-guess").await;
            assert!(matches!(reply, ServerMessage::Error { .. }), "{reply:?}");
        }
    }
    // Past the total, an address that guessed wrong gets no further try...
    let mut guesser = through_proxy(&app, "203.0.113.1".parse().unwrap()).await;
    assert!(rate_limited(&login(&mut guesser, ADMIN.1).await));
    // ...while a receptionist who has not, and a patient, are served.
    let mut staff = through_proxy(&app, "198.51.100.9".parse().unwrap()).await;
    assert!(matches!(login(&mut staff, ADMIN.1).await, ServerMessage::StaffSession { .. }));
}
