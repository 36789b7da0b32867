//! The listeners' WebSocket frame reader: the server's frames (unmasked, with
//! 7-, 16- or 64-bit lengths) parsed straight out of one reusable read buffer,
//! fragmented messages joined, and the masked `pong` a client answers a `ping`
//! with. Only what a listener needs: text messages, pings and the close.

use anyhow::{Result, bail};

/// Bytes a read may fill at once.
pub(super) const READ_SIZE: usize = 64 * 1024;

/// Below this much free room the buffer grows before a read.
const MIN_READ: usize = 4096;

/// The longest message accepted, fragments joined: far above any schedule.
const MAX_MESSAGE: usize = 64 << 20;

const CONTINUATION: u8 = 0;
const TEXT: u8 = 1;
const BINARY: u8 = 2;
const CLOSE: u8 = 8;
const PING: u8 = 9;
const PONG: u8 = 10;

/// The mask of every frame the listeners send (RFC 6455 asks clients to mask,
/// not to hide anything from a server on the same machine).
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// One thing read from the server.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Message<'a> {
    /// A whole text message, its fragments joined.
    Text(&'a [u8]),
    /// A `ping` with its payload, to be answered with a `pong`.
    Ping(&'a [u8]),
    /// The server closes the connection.
    Close,
}

/// The bytes read from one connection and the message being joined.
pub(super) struct Frames {
    buf: Vec<u8>,
    /// Where the first byte not yet parsed is in `buf`.
    pos: usize,
    /// The fragments of the message being joined so far.
    partial: Vec<u8>,
    /// The opcode of the fragmented message being joined, if any.
    fragmented: Option<u8>,
    /// Whether `partial` was handed out whole and is to be cleared.
    joined: bool,
}

impl Frames {
    pub(super) fn new() -> Self {
        Self {
            buf: Vec::with_capacity(READ_SIZE),
            pos: 0,
            partial: Vec::new(),
            fragmented: None,
            joined: false,
        }
    }

    /// The buffer to read into, the parsed bytes dropped and room made for a
    /// read; reads append to it.
    pub(super) fn read_buffer(&mut self) -> &mut Vec<u8> {
        if self.pos == self.buf.len() {
            self.buf.clear();
        } else if self.pos > 0 {
            self.buf.drain(..self.pos);
        }
        self.pos = 0;
        if self.buf.capacity() - self.buf.len() < MIN_READ {
            self.buf.reserve(READ_SIZE);
        }
        &mut self.buf
    }

    /// The bytes read but not parsed yet.
    pub(super) fn unparsed(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Passes over `n` bytes that are not frames (the handshake's response).
    pub(super) fn skip(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }

    /// Gives back the memory a large message (the `initialState`) took.
    pub(super) fn shrink(&mut self) {
        self.partial = Vec::new();
        self.buf.shrink_to(READ_SIZE);
    }

    /// The next whole message in the bytes read so far; `None` when more must
    /// be read first. Binary messages and `pong`s are passed over.
    pub(super) fn next(&mut self) -> Result<Option<Message<'_>>> {
        if self.joined {
            self.joined = false;
            self.partial.clear();
        }
        loop {
            let bytes = &self.buf[self.pos..];
            let Some((fin, opcode, start, len)) = header(bytes)? else { return Ok(None) };
            if bytes.len() - start < len {
                return Ok(None);
            }
            let (start, end) = (self.pos + start, self.pos + start + len);
            self.pos = end;
            match opcode {
                CONTINUATION => {
                    let Some(kind) = self.fragmented else { bail!("a continuation frame began no message") };
                    if self.partial.len() + len > MAX_MESSAGE {
                        bail!("a fragmented message of over {MAX_MESSAGE} bytes");
                    }
                    self.partial.extend_from_slice(&self.buf[start..end]);
                    if fin {
                        self.fragmented = None;
                        self.joined = true;
                        if kind == TEXT {
                            return Ok(Some(Message::Text(&self.partial)));
                        }
                    }
                }
                TEXT | BINARY => {
                    if self.fragmented.is_some() {
                        bail!("a new message began before the fragmented one ended");
                    }
                    if !fin {
                        self.fragmented = Some(opcode);
                        self.partial.clear();
                        self.partial.extend_from_slice(&self.buf[start..end]);
                    } else if opcode == TEXT {
                        return Ok(Some(Message::Text(&self.buf[start..end])));
                    }
                }
                CLOSE => return Ok(Some(Message::Close)),
                PING => return Ok(Some(Message::Ping(&self.buf[start..end]))),
                PONG => {}
                other => bail!("a frame of unknown opcode {other}"),
            }
        }
    }
}

/// A frame's FIN bit, opcode, header length and payload length, once its
/// header is all in `bytes`.
fn header(bytes: &[u8]) -> Result<Option<(bool, u8, usize, usize)>> {
    let [b0, b1, ..] = *bytes else { return Ok(None) };
    if b1 & 0x80 != 0 {
        bail!("the server masked a frame");
    }
    if b0 & 0x70 != 0 {
        bail!("a frame with reserved bits set");
    }
    let (fin, opcode) = (b0 & 0x80 != 0, b0 & 0x0f);
    let (start, len) = match b1 & 0x7f {
        126 => {
            let Some(&[a, b]) = bytes.get(2..4) else { return Ok(None) };
            (4, u64::from(u16::from_be_bytes([a, b])))
        }
        127 => {
            let Some(long) = bytes.get(2..10) else { return Ok(None) };
            (10, u64::from_be_bytes(long.try_into().expect("eight bytes")))
        }
        short => (2, u64::from(short)),
    };
    if opcode >= CLOSE && (!fin || len > 125) {
        bail!("a control frame fragmented or longer than 125 bytes");
    }
    if len > MAX_MESSAGE as u64 {
        bail!("a frame of {len} bytes");
    }
    Ok(Some((fin, opcode, start, len as usize)))
}

/// The masked `pong` that answers a `ping` carrying `payload` (at most 125
/// bytes, as the reader checks).
pub(super) fn pong(payload: &[u8], out: &mut Vec<u8>) {
    masked(PONG, payload, out);
}

/// A masked text frame carrying `payload` whole.
pub(super) fn text(payload: &[u8], out: &mut Vec<u8>) {
    masked(TEXT, payload, out);
}

/// A client's frame: FIN, `opcode`, the length in as few bytes as it takes,
/// the mask and the masked payload.
fn masked(opcode: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(0x80 | opcode);
    match payload.len() {
        len @ 0..=125 => out.push(0x80 | len as u8),
        len @ 126..=0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().zip(MASK.iter().cycle()).map(|(b, m)| b ^ m));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::floor::text_frame;

    /// A server frame: FIN and opcode in `first`, unmasked.
    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut frame = text_frame(std::str::from_utf8(payload).unwrap());
        frame[0] = first;
        frame
    }

    /// Everything `frames` yields from what it holds, as owned values.
    fn drain(frames: &mut Frames) -> Vec<Result<Option<String>, String>> {
        let mut out = Vec::new();
        loop {
            match frames.next() {
                Ok(Some(Message::Text(text))) => {
                    out.push(Ok(Some(String::from_utf8(text.to_vec()).unwrap())))
                }
                Ok(Some(Message::Ping(p))) => out.push(Err(format!("ping {}", String::from_utf8_lossy(p)))),
                Ok(Some(Message::Close)) => out.push(Ok(None)),
                Ok(None) => return out,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
    }

    fn fed(bytes: &[u8]) -> Frames {
        let mut frames = Frames::new();
        frames.read_buffer().extend_from_slice(bytes);
        frames
    }

    fn text(s: &str) -> Result<Option<String>, String> {
        Ok(Some(s.to_owned()))
    }

    #[test]
    fn short_messages_are_read_one_after_another() {
        let bytes = [text_frame("one"), text_frame("two"), frame(0x88, b"")].concat();
        assert_eq!(drain(&mut fed(&bytes)), vec![text("one"), text("two"), Ok(None)]);
    }

    #[test]
    fn sixteen_and_sixty_four_bit_lengths_are_read() {
        let medium = "m".repeat(300);
        let long = "l".repeat(70_000);
        let long_frame = text_frame(&long);
        assert_eq!(long_frame[1], 127);
        assert_eq!(text_frame(&medium)[1], 126);
        // A short length may also be written in the long form.
        let mut padded = vec![0x81, 127, 0, 0, 0, 0, 0, 0, 0, 2];
        padded.extend_from_slice(b"hi");
        let bytes = [text_frame(&medium), long_frame, padded].concat();
        assert_eq!(drain(&mut fed(&bytes)), vec![text(&medium), text(&long), text("hi")]);
    }

    #[test]
    fn fragments_are_joined_with_a_ping_between_them() {
        let bytes = [
            frame(0x01, b"Hel"),
            frame(0x00, b""),
            frame(0x89, b"p"),
            frame(0x00, b"l"),
            frame(0x80, b"o"),
            text_frame("next"),
        ]
        .concat();
        assert_eq!(drain(&mut fed(&bytes)), vec![Err("ping p".into()), text("Hello"), text("next")]);
    }

    #[test]
    fn binary_messages_and_pongs_are_passed_over() {
        let bytes =
            [frame(0x82, b"bin"), frame(0x02, b"a"), frame(0x80, b"b"), frame(0x8a, b""), text_frame("t")]
                .concat();
        assert_eq!(drain(&mut fed(&bytes)), vec![text("t")]);
    }

    #[test]
    fn a_frame_split_across_reads_waits_for_its_end() {
        let long = "x".repeat(5000);
        let bytes = [text_frame("a"), text_frame(&long), frame(0x01, b"fr"), frame(0x80, b"ag")].concat();
        // Every way of cutting the bytes in two yields the same messages.
        for cut in [1, 2, 3, 4, 5, 6, 7, 100, 5006, bytes.len() - 3, bytes.len() - 1] {
            let mut frames = fed(&bytes[..cut]);
            let mut got = drain(&mut frames);
            frames.read_buffer().extend_from_slice(&bytes[cut..]);
            got.extend(drain(&mut frames));
            assert_eq!(got, vec![text("a"), text(&long), text("frag")], "cut at {cut}");
        }
        // And one byte at a time.
        let mut frames = Frames::new();
        let mut got = Vec::new();
        for byte in &bytes {
            frames.read_buffer().push(*byte);
            got.extend(drain(&mut frames));
        }
        assert_eq!(got, vec![text("a"), text(&long), text("frag")]);
    }

    #[test]
    fn broken_streams_are_refused() {
        let refused =
            |bytes: &[u8]| matches!(drain(&mut fed(bytes)).last(), Some(Err(e)) if !e.starts_with("ping"));
        assert!(refused(&[0x81, 0x81, 1, 2, 3, 4, b'a']), "masked");
        assert!(refused(&frame(0xc1, b"a")), "reserved bit");
        assert!(refused(&frame(0x80, b"a")), "continuation of nothing");
        assert!(refused(&[frame(0x01, b"a"), text_frame("b")].concat()), "interleaved");
        assert!(refused(&frame(0x09, b"p")), "fragmented ping");
        assert!(refused(&frame(0x83, b"a")), "unknown opcode");
        assert!(refused(&[0x81, 127, 0, 0, 0, 1, 0, 0, 0, 0]), "too long");
    }

    #[test]
    fn a_pong_is_masked_and_unmasks_to_the_ping_payload() {
        let mut out = Vec::new();
        pong(b"are you there", &mut out);
        assert_eq!(out[0], 0x8a);
        assert_eq!(out[1], 0x80 | 13);
        let mask = &out[2..6];
        let payload: Vec<u8> = out[6..].iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m).collect();
        assert_eq!(payload, b"are you there");
        assert_ne!(&out[6..], b"are you there");
    }

    #[test]
    fn a_text_frame_carries_its_length_in_as_few_bytes_as_it_takes() {
        let unmask = |frame: &[u8], start: usize| -> Vec<u8> {
            let mask = &frame[start - 4..start];
            frame[start..].iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m).collect()
        };
        let mut short = Vec::new();
        super::text(b"{}", &mut short);
        assert_eq!(short[..2], [0x81, 0x80 | 2]);
        assert_eq!(unmask(&short, 6), b"{}");

        let long = vec![b'x'; 300];
        let mut out = Vec::new();
        super::text(&long, &mut out);
        assert_eq!(out[..4], [0x81, 0x80 | 126, 1, 44]);
        assert_eq!(out.len(), 8 + 300);
        assert_eq!(unmask(&out, 8), long);
    }
}
