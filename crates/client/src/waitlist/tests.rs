//! Tests of the waitlist requests against a scripted server: each request sends
//! its message and reads its answer, refusals come back as reasons, and entries
//! pushed while the client waits for something else are kept for
//! `next_waitlist` without losing the updates around them.

use futures_util::{SinkExt, StreamExt};
use protocol::{
    BookingFailure, ClientMessage, DoctorId, ErrorCode, Patient, PowChallenge, PowParameters, ServerMessage,
    Slot, SlotId, SlotStatus, StaffWaiting, WaitStatus, WaitWindow, WaitlistEntry,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::{action, entry, joined};
use crate::{BookingReply, Client, Error};

/// The server's end of one connection.
struct Peer(WebSocketStream<TcpStream>);

impl Peer {
    async fn recv(&mut self) -> ClientMessage {
        loop {
            if let Message::Text(text) = self.0.next().await.expect("the client is connected").unwrap() {
                return serde_json::from_str(&text).expect("a client message");
            }
        }
    }

    async fn send(&mut self, message: ServerMessage) {
        self.0.send(Message::text(serde_json::to_string(&message).unwrap())).await.unwrap();
    }
}

/// A server on a free local port that plays `script` with the one client that
/// connects: its URL, and the task to await so that its assertions count.
async fn scripted<F, Fut>(script: F) -> (String, JoinHandle<()>)
where
    F: FnOnce(Peer) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        script(Peer(tokio_tungstenite::accept_async(tcp).await.unwrap())).await;
    });
    (url, task)
}

/// A challenge solved in a few hundred hashes.
fn easy_challenge() -> PowChallenge {
    PowChallenge {
        parameters: PowParameters {
            algorithm: "SHA-256".into(),
            cost: 1,
            expires_at: None,
            key_length: 32,
            key_prefix: "00".into(),
            key_signature: None,
            nonce: "5d2c9a7e1f3b4c6d".into(),
            salt: "a1b2c3d4e5f60718".into(),
        },
        signature: "signed".into(),
    }
}

fn window() -> WaitWindow {
    WaitWindow {
        from_day: "2026-11-25".parse().unwrap(),
        to_day: "2026-11-27".parse().unwrap(),
        from_time: None,
        to_time: None,
    }
}

fn anna() -> Patient {
    Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() }
}

fn waiting() -> WaitlistEntry {
    WaitlistEntry {
        doctor_id: DoctorId("therapist".into()),
        window: window(),
        patient: anna(),
        status: WaitStatus::Waiting,
        place: Some(1),
        offer: None,
        booking_code: None,
        joined_at: "2026-11-24T07:10:02Z".parse().unwrap(),
    }
}

fn update(version: u64) -> ServerMessage {
    let slot = Slot {
        id: SlotId("therapist-20261125-0930".into()),
        doctor_id: DoctorId("therapist".into()),
        start: "2026-11-25T06:30:00Z".parse().unwrap(),
        end: "2026-11-25T07:00:00Z".parse().unwrap(),
        status: SlotStatus::Held,
        held_until: Some("2026-11-24T07:30:00Z".parse().unwrap()),
    };
    ServerMessage::Update { version, slot }
}

fn pushed(status: WaitStatus) -> ServerMessage {
    ServerMessage::Waitlist { request_id: None, entry: WaitlistEntry { status, ..waiting() } }
}

#[tokio::test]
async fn joining_pays_with_a_solved_challenge_and_pushed_entries_wait_for_next_waitlist() {
    let (url, server) = scripted(|mut peer| async move {
        let ClientMessage::Challenge { request_id } = peer.recv().await else { panic!("a challenge first") };
        peer.send(ServerMessage::Challenge { request_id, challenge: easy_challenge() }).await;
        let ClientMessage::JoinWaitlist { request_id, doctor_id, window: asked, patient, proof } =
            peer.recv().await
        else {
            panic!("then the join")
        };
        assert_eq!((doctor_id.0.as_str(), asked, patient), ("therapist", window(), anna()));
        let proof = proof.expect("the join carries its proof");
        assert_eq!(proof.challenge, easy_challenge(), "the challenge goes back untouched");
        let counter = proof.solution.counter;
        assert_eq!(easy_challenge().solve_within(counter..counter + 1), Some(proof.solution));
        // An update and an offer arrive before the answer to the join.
        peer.send(update(7)).await;
        peer.send(pushed(WaitStatus::Offered)).await;
        let wait_token = Some("b41d".to_owned());
        peer.send(ServerMessage::JoinResult { request_id, ok: true, wait_token, reason: None }).await;
        peer.send(update(8)).await;
        peer.send(pushed(WaitStatus::Waiting)).await;
    })
    .await;
    let mut client = Client::connect(&url).await.unwrap();

    let joined = client.join_waitlist(DoctorId("therapist".into()), window(), anna()).await.unwrap();
    assert_eq!(joined, Ok("b41d".to_owned()));
    assert_eq!(client.next_waitlist().await.unwrap().status, WaitStatus::Offered, "kept from meanwhile");
    assert_eq!(client.recv().await.unwrap(), update(7), "the update stays for recv");
    assert_eq!(client.next_waitlist().await.unwrap().status, WaitStatus::Waiting, "read as it comes");
    assert_eq!(client.recv().await.unwrap(), update(8), "the update read on the way stays for recv");
    server.await.unwrap();
}

#[tokio::test]
async fn each_waitlist_request_sends_its_message_and_reads_its_answer() {
    let staff_entry = StaffWaiting {
        id: 17,
        doctor_id: DoctorId("therapist".into()),
        window: window(),
        patient: anna(),
        joined_at: "2026-11-24T07:10:02Z".parse().unwrap(),
        offered_slot: None,
        offer_expires_at: None,
    };
    let listed = staff_entry.clone();
    let (url, server) = scripted(|mut peer| async move {
        for _ in 0..7 {
            let reply = match peer.recv().await {
                ClientMessage::WatchWaitlist { request_id, wait_token } if wait_token == "t" => {
                    ServerMessage::Waitlist { request_id: Some(request_id), entry: waiting() }
                }
                ClientMessage::ChangeWaitlist { request_id, window, .. } => {
                    let entry = WaitlistEntry { window, ..waiting() };
                    ServerMessage::Waitlist { request_id: Some(request_id), entry }
                }
                ClientMessage::LeaveWaitlist { request_id, .. } => {
                    ServerMessage::ActionResult { request_id, ok: true, reason: None }
                }
                ClientMessage::AcceptOffer { request_id, .. } => ServerMessage::BookingResult {
                    request_id,
                    ok: true,
                    booking_code: Some("K7M2-QX4P".into()),
                    manage_token: Some("9f2c".into()),
                    reason: None,
                },
                ClientMessage::DeclineOffer { request_id, .. } => ServerMessage::ActionResult {
                    request_id,
                    ok: false,
                    reason: Some(BookingFailure::NoOffer),
                },
                ClientMessage::StaffWaitlist { request_id } => {
                    ServerMessage::StaffWaitlist { request_id, entries: vec![listed.clone()] }
                }
                ClientMessage::StaffRemoveWaiting { request_id, entry_id: 17 } => ServerMessage::Error {
                    code: ErrorCode::Forbidden,
                    message: "Not allowed.".into(),
                    request_id: Some(request_id),
                },
                other => panic!("unexpected request {other:?}"),
            };
            peer.send(reply).await;
        }
    })
    .await;
    let mut client = Client::connect(&url).await.unwrap();

    assert_eq!(client.watch_waitlist("t").await.unwrap(), Ok(waiting()));
    let wider = WaitWindow { to_day: "2026-11-30".parse().unwrap(), ..window() };
    assert_eq!(client.change_waitlist("t", wider).await.unwrap().unwrap().window, wider);
    assert_eq!(client.leave_waitlist("t").await.unwrap(), Ok(()));
    let booked = BookingReply::Booked { code: "K7M2-QX4P".into(), manage_token: Some("9f2c".into()) };
    assert_eq!(client.accept_offer("t").await.unwrap(), booked);
    assert_eq!(client.decline_offer("t").await.unwrap(), Err(BookingFailure::NoOffer));
    assert_eq!(client.staff_waitlist().await.unwrap(), vec![staff_entry]);
    let refused = client.staff_remove_waiting(17).await;
    assert!(matches!(refused, Err(Error::Server { code: ErrorCode::Forbidden, .. })), "{refused:?}");
    server.await.unwrap();
}

#[test]
fn refusals_come_back_as_their_reason() {
    let refused =
        |reason| ServerMessage::ActionResult { request_id: "r".into(), ok: false, reason: Some(reason) };
    assert_eq!(
        action("leaveWaitlist", refused(BookingFailure::WrongState)).unwrap(),
        Err(BookingFailure::WrongState)
    );
    assert_eq!(
        entry("watchWaitlist", refused(BookingFailure::NotFound)).unwrap(),
        Err(BookingFailure::NotFound)
    );
    let full = ServerMessage::JoinResult {
        request_id: "r".into(),
        ok: false,
        wait_token: None,
        reason: Some(BookingFailure::AlreadyWaiting),
    };
    assert_eq!(joined(full).unwrap(), Err(BookingFailure::AlreadyWaiting));
}

#[test]
fn an_answer_of_the_wrong_kind_is_an_error_naming_the_request() {
    let done = ServerMessage::ActionResult { request_id: "r".into(), ok: true, reason: None };
    match entry("changeWaitlist", done) {
        Err(Error::Server { code: ErrorCode::Internal, message }) => {
            assert!(message.contains("changeWaitlist"), "{message}");
        }
        other => panic!("an action result does not answer a change: {other:?}"),
    }
    let no_token =
        ServerMessage::JoinResult { request_id: "r".into(), ok: true, wait_token: None, reason: None };
    assert!(matches!(joined(no_token), Err(Error::Server { code: ErrorCode::Internal, .. })));
}
