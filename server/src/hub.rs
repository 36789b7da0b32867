//! The hub: fans every committed change out to all connections. A change is
//! serialized once and handed to the fan-out workers, which frame it once and
//! write the same bytes to every socket (see `fanout`). The last
//! changes are also kept in a bounded log, so that a client that lost its
//! connection can be brought up to date with only what it missed.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use protocol::{ServerMessage, Version};
use tokio::sync::broadcast;

pub use crate::fanout::Settings as FanoutSettings;
use crate::fanout::{Fanout, Outlet};
use crate::wire::Frame;

/// One change as every connection sends it.
#[derive(Debug, Clone)]
pub struct Broadcast {
    /// The schedule version after the change; a connection that already showed
    /// this version (in its `initialState`) skips it.
    pub version: Version,
    /// The serialized `ServerMessage`, shared by every connection.
    pub frame: Frame,
    /// What staff consoles get right after `frame`: the same change with patient
    /// details. Never sent to anyone else.
    pub staff: Option<Frame>,
    /// What the pages watching a waitlist entry get right after `frame`, when
    /// the change made or ended an offer to it: the entry, by its id. Never
    /// sent to anyone else.
    pub waiting: Option<Arc<[(i64, Frame)]>>,
}

/// What the log can do for a client that holds some version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// The first `update` frames after that version, in order (none when it
    /// is current), and the last version the log holds now: a client brought
    /// up to date gets the updates up to it, perhaps over several calls.
    Updates { updates: Vec<(Version, Frame)>, last: Version },
    /// The log does not reach back that far (or the version is unknown here):
    /// the client needs the whole schedule.
    TooOld,
}

/// The last published updates, without gaps: they cover the versions after
/// `floor`.
#[derive(Debug)]
struct Log {
    floor: Version,
    entries: VecDeque<(Version, Frame)>,
    capacity: usize,
}

impl Log {
    fn last(&self) -> Version {
        self.entries.back().map_or(self.floor, |(v, _)| *v)
    }

    /// Starts over: nothing before `version` can be replayed.
    fn restart(&mut self, version: Version) {
        self.entries.clear();
        self.floor = version;
    }

    fn push(&mut self, version: Version, frame: Frame) {
        if version != self.last() + 1 {
            // Never replay across a hole; whoever is behind it gets the schedule.
            self.restart(version.saturating_sub(1));
        }
        if self.entries.len() == self.capacity
            && let Some((oldest, _)) = self.entries.pop_front()
        {
            self.floor = oldest;
        }
        if self.capacity > 0 {
            self.entries.push_back((version, frame));
        } else {
            self.floor = version;
        }
    }

    fn replay(&self, after: Version, at_most: usize) -> Replay {
        let last = self.last();
        if after < self.floor || after > last {
            return Replay::TooOld;
        }
        let skip = (after - self.floor) as usize;
        Replay::Updates { updates: self.entries.range(skip..).take(at_most).cloned().collect(), last }
    }
}

/// The sending side of the fan-out.
#[derive(Debug, Clone)]
pub struct Hub {
    /// Observers besides the connections (tests, tools).
    tx: broadcast::Sender<Broadcast>,
    /// The connections.
    fanout: Arc<Fanout>,
    /// The changes published while a `Group` is held, handed on when it ends.
    group: Arc<Mutex<Option<Vec<Broadcast>>>>,
    /// How many staff consoles are connected; with none, no staff frame is made.
    staff: Arc<AtomicUsize>,
    /// How many connections watch each waitlist entry: only those entries'
    /// changes are read and sent.
    watched: Arc<Mutex<HashMap<i64, usize>>>,
    log: Arc<Mutex<Log>>,
}

/// Counts one staff console for as long as it is held.
#[derive(Debug)]
pub struct StaffPresence(Arc<AtomicUsize>);

impl Drop for StaffPresence {
    fn drop(&mut self) {
        crate::metrics::staff_console(false);
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Counts one connection watching a waitlist entry for as long as it is held.
#[derive(Debug)]
pub struct Watching {
    entry: i64,
    watched: Arc<Mutex<HashMap<i64, usize>>>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = watched.get_mut(&self.entry) {
            *count -= 1;
            if *count == 0 {
                watched.remove(&self.entry);
            }
        }
    }
}

impl Watching {
    /// The entry watched.
    pub fn entry(&self) -> i64 {
        self.entry
    }
}

impl Hub {
    /// A hub whose connections may fall at most `queue` messages behind before
    /// they are cut off, which keeps the last `replay` updates for clients that
    /// come back, and whose fan-out works as `fanout` says.
    pub fn new(queue: usize, replay: usize, fanout: FanoutSettings) -> Self {
        let log = Log { floor: 0, entries: VecDeque::with_capacity(replay.min(4096)), capacity: replay };
        Self {
            tx: broadcast::channel(queue.max(1)).0,
            fanout: Arc::new(Fanout::start(fanout)),
            group: Arc::default(),
            staff: Arc::default(),
            watched: Arc::default(),
            log: Arc::new(Mutex::new(log)),
        }
    }

    /// Sets the version the log starts from (the schedule's when it was loaded).
    pub fn start_at(&self, version: Version) {
        self.lock().restart(version);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A receiver of every change published from now on, for an observer that
    /// is not a connection; one that falls `queue` messages behind sees `Lagged`.
    pub fn subscribe(&self) -> broadcast::Receiver<Broadcast> {
        self.tx.subscribe()
    }

    /// A new connection's outlet: every change published from now on goes to
    /// its socket `write` (or to its task first; see `Outlet`). Join first,
    /// then take the snapshot or the replay: a change committed in between is
    /// then both there and in the outlet, and the version check drops the copy.
    pub fn join(&self, stream: tokio::net::TcpStream) -> Arc<Outlet> {
        self.fanout.join(stream)
    }

    /// Ends a connection's outlet.
    pub fn leave(&self, outlet: Arc<Outlet>) {
        self.fanout.leave(outlet);
    }

    /// Ends every connection, as the server stops.
    pub fn stop_connections(&self) {
        self.fanout.stop();
    }

    /// The clock of `Outlet::heard`, in milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.fanout.now_ms()
    }

    /// Marks a staff console as connected until the returned value is dropped.
    /// Take it before asking for the staff state, so that no change after that
    /// state goes out without its staff frame.
    pub fn staff_present(&self) -> StaffPresence {
        self.staff.fetch_add(1, Ordering::AcqRel);
        crate::metrics::staff_console(true);
        StaffPresence(self.staff.clone())
    }

    /// Marks waitlist entry `entry` as watched by one more connection until
    /// the returned value is dropped.
    pub fn watch(&self, entry: i64) -> Watching {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        *watched.entry(entry).or_default() += 1;
        Watching { entry, watched: self.watched.clone() }
    }

    /// The waitlist entries some connection watches.
    pub fn watched(&self) -> Vec<i64> {
        self.watched.lock().unwrap_or_else(|e| e.into_inner()).keys().copied().collect()
    }

    /// Whether any staff console is connected.
    pub fn has_staff(&self) -> bool {
        self.staff.load(Ordering::Acquire) > 0
    }

    /// The updates after `version`, at most `at_most` of them, for a client
    /// that holds it. Subscribe first: what is published meanwhile then arrives
    /// twice, and never not at all.
    pub fn replay(&self, version: Version, at_most: usize) -> Replay {
        self.lock().replay(version, at_most)
    }

    /// Gathers the changes published until the returned value is dropped, and
    /// then hands them to the connections together: the changes of one commit
    /// then reach each socket in one write.
    pub fn group(&self) -> Group<'_> {
        self.group.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(Vec::new);
        Group(self)
    }

    /// Serializes the `update` `message` (and `staff`, the staff consoles' version
    /// of it, and the `waiting` entries it concerns) once, keeps it for replay,
    /// and hands the bytes to every connection.
    pub fn publish(
        &self,
        version: Version,
        message: &ServerMessage,
        staff: Option<&ServerMessage>,
        waiting: &[(i64, ServerMessage)],
    ) {
        let frame = crate::wire::encode(message);
        // Logged before it is sent: a connection that subscribes in between then
        // finds it in the log, as the subscribe-then-replay order needs.
        self.lock().push(version, frame.clone());
        self.send(version, frame, staff, encode_waiting(waiting));
    }

    /// Like `publish`, for a whole new schedule, already serialized as the
    /// `initialState` `frame`: updates before it can no longer be replayed
    /// (whoever missed it needs it whole).
    pub fn publish_all(
        &self,
        version: Version,
        frame: Frame,
        staff: Option<&ServerMessage>,
        waiting: &[(i64, ServerMessage)],
    ) {
        self.lock().restart(version);
        self.send(version, frame, staff, encode_waiting(waiting));
    }

    fn send(
        &self,
        version: Version,
        frame: Frame,
        staff: Option<&ServerMessage>,
        waiting: Option<Arc<[(i64, Frame)]>>,
    ) {
        let staff = staff.map(crate::wire::encode);
        crate::metrics::broadcast();
        let update = Broadcast { version, frame, staff, waiting };
        // Observers are tests and tools: without one, nothing is copied.
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(update.clone());
        }
        let mut group = self.group.lock().unwrap_or_else(|e| e.into_inner());
        match group.as_mut() {
            Some(group) => group.push(update),
            None => self.fanout.publish(Arc::new([update])),
        }
    }
}

/// Changes published together; see `Hub::group`.
#[derive(Debug)]
pub struct Group<'a>(&'a Hub);

impl Drop for Group<'_> {
    fn drop(&mut self) {
        let gathered = self.0.group.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(updates) = gathered.filter(|updates| !updates.is_empty()) {
            self.0.fanout.publish(updates.into());
        }
    }
}

/// The frames for the pages watching waitlist entries; none when there are
/// none, which is nearly always.
fn encode_waiting(waiting: &[(i64, ServerMessage)]) -> Option<Arc<[(i64, Frame)]>> {
    (!waiting.is_empty())
        .then(|| waiting.iter().map(|(id, message)| (*id, crate::wire::encode(message))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(capacity: usize) -> Log {
        Log { floor: 10, entries: VecDeque::new(), capacity }
    }

    fn versions(replay: Replay) -> Option<Vec<Version>> {
        match replay {
            Replay::Updates { updates, .. } => Some(updates.into_iter().map(|(v, _)| v).collect()),
            Replay::TooOld => None,
        }
    }

    #[test]
    fn the_log_replays_what_came_after_a_version_it_still_covers() {
        let mut log = log(3);
        for v in 11..=15 {
            log.push(v, Frame::from(v.to_string()));
        }
        assert_eq!(versions(log.replay(15, usize::MAX)), Some(vec![]));
        assert_eq!(versions(log.replay(12, usize::MAX)), Some(vec![13, 14, 15]));
        assert_eq!(versions(log.replay(13, usize::MAX)), Some(vec![14, 15]));
        assert_eq!(versions(log.replay(11, usize::MAX)), None, "evicted");
        assert_eq!(versions(log.replay(16, usize::MAX)), None, "a version from elsewhere");
    }

    #[test]
    fn the_log_replays_a_window_at_a_time_and_says_how_far_it_reaches() {
        let mut log = log(10);
        for v in 11..=15 {
            log.push(v, Frame::from(v.to_string()));
        }
        let Replay::Updates { updates, last } = log.replay(11, 2) else { panic!("covered") };
        assert_eq!((updates.iter().map(|(v, _)| *v).collect::<Vec<_>>(), last), (vec![12, 13], 15));
        assert_eq!(versions(log.replay(13, 2)), Some(vec![14, 15]));
        assert_eq!(versions(log.replay(14, 2)), Some(vec![15]));
        assert_eq!(log.replay(15, 2), Replay::Updates { updates: vec![], last: 15 });
    }

    #[test]
    fn the_log_never_replays_across_a_hole_or_a_new_schedule() {
        let mut log = log(10);
        log.push(11, Frame::from("a".to_owned()));
        log.push(13, Frame::from("c".to_owned()));
        assert_eq!(versions(log.replay(10, usize::MAX)), None);
        assert_eq!(versions(log.replay(12, usize::MAX)), Some(vec![13]));
        log.restart(20);
        assert_eq!(versions(log.replay(13, usize::MAX)), None);
        assert_eq!(versions(log.replay(20, usize::MAX)), Some(vec![]));
    }

    #[test]
    fn a_log_of_no_capacity_only_knows_the_current_version() {
        let mut log = log(0);
        log.push(11, Frame::from("a".to_owned()));
        assert_eq!(versions(log.replay(11, usize::MAX)), Some(vec![]));
        assert_eq!(versions(log.replay(10, usize::MAX)), None);
    }
}
