//! The cohsh binary end to end, as a newcomer runs it: `cohsh serve` in one process, cohsh
//! scripts and `-c` commands in others, `cohsh mint` tickets accepted by the hive.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const COHSH: &str = env!("CARGO_BIN_EXE_cohsh");

struct Serve {
    child: Child,
    console_port: u16,
    ninep_port: u16,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cohsh serve` on ephemeral ports and reads where they ended up.
fn serve(state: &Path) -> Serve {
    let mut child = Command::new(COHSH)
        .args([
            "serve",
            "--console-port",
            "0",
            "--ninep-port",
            "0",
            "--heartbeat-ms",
            "500",
        ])
        .arg("--state-dir")
        .arg(state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let port_of = |line: &str| -> u16 {
        let addr = line.split_whitespace().nth(1).unwrap();
        addr.rsplit(':').next().unwrap().parse().unwrap()
    };
    let (mut console_port, mut ninep_port) = (0, 0);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.trim_start().starts_with("console ") {
            console_port = port_of(line.trim_start());
        }
        if line.trim_start().starts_with("secure9p ") {
            ninep_port = port_of(line.trim_start());
            break;
        }
    }
    // Keep draining stderr so the hive never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Serve {
        child,
        console_port,
        ninep_port,
    }
}

fn cohsh(state: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["--state-dir", state.to_str().unwrap()];
    all.extend_from_slice(args);
    run(&all)
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(COHSH)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn serve_then_run_the_pack_over_both_transports() {
    let dir = tempfile::tempdir().unwrap();
    let hive = serve(dir.path());
    assert!(hive.console_port > 0 && hive.ninep_port > 0);
    let pack = concat!(env!("CARGO_MANIFEST_DIR"), "/packs/smoke.coh");
    let port = hive.console_port.to_string();
    let (code, out) = cohsh(dir.path(), &["--port", &port, pack]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("18 expectations, 0 failed"), "{out}");
    let port = hive.ninep_port.to_string();
    let (code, out) = cohsh(dir.path(), &["--transport", "9p", "--port", &port, pack]);
    assert_eq!(code, 0, "{out}");

    // A refused command makes `-c` exit 1; --json gives one object per reply.
    let (code, out) = cohsh(
        dir.path(),
        &[
            "--transport",
            "9p",
            "--port",
            &port,
            "--json",
            "-c",
            "cat /nowhere",
        ],
    );
    assert_eq!(code, 1, "{out}");
    let value: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(value["errno"], 2);
}

#[test]
fn minted_tickets_attach_and_forged_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let hive = serve(dir.path());
    let key = dir.path().join("hive.key");
    let key = key.to_str().unwrap();
    let (code, ticket) = run(&[
        "mint",
        "--key-file",
        key,
        "--role",
        "queen",
        "--subject",
        "alice",
    ]);
    assert_eq!(code, 0, "{ticket}");
    let ticket = ticket.trim().to_string();
    assert!(ticket.starts_with("cohesix-ticket-"));
    let port = hive.console_port.to_string();
    let (code, out) = cohsh(
        dir.path(),
        &["--port", &port, "--ticket", &ticket, "-c", "log"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("who=alice"), "{out}");

    let other = dir.path().join("other.key");
    std::fs::write(&other, format!("1:{}\n", "11".repeat(32))).unwrap();
    owner_only(&other);
    let (_, forged) = run(&[
        "mint",
        "--key-file",
        other.to_str().unwrap(),
        "--role",
        "queen",
    ]);
    let (code, out) = cohsh(
        dir.path(),
        &["--port", &port, "--ticket", forged.trim(), "-c", "ping"],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("reason=policy"), "{out}");
}

/// Makes a file written by a test owner-only, as a provisioned secret is.
fn owner_only(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn secrets_are_owner_only_and_loose_ones_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    drop(serve(&state));
    assert_eq!(mode(&state), 0o700);
    for file in [
        "console.token",
        "hive.key",
        "queen.ticket",
        "hive.id",
        "attach.env",
    ] {
        assert_eq!(mode(&state.join(file)), 0o600, "{file}");
    }
    let key = state.join("hive.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let state_arg = state.to_str().unwrap();
    let args = [
        "serve",
        "--state-dir",
        state_arg,
        "--console-port",
        "0",
        "--ninep-port",
        "0",
    ];
    let (code, out) = run(&args);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("hive.key") && out.contains("chmod 600"),
        "{out}"
    );
}

#[test]
fn tickets_are_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let hive = serve(dir.path());
    let ticket = std::fs::read_to_string(dir.path().join("queen.ticket")).unwrap();
    let ticket = ticket.trim();
    let port = hive.console_port.to_string();
    let attach = format!("attach queen {ticket}");
    let (_, out) = cohsh(dir.path(), &["--port", &port, "-c", &attach]);
    assert!(!out.contains(ticket), "{out}");
    let script = dir.path().join("attach.coh");
    std::fs::write(&script, format!("{attach}\nping\nEXPECT OK\n")).unwrap();
    let (code, out) = cohsh(dir.path(), &["--port", &port, script.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(ticket), "{out}");
    assert!(out.contains("attach queen <ticket>"), "{out}");
}

#[test]
fn a_restarted_hosted_hive_has_its_journal() {
    let dir = tempfile::tempdir().unwrap();
    let hive = serve(dir.path());
    let port = hive.console_port.to_string();
    let (code, out) = cohsh(
        dir.path(),
        &["--port", &port, "-c", "spawn heartbeat count=2"],
    );
    assert_eq!(code, 0, "{out}");
    drop(hive);
    assert!(dir.path().join("store/cohesix.redb").exists());
    let hive = serve(dir.path());
    let port = hive.console_port.to_string();
    let (code, out) = cohsh(dir.path(), &["--port", &port, "-c", "ls /shard"]);
    assert_eq!(code, 0, "{out}");
    let (code, log) = cohsh(dir.path(), &["--port", &port, "-c", "log"]);
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("ev=restore"),
        "the restarted queen replayed its journal: {log}"
    );
    assert!(
        log.contains("spawn"),
        "audit lines from before the restart: {log}"
    );
}
