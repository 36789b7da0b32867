//! Bringing a client up to date: `resumed` and the updates it missed while the
//! hub's log still has them, the whole schedule otherwise.
//!
//! A long replay goes out a window at a time, each written to the socket before
//! the next is taken from the log: a client that asks for the whole log and
//! then reads slowly, or not at all, holds one window's bytes in the server
//! until it is cut off, not a private copy of the log. One that reads on, however
//! slowly, is not taken for idle meanwhile.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use protocol::{ServerMessage, Version};

use super::frames;
use crate::AppState;
use crate::fanout::Outlet;
use crate::hub::Replay;
use crate::wire;

/// The most logged updates one write of a replay carries: about 14 KB of
/// frames.
const WINDOW: usize = 64;

/// Brings a client that holds `since` (or nothing) up to date through
/// `outlet`, waiting at most `timeout` for a socket that takes nothing.
/// Returns the version the client holds afterwards; `None` when the socket
/// failed.
pub(super) async fn resync(
    outlet: &Outlet,
    timeout: Duration,
    state: &AppState,
    since: Option<Version>,
) -> Option<Version> {
    let Some((since, Replay::Updates { updates, last })) =
        since.map(|since| (since, state.engine.replay(since, WINDOW)))
    else {
        crate::metrics::resynced(false);
        return schedule(outlet, timeout, state).await;
    };
    crate::metrics::resynced(true);
    let mut bytes =
        BytesMut::from(&frames::text(wire::encode(&ServerMessage::Resumed { version: last }).bytes())[..]);
    let mut window = updates;
    let mut reached = since;
    loop {
        // Only up to `last`: what was published since is queued in the outlet,
        // and the connection sends it next.
        for (version, frame) in window.iter().take_while(|(version, _)| *version <= last) {
            let (header, len) = frames::header(frames::TEXT, frame.len());
            bytes.extend_from_slice(&header[..len]);
            bytes.extend_from_slice(frame.bytes());
            reached = *version;
        }
        outlet.send(bytes.split().freeze());
        if !outlet.drain(timeout).await {
            return None;
        }
        // The task reads nothing while it replays, the client's pongs
        // included: a client taking window after window of a long replay is
        // not silent.
        outlet.heard(state.engine.now_ms());
        if reached >= last {
            return Some(last);
        }
        window = match state.engine.replay(reached, WINDOW) {
            Replay::Updates { updates, .. } if !updates.is_empty() => updates,
            // The log moved past what this client still needs while it read
            // the first windows: the whole schedule replaces what it has.
            _ => return schedule(outlet, timeout, state).await,
        };
    }
}

/// Sends the whole schedule; the version it is at, `None` when the socket
/// failed.
async fn schedule(outlet: &Outlet, timeout: Duration, state: &AppState) -> Option<Version> {
    let snapshot = state.engine.snapshot();
    let frame = snapshot.frame();
    // The schedule's bytes are shared by every connection that gets it.
    let (header, len) = frames::header(frames::TEXT, frame.len());
    outlet.send_parts([Bytes::copy_from_slice(&header[..len]), frame.into()]);
    outlet.drain(timeout).await.then(|| snapshot.version())
}
