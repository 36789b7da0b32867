//! A booking's answer, and its manage link, go to its booker only: a request id
//! sent again by somebody else is an attempt of their own, and the id is kept
//! nowhere in a form that finds the answer.

use client::BookingReply;
use protocol::{BookingFailure, Patient};

use super::*;

#[tokio::test]
async fn a_request_id_reused_by_somebody_else_gets_nothing_of_the_first_booking() {
    let app = spawn_defaults().await;
    let slot = bookable(&app).await[0].clone();
    let request_id = "r-7f3a9d1c2b4e86a0".to_owned();
    let mut anna = connect_from(&app, 10).await;
    let BookingReply::Booked { code, manage_token: Some(token) } =
        anna.book_as(request_id.clone(), slot.clone(), patient()).await.unwrap()
    else {
        panic!("Anna books");
    };

    // The protocol README's own example id, other details, the same slot.
    let mut mallory = connect_from(&app, MALLORY).await;
    let made_up = Patient { name: "Mallory".into(), phone: "+1 555 0100".into() };
    let reply = mallory.book_as(request_id.clone(), slot.clone(), made_up).await.unwrap();
    assert_eq!(reply, BookingReply::Refused(BookingFailure::AlreadyBooked));
    // Almost the same details are still somebody else.
    let close = Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-80".into() };
    let reply = mallory.book_as(request_id.clone(), slot.clone(), close).await.unwrap();
    assert_eq!(reply, BookingReply::Refused(BookingFailure::AlreadyBooked));

    // Anna's own retry from a new connection, her details spelled differently,
    // gets her answer again.
    let mut again = connect_from(&app, 10).await;
    let spelled = Patient { name: "  anna   PETROVA ".into(), phone: "+7 (912) 3456789".into() };
    let reply = again.book_as(request_id.clone(), slot, spelled).await.unwrap();
    assert_eq!(reply, BookingReply::Booked { code, manage_token: Some(token) });

    // The id itself is in no file of the database.
    let dir = app.stop().await;
    for file in ["booking.db", "booking.db-wal"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        let found = bytes.windows(request_id.len()).any(|w| w == request_id.as_bytes());
        assert!(!found, "the request id is stored in {file}");
    }
}
