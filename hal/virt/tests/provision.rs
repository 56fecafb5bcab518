//! The provisioning blob: what boot scripts write is what the image reads; every malformed
//! blob is refused with the line and field named and no secret echoed; whatever is accepted
//! reads back the same from its canonical form.

use cohesix_hal_virt::provision::{parse, LineError, ProvisionError, Provisioned, PROVISION_MAX};
use hal_smoltcp::Ipv4Cidr;
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

/// A blob's fields as the boot scripts would write them (keys with distinct ids).
fn provisioned() -> impl Strategy<Value = Provisioned> {
    (
        proptest::collection::btree_map(
            any::<u8>(),
            proptest::array::uniform32(any::<u8>()),
            0..=8,
        ),
        any::<prop::sample::Index>(),
        any::<bool>(),
        proptest::option::of("[!-~]{16,128}"),
        proptest::option::of(proptest::array::uniform32(any::<u8>())),
        proptest::option::of((any::<[u8; 4]>(), 1u8..=32)),
        proptest::option::of(any::<[u8; 4]>()),
        proptest::option::of("[ -~\n]{0,200}"),
    )
        .prop_map(|(keys, pick, active, token, seed, ip, gateway, manifest)| {
            let keys: Vec<(u8, [u8; 32])> = keys.into_iter().collect();
            let active_key = (active && !keys.is_empty()).then(|| keys[pick.index(keys.len())].0);
            Provisioned {
                keys,
                active_key,
                console_token: token.map(String::into_bytes),
                seed,
                ip: ip.map(|(addr, prefix_len)| Ipv4Cidr { addr, prefix_len }),
                gateway,
                manifest,
            }
        })
}

fn dotted(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// The blob's field lines (before any manifest), one per field, in the documented format.
fn field_lines(p: &Provisioned) -> Vec<String> {
    let mut lines: Vec<String> = p
        .keys
        .iter()
        .map(|(id, key)| format!("hive-key {id} {}", hex::encode(key)))
        .collect();
    lines.extend(p.active_key.map(|id| format!("active-key {id}")));
    lines.extend(
        p.console_token
            .as_ref()
            .map(|t| format!("console-token {}", String::from_utf8_lossy(t))),
    );
    lines.extend(p.seed.map(|s| format!("seed {}", hex::encode(s))));
    lines.extend(p.ip.map(|ip| format!("ip {}/{}", dotted(ip.addr), ip.prefix_len)));
    lines.extend(p.gateway.map(|g| format!("gateway {}", dotted(g))));
    lines
}

fn render(header: &str, lines: &[String], manifest: Option<&str>) -> String {
    let mut blob = format!("{header}\n");
    for line in lines {
        blob.push_str(line);
        blob.push('\n');
    }
    if let Some(text) = manifest {
        blob.push_str("manifest\n");
        blob.push_str(text);
    }
    blob
}

/// What `parse` accepted is exactly what its canonical rendering parses to, and its debug
/// form shows no secret.
fn check_accepted(blob: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(p) = parse(blob) {
        let again = render(
            "cohesix-provision 1",
            &field_lines(&p),
            p.manifest.as_deref(),
        );
        prop_assert_eq!(parse(again.as_bytes()), Ok(p.clone()));
        let shown = format!("{p:?}");
        if let Some(token) = &p.console_token {
            prop_assert!(
                !shown.contains(&*String::from_utf8_lossy(token)),
                "{}",
                shown
            );
        }
    }
    Ok(())
}

proptest! {
    /// Any blob the scripts could write, its field lines in any order, with comments, blank
    /// lines and trailing blanks between them, parses to what was written.
    #[test]
    fn written_blobs_read_back_in_any_order(
        p in provisioned(),
        order in Just((0..14usize).collect::<Vec<_>>()).prop_shuffle(),
        noise in proptest::collection::vec(prop_oneof![Just(""), Just("# note"), Just("   ")], 14),
    ) {
        let lines = field_lines(&p);
        let mut written = Vec::new();
        let mut want = p.clone();
        want.keys.clear();
        for at in order.into_iter().filter(|i| *i < lines.len()) {
            written.push(noise[at].to_string());
            written.push(format!("{} ", lines[at]));
            // Keys are kept in blob order (they come first in `field_lines`).
            if at < p.keys.len() {
                want.keys.push(p.keys[at]);
            }
        }
        let blob = render("cohesix-provision 1", &written, p.manifest.as_deref());
        prop_assert_eq!(parse(blob.as_bytes()), Ok(want));
    }

    /// A single-valued field written twice is refused on the second line, named.
    #[test]
    fn a_repeated_field_is_refused_at_its_line(p in provisioned(), pick in any::<prop::sample::Index>()) {
        let lines = field_lines(&p);
        let single: Vec<&String> = lines.iter().filter(|l| !l.starts_with("hive-key")).collect();
        prop_assume!(!single.is_empty());
        let again = single[pick.index(single.len())].clone();
        let field = ["active-key", "console-token", "seed", "ip", "gateway"]
            .into_iter()
            .find(|f| again.starts_with(&format!("{f} ")))
            .unwrap();
        let mut written = lines.clone();
        written.push(again);
        let blob = render("cohesix-provision 1", &written, None);
        prop_assert_eq!(
            parse(blob.as_bytes()),
            Err(ProvisionError::Line { line: written.len() + 1, field, error: LineError::Repeated })
        );
    }

    #[test]
    fn arbitrary_bytes_are_refused_or_read_canonically(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_accepted(&bytes)?;
    }

    #[test]
    fn any_body_after_a_valid_header_is_refused_or_read_canonically(body in "[ -~\n]{0,600}") {
        check_accepted(format!("cohesix-provision 1\n{body}").as_bytes())?;
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
