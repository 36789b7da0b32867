//! The listening connections, kept lean: with thousands of them on the same two
//! cores as the server, what each costs per update is taken from the server's
//! share. A plain TCP socket, the WebSocket handshake written by hand, frames
//! parsed in one reusable buffer (`frames`) and an update's version and slot id
//! picked out of its text without decoding it (`peek`). The bookers are such
//! connections too (`booker`).

mod booker;
mod frames;
mod peek;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;

use crate::SendTimes;
pub(crate) use booker::Booker;
use frames::{Frames, Message, pong};

/// The longest handshake response accepted.
const MAX_RESPONSE_HEAD: usize = 16 * 1024;

/// What one listener saw.
pub(crate) struct ListenerStats {
    pub(crate) latencies_us: Vec<u32>,
    pub(crate) received: u64,
    pub(crate) gaps: u64,
}

/// One listening WebSocket connection.
pub(crate) struct Listener<S> {
    stream: S,
    frames: Frames,
    /// Frames to send: the `pong`s owed.
    out: Vec<u8>,
}

/// Connects to `url` (`ws://host:port/path`) from `local_ip`, and returns the
/// connection with the schedule version of its `initialState`.
pub(crate) async fn connect(url: &str, local_ip: IpAddr) -> Result<(Listener<TcpStream>, u64)> {
    let rest = url.strip_prefix("ws://").with_context(|| format!("{url} is not a ws:// URL"))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    let address = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let server = tokio::net::lookup_host(address.as_str())
        .await?
        .next()
        .with_context(|| format!("{authority} has no address"))?;
    let socket = if server.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.bind(SocketAddr::new(local_ip, 0))?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    let mut listener = Listener::handshake(stream, authority, path).await?;
    let version = listener.initial_version().await?;
    Ok((listener, version))
}

impl<S: AsyncRead + AsyncWrite + Unpin> Listener<S> {
    /// The client's side of the opening handshake (RFC 6455, section 4.1) on
    /// `stream`; the bytes after the response's head are the first frames.
    async fn handshake(mut stream: S, host: &str, path: &str) -> Result<Self> {
        // The key is any 16 bytes in base64; the server's answer to it is not
        // checked, as nothing stands between the two.
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut frames = Frames::new();
        let head_len = loop {
            if let Some(end) = frames.unparsed().windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            if frames.unparsed().len() > MAX_RESPONSE_HEAD {
                bail!("the handshake's response has no end");
            }
            if stream.read_buf(frames.read_buffer()).await? == 0 {
                bail!("the server closed the connection during the handshake");
            }
        };
        let head = &frames.unparsed()[..head_len];
        let status_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
        if !status_line.windows(5).any(|w| w == b" 101 ") {
            bail!("the server refused the upgrade: {}", String::from_utf8_lossy(status_line).trim_end());
        }
        frames.skip(head_len);
        Ok(Self { stream, frames, out: Vec::new() })
    }

    /// Reads the first message, which must be the `initialState`, and returns
    /// its schedule version.
    async fn initial_version(&mut self) -> Result<u64> {
        loop {
            match self.frames.next()? {
                Some(Message::Text(text)) => {
                    let version =
                        peek::initial_version(text).context("the server did not start with initialState");
                    // The schedule is large; its memory is not needed again.
                    self.frames.shrink();
                    return version;
                }
                Some(Message::Ping(payload)) => pong(payload, &mut self.out),
                Some(Message::Close) => bail!("the server closed the connection"),
                None => {
                    self.flush().await?;
                    if self.stream.read_buf(self.frames.read_buffer()).await? == 0 {
                        bail!("the server closed the connection before initialState");
                    }
                }
            }
        }
    }

    /// Sends the `pong`s owed.
    async fn flush(&mut self) -> Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Reads as frames come, answering pings, and hands each text message to
    /// `each`, then `Read::Drained` once what one read brought has been gone
    /// through (before waiting for more). Reads until `each` has what it
    /// waited for (it returns `true`), `stop` turns true, or the connection
    /// ends.
    pub(super) async fn read(
        &mut self,
        mut stop: Option<&mut watch::Receiver<bool>>,
        mut each: impl FnMut(Read<'_>) -> Result<bool>,
    ) -> Result<Ended> {
        loop {
            let ended = loop {
                match self.frames.next() {
                    Ok(Some(Message::Text(text))) => match each(Read::Text(text)) {
                        Ok(false) => {}
                        Ok(true) => break Some(Ok(Ended::Done)),
                        Err(e) => break Some(Err(e)),
                    },
                    Ok(Some(Message::Ping(payload))) => pong(payload, &mut self.out),
                    Ok(Some(Message::Close)) => break Some(Ok(Ended::Closed)),
                    Ok(None) => break None,
                    Err(e) => break Some(Err(e)),
                }
            };
            each(Read::Drained)?;
            if let Some(ended) = ended {
                return ended;
            }
            self.flush().await?;
            let read = self.stream.read_buf(self.frames.read_buffer());
            let read = match stop.as_deref_mut() {
                Some(stop) => tokio::select! {
                    read = read => read?,
                    _ = stop.wait_for(|s| *s) => return Ok(Ended::Stopped),
                },
                None => read.await?,
            };
            if read == 0 {
                return Ok(Ended::Closed);
            }
        }
    }

    /// Listens until `stop` or the connection ends: checks that versions arrive
    /// in order from `version` on, and times each update against its `book`.
    pub(crate) async fn listen(
        mut self,
        mut version: u64,
        times: Arc<SendTimes>,
        mut stop: watch::Receiver<bool>,
        delivered: Arc<AtomicU64>,
    ) -> ListenerStats {
        let mut stats = ListenerStats { latencies_us: Vec::new(), received: 0, gaps: 0 };
        // One clock reading for all that one read brought, taken when the
        // first of it is looked at.
        let mut now_us = None;
        let mut updates = 0;
        let _ = self
            .read(Some(&mut stop), |read| {
                match read {
                    Read::Text(text) => {
                        let Some((v, slot)) = peek::update(text) else { return Ok(false) };
                        if v != version + 1 {
                            stats.gaps += v.saturating_sub(version + 1);
                        }
                        version = v;
                        updates += 1;
                        let now_us = *now_us.get_or_insert_with(|| times.now_us());
                        if let Some(us) = times.since_sent(slot, now_us) {
                            stats.latencies_us.push(us.min(u64::from(u32::MAX)) as u32);
                        }
                    }
                    Read::Drained => {
                        if updates > 0 {
                            stats.received += updates;
                            delivered.fetch_add(updates, Ordering::AcqRel);
                            updates = 0;
                        }
                        now_us = None;
                    }
                }
                Ok(false)
            })
            .await;
        stats
    }
}

/// What `Listener::read` hands on.
pub(super) enum Read<'a> {
    /// A text message.
    Text(&'a [u8]),
    /// Everything read so far has been handed on.
    Drained,
}

/// Why `Listener::read` returned.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Ended {
    /// The reader had what it waited for.
    Done,
    /// Told to stop.
    Stopped,
    /// The server closed the connection.
    Closed,
}

#[cfg(test)]
mod tests;
