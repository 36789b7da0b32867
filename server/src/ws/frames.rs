//! WebSocket frames (RFC 6455) on the server's side, without any I/O: a decoder
//! for what clients send (masked frames, fragmented messages, control frames
//! between the fragments) and the few frames the server writes. The server makes
//! each of its frames once and writes the same bytes to every socket, and a
//! connection that waits for its client holds no read buffer at all.
//!
//! The decoder is exactly as strict as tungstenite, which the server used before.

use std::mem;

use bytes::Bytes;

/// Opcode of a frame that continues a fragmented message.
const CONTINUATION: u8 = 0x0;
/// Opcode of a text frame.
pub(super) const TEXT: u8 = 0x1;
/// Opcode of a binary frame.
const BINARY: u8 = 0x2;
/// Opcode of a close frame.
const CLOSE: u8 = 0x8;
/// Opcode of a ping frame.
const PING: u8 = 0x9;
/// Opcode of a pong frame.
const PONG: u8 = 0xA;
/// The longest payload of a control frame (close, ping, pong).
const MAX_CONTROL: usize = 125;
/// The most frames one message may come in. The rate limit counts messages,
/// so without a bound a client could send frames without end (empty
/// fragments, say) at the cost of one message; browsers send one frame.
const MAX_FRAGMENTS: u16 = 64;

/// What a client sent: one whole message or a control frame.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Incoming {
    /// A whole text message (its fragments joined), valid UTF-8.
    Text(String),
    /// A whole binary message; its content is dropped, as the server refuses them.
    Binary,
    /// A ping, with the payload to echo in the pong.
    Ping(Bytes),
    /// A pong.
    Pong,
    /// A close frame, with the code the client gave (`None` when it gave none).
    Close(Option<u16>),
}

/// Why the connection must be closed, with the close code the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Violation {
    /// A message (or its fragments so far) longer than the limit.
    TooBig,
    /// A text message, or the reason of a close frame, that is not UTF-8.
    NotUtf8,
    /// Anything else RFC 6455 forbids, with what it was.
    Protocol(&'static str),
}

impl Violation {
    /// The close code the server answers this with.
    pub(super) fn code(&self) -> u16 {
        match self {
            Self::TooBig => 1009,
            Self::NotUtf8 => 1007,
            Self::Protocol(_) => 1002,
        }
    }

    /// The reason given in the server's close frame.
    pub(super) fn reason(&self) -> &'static str {
        match self {
            Self::TooBig => "message too big",
            Self::NotUtf8 => "text is not UTF-8",
            Self::Protocol(reason) => reason,
        }
    }
}

/// The fragmented message whose frames are arriving, if any.
enum Pending {
    /// No message is in progress: the next data frame starts one.
    None,
    /// A text message, with its payload so far.
    Text(Vec<u8>),
    /// A binary message, with its length so far (its bytes are dropped).
    Binary(usize),
}

impl Pending {
    /// How many payload bytes the message has so far.
    fn len(&self) -> usize {
        match self {
            Self::None => 0,
            Self::Text(payload) => payload.len(),
            Self::Binary(len) => *len,
        }
    }
}

/// A frame header, read in full and checked.
struct Header {
    fin: bool,
    opcode: u8,
    mask: [u8; 4],
    /// The header's own length in bytes.
    size: usize,
    /// The payload's length in bytes.
    len: usize,
}

/// Reads client frames from bytes as they arrive.
///
/// While idle (no partial frame or message pending) it holds no heap memory:
/// the buffers of a message are released as soon as it is complete, so an idle
/// connection costs only this struct.
pub(super) struct Decoder {
    /// The longest message accepted, in payload bytes.
    max_message: usize,
    /// Bytes received; those before `start` are already decoded.
    input: Vec<u8>,
    /// Where the next frame starts in `input`.
    start: usize,
    /// The fragmented message in progress.
    pending: Pending,
    /// How many frames of it have arrived.
    fragments: u16,
}

impl Decoder {
    /// A decoder that refuses messages longer than `max_message` bytes.
    pub(super) fn new(max_message: usize) -> Self {
        Self { max_message, input: Vec::new(), start: 0, pending: Pending::None, fragments: 0 }
    }

    /// Appends bytes read from the socket.
    pub(super) fn feed(&mut self, bytes: &[u8]) {
        // Frames already decoded are dropped here, once per read, rather than
        // after each frame, so that a read holding many frames costs linear time.
        if self.start > 0 {
            self.input.drain(..self.start);
            self.start = 0;
        }
        self.input.extend_from_slice(bytes);
    }

    /// The next whole message or control frame, `Ok(None)` when more bytes are
    /// needed. After an error the decoder is not used again.
    pub(super) fn next(&mut self) -> Result<Option<Incoming>, Violation> {
        loop {
            let Some(header) = self.header()? else { return Ok(None) };
            let body = self.start + header.size;
            let end = body + header.len;
            if self.input.len() < end {
                return Ok(None);
            }
            let payload = &mut self.input[body..end];
            unmask(payload, header.mask);
            let incoming = match header.opcode {
                PING => Some(Incoming::Ping(Bytes::copy_from_slice(payload))),
                PONG => Some(Incoming::Pong),
                CLOSE => Some(parse_close(payload)?),
                _ => {
                    self.fragments = if header.fin { 0 } else { self.fragments + 1 };
                    if self.fragments > MAX_FRAGMENTS {
                        return Err(Violation::Protocol("a message in too many fragments"));
                    }
                    data(&mut self.pending, &header, payload)?
                }
            };
            self.start = end;
            if self.start == self.input.len() {
                self.input = Vec::new();
                self.start = 0;
            }
            if incoming.is_some() {
                return Ok(incoming);
            }
        }
    }

    /// The header of the next frame, `Ok(None)` when it has not arrived whole.
    /// Each rule is checked as soon as the bytes it needs are there, so that a
    /// frame too long is refused before its payload is buffered.
    fn header(&self) -> Result<Option<Header>, Violation> {
        let bytes = &self.input[self.start..];
        let [first, second, ..] = *bytes else { return Ok(None) };
        if first & 0x70 != 0 {
            return Err(Violation::Protocol("reserved bits set without an extension"));
        }
        let fin = first & 0x80 != 0;
        let opcode = first & 0x0F;
        if !matches!(opcode, CONTINUATION | TEXT | BINARY | CLOSE | PING | PONG) {
            return Err(Violation::Protocol("unknown opcode"));
        }
        if second & 0x80 == 0 {
            return Err(Violation::Protocol("unmasked frame from a client"));
        }
        let control = opcode & 0x08 != 0;
        if control && !fin {
            return Err(Violation::Protocol("fragmented control frame"));
        }
        match (opcode, &self.pending) {
            (CONTINUATION, Pending::None) => {
                return Err(Violation::Protocol("continuation frame without a message"));
            }
            (TEXT | BINARY, Pending::Text(_) | Pending::Binary(_)) => {
                return Err(Violation::Protocol("new message before the last one ended"));
            }
            _ => {}
        }
        let (len, at) = match second & 0x7F {
            126 => match array::<2>(bytes, 2) {
                Some(len) => (u64::from(u16::from_be_bytes(len)), 4),
                None => return Ok(None),
            },
            127 => match array::<8>(bytes, 2) {
                Some(len) => (u64::from_be_bytes(len), 10),
                None => return Ok(None),
            },
            len => (u64::from(len), 2),
        };
        if len >> 63 != 0 {
            return Err(Violation::Protocol("frame length with its top bit set"));
        }
        if control && len > MAX_CONTROL as u64 {
            return Err(Violation::Protocol("control frame longer than 125 bytes"));
        }
        // Control frames do not add to the message whose fragments they interrupt.
        let room = if control { self.max_message } else { self.max_message - self.pending.len() };
        let len = match usize::try_from(len) {
            Ok(len) if len <= room => len,
            _ => return Err(Violation::TooBig),
        };
        let Some(mask) = array::<4>(bytes, at) else { return Ok(None) };
        Ok(Some(Header { fin, opcode, mask, size: at + 4, len }))
    }
}

/// The `N` bytes of `bytes` from `at`, if they are there.
fn array<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at + N)?.try_into().ok()
}

/// Removes the client's masking (RFC 6455 §5.3).
fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    for (byte, key) in payload.iter_mut().zip(mask.iter().cycle()) {
        *byte ^= key;
    }
}

/// Adds a data frame to `pending`: the whole message when this frame ends it.
/// The header already checked that the frame fits the message in progress.
fn data(pending: &mut Pending, header: &Header, payload: &[u8]) -> Result<Option<Incoming>, Violation> {
    match pending {
        Pending::None if header.opcode == TEXT => *pending = Pending::Text(payload.to_vec()),
        Pending::None => *pending = Pending::Binary(payload.len()),
        Pending::Text(message) => message.extend_from_slice(payload),
        Pending::Binary(len) => *len += payload.len(),
    }
    if !header.fin {
        return Ok(None);
    }
    match mem::replace(pending, Pending::None) {
        Pending::Text(message) => match String::from_utf8(message) {
            Ok(text) => Ok(Some(Incoming::Text(text))),
            Err(_) => Err(Violation::NotUtf8),
        },
        Pending::Binary(_) | Pending::None => Ok(Some(Incoming::Binary)),
    }
}

/// Reads a close frame's payload: nothing, or a code and a UTF-8 reason.
fn parse_close(payload: &[u8]) -> Result<Incoming, Violation> {
    match payload {
        [] => Ok(Incoming::Close(None)),
        [_] => Err(Violation::Protocol("close frame of one byte")),
        [high, low, reason @ ..] => {
            if std::str::from_utf8(reason).is_err() {
                return Err(Violation::NotUtf8);
            }
            let code = u16::from_be_bytes([*high, *low]);
            if !close_code_allowed(code) {
                return Err(Violation::Protocol("close code not allowed"));
            }
            Ok(Incoming::Close(Some(code)))
        }
    }
}

/// Whether a client may send `code` in a close frame: the codes RFC 6455 and
/// its registry define for endpoints to send (1000-1003, 1007-1013), and those
/// left to libraries and applications (3000-4999). This is tungstenite's rule.
fn close_code_allowed(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1013 | 3000..=4999)
}

/// The header of a final, unmasked frame with `opcode` and a payload of `len`
/// bytes: its bytes and how many of them are used. For a payload that is sent
/// from elsewhere, such as a buffer shared by many connections.
pub(super) fn header(opcode: u8, len: usize) -> ([u8; 10], usize) {
    let mut bytes = [0; 10];
    bytes[0] = 0x80 | opcode;
    let size = if len <= MAX_CONTROL {
        bytes[1] = len as u8;
        2
    } else if let Ok(len) = u16::try_from(len) {
        bytes[1] = 126;
        bytes[2..4].copy_from_slice(&len.to_be_bytes());
        4
    } else {
        bytes[1] = 127;
        bytes[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    (bytes, size)
}

/// A whole frame: header and payload in one buffer.
fn frame(opcode: u8, payload: &[u8]) -> Bytes {
    let (head, size) = header(opcode, payload.len());
    let mut bytes = Vec::with_capacity(size + payload.len());
    bytes.extend_from_slice(&head[..size]);
    bytes.extend_from_slice(payload);
    Bytes::from(bytes)
}

/// A text frame carrying `payload`, which must be UTF-8.
pub(super) fn text(payload: &[u8]) -> Bytes {
    frame(TEXT, payload)
}

/// An empty ping frame.
pub(super) fn ping() -> Bytes {
    Bytes::from_static(&[0x80 | PING, 0])
}

/// A pong frame echoing `payload`, a ping's payload (at most 125 bytes).
pub(super) fn pong(payload: &[u8]) -> Bytes {
    frame(PONG, payload)
}

/// A close frame with `code` and `reason`. A reason too long for a control
/// frame is cut, at a character boundary, to the 123 bytes that fit.
pub(super) fn close(code: u16, reason: &str) -> Bytes {
    let mut end = reason.len().min(MAX_CONTROL - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = Vec::with_capacity(2 + end);
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    frame(CLOSE, &payload)
}

#[cfg(test)]
mod tests;
