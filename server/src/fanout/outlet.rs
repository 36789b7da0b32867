//! One connection's way out. Everything the server writes to a client goes
//! through its outlet, under one lock, whole frames in order: the fan-out
//! workers' updates and pings, and the connection task's answers.
//!
//! An outlet is in one of two modes. **Direct**: a fan-out worker writes each
//! update straight to the socket, the bytes shared by every connection, with no
//! task woken. **Queued**: the worker hands each update to the connection's task
//! instead, which adds what only this connection gets (a staff console's
//! details, a waitlist offer) or is busy with the client (sending its schedule,
//! answering a message). What the socket does not take at once waits in
//! `pending`, and the task is woken to write it as the socket drains.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use protocol::Version;
use socket2::SockRef;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::hub::Broadcast;

/// How soon `settle` first looks again whether the kernel has sent
/// everything; each look after waits twice as long.
const SETTLING: Duration = Duration::from_millis(10);

/// Why an outlet stopped taking updates; the connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The client fell too far behind its updates: it should reconnect and resume.
    TooSlow,
    /// Nothing was heard from the client for the idle timeout.
    Idle,
    /// The socket failed.
    Gone,
    /// The server is stopping.
    Stopping,
}

/// The state behind the lock.
#[derive(Debug)]
struct Outbox {
    /// Whether the connection still runs: once it has ended, nothing more is
    /// written.
    open: bool,
    /// Bytes not yet written, in order. Each entry is the rest of one or more
    /// whole frames, so anything appended starts on a frame boundary.
    pending: VecDeque<Bytes>,
    /// Whether the workers write updates themselves.
    direct: bool,
    /// The last update's version handed on: written (direct) or queued.
    version: Version,
    /// The workers' rounds for the task (queued mode), each shared by every
    /// connection of the shard. Their number tells a task that cannot keep up:
    /// counting updates would cut off a busy connection for the server's own
    /// burst (a worker that got to run after several group commits hands them
    /// on at once), and the task filters what it has seen by version.
    queue: VecDeque<Arc<[Broadcast]>>,
    fault: Option<Fault>,
    /// Whether the task is sending its close frame: the outlet takes no more
    /// updates, but still writes what is pending.
    closing: bool,
}

/// One connection's socket, shared by its task and its fan-out worker. It is
/// one allocation: the worker touches little memory per socket it writes to.
#[derive(Debug)]
pub struct Outlet {
    state: Mutex<Outbox>,
    stream: TcpStream,
    /// Wakes the connection's task: updates queued for it, bytes left pending, a
    /// fault.
    wake: Notify,
    /// When the client was last heard from, in milliseconds of the fan-out's clock.
    heard: AtomicU64,
    /// The fan-out worker this outlet belongs to.
    pub(super) shard: usize,
    /// Where the worker keeps it, so that it forgets it at once when it ends.
    pub(super) slot: AtomicUsize,
}

impl Outbox {
    /// Writes `bytes` after whatever is pending; what the socket does not take
    /// now waits. Returns whether bytes are now pending that were not before.
    fn put(&mut self, stream: &TcpStream, bytes: Bytes) -> bool {
        if !self.open {
            return false;
        }
        if !self.pending.is_empty() {
            self.pending.push_back(bytes);
            return false;
        }
        // Straight to the socket, which is non-blocking: the runtime's
        // readiness is not needed to try, and a full socket is noticed by the
        // task's `drain`, which waits for it through the runtime.
        match SockRef::from(stream).send(&bytes) {
            Ok(n) if n == bytes.len() => false,
            Ok(n) => {
                self.pending.push_back(bytes.slice(n..));
                true
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                self.pending.push_back(bytes);
                true
            }
            Err(_) => {
                self.fail(Fault::Gone);
                false
            }
        }
    }

    /// Writes as much of `pending` as the socket takes now; `Ok(true)` when
    /// all of it went.
    fn flush(&mut self, stream: &TcpStream) -> Result<bool, Fault> {
        if !self.open {
            return Err(Fault::Gone);
        }
        while let Some(front) = self.pending.front_mut() {
            match stream.try_write(front) {
                Ok(n) if n == front.len() => {
                    self.pending.pop_front();
                }
                Ok(n) => {
                    *front = front.slice(n..);
                    return Ok(false);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(_) => {
                    self.fail(Fault::Gone);
                    return Err(Fault::Gone);
                }
            }
        }
        Ok(true)
    }

    fn fail(&mut self, fault: Fault) {
        self.fault.get_or_insert(fault);
        self.queue = VecDeque::new();
    }
}

impl Outlet {
    /// A new outlet, in queued mode until its task has sent the schedule.
    pub(super) fn new(stream: TcpStream, shard: usize, now_ms: u64) -> Self {
        Self {
            stream,
            slot: AtomicUsize::new(usize::MAX),
            state: Mutex::new(Outbox {
                open: true,
                pending: VecDeque::new(),
                direct: false,
                version: 0,
                queue: VecDeque::new(),
                fault: None,
                closing: false,
            }),
            wake: Notify::new(),
            heard: AtomicU64::new(now_ms),
            shard,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Outbox> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    // The worker's side.

    /// Hands updates on: the worker's `framed` bytes are the updates of
    /// `updates` as frames back to back, the one with index `i` starting at
    /// `starts[i]`. Direct, the socket gets the part this client has not seen;
    /// queued, the task gets them. `max_pending` bounds how many writes may
    /// wait for a client that does not read, `max_queue` how many rounds of
    /// updates may wait for its task (a round is at most a batch).
    pub(super) fn deliver(
        &self,
        updates: &Arc<[Broadcast]>,
        framed: &Bytes,
        starts: &[usize],
        limits: (usize, usize),
    ) {
        let (max_pending, max_queue) = limits;
        let mut out = self.lock();
        if out.fault.is_some() || !out.open {
            return;
        }
        let Some(first) = updates.iter().position(|u| u.version > out.version) else { return };
        out.version = updates[updates.len() - 1].version;
        let wake = if out.direct {
            if out.pending.len() >= max_pending {
                out.fail(Fault::TooSlow);
                true
            } else {
                out.put(&self.stream, framed.slice(starts[first]..)) || out.fault.is_some()
            }
        } else {
            out.queue.push_back(updates.clone());
            if out.queue.len() > max_queue {
                out.fail(Fault::TooSlow);
            }
            true
        };
        drop(out);
        if wake {
            self.wake.notify_one();
        }
    }

    /// The periodic check: a client silent for `idle_ms` is dropped, and any
    /// other gets `ping`.
    pub(super) fn ping(&self, now_ms: u64, idle_ms: u64, ping: &Bytes) {
        let mut out = self.lock();
        if out.fault.is_some() || !out.open {
            return;
        }
        let silent = now_ms.saturating_sub(self.heard.load(Ordering::Relaxed)) > idle_ms;
        let wake = if silent {
            out.fail(Fault::Idle);
            true
        } else {
            out.put(&self.stream, ping.clone()) || out.fault.is_some()
        };
        drop(out);
        if wake {
            self.wake.notify_one();
        }
    }

    /// Stops the outlet because the server is stopping.
    pub(super) fn stop(&self) {
        self.lock().fail(Fault::Stopping);
        self.wake.notify_one();
    }

    // The connection task's side.

    /// Notes that the client was heard from at `now_ms`.
    pub fn heard(&self, now_ms: u64) {
        self.heard.store(now_ms, Ordering::Relaxed);
    }

    /// Resolves when the worker has something for the task.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Why the outlet stopped, if it did.
    pub fn fault(&self) -> Option<Fault> {
        self.lock().fault
    }

    /// Queues `bytes` (whole frames) for the client; `drain` writes what the
    /// socket did not take at once.
    pub fn send(&self, bytes: Bytes) {
        self.lock().put(&self.stream, bytes);
    }

    /// Queues the parts of one frame (a header and bytes shared with other
    /// connections, say) together: nothing the workers write, such as a
    /// ping, can come between them.
    pub fn send_parts(&self, parts: impl IntoIterator<Item = Bytes>) {
        let mut out = self.lock();
        for part in parts {
            out.put(&self.stream, part);
        }
    }

    /// Takes the rounds queued for the task, oldest first; their updates may
    /// begin with some the task has seen already.
    pub fn take_queue(&self) -> VecDeque<Arc<[Broadcast]>> {
        std::mem::take(&mut self.lock().queue)
    }

    /// Takes no update of version `version` or older: they were published
    /// before this outlet joined.
    pub(super) fn skip_to(&self, version: Version) {
        let mut out = self.lock();
        out.version = out.version.max(version);
    }

    /// Switches to queued mode, so that the task sees every update from now
    /// on. Returns, when the outlet was direct, the last version the worker
    /// wrote to the socket (queued, the task has seen every update itself).
    pub fn queued(&self) -> Option<Version> {
        let mut out = self.lock();
        out.direct.then(|| {
            out.direct = false;
            out.version
        })
    }

    /// Switches to direct mode, for a client that holds `version`, when nothing
    /// waits for the task or the socket; returns whether it did.
    pub fn direct(&self, version: Version) -> bool {
        let mut out = self.lock();
        if out.direct || !out.queue.is_empty() || !out.pending.is_empty() || out.fault.is_some() {
            return out.direct;
        }
        out.direct = true;
        out.version = out.version.max(version);
        true
    }

    /// Writes everything pending, waiting for the socket while it makes progress, for at most `timeout`
    /// without any; `false` when the socket failed or stalled, or the outlet
    /// stopped meanwhile (a client stuck while its updates pile up is cut off
    /// for that, without waiting out the timeout).
    pub async fn drain(&self, timeout: Duration) -> bool {
        // A wake-up taken here is given back at the end, for the task's loop.
        let mut woken = false;
        let drained = loop {
            {
                let mut out = self.lock();
                if out.fault.is_some() && !out.closing {
                    break false;
                }
                match out.flush(&self.stream) {
                    Ok(true) => break true,
                    Ok(false) => {}
                    Err(_) => break false,
                }
            }
            tokio::select! {
                ready = tokio::time::timeout(timeout, self.stream.ready(Interest::WRITABLE)) => {
                    if !matches!(ready, Ok(Ok(_))) {
                        let mut out = self.lock();
                        // The readiness may lag behind the socket: one more try.
                        if !matches!(out.flush(&self.stream), Ok(true)) {
                            out.fail(Fault::Gone);
                        }
                        break out.fault.is_none() || (out.closing && out.pending.is_empty());
                    }
                }
                // A fault is seen at the top of the loop; the wake-up itself
                // is given back at the end.
                () = self.wake.notified() => woken = true,
            }
        };
        if woken {
            self.wake.notify_one();
        }
        drained
    }

    /// Queues the close frame, the last frame the client gets: nothing is
    /// handed on after it, and of what still waits only the frame begun is
    /// finished first (a client cut off for not reading gets its close frame
    /// after one write, not after everything it did not read). `false` when
    /// the socket is gone.
    pub fn close(&self, frame: Bytes) -> bool {
        let mut out = self.lock();
        out.closing = true;
        out.fault.get_or_insert(Fault::Gone);
        // Each entry ends on a frame's end, so the first alone leaves the
        // stream whole.
        out.pending.truncate(1);
        out.put(&self.stream, frame);
        out.open && out.flush(&self.stream).is_ok()
    }

    /// Waits at most `within` until the kernel has sent the client all that
    /// was written to the socket. When it has not by then (the client takes
    /// nothing: a zero window), or when bytes still wait here, the socket is
    /// reset as it closes rather than left to the kernel, which would keep the
    /// bytes and probe for as long as the client keeps its end open. A
    /// connection ends with this, however it ends: a client that sends its
    /// close frame, or half-closes, while its window is shut, leaves nothing
    /// behind either. (What was sent but not acknowledged is left to the
    /// kernel: at most the client's last window, retried for a couple of
    /// minutes.)
    pub async fn settle(&self, within: Duration) {
        let waiting = {
            let mut out = self.lock();
            // Nothing more is written from here on, the workers' updates and
            // pings included: what the kernel holds can only shrink.
            out.open = false;
            !out.pending.is_empty()
        };
        if waiting || !self.all_sent(within).await {
            // A zero linger makes the close an abort, which never blocks.
            let _ = SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
        }
    }

    /// Whether the kernel sends the client, within `within`, all that was
    /// written to the socket; looked at after 10, 20, 40… ms.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    async fn all_sent(&self, within: Duration) -> bool {
        use rustix::event::{PollFd, PollFlags, Timespec};
        // From now on the socket polls writable only while nothing written
        // is unsent (and, the kernel adds, a third of its buffer is free).
        // Where that cannot be asked, nothing can be told.
        if SockRef::from(&self.stream).set_tcp_notsent_lowat(1).is_err() {
            return true;
        }
        let deadline = tokio::time::Instant::now() + within;
        let mut pause = SETTLING;
        loop {
            let mut polled = [PollFd::new(&self.stream, PollFlags::OUT)];
            match rustix::event::poll(&mut polled, Some(&Timespec { tv_sec: 0, tv_nsec: 0 })) {
                // A socket in error or hung up holds nothing for the client.
                Ok(_) if polled[0].revents().intersects(PollFlags::OUT | PollFlags::ERR | PollFlags::HUP) => {
                    return true;
                }
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(_) => return false,
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            tokio::time::sleep(pause.min(left)).await;
            pause *= 2;
        }
    }

    /// Elsewhere the kernel cannot be asked: the close is left to it.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    async fn all_sent(&self, _within: Duration) -> bool {
        true
    }

    /// The socket, for reading what the client sends.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Ends the outlet: the worker stops writing to it, and the client is told
    /// that nothing more comes (the socket itself closes once the worker has
    /// let it go). When bytes still wait here, the client stopped taking them:
    /// the socket is then reset as it closes, so that the kernel drops at once
    /// the send buffer it holds for the client, instead of keeping it (and
    /// retrying) for minutes after the connection is over.
    pub fn shut(&self) {
        let mut out = self.lock();
        out.open = false;
        let socket = SockRef::from(&self.stream);
        // `settle` may have chosen the reset already: then no end of stream is
        // queued either, which the client could read up to as the kernel
        // sends on until the worker lets the socket go.
        let reset =
            !out.pending.is_empty() || matches!(socket.linger(), Ok(Some(linger)) if linger.is_zero());
        if reset {
            let _ = socket.set_linger(Some(Duration::ZERO));
        } else {
            let _ = socket.shutdown(std::net::Shutdown::Write);
        }
        out.pending = VecDeque::new();
        out.queue = VecDeque::new();
    }
}

#[cfg(test)]
mod tests;
