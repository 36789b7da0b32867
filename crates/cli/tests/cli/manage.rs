//! Booking through `booking book`, and showing, moving and cancelling the
//! booking through its manage link; refusals, usage errors and a server that
//! cannot be reached, with their exit codes.

use protocol::{BookingFailure, Schedule, SlotStatus};

use crate::common::{PATIENCE, TestServer, free_slots, run};

const NAME: &str = "Anna Petrova";
const PHONE: &str = "+7 912 345-67-89";

#[tokio::test]
async fn a_slot_is_booked_shown_moved_and_cancelled_through_the_binary() {
    let server = TestServer::start().await;
    let (mut watcher, schedule) = server.client().await;
    let free = free_slots(&schedule);
    let (slot, other) = (&free[0], &free[1]);

    let booked = run(&["book", "--json", &server.page(), &slot.id.0, "--name", NAME, "--phone", PHONE]).await;
    assert_eq!(booked.code, 0, "{booked:?}");
    let answer = booked.json();
    assert_eq!(answer["ok"], true);
    let code = answer["code"].as_str().expect("a booking code").to_owned();
    let link = answer["manageLink"].as_str().expect("a manage link").to_owned();
    assert!(link.starts_with(&format!("{}manage#", server.page())), "{link}");
    assert_eq!(answer["slot"]["id"], slot.id.0);

    let again = run(&["book", &server.page(), &slot.id.0, "--name", "Ivan", "--phone", "89031112233"]).await;
    assert_eq!(again.code, 1, "{again:?}");
    assert!(
        again.stderr.contains(BookingFailure::AlreadyBooked.describe()),
        "a sentence for people: {again:?}"
    );
    let again_json =
        run(&["book", "--json", &server.page(), &slot.id.0, "--name", "Ivan", "--phone", "89031112233"])
            .await;
    assert_eq!((again_json.code, again_json.json()["reason"].as_str()), (1, Some("alreadyBooked")));

    let shown = run(&["show", &link]).await;
    assert_eq!(shown.code, 0, "{shown:?}");
    assert!(shown.stdout.contains(&code) && shown.stdout.contains(NAME) && shown.stdout.contains("active"));
    let shown = run(&["show", "--json", &link]).await.json();
    assert_eq!(shown["booking"]["code"], code.as_str());

    let moved = run(&["move", "--json", &link, &other.id.0]).await;
    assert_eq!(moved.code, 0, "{moved:?}");
    assert_eq!(moved.json()["booking"]["slot"]["id"], other.id.0);
    assert_eq!(status_after(&mut watcher, &other.id.0).await, SlotStatus::Booked);

    let cancelled = run(&["cancel", &link]).await;
    assert_eq!(cancelled.code, 0, "{cancelled:?}");
    assert!(cancelled.stdout.starts_with("Cancelled.") && cancelled.stdout.contains("(cancelled)"));
    let twice = run(&["cancel", "--json", &link]).await;
    assert_eq!((twice.code, twice.json()["reason"].as_str()), (1, Some("cancelled")));
    let (_, now) = server.client().await;
    assert_eq!(status_of(&now, &other.id.0), SlotStatus::Free);
}

#[tokio::test]
async fn a_booking_for_people_prints_the_code_and_the_link() {
    let server = TestServer::start().await;
    let (_, schedule) = server.client().await;
    let slot = &free_slots(&schedule)[0];
    let booked = run(&["book", &server.page(), &slot.id.0, "--name", NAME, "--phone", PHONE]).await;
    assert_eq!(booked.code, 0, "{booked:?}");
    assert!(booked.stdout.starts_with("Booked. Booking code: "), "{booked:?}");
    assert!(booked.stdout.contains(&format!("{}manage#", server.page())), "{booked:?}");

    let bad = run(&[
        "book",
        "--json",
        &server.page(),
        &free_slots(&schedule)[1].id.0,
        "--name",
        NAME,
        "--phone",
        "x",
    ])
    .await;
    assert_eq!((bad.code, bad.json()["reason"].as_str()), (1, Some("invalidPatient")));
}

#[tokio::test]
async fn a_server_that_cannot_be_reached_exits_with_3() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let page = format!("http://{}/", closed.local_addr().expect("an address"));
    drop(closed);
    let book = run(&["book", &page, "therapist-20261125-0900", "--name", NAME, "--phone", PHONE]).await;
    assert_eq!(book.code, 3, "{book:?}");
    assert!(book.stderr.contains("Cannot connect"), "{book:?}");
    let watch = run(&["watch", "--json", &page]).await;
    assert_eq!((watch.code, watch.json()["reason"].as_str()), (3, Some("cannotConnect")));
}

#[tokio::test]
async fn what_is_not_a_manage_link_or_a_command_is_a_usage_error() {
    assert_eq!(run(&["show", "http://127.0.0.1:1/manage"]).await.code, 2);
    assert_eq!(run(&["book", "http://127.0.0.1:1/", "slot"]).await.code, 2, "no name or phone");
    assert_eq!(run(&["frobnicate"]).await.code, 2);
    let help = run(&["--help"]).await;
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Exit codes") && help.stdout.contains("Examples"), "{help:?}");
}

fn status_of(schedule: &Schedule, id: &str) -> SlotStatus {
    schedule.slots.iter().find(|s| s.id.0 == id).expect("the slot").status
}

/// The status of slot `id` once `watcher` has seen its next change.
async fn status_after(watcher: &mut client::Client, id: &str) -> SlotStatus {
    let change = async {
        loop {
            match watcher.recv().await.expect("updates") {
                protocol::ServerMessage::Update { slot, .. } if slot.id.0 == id => return slot.status,
                _ => {}
            }
        }
    };
    tokio::time::timeout(PATIENCE, change).await.expect("the change comes in time")
}
