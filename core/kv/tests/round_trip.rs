//! Whatever a writer quotes, the parser reads back: the one property every line format of the
//! hive relies on. Control characters a style drops (as spaces) are the only loss.

use cohesix_kv::{pairs, push_pair, quote, take_value, Style};
use proptest::prelude::*;

/// What a value reads back as after `style` wrote it.
fn expected(value: &str, style: Style) -> String {
    if style.is_bare(value) {
        return value.to_string();
    }
    value
        .chars()
        .map(|c| match c {
            '\n' | '\r' if style == Style::Reply => c,
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

fn style() -> impl Strategy<Value = Style> {
    prop_oneof![Just(Style::Log), Just(Style::Reply)]
}

proptest! {
    #[test]
    fn a_quoted_value_reads_back(value in "\\PC{0,24}|[ -~\t\n\r\u{1}]{0,24}", style in style()) {
        let written = quote(&value, style);
        let (read, rest) = take_value(&written).unwrap();
        prop_assert_eq!(rest, "");
        prop_assert_eq!(read, expected(&value, style));
        prop_assert!(!written.contains('\n') && !written.contains('\r'));
    }

    #[test]
    fn a_line_of_pairs_reads_back(
        fields in proptest::collection::vec(("[a-z_]{1,8}", "\\PC{0,16}|[ -~\t\n]{0,16}"), 0..6),
        style in style(),
    ) {
        let mut line = String::from("t=1");
        for (k, v) in &fields {
            push_pair(&mut line, k, v, style);
        }
        let parsed = pairs(&line).unwrap();
        prop_assert_eq!(parsed.len(), fields.len() + 1);
        for ((k, v), (pk, pv)) in fields.iter().zip(&parsed[1..]) {
            prop_assert_eq!(k, pk);
            prop_assert_eq!(&expected(v, style), pv);
        }
    }
}
