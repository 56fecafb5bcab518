//! Framing: byte layout, round trips, and every length and payload limit.

use cohesix_console::{encode_frame, ConsoleLimits, FrameDecoder, FrameError, FrameFault};
use proptest::prelude::*;

fn frame(line: &str) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(line, &mut out);
    out
}

/// A raw frame with an arbitrary declared length and payload.
fn raw(declared: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = declared.to_le_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

fn decoder() -> FrameDecoder {
    FrameDecoder::new(&ConsoleLimits::default())
}

/// Feeds `bytes` in `chunk`-sized pieces, draining after each push, and collects every result.
fn decode_all(
    d: &mut FrameDecoder,
    bytes: &[u8],
    chunk: usize,
    authed: bool,
) -> Vec<Result<String, FrameError>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    loop {
        let piece = &rest[..chunk.min(rest.len())];
        let taken = d.push(piece);
        rest = &rest[taken..];
        let before = out.len();
        loop {
            match d.next_line(authed) {
                Ok(Some(line)) => out.push(Ok(line)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e));
                    if e.is_fatal() {
                        return out;
                    }
                }
            }
        }
        if rest.is_empty() {
            return out;
        }
        assert!(taken > 0 || out.len() > before, "decoder stalled");
    }
}

#[test]
fn layout_matches_original_console() {
    assert_eq!(frame("OK AUTH"), b"\x0b\x00\x00\x00OK AUTH");
    assert_eq!(frame(""), [4, 0, 0, 0]);
    assert_eq!(frame("END\r\n"), b"\x07\x00\x00\x00END");
    assert_eq!(frame("a\nb"), b"\x07\x00\x00\x00a b");
}

#[test]
fn round_trips_whole_and_byte_by_byte() {
    let lines = [
        "AUTH secret",
        "ATTACH queen ",
        "",
        "tail /log/queen.log 12",
        "héllo",
    ];
    let bytes: Vec<u8> = lines.iter().flat_map(|l| frame(l)).collect();
    for chunk in [1, 2, 3, 5, bytes.len()] {
        let mut d = decoder();
        let got = decode_all(&mut d, &bytes, chunk, true);
        let want: Vec<_> = lines.iter().map(|l| Ok(l.to_string())).collect();
        assert_eq!(got, want, "chunk {chunk}");
        assert_eq!(d.buffered(), 0);
    }
}

#[test]
fn partial_frames_wait_for_more() {
    let mut d = decoder();
    let bytes = frame("PING");
    let _ = d.push(&bytes[..3]);
    assert_eq!(d.next_line(false), Ok(None));
    let _ = d.push(&bytes[3..6]);
    assert_eq!(d.next_line(false), Ok(None));
    let _ = d.push(&bytes[6..]);
    assert_eq!(d.next_line(false), Ok(Some("PING".into())));
    assert_eq!(d.next_line(false), Ok(None));
}

#[test]
fn lengths_below_four_are_fatal_before_and_after_auth() {
    for declared in 0..4u32 {
        for authed in [false, true] {
            let mut d = decoder();
            let _ = d.push(&raw(declared, b"PING"));
            assert_eq!(
                d.next_line(authed),
                Err(FrameError::Fatal(FrameFault::Length)),
                "len {declared} authed {authed}"
            );
        }
    }
}

#[test]
fn lengths_above_frame_max_are_fatal_before_and_after_auth() {
    for declared in [8193, 65_536, u32::MAX] {
        for authed in [false, true] {
            let mut d = decoder();
            let _ = d.push(&raw(declared, b"x"));
            assert_eq!(
                d.next_line(authed),
                Err(FrameError::Fatal(FrameFault::Length))
            );
            assert!(d.is_poisoned());
        }
    }
}

#[test]
fn longest_line_is_accepted() {
    let line = "a".repeat(256);
    let mut d = decoder();
    let _ = d.push(&frame(&line));
    assert_eq!(d.next_line(false), Ok(Some(line)));
}

#[test]
fn overlong_line_before_auth_is_fatal() {
    let mut d = decoder();
    let _ = d.push(&frame(&"a".repeat(257)));
    assert_eq!(
        d.next_line(false),
        Err(FrameError::Fatal(FrameFault::Length))
    );
    // Poisoned: keeps failing, swallows input, until reset.
    assert_eq!(d.push(b"more bytes"), 10);
    assert!(d.next_line(true).unwrap_err().is_fatal());
    d.reset();
    let _ = d.push(&frame("PING"));
    assert_eq!(d.next_line(false), Ok(Some("PING".into())));
}

#[test]
fn overlong_line_after_auth_skips_exactly_that_frame() {
    let mut bytes = frame(&"x".repeat(257));
    bytes.extend(frame("PING"));
    for chunk in [1, 7, 300, bytes.len()] {
        let mut d = decoder();
        let got = decode_all(&mut d, &bytes, chunk, true);
        assert_eq!(
            got,
            vec![Err(FrameError::InvalidLength), Ok("PING".into())],
            "chunk {chunk}"
        );
    }
}

#[test]
fn frame_max_after_auth_resynchronises() {
    let mut bytes = raw(8192, &[b'z'; 8188]);
    bytes.extend(frame("ls /"));
    let mut d = decoder();
    let got = decode_all(&mut d, &bytes, 1000, true);
    assert_eq!(got, vec![Err(FrameError::InvalidLength), Ok("ls /".into())]);
}

#[test]
fn invalid_utf8_and_line_breaks() {
    for payload in [&b"\xff\xfe"[..], b"a\rb", b"a\nb", b"PING\n"] {
        let mut d = decoder();
        let _ = d.push(&raw(payload.len() as u32 + 4, payload));
        assert_eq!(d.next_line(false), Err(FrameError::Fatal(FrameFault::Line)));

        let mut bytes = raw(payload.len() as u32 + 4, payload);
        bytes.extend(frame("PING"));
        let mut d = decoder();
        let got = decode_all(&mut d, &bytes, 3, true);
        assert_eq!(got, vec![Err(FrameError::InvalidLine), Ok("PING".into())]);
    }
}

#[test]
fn push_is_bounded_by_the_buffer() {
    let mut d = FrameDecoder::with_bounds(8192, 16, 24);
    let bytes: Vec<u8> = (0..10).flat_map(|_| frame("0123456789")).collect();
    let taken = d.push(&bytes);
    assert_eq!(taken, 24);
    assert_eq!(d.buffered(), 24);
    assert_eq!(d.push(&bytes[taken..]), 0);
    assert_eq!(d.next_line(true), Ok(Some("0123456789".into())));
    // Draining made room again.
    assert_eq!(d.push(&bytes[taken..]), 14);
    let got = decode_all(&mut d, &bytes[taken + 14..], 5, true);
    assert_eq!(got.len(), 9);
    assert!(got.iter().all(|r| r.as_deref() == Ok("0123456789")));
}

#[test]
fn buffer_always_fits_one_largest_line() {
    let mut d = FrameDecoder::with_bounds(8192, 256, 0);
    let line = "q".repeat(256);
    let bytes = frame(&line);
    assert_eq!(d.push(&bytes), bytes.len());
    assert_eq!(d.next_line(false), Ok(Some(line)));
}

#[test]
fn silly_bounds_do_not_panic() {
    let mut d = FrameDecoder::with_bounds(0, 1000, 0);
    let _ = d.push(&frame(""));
    assert_eq!(d.next_line(false), Ok(Some(String::new())));
    let _ = d.push(&frame("x"));
    assert!(d.next_line(false).unwrap_err().is_fatal());
}

fn valid_line() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        any::<char>().prop_filter("no CR/LF", |c| *c != '\r' && *c != '\n'),
        0..80,
    )
    .prop_map(|chars| chars.into_iter().collect::<String>())
    .prop_filter("fits line_max", |s| s.len() <= 256)
}

proptest! {
    #[test]
    fn decoder_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        chunk in 1usize..300,
        authed: bool,
        buffer in 0usize..600,
    ) {
        let mut d = FrameDecoder::with_bounds(8192, 256, buffer);
        let mut rest = &bytes[..];
        let mut rounds = 0;
        while !rest.is_empty() && rounds < 10_000 {
            rounds += 1;
            let taken = d.push(&rest[..chunk.min(rest.len())]);
            rest = &rest[taken..];
            prop_assert!(d.buffered() <= buffer.max(260));
            while let Ok(Some(line)) = d.next_line(authed) {
                prop_assert!(line.len() <= 256);
                prop_assert!(!line.contains(['\r', '\n']));
            }
        }
    }

    #[test]
    fn round_trips_at_any_chunking(
        lines in proptest::collection::vec(valid_line(), 0..20),
        chunk in 1usize..64,
        authed: bool,
    ) {
        let bytes: Vec<u8> = lines.iter().flat_map(|l| frame(l)).collect();
        let mut d = decoder();
        let got = decode_all(&mut d, &bytes, chunk, authed);
        let want: Vec<_> = lines.into_iter().map(Ok).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn resynchronises_after_any_skipped_frames(
        items in proptest::collection::vec(
            prop_oneof![valid_line().prop_map(Ok), (257usize..8188).prop_map(Err)],
            0..12,
        ),
        chunk in 1usize..512,
    ) {
        let mut bytes = Vec::new();
        let mut want = Vec::new();
        for item in &items {
            match item {
                Ok(line) => {
                    bytes.extend(frame(line));
                    want.push(Ok(line.clone()));
                }
                Err(len) => {
                    bytes.extend(raw(*len as u32 + 4, &vec![b'#'; *len]));
                    want.push(Err(FrameError::InvalidLength));
                }
            }
        }
        let mut d = decoder();
        prop_assert_eq!(decode_all(&mut d, &bytes, chunk, true), want);
    }
}
