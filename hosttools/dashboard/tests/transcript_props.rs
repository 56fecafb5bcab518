//! Property tests of the transcript decoder: it never panics on arbitrary input, and every
//! record it can write it reads back unchanged.

use dashboard::transcript::{parse_audit_line, parse_line, tokenize, Record, Transcript};
use proptest::prelude::*;

fn token() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_.-]{0,12}"
}

fn value() -> impl Strategy<Value = String> {
    // Printable text including spaces, quotes, backslashes and `=`.
    "[ -~]{0,24}"
}

prop_compose! {
    fn record()(
        t_us in 0u64..10_000_000_000_000,
        hive in token(),
        src in token(),
        ev in token(),
        fields in prop::collection::vec((token(), value()), 0..6),
    ) -> Record {
        let fields = fields
            .into_iter()
            .filter(|(k, _)| !matches!(k.as_str(), "t" | "hive" | "src" | "ev"))
            .collect();
        Record { t_us, hive, src, ev, fields }
    }
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
        let _ = parse_line(&text);
        let _ = parse_audit_line(&text, "h");
        let _ = tokenize(&text);
        let _ = Transcript::parse(&text);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_line(&text);
        let _ = Transcript::parse(&text);
    }

    #[test]
    fn records_round_trip(r in record()) {
        let line = r.to_line();
        prop_assert!(!line.contains('\n'));
        prop_assert_eq!(parse_line(&line).unwrap(), r);
    }
}
