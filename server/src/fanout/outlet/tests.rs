//! What cuts a busy connection off: rounds of updates its task has not taken,
//! not the size of one round; and a round is queued as the workers' shared
//! list, not copied per connection.

use protocol::{ErrorCode, ServerMessage};

use super::*;

async fn outlet() -> (Outlet, TcpStream) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (Outlet::new(server, 0, 0), client)
}

/// `n` updates after `after`, as a worker hands them on in one round.
fn round(after: Version, n: usize) -> Arc<[Broadcast]> {
    let frame = crate::wire::encode(&ServerMessage::Error {
        code: ErrorCode::Internal,
        message: "any change".into(),
        request_id: None,
    });
    (1..=n as Version)
        .map(|i| Broadcast { version: after + i, frame: frame.clone(), staff: None, waiting: None })
        .collect()
}

fn deliver(outlet: &Outlet, updates: &Arc<[Broadcast]>, queue: usize) {
    outlet.deliver(updates, &Bytes::new(), &vec![0; updates.len()], (queue, queue));
}

#[tokio::test]
async fn a_busy_task_takes_a_round_larger_than_the_queue_at_once() {
    // A new outlet is queued: its task sends the schedule first.
    let (outlet, _client) = outlet().await;
    // A worker that got to run after many group commits hands them on together.
    let burst = round(0, 1000);
    deliver(&outlet, &burst, 4);
    assert_eq!(outlet.fault(), None);
    let queue = outlet.take_queue();
    assert_eq!(queue.len(), 1);
    assert!(Arc::ptr_eq(&queue[0], &burst), "the round is shared, not copied for the connection");
}

#[tokio::test]
async fn a_task_that_takes_nothing_for_more_rounds_than_the_queue_is_cut_off() {
    let (outlet, _client) = outlet().await;
    let mut version = 0;
    for _ in 0..4 {
        deliver(&outlet, &round(version, 1), 4);
        version += 1;
    }
    assert_eq!(outlet.fault(), None);
    // Taking the queue starts the count again.
    assert_eq!(outlet.take_queue().len(), 4);
    for _ in 0..4 {
        deliver(&outlet, &round(version, 1), 4);
        version += 1;
    }
    assert_eq!(outlet.fault(), None);
    deliver(&outlet, &round(version, 1), 4);
    assert_eq!(outlet.fault(), Some(Fault::TooSlow));
    assert!(outlet.take_queue().is_empty(), "what waited is dropped with the connection");
}

#[tokio::test]
async fn an_outlet_that_joined_after_some_changes_takes_none_of_them() {
    let (outlet, _client) = outlet().await;
    // Gathered by the worker before the outlet joined.
    outlet.skip_to(3);
    deliver(&outlet, &round(0, 3), 4);
    assert!(outlet.take_queue().is_empty());
    deliver(&outlet, &round(3, 2), 4);
    let queue = outlet.take_queue();
    let versions: Vec<Version> = queue.iter().flat_map(|r| r.iter().map(|u| u.version)).collect();
    assert_eq!(versions, [4, 5]);
}
