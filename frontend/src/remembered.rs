//! Where this browser remembers the bookings made from it (slot → code and
//! manage secret), so that they show as "Yours" on the next visit too, and the
//! waitlists joined from it, so that the schedule links back to them; and, for
//! the tab only, the staff console's session.

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

/// The key of the staff console's session, in the tab's session storage: it
/// lasts while the tab is open, survives a reload, and is gone when the tab
/// closes.
const STAFF_KEY: &str = "booking.staff.v1";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// The staff session this tab keeps, if any; the console reads it when it opens.
#[cfg(feature = "staff")]
pub(crate) fn load_staff_session() -> Option<String> {
    session_storage()?.get_item(STAFF_KEY).ok().flatten().filter(|s| !s.is_empty())
}

/// Keeps `session` for this tab, or forgets the one kept when `None`.
pub(crate) fn save_staff_session(session: Option<&str>) {
    let Some(storage) = session_storage() else { return };
    let _ = match session {
        Some(session) => storage.set_item(STAFF_KEY, session),
        None => storage.remove_item(STAFF_KEY),
    };
}
