//! Follows a booking server's live schedule and, when asked, books the first
//! free slot: the crate's own example as a program.
//!
//! ```text
//! cargo run -p booking-client --example follow_and_book -- ws://127.0.0.1:8080/ws [--book]
//! ```
//!
//! It prints the size of the schedule, books the first free slot that can still
//! be booked for a sample patient when `--book` is given, and then prints every change as it arrives
//! until it is interrupted.

use booking_client::protocol::{Patient, Slot, SlotStatus};
use booking_client::{BookingReply, Followed, Follower};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let book = args.iter().any(|arg| arg == "--book");
    let Some(url) = args.iter().find(|arg| !arg.starts_with("--")) else {
        eprintln!("usage: follow_and_book ws://HOST:PORT/ws [--book]");
        std::process::exit(2);
    };

    let mut follower = Follower::connect(&[url.as_str()]).await?;
    let schedule = follower.schedule();
    let free = schedule.slots.iter().filter(|slot| slot.status == SlotStatus::Free).count();
    println!(
        "{}: {} doctors, {} slots, {free} free, version {}",
        schedule.clinic.name,
        schedule.doctors.len(),
        schedule.slots.len(),
        schedule.version
    );

    if book {
        // Slots starting within the clinic's minimum notice can no longer be booked.
        let notice = chrono::Duration::minutes(i64::from(schedule.clinic.min_notice_minutes) + 1);
        let bookable =
            |slot: &&Slot| slot.status == SlotStatus::Free && slot.start > chrono::Utc::now() + notice;
        let first_free = schedule.slots.iter().find(bookable);
        match first_free.map(|slot| slot.id.clone()) {
            None => println!("no free slot to book"),
            Some(slot_id) => {
                let patient = Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() };
                match follower.client().book(slot_id.clone(), patient).await? {
                    BookingReply::Booked { code, .. } => println!("booked {}: code {code}", slot_id.0),
                    BookingReply::Refused(why) => println!("{} was not booked: {why:?}", slot_id.0),
                }
            }
        }
    }

    loop {
        match follower.next().await? {
            Followed::Changed(slot) => {
                println!("version {}: {} is {:?}", follower.version(), slot.id.0, slot.status);
            }
            Followed::Replaced => {
                let schedule = follower.schedule();
                println!("version {}: a new schedule of {} slots", schedule.version, schedule.slots.len());
            }
            Followed::Resumed => println!("reconnected at version {}", follower.version()),
            Followed::Other(_) => {}
        }
    }
}
