//! The hub: fans every committed change out to all connections. A change is
//! serialized once and every connection sends the same shared bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use protocol::{ServerMessage, Version};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// One change as every connection sends it.
#[derive(Debug, Clone)]
pub struct Broadcast {
    /// The schedule version after the change; a connection that already showed
    /// this version (in its `initialState`) skips it.
    pub version: Version,
    /// The serialized `ServerMessage`, shared by every connection.
    pub frame: Utf8Bytes,
    /// What staff consoles get right after `frame`: the same change with patient
    /// details. Never sent to anyone else.
    pub staff: Option<Utf8Bytes>,
}

/// The sending side of the fan-out.
#[derive(Debug, Clone)]
pub struct Hub {
    tx: broadcast::Sender<Broadcast>,
    /// How many staff consoles are connected; with none, no staff frame is made.
    staff: Arc<AtomicUsize>,
}

/// Counts one staff console for as long as it is held.
#[derive(Debug)]
pub struct StaffPresence(Arc<AtomicUsize>);

impl Drop for StaffPresence {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hub {
    /// A hub whose connections may fall at most `queue` messages behind before
    /// they are cut off.
    pub fn new(queue: usize) -> Self {
        Self { tx: broadcast::channel(queue.max(1)).0, staff: Arc::default() }
    }

    /// A receiver of every change published from now on. Each connection's receiver
    /// is its bounded outgoing queue: a connection that falls `queue` messages
    /// behind sees `Lagged` and is disconnected, and nobody else waits for it.
    pub fn subscribe(&self) -> broadcast::Receiver<Broadcast> {
        self.tx.subscribe()
    }

    /// Marks a staff console as connected until the returned value is dropped.
    /// Take it before asking for the staff state, so that no change after that
    /// state goes out without its staff frame.
    pub fn staff_present(&self) -> StaffPresence {
        self.staff.fetch_add(1, Ordering::AcqRel);
        StaffPresence(self.staff.clone())
    }

    /// Whether any staff console is connected.
    pub fn has_staff(&self) -> bool {
        self.staff.load(Ordering::Acquire) > 0
    }

    /// Serializes `message` (and `staff`, the staff consoles' version of it) once
    /// and hands the bytes to every connection.
    pub fn publish(&self, version: Version, message: &ServerMessage, staff: Option<&ServerMessage>) {
        let frame = crate::wire::encode(message);
        let staff = staff.map(crate::wire::encode);
        // Having no connection at all is not an error.
        let _ = self.tx.send(Broadcast { version, frame, staff });
    }
}
