//! Tests of the frame decoder against RFC 6455's rules and examples, and of the
//! server's frames byte for byte.

use super::*;

/// The masking key of RFC 6455's examples (§5.7).
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// The message limit of most tests.
const MAX: usize = 1000;

/// A client frame: `first` is the first header byte (FIN, RSV and opcode), the
/// length is written in its shortest form and the payload is masked with `KEY`.
fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![first];
    match payload.len() {
        len @ 0..=125 => frame.push(0x80 | len as u8),
        len @ 126..=0xFFFF => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&KEY);
    frame.extend(payload.iter().zip(KEY.iter().cycle()).map(|(byte, key)| byte ^ key));
    frame
}

/// Feeds `bytes` at once to a decoder with limit `max` and reads it out: every
/// message, or the first violation.
fn decode_with(max: usize, bytes: &[u8]) -> Result<Vec<Incoming>, Violation> {
    let mut decoder = Decoder::new(max);
    decoder.feed(bytes);
    let mut all = Vec::new();
    while let Some(incoming) = decoder.next()? {
        all.push(incoming);
    }
    Ok(all)
}

/// `decode_with` at the usual limit.
fn decode(bytes: &[u8]) -> Result<Vec<Incoming>, Violation> {
    decode_with(MAX, bytes)
}

fn text(message: &str) -> Incoming {
    Incoming::Text(message.to_owned())
}

#[test]
fn the_rfc_example_of_a_masked_text_frame_decodes_to_hello() {
    let frame = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    assert_eq!(masked(0x81, b"Hello"), frame);
    assert_eq!(decode(&frame), Ok(vec![text("Hello")]));
}

#[test]
fn an_unmasked_frame_is_a_protocol_violation() {
    assert!(matches!(decode(&[0x81, 0x05, b'H', b'e', b'l', b'l', b'o']), Err(Violation::Protocol(_))));
}

#[test]
fn each_reserved_bit_is_a_protocol_violation() {
    for bit in [0x40, 0x20, 0x10] {
        assert!(matches!(decode(&masked(0x81 | bit, b"Hello")), Err(Violation::Protocol(_))), "{bit:#x}");
    }
}

#[test]
fn only_the_six_defined_opcodes_are_accepted() {
    for opcode in (0x3..=0x7).chain(0xB..=0xF) {
        assert!(matches!(decode(&masked(0x80 | opcode, b"")), Err(Violation::Protocol(_))), "{opcode:#x}");
    }
    let all = [masked(0x82, b"\x00\x01"), masked(0x89, b"hi"), masked(0x8A, b""), masked(0x88, b"")].concat();
    assert_eq!(
        decode(&all),
        Ok(vec![
            Incoming::Binary,
            Incoming::Ping(Bytes::from_static(b"hi")),
            Incoming::Pong,
            Incoming::Close(None)
        ])
    );
}

#[test]
fn a_control_frame_must_be_final_and_at_most_125_bytes() {
    for opcode in [CLOSE, PING, PONG] {
        assert!(matches!(decode(&masked(opcode, b"")), Err(Violation::Protocol(_))), "{opcode:#x}");
    }
    let longest = [7; 125];
    assert_eq!(decode(&masked(0x89, &longest)), Ok(vec![Incoming::Ping(Bytes::copy_from_slice(&longest))]));
    assert!(matches!(decode(&masked(0x89, &[7; 126])), Err(Violation::Protocol(_))));
}

#[test]
fn a_control_frame_between_fragments_is_returned_at_once() {
    let mut decoder = Decoder::new(MAX);
    decoder.feed(&[masked(0x01, b"Hel"), masked(0x89, b"ping")].concat());
    assert_eq!(decoder.next(), Ok(Some(Incoming::Ping(Bytes::from_static(b"ping")))));
    assert_eq!(decoder.next(), Ok(None));
    decoder.feed(&[masked(0x00, b"l"), masked(0x8A, b""), masked(0x80, b"o")].concat());
    assert_eq!(decoder.next(), Ok(Some(Incoming::Pong)));
    assert_eq!(decoder.next(), Ok(Some(text("Hello"))));
    assert_eq!(decoder.next(), Ok(None));
}

#[test]
fn fragmented_messages_are_joined() {
    let fragments = [masked(0x01, b"Hel"), masked(0x00, b""), masked(0x80, b"lo")].concat();
    assert_eq!(decode(&fragments), Ok(vec![text("Hello")]));
    let binary = [masked(0x02, b"\xff"), masked(0x80, b"\xfe")].concat();
    assert_eq!(decode(&binary), Ok(vec![Incoming::Binary]));
}

#[test]
fn a_continuation_needs_a_message_in_progress() {
    assert!(matches!(decode(&masked(0x80, b"lo")), Err(Violation::Protocol(_))));
    assert!(matches!(decode(&masked(0x00, b"lo")), Err(Violation::Protocol(_))));
    let after_a_message = [masked(0x81, b"Hello"), masked(0x80, b"lo")].concat();
    assert!(matches!(decode(&after_a_message), Err(Violation::Protocol(_))));
}

#[test]
fn a_new_message_while_one_is_in_progress_is_a_protocol_violation() {
    for (first, second) in [(0x01, 0x81), (0x01, 0x82), (0x02, 0x81), (0x02, 0x01)] {
        let frames = [masked(first, b"a"), masked(second, b"b")].concat();
        assert!(matches!(decode(&frames), Err(Violation::Protocol(_))), "{first:#x} {second:#x}");
    }
}

#[test]
fn sixteen_and_sixty_four_bit_lengths_are_read() {
    let medium = "m".repeat(300);
    let frame = masked(0x81, medium.as_bytes());
    assert_eq!(frame[1..4], [0x80 | 126, 0x01, 0x2C]);
    assert_eq!(decode(&frame), Ok(vec![text(&medium)]));

    let long = "l".repeat(70_000);
    let frame = masked(0x81, long.as_bytes());
    assert_eq!(frame[1..10], [0x80 | 127, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70]);
    assert_eq!(decode_with(100_000, &frame), Ok(vec![text(&long)]));
}

#[test]
fn a_length_in_a_longer_form_than_needed_is_accepted() {
    let mut frame = vec![0x81, 0x80 | 126, 0, 5];
    frame.extend_from_slice(&masked(0x81, b"Hello")[2..]);
    assert_eq!(decode(&frame), Ok(vec![text("Hello")]));
    let mut frame = vec![0x89, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 2];
    frame.extend_from_slice(&masked(0x89, b"hi")[2..]);
    assert_eq!(decode(&frame), Ok(vec![Incoming::Ping(Bytes::from_static(b"hi"))]));
}

#[test]
fn a_sixty_four_bit_length_with_its_top_bit_set_is_a_protocol_violation() {
    let frame = [0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1];
    assert!(matches!(decode_with(usize::MAX, &frame), Err(Violation::Protocol(_))));
}

#[test]
fn a_frame_over_the_limit_is_refused_from_its_header_alone() {
    // Only the header is fed: the decoder must not wait for the payload.
    let header = &masked(0x81, &[b'a'; 1001])[..8];
    assert_eq!(decode(header), Err(Violation::TooBig));
    let header = [0x82, 0x80 | 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(decode(&header), Err(Violation::TooBig));
    assert_eq!(decode(&masked(0x81, &[b'a'; 1000])), Ok(vec![text(&"a".repeat(1000))]));
}

#[test]
fn fragments_together_over_the_limit_are_refused() {
    let first = masked(0x01, &[b'a'; 600]);
    let second = &masked(0x80, &[b'a'; 401])[..8];
    assert_eq!(decode(&[first.as_slice(), second].concat()), Err(Violation::TooBig));
    let binary = [masked(0x02, &[0; 600]), masked(0x80, &[0; 401])].concat();
    assert_eq!(decode(&binary), Err(Violation::TooBig));
    let exact = [masked(0x01, &[b'a'; 600]), masked(0x89, b""), masked(0x80, &[b'a'; 400])].concat();
    assert_eq!(decode(&exact), Ok(vec![Incoming::Ping(Bytes::new()), text(&"a".repeat(1000))]));
}

#[test]
fn text_must_be_utf8_once_its_fragments_are_joined() {
    assert_eq!(decode(&masked(0x81, b"caf\xc3")), Err(Violation::NotUtf8));
    // "café" split inside the two bytes of its "é".
    let split = [masked(0x01, b"caf\xc3"), masked(0x80, b"\xa9")].concat();
    assert_eq!(decode(&split), Ok(vec![text("café")]));
    let invalid = [masked(0x01, b"caf\xc3"), masked(0x80, b"!")].concat();
    assert_eq!(decode(&invalid), Err(Violation::NotUtf8));
}

#[test]
fn a_close_frame_carries_nothing_or_a_code_and_a_utf8_reason() {
    assert_eq!(decode(&masked(0x88, b"")), Ok(vec![Incoming::Close(None)]));
    assert!(matches!(decode(&masked(0x88, b"\x03")), Err(Violation::Protocol(_))));
    assert_eq!(decode(&masked(0x88, b"\x03\xe8")), Ok(vec![Incoming::Close(Some(1000))]));
    assert_eq!(decode(&masked(0x88, b"\x03\xe9bye")), Ok(vec![Incoming::Close(Some(1001))]));
    assert_eq!(decode(&masked(0x88, b"\x03\xe8\xff")), Err(Violation::NotUtf8));
}

#[test]
fn close_codes_are_allowed_as_tungstenite_allows_them() {
    let allowed = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 3000, 3999, 4000, 4999];
    for code in allowed {
        let frame = masked(0x88, &u16::to_be_bytes(code));
        assert_eq!(decode(&frame), Ok(vec![Incoming::Close(Some(code))]), "{code}");
    }
    let refused = [0, 1, 999, 1004, 1005, 1006, 1014, 1015, 1016, 2999, 5000, u16::MAX];
    for code in refused {
        let frame = masked(0x88, &u16::to_be_bytes(code));
        assert!(matches!(decode(&frame), Err(Violation::Protocol(_))), "{code}");
    }
}

#[test]
fn several_frames_in_one_read_are_all_returned() {
    let frames = [masked(0x81, b"one"), masked(0x89, b""), masked(0x81, b"two"), masked(0x88, b"")].concat();
    let expected = vec![text("one"), Incoming::Ping(Bytes::new()), text("two"), Incoming::Close(None)];
    assert_eq!(decode(&frames), Ok(expected));
}

#[test]
fn frames_fed_one_byte_at_a_time_decode_the_same() {
    let long = "x".repeat(MAX);
    let frames =
        [masked(0x81, long.as_bytes()), masked(0x01, b"Hel"), masked(0x89, b"p"), masked(0x80, b"lo")];
    let mut decoder = Decoder::new(MAX);
    let mut all = Vec::new();
    for byte in frames.concat() {
        decoder.feed(&[byte]);
        while let Some(incoming) = decoder.next().unwrap() {
            all.push(incoming);
        }
    }
    assert_eq!(all, vec![text(&long), Incoming::Ping(Bytes::from_static(b"p")), text("Hello")]);
}

#[test]
fn a_header_split_inside_its_length_waits_for_the_rest() {
    let message = "y".repeat(70_000);
    let frame = masked(0x81, message.as_bytes());
    let mut decoder = Decoder::new(100_000);
    // Cut after two of the eight length bytes, then after the length, then
    // inside the masking key, then inside the payload.
    let mut fed = 0;
    for cut in [4, 10, 12, 5000] {
        decoder.feed(&frame[fed..cut]);
        fed = cut;
        assert_eq!(decoder.next(), Ok(None), "cut at {cut}");
    }
    decoder.feed(&frame[5000..]);
    assert_eq!(decoder.next(), Ok(Some(text(&message))));
}

#[test]
fn an_idle_decoder_holds_no_heap_memory_and_stays_small() {
    assert!(mem::size_of::<Decoder>() <= 96, "{} bytes", mem::size_of::<Decoder>());
    let mut decoder = Decoder::new(MAX);
    let frames = [masked(0x01, b"Hel"), masked(0x89, b"p"), masked(0x80, b"lo")].concat();
    let (head, tail) = frames.split_at(7);
    decoder.feed(head);
    assert_eq!(decoder.next(), Ok(None));
    decoder.feed(tail);
    assert_eq!(decoder.next(), Ok(Some(Incoming::Ping(Bytes::from_static(b"p")))));
    assert!(matches!(decoder.pending, Pending::Text(_)));
    assert_eq!(decoder.next(), Ok(Some(text("Hello"))));
    assert_eq!(decoder.input.capacity(), 0);
    assert!(matches!(decoder.pending, Pending::None));
    assert_eq!(decoder.next(), Ok(None));
}

#[test]
fn the_server_s_frames_are_unmasked_and_final() {
    assert_eq!(super::text(b"Hello")[..], [0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
    assert_eq!(ping()[..], [0x89, 0x00]);
    assert_eq!(pong(b"Hello")[..], [0x8A, 0x05, b'H', b'e', b'l', b'l', b'o']);
    assert_eq!(close(1000, "bye")[..], [0x88, 0x05, 0x03, 0xE8, b'b', b'y', b'e']);
    assert_eq!(close(1001, "")[..], [0x88, 0x02, 0x03, 0xE9]);
}

#[test]
fn headers_use_the_shortest_length_form() {
    assert_eq!(header(TEXT, 125), ([0x81, 125, 0, 0, 0, 0, 0, 0, 0, 0], 2));
    assert_eq!(header(TEXT, 126), ([0x81, 126, 0, 126, 0, 0, 0, 0, 0, 0], 4));
    assert_eq!(header(BINARY, 256), ([0x82, 126, 0x01, 0x00, 0, 0, 0, 0, 0, 0], 4));
    assert_eq!(header(TEXT, 65535), ([0x81, 126, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0], 4));
    assert_eq!(header(BINARY, 65536), ([0x82, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00], 10));
    let payload = vec![b'z'; 256];
    let frame = super::text(&payload);
    assert_eq!(frame[..4], [0x81, 126, 0x01, 0x00]);
    assert_eq!(frame[4..], payload[..]);
}

#[test]
fn a_close_reason_is_cut_to_fit_a_control_frame_at_a_character_boundary() {
    // 61 two-byte characters then one more: 124 bytes, one over the 123 that fit.
    let reason = "é".repeat(62);
    let frame = close(1000, &reason);
    assert_eq!(frame[..2], [0x88, 124]);
    assert_eq!(std::str::from_utf8(&frame[4..]), Ok("é".repeat(61).as_str()));
    let frame = close(1000, &"a".repeat(200));
    assert_eq!(frame.len(), 2 + 125);
}

#[test]
fn a_message_may_come_in_a_few_dozen_fragments_and_not_endlessly() {
    let start = masked(0x01, b"a");
    let more = |count: usize| masked(0x00, b"").repeat(count);
    let end = masked(0x80, b"b");
    let within = [start.clone(), more(usize::from(MAX_FRAGMENTS) - 1), end.clone()].concat();
    assert_eq!(decode(&within), Ok(vec![text("ab")]));
    // Empty fragments fit any size limit: the count is what stops them.
    let endless = [start, more(usize::from(MAX_FRAGMENTS))].concat();
    assert!(matches!(decode(&endless), Err(Violation::Protocol(_))));
    // The count starts again with each message.
    let twice = [within.clone(), within].concat();
    assert_eq!(decode(&twice), Ok(vec![text("ab"), text("ab")]));
}
