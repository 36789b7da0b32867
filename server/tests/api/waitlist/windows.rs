//! Which entry a freed slot goes to: the first, in the order of joining, whose
//! days and hours have it, that has no live offer already; and none at all
//! when the slot starts too soon to be booked.

use chrono::Duration;
use client::Client;
use protocol::{SlotId, SlotStatus};

use super::{Page, anna, book, boris, cancel, carl, days, dora, hours, landmark, slot, update_of};
use crate::common::{TestApp, spawn_app};

/// Carl's bookings of `ids`: his connection and their manage links, in order.
async fn booked_by_carl(app: &TestApp, ids: &[&str]) -> (Client, Vec<String>) {
    let (mut carl_page, _) = app.connect_with_state().await;
    let mut links = Vec::new();
    for id in ids {
        links.push(book(&mut carl_page, &slot(id), carl()).await.1);
    }
    (carl_page, links)
}

/// The next update of `slot` that `plain` sees: its status.
async fn seen(plain: &mut Client, slot: &SlotId) -> SlotStatus {
    update_of(plain, slot).await.1.status
}

#[tokio::test]
async fn a_slot_goes_to_the_first_entry_whose_days_and_hours_have_it_and_that_has_no_offer() {
    let app = spawn_app().await;
    let ids = [
        "therapist-20261125-0900",
        "therapist-20261125-1400",
        "therapist-20261125-1530",
        "therapist-20261126-1000",
    ];
    let (mut carl_page, links) = booked_by_carl(&app, &ids).await;
    let [morning, two, half_past_three, next_day] = ids.map(slot);
    let (mut anna_page, _) = Page::open(&app, days("2026-11-26", "2026-11-26"), anna()).await;
    let (mut boris_page, _) =
        Page::open(&app, hours("2026-11-25", "2026-11-25", "14:00", "16:00"), boris()).await;
    let (mut dora_page, _) = Page::open(&app, days("2026-11-25", "2026-11-26"), dora()).await;
    let (mut plain, _) = app.connect_with_state().await;

    // Not Anna's day, before Boris's hours: the third in line has it.
    cancel(&mut carl_page, &links[0]).await;
    dora_page.offered(&morning).await;
    // Boris's hours begin with his first slot.
    cancel(&mut carl_page, &links[1]).await;
    boris_page.offered(&two).await;
    // In Boris's and Dora's windows, but each has an offer already.
    cancel(&mut carl_page, &links[2]).await;
    assert_eq!(seen(&mut plain, &morning).await, SlotStatus::Held);
    assert_eq!(seen(&mut plain, &two).await, SlotStatus::Held);
    assert_eq!(seen(&mut plain, &half_past_three).await, SlotStatus::Free, "nobody free to take it");
    let after = landmark(&app).await;
    anna_page.told_nothing_until(after).await;
    boris_page.told_nothing_until(after).await;
    dora_page.told_nothing_until(after).await;
    // Anna's day at last.
    cancel(&mut carl_page, &links[3]).await;
    anna_page.offered(&next_day).await;
    let (_, held) = update_of(&mut plain, &next_day).await;
    assert_eq!(held.status, SlotStatus::Held);
}

#[tokio::test]
async fn hours_end_before_their_last_minute_and_slots_starting_too_soon_are_offered_to_nobody() {
    let app = spawn_app().await;
    let ids = [
        "therapist-20261124-1100",
        "therapist-20261124-1200",
        "therapist-20261125-1000",
        "therapist-20261125-0930",
    ];
    let (mut carl_page, links) = booked_by_carl(&app, &ids).await;
    let [soon, noon, ten, half_past_nine] = ids.map(slot);
    let (mut today_page, _) = Page::open(&app, days("2026-11-24", "2026-11-24"), anna()).await;
    let (mut morning_page, _) =
        Page::open(&app, hours("2026-11-25", "2026-11-25", "09:00", "10:00"), boris()).await;
    let (mut plain, _) = app.connect_with_state().await;

    // 10:35 in Moscow: 11:00 is inside the clinic's 30 minutes of notice.
    app.advance(Duration::minutes(25));
    cancel(&mut carl_page, &links[0]).await;
    assert_eq!(
        seen(&mut plain, &soon).await,
        SlotStatus::Free,
        "too soon to be booked, so too soon to offer"
    );
    // 10:00 is where the morning window ends.
    cancel(&mut carl_page, &links[2]).await;
    assert_eq!(seen(&mut plain, &ten).await, SlotStatus::Free, "the window's end is not in it");
    let after = landmark(&app).await;
    today_page.told_nothing_until(after).await;
    morning_page.told_nothing_until(after).await;

    cancel(&mut carl_page, &links[3]).await;
    morning_page.offered(&half_past_nine).await;
    cancel(&mut carl_page, &links[1]).await;
    today_page.offered(&noon).await;
}
