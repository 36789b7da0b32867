//! A small run of the load generator against an in-process server: it works, and
//! no update is missed.

use std::time::Duration;

use loadtest::{Options, run};
use server::{Server, Settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_see_every_booking() {
    let data = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        static_dir: data.path().into(),
        ..Settings::local(format!("sqlite://{}/booking.db", data.path().display()))
    };
    // A load generator's bookers send faster than any person would, its clients
    // share two addresses, and its proofs of work are made cheap: the limits
    // protect a real server, and must not be what this run measures.
    let limits = &mut settings.limits;
    limits.messages_per_sec = 100_000;
    limits.connections_per_address = 100_000;
    limits.bookings_per_phone = usize::MAX;
    limits.bookings_per_address_per_hour = u32::MAX;
    limits.challenge_work = 1;
    let server = Server::bind(settings).await.unwrap();
    let url = format!("ws://{}/ws", server.local_addr());
    tokio::spawn(server.run(std::future::pending()));

    let summary = run(&Options {
        url,
        listen_urls: Vec::new(),
        server_pid: Some(std::process::id()),
        clients: 200,
        sources: 2,
        bookings: 60,
        rate: 200.0,
        bookers: 3,
        connect_concurrency: 50,
        settle: Duration::from_secs(10),
    })
    .await
    .unwrap();
    println!("{}", summary.line());

    assert_eq!(summary.connect_failures, 0);
    assert_eq!((summary.booked, summary.refused, summary.failed), (60, 0, 0));
    assert_eq!(summary.updates_received, 60 * 200);
    // Each of the three booking connections is sent every update as well.
    assert_eq!(summary.booker_updates, 60 * 3);
    assert_eq!(summary.missed_updates, 0);
    assert!(summary.fanout_p50_ms > 0.0 && summary.fanout_max_ms >= summary.fanout_p99_ms);
    assert!(summary.rss_after_kib.is_some());
    let (user, sys) = (summary.server_user_secs.unwrap(), summary.server_sys_secs.unwrap());
    assert!(user >= 0.0 && sys >= 0.0 && (user + sys - summary.server_cpu_secs.unwrap()).abs() < 1e-9);
    let per_update = summary.server_us_per_update.unwrap();
    let expected = summary.server_cpu_secs.unwrap() * 1e6 / (60.0 * 203.0);
    assert!((per_update - expected).abs() < 1e-6, "{per_update} against {expected}");
    assert!(summary.loadgen_cpu_secs.is_some());
}
