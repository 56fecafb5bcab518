//! Serial line decoding: terminators, editing, bounds.

use cohesix_console::{LineDecoder, LineError};
use proptest::prelude::*;

fn lines(d: &mut LineDecoder, bytes: &[u8]) -> Vec<Result<String, LineError>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let taken = d.push(rest);
        rest = &rest[taken..];
        while let Some(line) = d.next_line() {
            out.push(line);
        }
    }
    out
}

fn ok(s: &str) -> Result<String, LineError> {
    Ok(s.to_string())
}

#[test]
fn splits_on_lf_cr_and_crlf() {
    let mut d = LineDecoder::new(256);
    assert_eq!(
        lines(&mut d, b"ping\nhelp\r\nquit\rls /\n"),
        vec![ok("ping"), ok("help"), ok("quit"), ok("ls /")]
    );
}

#[test]
fn crlf_split_across_pushes_is_one_line_end() {
    let mut d = LineDecoder::new(256);
    assert_eq!(lines(&mut d, b"ping\r"), vec![ok("ping")]);
    assert_eq!(lines(&mut d, b"\nhelp\n"), vec![ok("help")]);
}

#[test]
fn empty_lines_are_reported() {
    let mut d = LineDecoder::new(256);
    assert_eq!(lines(&mut d, b"\n\r\n"), vec![ok(""), ok("")]);
}

#[test]
fn backspace_and_del_edit_the_line() {
    let mut d = LineDecoder::new(256);
    assert_eq!(lines(&mut d, b"pinx\x08g\n"), vec![ok("ping")]);
    assert_eq!(lines(&mut d, b"helpp\x7f\n"), vec![ok("help")]);
    assert_eq!(lines(&mut d, b"\x7f\x7fls\n"), vec![ok("ls")]);
}

#[test]
fn other_control_bytes_are_dropped() {
    let mut d = LineDecoder::new(256);
    assert_eq!(lines(&mut d, b"pi\x00n\x1bg\n"), vec![ok("ping")]);
    assert_eq!(lines(&mut d, b"a\tb\n"), vec![ok("a\tb")]);
}

#[test]
fn overlong_line_is_refused_and_the_next_survives() {
    let mut d = LineDecoder::new(8);
    let mut input = b"12345678\n".to_vec();
    input.extend_from_slice(b"123456789abc\n");
    input.extend_from_slice(b"ping\n");
    assert_eq!(
        lines(&mut d, &input),
        vec![
            ok("12345678"),
            Err(LineError::TooLong { max: 8 }),
            ok("ping")
        ]
    );
}

#[test]
fn invalid_utf8_is_refused() {
    let mut d = LineDecoder::new(32);
    assert_eq!(
        lines(&mut d, b"a\xffb\nok\n"),
        vec![Err(LineError::InvalidUtf8), ok("ok")]
    );
}

#[test]
fn push_is_bounded() {
    let mut d = LineDecoder::with_bounds(8, 4);
    assert_eq!(d.push(b"abcdefgh\n"), 4);
    assert_eq!(d.next_line(), None);
    assert_eq!(d.pending(), b"abcd");
    assert_eq!(d.push(b"efgh\n"), 4);
    assert_eq!(d.push(b"\n"), 0);
    assert_eq!(d.next_line(), None);
    assert_eq!(d.push(b"\n"), 1);
    assert_eq!(d.next_line(), Some(ok("abcdefgh")));
}

proptest! {
    #[test]
    fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1024), max in 0usize..64) {
        let mut d = LineDecoder::new(max);
        for line in lines(&mut d, &bytes).into_iter().flatten() {
            prop_assert!(line.len() <= max);
        }
    }

    #[test]
    fn round_trips_plain_lines(
        input in proptest::collection::vec("[ -~]{0,40}", 0..10),
        chunk in 1usize..16,
    ) {
        let text: String = input.iter().map(|l| format!("{l}\n")).collect();
        let mut d = LineDecoder::new(64);
        let mut got = Vec::new();
        for piece in text.as_bytes().chunks(chunk) {
            let mut rest = piece;
            while !rest.is_empty() {
                let taken = d.push(rest);
                rest = &rest[taken..];
                while let Some(line) = d.next_line() {
                    got.push(line);
                }
            }
        }
        let want: Vec<_> = input.into_iter().map(Ok).collect();
        prop_assert_eq!(got, want);
    }
}
