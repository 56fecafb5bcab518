//! The provisioning blob: what boot scripts write is what the image reads; every malformed
//! blob is refused with the line and field named and no secret echoed; no input panics.

use cohesix_hal_virt::provision::{parse, LineError, ProvisionError, PROVISION_MAX};
use proptest::prelude::*;

const KEY1: &str = "0101010101010101010101010101010101010101010101010101010101010101";
const KEY2: &str = "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2";

fn full_blob() -> String {
    format!(
        "cohesix-provision 1\n# written by boot-qemu.sh\n\nhive-key 1 {KEY1}\nhive-key 7 {KEY2}\n\
         active-key 7\nconsole-token tok-0123456789abcdef\nseed {KEY2}\nip 10.0.2.15/24\n\
         gateway 10.0.2.2\nmanifest\n[hive]\nname = \"edge\"\n"
    )
}

#[test]
fn a_full_blob_parses() {
    let p = parse(full_blob().as_bytes()).unwrap();
    assert_eq!(p.keys.len(), 2);
    assert_eq!(p.keys[0], (1, [1u8; 32]));
    assert_eq!(p.keys[1], (7, [0xa2u8; 32]));
    assert_eq!(p.active_key, Some(7));
    assert_eq!(
        p.console_token.as_deref(),
        Some(&b"tok-0123456789abcdef"[..])
    );
    assert_eq!(p.seed, Some([0xa2u8; 32]));
    assert_eq!(p.ip.unwrap().addr, [10, 0, 2, 15]);
    assert_eq!(p.ip.unwrap().prefix_len, 24);
    assert_eq!(p.gateway, Some([10, 0, 2, 2]));
    assert_eq!(p.manifest.as_deref(), Some("[hive]\nname = \"edge\"\n"));
}

#[test]
fn debug_output_never_shows_secrets() {
    let p = parse(full_blob().as_bytes()).unwrap();
    let shown = format!("{p:?}");
    assert!(!shown.contains("a2a2"), "{shown}");
    assert!(!shown.contains("tok-0123"), "{shown}");
    assert!(shown.contains("key_ids: [1, 7]"), "{shown}");
}

#[test]
fn a_bare_header_is_an_empty_provision() {
    let p = parse(b"cohesix-provision 1\n").unwrap();
    assert!(p.keys.is_empty());
    assert!(p.console_token.is_none());
    assert!(p.manifest.is_none());
}

fn line_error(blob: &str) -> (usize, &'static str, LineError) {
    match parse(blob.as_bytes()) {
        Err(ProvisionError::Line { line, field, error }) => (line, field, error),
        other => panic!("expected a line error, got {other:?}"),
    }
}

#[test]
fn malformed_lines_are_named() {
    let h = "cohesix-provision 1\n";
    assert_eq!(
        line_error(&format!("{h}colour blue\n")).2,
        LineError::UnknownField
    );
    assert_eq!(
        line_error(&format!("{h}hive-key 1 abcd\n")),
        (2, "hive-key", LineError::BadHex)
    );
    assert_eq!(
        line_error(&format!("{h}hive-key 300 {KEY1}\n")).2,
        LineError::BadKeyId
    );
    assert_eq!(
        line_error(&format!("{h}hive-key 1 {KEY1}\nhive-key 1 {KEY2}\n")),
        (3, "hive-key", LineError::Repeated)
    );
    assert_eq!(
        line_error(&format!("{h}console-token short\n")).2,
        LineError::BadToken
    );
    assert_eq!(
        line_error(&format!("{h}console-token has spaces in it ok\n")).2,
        LineError::BadToken
    );
    assert_eq!(
        line_error(&format!(
            "{h}console-token aaaaaaaaaaaaaaaaaaaa\nconsole-token bbbbbbbbbbbbbbbbbbbbb\n"
        ))
        .2,
        LineError::Repeated
    );
    assert_eq!(
        line_error(&format!("{h}ip 10.0.2.15\n")).2,
        LineError::BadAddress
    );
    assert_eq!(
        line_error(&format!("{h}ip 10.0.2.15/33\n")).2,
        LineError::BadAddress
    );
    assert_eq!(
        line_error(&format!("{h}gateway 10.0.2\n")).2,
        LineError::BadAddress
    );
    assert_eq!(
        line_error(&format!("{h}gateway 10.0.2.2.1\n")).2,
        LineError::BadAddress
    );
    let many: String = (0..9).map(|i| format!("hive-key {i} {KEY1}\n")).collect();
    assert_eq!(line_error(&format!("{h}{many}")).2, LineError::TooManyKeys);
}

#[test]
fn blob_level_errors() {
    assert_eq!(parse(b"cohesix-provision 2\n"), Err(ProvisionError::Header));
    assert_eq!(parse(b""), Err(ProvisionError::Header));
    assert_eq!(
        parse(b"cohesix-provision 1\n\xff\n"),
        Err(ProvisionError::NotText)
    );
    assert_eq!(
        parse(format!("cohesix-provision 1\nhive-key 1 {KEY1}\nactive-key 2\n").as_bytes()),
        Err(ProvisionError::UnknownActiveKey)
    );
    let big = vec![b'#'; PROVISION_MAX + 1];
    assert_eq!(parse(&big), Err(ProvisionError::TooBig));
}

#[test]
fn error_messages_name_the_problem_without_the_value() {
    let err = parse(b"cohesix-provision 1\nconsole-token secret\n").unwrap_err();
    let text = err.to_string();
    assert_eq!(
        text,
        "line 2: console-token: token must be 16..=128 printable ASCII characters"
    );
    assert!(!text.contains("secret"));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn never_panics_after_a_valid_header(body in "[ -~\n]{0,600}") {
        let blob = format!("cohesix-provision 1\n{body}");
        let _ = parse(blob.as_bytes());
    }

    #[test]
    fn written_fields_read_back(key in proptest::array::uniform32(any::<u8>()), id in any::<u8>(),
                                token in "[!-~]{16,128}") {
        let blob = format!("cohesix-provision 1\nhive-key {id} {}\nconsole-token {token}\n", hex::encode(key));
        let p = parse(blob.as_bytes()).unwrap();
        prop_assert_eq!(p.keys, vec![(id, key)]);
        prop_assert_eq!(p.console_token, Some(token.into_bytes()));
    }
}
