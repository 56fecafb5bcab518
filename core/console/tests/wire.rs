//! The dispatcher on the wire: frame and line errors, draining a decoder, serial output.

mod common;

use cohesix_console::{
    encode_frame, serial_render, ConsoleLimits, ConsoleSession, FrameDecoder, FrameError,
    FrameFault, LineError, Outcome, Transport, SERIAL_PROMPT,
};
use common::*;
use proptest::prelude::*;
use secure9p::Error;

#[test]
fn frame_errors() {
    let mut fake = Fake::new();
    let mut s = tcp();
    let out = s.handle_frame_error(FrameError::Fatal(FrameFault::Length), &mut fake);
    assert_eq!(lines(&out), ["ERR AUTH reason=invalid-length"]);
    assert!(out.close);
    assert_eq!(
        fake.last_refusal(),
        Some(("AUTH", Error::TooBig, "invalid-length"))
    );

    let mut fake = Fake::new();
    let mut s = attached_tcp(&mut fake);
    let out = s.handle_frame_error(FrameError::InvalidLength, &mut fake);
    assert_eq!(lines(&out), ["ERR FRAME reason=invalid-length"]);
    assert!(!out.close);
    assert_eq!(
        fake.last_refusal(),
        Some(("FRAME", Error::TooBig, "invalid-length"))
    );
    let out = s.handle_frame_error(FrameError::InvalidLine, &mut fake);
    assert_eq!(lines(&out), ["ERR FRAME reason=invalid detail=encoding"]);
    assert!(!out.close);
    let out = s.handle_frame_error(FrameError::Fatal(FrameFault::Length), &mut fake);
    assert_eq!(lines(&out), ["ERR FRAME reason=invalid-length"]);
    assert!(out.close);
    assert_eq!(fake.detaches, 1);
}

#[test]
fn serial_line_errors() {
    let mut fake = Fake::new();
    let mut s = serial();
    let out = s.handle_line_error(LineError::TooLong { max: 256 }, &mut fake);
    assert_eq!(
        lines(&out),
        ["ERR LINE reason=invalid detail=too-long max=256"]
    );
    let out = s.handle_line_error(LineError::InvalidUtf8, &mut fake);
    assert_eq!(lines(&out), ["ERR LINE reason=invalid detail=encoding"]);
    assert!(!out.close);
    let out = s.handle_line(&"x".repeat(257), 0, &mut fake);
    assert_eq!(
        lines(&out),
        ["ERR LINE reason=invalid detail=too-long max=256"]
    );

    let mut s = tcp();
    let out = s.handle_line(&"x".repeat(257), 0, &mut fake);
    assert_eq!(lines(&out), ["ERR AUTH reason=invalid-length"]);
    assert!(out.close);
}

#[test]
fn drain_frames_end_to_end() {
    let mut fake = Fake::new();
    let mut s = tcp();
    let mut d = FrameDecoder::new(&limits());
    let mut input = frames(&[
        "AUTH hive-token-7f3a",
        &format!("ATTACH queen {GOOD_TICKET}"),
    ]);
    let mut oversized = Vec::new();
    encode_frame(&"z".repeat(300), &mut oversized);
    input.extend(oversized);
    input.extend(frames(&["PING", "quit", "PING"]));
    assert_eq!(d.push(&input), input.len());

    let out = s.drain_frames(&mut d, 0, &mut fake);
    let mut wire = Vec::new();
    out.encode_frames(&mut wire);
    assert_eq!(
        decode(&wire),
        [
            "OK AUTH",
            "OK ATTACH role=queen",
            "ERR FRAME reason=invalid-length",
            "PONG",
            "OK PING reply=pong",
            "OK QUIT"
        ]
    );
    assert!(out.close);
}

#[test]
fn drain_frames_preauth_garbage_closes() {
    let mut fake = Fake::new();
    let mut s = tcp();
    let mut d = FrameDecoder::new(&limits());
    let _ = d.push(&[0xff, 0xff, 0xff, 0x7f, b'x']);
    let out = s.drain_frames(&mut d, 0, &mut fake);
    assert_eq!(lines(&out), ["ERR AUTH reason=invalid-length"]);
    assert!(out.close);
}

#[test]
fn drain_frames_bounds_one_call() {
    let mut fake = Fake::new();
    let limits = ConsoleLimits {
        stream_lines_max: 2,
        ..limits()
    };
    let mut s = ConsoleSession::new(Transport::Tcp, Some(TOKEN), limits.clone());
    let mut d = FrameDecoder::new(&limits);
    let _ = d.push(&frames(&["AUTH hive-token-7f3a", "PING", "PING"]));
    let first = s.drain_frames(&mut d, 0, &mut fake);
    assert_eq!(lines(&first), ["OK AUTH", "PONG", "OK PING reply=pong"]);
    let second = s.drain_frames(&mut d, 0, &mut fake);
    assert_eq!(lines(&second), ["PONG", "OK PING reply=pong"]);
    assert!(s.drain_frames(&mut d, 0, &mut fake).lines.is_empty());
}

#[test]
fn serial_rendering() {
    let mut fake = Fake::new();
    let mut s = serial();
    let out = s.handle_line("ping", 0, &mut fake);
    assert_eq!(
        serial_render(&out),
        "PONG\r\nOK PING reply=pong\r\ncohesix> "
    );
    assert_eq!(serial_render(&Outcome::default()), SERIAL_PROMPT);
    let out = s.handle_line("quit", 0, &mut fake);
    assert_eq!(serial_render(&out), "OK QUIT\r\n");
}

proptest! {
    #[test]
    fn sessions_never_panic(
        input in proptest::collection::vec("\\PC{0,300}", 0..12),
        tcp_transport: bool,
    ) {
        let mut fake = Fake::new();
        let mut s = if tcp_transport { tcp() } else { serial() };
        s.handle_line("attach queen", 0, &mut fake);
        for (i, line) in input.iter().enumerate() {
            let out = s.handle_line(line, i as u64, &mut fake);
            for line in &out.lines {
                prop_assert!(!line.contains(['\r', '\n']));
                prop_assert!(line.len() + 4 <= 8192);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_through_the_whole_tcp_path(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        chunk in 1usize..256,
    ) {
        let mut fake = Fake::new();
        let mut s = tcp();
        let mut d = FrameDecoder::new(&limits());
        let mut input = frames(&["AUTH hive-token-7f3a"]);
        input.extend(bytes);
        for piece in input.chunks(chunk) {
            let mut rest = piece;
            while !rest.is_empty() && !s.is_closed() {
                let taken = d.push(rest);
                rest = &rest[taken..];
                let out = s.drain_frames(&mut d, 0, &mut fake);
                if taken == 0 && out.lines.is_empty() && !out.close {
                    prop_assert!(false, "stalled");
                }
            }
        }
    }
}
