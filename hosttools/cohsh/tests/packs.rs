//! The shipped `.coh` regression packs pass against an in-process hosted hive on both
//! transports, and a failing expectation is reported with its line.

mod support;

use cohsh::output::Printer;
use cohsh::script::run_script;
use support::{Hive, BOTH};

const SMOKE: &str = include_str!("../packs/smoke.coh");

#[test]
fn smoke_pack_passes_on_both_transports() {
    let hive = Hive::start();
    for transport in BOTH {
        let mut session = hive.queen(transport);
        let mut printer = Printer::new(Vec::new(), false);
        let report = run_script(&mut session, "smoke.coh", SMOKE, &mut printer).unwrap();
        let output = String::from_utf8(printer.into_inner()).unwrap();
        assert!(
            report.passed(),
            "{transport}: {:?}\n{output}",
            report.failures
        );
        assert_eq!((report.commands, report.expectations), (18, 18));
        assert!(output.contains("ERR CAT reason=invalid detail=not-found path=/nowhere"));
    }
}

#[test]
fn failed_expectations_name_their_line_and_the_run_goes_on() {
    let hive = Hive::start();
    for transport in BOTH {
        let mut session = hive.queen(transport);
        let script = "cat /nowhere\nEXPECT OK\nping\nEXPECT ERR\ncat /proc/boot\nEXPECT ERR reason=quota\nls /proc\nEXPECT OK\n";
        let mut printer = Printer::new(Vec::new(), true);
        let report = run_script(&mut session, "bad.coh", script, &mut printer).unwrap();
        assert_eq!(report.commands, 4);
        assert_eq!(report.failures.len(), 3, "{:?}", report.failures);
        assert!(report.failures[0].starts_with("line 2: expected OK, got ERR CAT reason=invalid"));
        assert!(report.failures[1].starts_with("line 4: expected ERR"));
        assert!(report.failures[2].contains("expected ERR"));
        let output = String::from_utf8(printer.into_inner()).unwrap();
        let last: serde_json::Value = serde_json::from_str(output.lines().last().unwrap()).unwrap();
        assert_eq!(last["passed"], false);
        assert_eq!(last["failures"].as_array().unwrap().len(), 3);
    }
}

#[test]
fn scripts_with_bad_syntax_are_refused_before_running() {
    let hive = Hive::start();
    let mut session = hive.queen(cohsh::Transport::Console);
    let mut printer = Printer::new(Vec::new(), false);
    let error = run_script(&mut session, "x.coh", "EXPECT OK\n", &mut printer).unwrap_err();
    assert_eq!(error.line, 1);
    let error = run_script(&mut session, "x.coh", "ping\nfrobnicate\n", &mut printer).unwrap_err();
    assert_eq!(error.line, 2);
    assert!(printer.into_inner().is_empty(), "nothing ran");
}
