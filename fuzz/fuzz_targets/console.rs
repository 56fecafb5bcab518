//! Console frames and grammar: arbitrary bytes through the TCP frame decoder (in chunks the
//! input chooses, authenticated or not) and the serial line decoder, every decoded line
//! through the command grammar and the reply quoting. No input may panic, no decoded line
//! may exceed the line bound or hold a line break, a frame re-encoded from a decoded line
//! decodes to the same line, and a quoted value never breaks a reply line.
#![no_main]

use console::{encode_frame, parse, quote, FrameDecoder, FrameError, LineDecoder};
use libfuzzer_sys::fuzz_target;
use manifest::ConsoleLimits;

fn check_line(line: &str, line_max: usize) {
    assert!(line.len() <= line_max, "line over its bound");
    let _ = parse(line);
    let quoted = quote(line);
    assert!(!quoted.contains(['\r', '\n']), "quoting kept a line break");
}

fn frames(bytes: &[u8], authed: bool) {
    let limits = ConsoleLimits::default();
    let line_max = limits.line_max as usize;
    let mut decoder = FrameDecoder::new(&limits);
    // The first byte sets the chunk size, so partial frames and refills are exercised.
    let chunk = usize::from(bytes.first().copied().unwrap_or(1)).max(1);
    let mut pending = bytes.get(1..).unwrap_or_default();
    for _ in 0..bytes.len() + 2 {
        let take = chunk.min(pending.len());
        let taken = decoder.push(&pending[..take]);
        assert!(taken <= take);
        pending = &pending[taken..];
        loop {
            match decoder.next_line(authed) {
                Ok(Some(line)) => {
                    check_line(&line, line_max);
                    let mut again = Vec::new();
                    encode_frame(&line, &mut again);
                    let mut fresh = FrameDecoder::new(&limits);
                    assert_eq!(fresh.push(&again), again.len());
                    assert_eq!(fresh.next_line(authed), Ok(Some(line)));
                }
                Ok(None) => break,
                Err(FrameError::Fatal(_)) => {
                    assert!(decoder.is_poisoned());
                    return;
                }
                Err(_) => assert!(authed, "only an authenticated peer recovers"),
            }
        }
        if pending.is_empty() {
            break;
        }
    }
}

fn serial(bytes: &[u8]) {
    let line_max = ConsoleLimits::default().line_max as usize;
    let mut decoder = LineDecoder::new(line_max);
    let mut pending = bytes;
    while !pending.is_empty() {
        let taken = decoder.push(pending);
        pending = &pending[taken..];
        while let Some(line) = decoder.next_line() {
            if let Ok(line) = line {
                check_line(&line, line_max);
            }
        }
        if taken == 0 {
            break;
        }
    }
}

fuzz_target!(|bytes: &[u8]| {
    frames(bytes, false);
    frames(bytes, true);
    serial(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = parse(text);
    }
});
