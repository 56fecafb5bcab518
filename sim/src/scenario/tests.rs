use super::*;

const GOOD: &str = r#"
name = "small"
seed = 7
duration_s = 60

[[hives]]
name = "a"
sites = 2
site_capacity = 10
[hives.manifest.hive]
heartbeat_deadline_ms = 12000

[[operators]]
hive = "a"
at_s = 1.5
script = """
spawn heartbeat count=4 site=s01
EXPECT OK
WAIT 1000
"""

[[faults]]
at_s = 20
kind = "partition"
a = "a-s01"

[[faults]]
at_s = 10
kind = "skew"
host = "a-s02"
drift_ppm = 500
"#;

fn error_of(src: &str) -> ScenarioError {
    Scenario::parse(src, "t.toml").unwrap_err()
}

#[test]
fn a_good_file_parses_with_defaults_and_sorted_faults() {
    let s = Scenario::parse(GOOD, "t.toml").unwrap();
    assert_eq!(s.name, "small");
    assert_eq!(s.duration_us, 60_000_000);
    assert_eq!(s.tick_ms, 10);
    assert_eq!(s.hives[0].manifest.hive.name, "a");
    assert_eq!(s.hives[0].manifest.hive.heartbeat_deadline_ms, 12_000);
    assert_eq!(s.hives[0].site_host(1), "a-s02");
    assert_eq!(s.operators[0].at_us, 1_500_000);
    assert_eq!(s.operators[0].steps.len(), 3);
    assert_eq!(s.operators[0].first_line, 17);
    assert_eq!(s.faults[0].action.kind(), "skew");
    assert_eq!(
        s.faults[1].action,
        FaultAction::Partition {
            a: "a-s01".into(),
            b: "a-queen".into()
        }
    );
    assert_eq!(s.capacity(), 20);
}

#[test]
fn errors_name_the_line_and_field() {
    let e = error_of(&GOOD.replace("sites = 2", "sites = 99"));
    assert_eq!((e.line, e.field.as_str()), (8, "hives.sites"));
    assert!(e
        .to_string()
        .starts_with("t.toml:8: field `hives.sites`: 99 is outside"));

    let e = error_of(&GOOD.replace("a = \"a-s01\"", "a = \"a-s07\""));
    assert_eq!((e.line, e.field.as_str()), (25, "a"));

    let e = error_of(&GOOD.replace("kind = \"partition\"", "kind = \"meteor\""));
    assert_eq!(e.field, "kind");
    assert!(e.message.contains("unknown fault `meteor`"));

    let e = error_of(&GOOD.replace("EXPECT OK", "EXPECT MAYBE"));
    assert_eq!((e.line, e.field.as_str()), (18, "operators.script"));

    let e = error_of(&GOOD.replace("seed = 7", "seed = 7\nbogus = 1"));
    assert_eq!(e.line, 4);
    assert!(e.message.contains("unknown field `bogus`"), "{e}");

    let e = error_of(&GOOD.replace("heartbeat_deadline_ms = 12000", "heartbeat_deadline_ms = 1"));
    assert_eq!(e.field, "hives.manifest");

    let e = error_of(&GOOD.replace("at_s = 20", "at_s = 90"));
    assert!(e.message.contains("past the end"), "{e}");
}

/// `GOOD` with its inline script replaced by `script_file = "<file>"`.
fn with_script_file(file: &str) -> String {
    let start = GOOD.find("script = \"\"\"").unwrap();
    let end = GOOD[start..].find("\"\"\"\n\n").unwrap() + start + 4;
    format!(
        "{}script_file = \"{file}\"\n{}",
        &GOOD[..start],
        &GOOD[end..]
    )
}

#[test]
fn a_script_file_is_read_relative_to_the_scenario() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let src = with_script_file("../hosttools/cohsh/packs/smoke.coh");
    let s = Scenario::parse_in(&src, "t.toml", &dir).unwrap();
    assert_eq!(s.operators[0].first_line, 1);
    assert!(s.operators[0].steps.len() > 20);

    let e = Scenario::parse(&src, "t.toml").unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (16, "operators.script_file"));

    let e = Scenario::parse_in(&with_script_file("no-such.coh"), "t.toml", &dir).unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (16, "operators.script_file"));
    assert!(e.message.contains("cannot read"), "{e}");
}

#[test]
fn a_bad_script_file_names_its_own_line() {
    let dir = std::env::temp_dir().join(format!("cohesix-sim-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.coh"), "ping\nEXPECT OK\nEXPECT MAYBE\n").unwrap();
    let e = Scenario::parse_in(&with_script_file("bad.coh"), "t.toml", &dir).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!((e.line, e.field.as_str()), (3, "operators.script_file"));
    assert!(e.origin.ends_with("bad.coh"), "{e}");
}

#[test]
fn an_operator_needs_exactly_one_script() {
    let both = GOOD.replace(
        "script = \"\"\"",
        "script_file = \"x.coh\"\nscript = \"\"\"",
    );
    let e = error_of(&both);
    assert_eq!((e.line, e.field.as_str()), (16, "operators.script_file"));
    assert!(e.message.contains("not both"), "{e}");

    let e = error_of(&with_script_file("x.coh").replace("script_file = \"x.coh\"\n", ""));
    assert_eq!((e.line, e.field.as_str()), (14, "operators.script"));
}
