//! The floor benchmark: what the machine's kernel alone costs to fan one update
//! out. One thread writes one ready-made ~200-byte WebSocket `update` frame to
//! each of many loopback connections with plain non-blocking `write` calls, and
//! another process reads and discards them. No server does less work per
//! delivered update than this, so it is the limit the server's figures compare to.

mod reader;

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;

pub use reader::run_reader;

use crate::procstat::{CpuReading, CpuTimes};

/// What to run.
#[derive(Debug, Clone)]
pub struct FloorOptions {
    /// Loopback connections to write to.
    pub connections: usize,
    /// Rounds sent back to back (`burst`); 0 skips that mode.
    pub rounds: usize,
    /// Rounds sent one every `pace` (`paced`); 0 skips that mode.
    pub paced_rounds: usize,
    /// The time between two paced rounds.
    pub pace: Duration,
    /// How many 127.0.0.x source addresses the reader spreads its connections over.
    pub sources: u8,
    /// Whether the writer sets `TCP_NODELAY`, as the server does on its
    /// WebSocket connections.
    pub nodelay: bool,
}

/// One mode's figures.
#[derive(Debug, Clone, Serialize)]
pub struct FloorSummary {
    /// `burst` or `paced`.
    pub mode: String,
    /// Connections written to.
    pub connections: usize,
    /// Rounds: one frame to every connection each.
    pub rounds: usize,
    /// Bytes of one frame, header included.
    pub frame_bytes: usize,
    /// Frames sent: connections × rounds.
    pub sends: u64,
    /// `write` calls made (more than `sends` only when a socket was full).
    pub writes: u64,
    /// Writes that found the socket full and were tried again later.
    pub would_block: u64,
    /// Wall time spent in the rounds (the pauses between paced rounds left out).
    pub send_secs: f64,
    /// Wall time from the first write until the reader had every frame.
    pub delivered_secs: f64,
    /// The writer thread's user time per send, microseconds.
    pub user_us: f64,
    /// The writer thread's kernel time per send, microseconds.
    pub sys_us: f64,
    /// Both together, microseconds.
    pub total_us: f64,
    /// Sends per second of `send_secs`.
    pub per_sec: f64,
    /// The reading process's user time per frame received, microseconds.
    pub reader_user_us: f64,
    /// The reading process's kernel time per frame received, microseconds.
    pub reader_sys_us: f64,
    /// Both together: what one client's read costs on the same cores.
    pub reader_us: f64,
}

impl FloorSummary {
    /// The one-line form.
    pub fn line(&self) -> String {
        format!(
            "floor-{} connections={} rounds={} frame={}B sends={} writes={} would_block={} send={:.2}s \
             delivered={:.2}s user_us={:.3} sys_us={:.3} total_us={:.3} per_sec={:.0} reader_us={:.3}",
            self.mode,
            self.connections,
            self.rounds,
            self.frame_bytes,
            self.sends,
            self.writes,
            self.would_block,
            self.send_secs,
            self.delivered_secs,
            self.user_us,
            self.sys_us,
            self.total_us,
            self.per_sec,
            self.reader_us,
        )
    }
}

/// The `update` a booking produces, as the server sends it, for schedule
/// version `version` (six digits keep every frame the same length).
pub fn update_json(version: u64) -> String {
    format!(
        r#"{{"type":"update","payload":{{"version":{version},"slot":{{"id":"dr-petrova-2025-12-01T09:30:00Z","doctorId":"dr-petrova","start":"2025-12-01T09:30:00Z","end":"2025-12-01T10:00:00Z","status":"booked"}}}}}}"#
    )
}

/// A server's WebSocket text frame (servers do not mask) carrying `text`.
pub fn text_frame(text: &str) -> Vec<u8> {
    let len = text.len();
    let mut frame = Vec::with_capacity(len + 10);
    frame.push(0x81);
    if len < 126 {
        frame.push(len as u8);
    } else if len <= usize::from(u16::MAX) {
        frame.push(126);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        frame.push(127);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(text.as_bytes());
    frame
}

/// The reading process, killed on drop.
struct Reader {
    child: Child,
    lines: BufReader<ChildStdout>,
}

impl Reader {
    /// The reader's next report, such as `ready` or `received BYTES`.
    fn expect(&mut self, what: &str) -> Result<()> {
        let mut line = String::new();
        if self.lines.read_line(&mut line)? == 0 {
            bail!("the reader ended before saying `{what}`");
        }
        if line.trim_end() != what {
            bail!("the reader said `{}` instead of `{what}`", line.trim_end());
        }
        Ok(())
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One writing end with what it could not write yet.
struct Conn {
    stream: TcpStream,
    pending: Vec<u8>,
}

#[derive(Default)]
struct Counts {
    sends: u64,
    writes: u64,
    would_block: u64,
}

impl Conn {
    fn send(&mut self, frame: &[u8], counts: &mut Counts) -> Result<()> {
        counts.sends += 1;
        if self.pending.is_empty() {
            let written = write_some(&mut self.stream, frame, counts)?;
            self.pending.extend_from_slice(&frame[written..]);
            Ok(())
        } else {
            self.pending.extend_from_slice(frame);
            self.flush(counts)
        }
    }

    fn flush(&mut self, counts: &mut Counts) -> Result<()> {
        if !self.pending.is_empty() {
            let written = write_some(&mut self.stream, &self.pending, counts)?;
            self.pending.drain(..written);
        }
        Ok(())
    }
}

/// One `write`; a full socket writes nothing and is counted.
fn write_some(stream: &mut TcpStream, bytes: &[u8], counts: &mut Counts) -> Result<usize> {
    counts.writes += 1;
    match stream.write(bytes) {
        Ok(n) => Ok(n),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
            counts.would_block += 1;
            Ok(0)
        }
        Err(e) => Err(e).context("writing a frame"),
    }
}

/// Starts the reader, accepts its connections and runs each mode asked for.
pub fn run_floor(options: &FloorOptions) -> Result<Vec<FloorSummary>> {
    let frame_bytes = text_frame(&update_json(100_000)).len();
    let modes: Vec<(&str, usize)> = [("burst", options.rounds), ("paced", options.paced_rounds)]
        .into_iter()
        .filter(|(_, rounds)| *rounds > 0)
        .collect();
    // The reader reports when the bytes it has read reach the end of each mode.
    let mut targets = Vec::new();
    let mut frames_so_far = 0;
    for (_, rounds) in &modes {
        frames_so_far += options.connections * rounds;
        targets.push((frames_so_far * frame_bytes).to_string());
    }

    let listener = TcpListener::bind("127.0.0.1:0").context("binding the floor's listener")?;
    let addr: SocketAddr = listener.local_addr()?;
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--reader", "--connect", &addr.to_string()])
        .args(["--connections", &options.connections.to_string()])
        .args(["--sources", &options.sources.to_string()])
        .args(["--targets", &targets.join(",")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the reader")?;
    let stdout = child.stdout.take().context("the reader's output is not piped")?;
    let mut reader = Reader { lines: BufReader::new(stdout), child };
    let mut conns = accept_all(&listener, &mut reader, options)?;
    reader.expect("ready")?;

    let mut summaries = Vec::new();
    for ((mode, rounds), target) in modes.into_iter().zip(&targets) {
        let pace = (mode == "paced").then_some(options.pace);
        summaries.push(run_mode(&mut conns, &mut reader, mode, rounds, pace, target, frame_bytes)?);
    }
    drop(conns);
    // With every connection closed the reader ends by itself.
    let _ = reader.child.wait();
    Ok(summaries)
}

/// Accepts the reader's connections, giving up if the reader ends first.
fn accept_all(listener: &TcpListener, reader: &mut Reader, options: &FloorOptions) -> Result<Vec<Conn>> {
    listener.set_nonblocking(true)?;
    let mut conns = Vec::with_capacity(options.connections);
    let deadline = Instant::now() + Duration::from_secs(120);
    while conns.len() < options.connections {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(true)?;
                stream.set_nodelay(options.nodelay)?;
                conns.push(Conn { stream, pending: Vec::new() });
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if let Some(status) = reader.child.try_wait()? {
                    bail!("the reader ended ({status}) after {} connections", conns.len());
                }
                if Instant::now() > deadline {
                    bail!("only {} of {} connections came", conns.len(), options.connections);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e).context("accepting a connection"),
        }
    }
    Ok(conns)
}

/// Sends `rounds` rounds (paced or not), waits until the reader has them all,
/// and measures both sides.
fn run_mode(
    conns: &mut [Conn],
    reader: &mut Reader,
    mode: &str,
    rounds: usize,
    pace: Option<Duration>,
    target: &str,
    frame_bytes: usize,
) -> Result<FloorSummary> {
    let pid = reader.child.id();
    let reader_before = CpuReading::process(pid).context("reading the reader's CPU time")?;
    let writer_before = CpuReading::thread().context("reading this thread's CPU time")?;
    let mut counts = Counts::default();
    let started = Instant::now();
    let mut send_secs = 0.0;
    for round in 0..rounds {
        if let Some(pace) = pace {
            let due = started + pace * round as u32;
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        // Every round is a new version, as real updates are.
        let frame = text_frame(&update_json(100_000 + round as u64));
        let round_started = Instant::now();
        for conn in conns.iter_mut() {
            conn.send(&frame, &mut counts)?;
        }
        send_secs += round_started.elapsed().as_secs_f64();
    }
    // What a full socket kept back is written as the reader makes room.
    let flush_started = Instant::now();
    while conns.iter().any(|c| !c.pending.is_empty()) {
        for conn in conns.iter_mut() {
            conn.flush(&mut counts)?;
        }
        std::thread::yield_now();
    }
    send_secs += flush_started.elapsed().as_secs_f64();
    let writer = CpuReading::thread().context("reading this thread's CPU time")?.since(&writer_before);
    reader.expect(&format!("received {target}"))?;
    let delivered_secs = started.elapsed().as_secs_f64();
    let read = CpuReading::process(pid).context("reading the reader's CPU time")?.since(&reader_before);
    let sends = counts.sends;
    let per = |t: f64| if sends > 0 { t * 1e6 / sends as f64 } else { 0.0 };
    let CpuTimes { user, sys } = writer;
    Ok(FloorSummary {
        mode: mode.to_owned(),
        connections: conns.len(),
        rounds,
        frame_bytes,
        sends,
        writes: counts.writes,
        would_block: counts.would_block,
        send_secs,
        delivered_secs,
        user_us: per(user),
        sys_us: per(sys),
        total_us: per(writer.total()),
        per_sec: if send_secs > 0.0 { sends as f64 / send_secs } else { 0.0 },
        reader_user_us: per(read.user),
        reader_sys_us: per(read.sys),
        reader_us: per(read.total()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_is_a_200_byte_update_the_protocol_reads() {
        let json = update_json(100_042);
        let message: protocol::ServerMessage = serde_json::from_str(&json).unwrap();
        assert!(matches!(message, protocol::ServerMessage::Update { version: 100_042, .. }));
        let frame = text_frame(&json);
        assert_eq!(&frame[..4], &[0x81, 126, 0, json.len() as u8]);
        assert!((190..=220).contains(&frame.len()), "{} bytes", frame.len());
        assert_eq!(text_frame(&update_json(100_000)).len(), frame.len());
    }

    #[test]
    fn short_texts_have_the_short_header() {
        assert_eq!(text_frame("hi"), vec![0x81, 2, b'h', b'i']);
    }
}
