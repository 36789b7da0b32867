//! Where this browser remembers the bookings made from it (slot → code and
//! manage secret), so that they show as "Yours" on the next visit too, and the
//! waitlists joined from it, so that the schedule links back to them.

use std::collections::BTreeMap;

use protocol::SlotId;

use crate::state::Mine;
use crate::waitlist::Waiting;

/// The key in the browser's local storage; the version changes with the shape.
const MINE_KEY: &str = "booking.mine.v2";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The bookings remembered, or none when there are none or storage is off.
pub(crate) fn load() -> BTreeMap<SlotId, Mine> {
    storage()
        .and_then(|s| s.get_item(MINE_KEY).ok().flatten())
        .and_then(|text| serde_json::from_str::<BTreeMap<String, Mine>>(&text).ok())
        .map(|m| m.into_iter().map(|(k, v)| (SlotId(k), v)).collect())
        .unwrap_or_default()
}

/// Remembers `mine` in place of what was remembered before.
pub(crate) fn save(mine: &BTreeMap<SlotId, Mine>) {
    let map: BTreeMap<&str, &Mine> = mine.iter().map(|(k, v)| (k.0.as_str(), v)).collect();
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(&map)) {
        let _ = storage.set_item(MINE_KEY, &text);
    }
}

/// The key of the waitlist entries joined from this browser.
const WAITS_KEY: &str = "booking.waits.v1";

/// The waitlist entries remembered, or none when there are none or storage is
/// off.
pub(crate) fn load_waits() -> Vec<Waiting> {
    storage()
        .and_then(|s| s.get_item(WAITS_KEY).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Remembers `waits` in place of what was remembered before.
pub(crate) fn save_waits(waits: &[Waiting]) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(waits)) {
        let _ = storage.set_item(WAITS_KEY, &text);
    }
}
