//! The end-to-end bar against a live hive: an operator on the TCP console (auth, attach, ping,
//! ls, cat, spawn, kill, log) and a worker on Secure9P (attach with the ticket the hive minted,
//! append telemetry the queen then reads). Every exchange is printed; the first surprise fails.

use crate::console::Console;
use crate::keys;
use crate::ninep::{Nine, NineError};
use crate::opts::Opts;

fn expect(ok: bool, what: &str, got: &[String]) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}"))
    }
}

struct Session {
    console: Console,
}

impl Session {
    fn say(&mut self, line: &str) -> Result<Vec<String>, String> {
        let shown = if line.starts_with("AUTH ") {
            String::from("AUTH <token>")
        } else if line.starts_with("ATTACH ") {
            let role = line.split(' ').nth(1).unwrap_or("");
            format!("ATTACH {role} <ticket>")
        } else {
            line.to_string()
        };
        println!("> {shown}");
        let reply = self.console.say(line)?;
        for l in &reply {
            if l.starts_with("cohesix-ticket-") {
                println!("< cohesix-ticket-<redacted>");
            } else {
                println!("< {l}");
            }
        }
        Ok(reply)
    }
}

pub fn run(opts: &Opts) -> Result<(), String> {
    let token = opts.token()?;
    let queen_ticket = keys::mint(opts, "queen", "operator")?;
    let mut s = Session {
        console: Console::connect(&opts.console_addr())?,
    };
    let r = s.say(&format!("AUTH {token}"))?;
    expect(r == ["OK AUTH"], "auth", &r)?;
    let r = s.say(&format!("ATTACH queen {queen_ticket}"))?;
    expect(r == ["OK ATTACH role=queen"], "attach", &r)?;
    let r = s.say("ping")?;
    expect(r == ["PONG", "OK PING reply=pong"], "ping", &r)?;
    let r = s.say("ls /proc")?;
    expect(
        r[0].starts_with("OK LS path=/proc") && r.contains(&"boot".into()),
        "ls /proc",
        &r,
    )?;
    let r = s.say("cat /proc/boot")?;
    let platform = format!("platform={}", opts.platform);
    expect(
        r.contains(&platform) && r.contains(&"link=up".into()),
        "cat /proc/boot",
        &r,
    )?;

    let r = s.say(r#"spawn {"spawn":"heartbeat","count":1}"#)?;
    expect(r[0].starts_with("OK SPAWN"), "spawn", &r)?;
    let r = s.say("cat /queen/ctl")?;
    let id = r
        .iter()
        .rev()
        .find_map(|l| l.split_once("ids=").map(|(_, ids)| ids.to_string()))
        .and_then(|ids| ids.split("..").next().map(str::to_string))
        .ok_or(format!("no spawned id in {r:?}"))?;
    let dir = format!("/shard/{}/worker/{id}", hive::ShardLabel::of(&id).as_str());
    let r = s.say(&format!("cat {dir}/ticket"))?;
    let worker_ticket = r
        .iter()
        .find(|l| l.starts_with("cohesix-ticket-"))
        .cloned()
        .ok_or(format!("no ticket for {id}"))?;

    worker_reports(opts, &id, &dir, &worker_ticket)?;
    let r = s.say(&format!("cat {dir}/telemetry"))?;
    let record = format!("hb id={id} seq=1 src=probe");
    expect(
        r.contains(&record),
        "queen reads the worker's telemetry",
        &r,
    )?;

    let r = s.say(&format!("kill {id}"))?;
    expect(r == [format!("OK KILL id={id}")], "kill", &r)?;
    after_kill(opts, &id, &dir, &worker_ticket)?;
    let r = s.say("tail /log/queen.log")?;
    let revoked = format!("ev=revoke id={id}");
    expect(
        r.iter().any(|l| l.contains(&revoked)),
        "the log records the revocation",
        &r,
    )?;
    let r = s.say("quit")?;
    expect(r == ["OK QUIT"], "quit", &r)?;
    println!(
        "check: PASS (console {} + Secure9P {})",
        opts.console_addr(),
        opts.ninep_addr()
    );
    Ok(())
}

/// The worker attaches on Secure9P with its ticket and appends one telemetry record.
fn worker_reports(opts: &Opts, id: &str, dir: &str, ticket: &str) -> Result<(), String> {
    let mut nine = Nine::connect(&opts.ninep_addr()).map_err(|e| e.to_string())?;
    nine.attach("worker-heartbeat", id, ticket)
        .map_err(|e| format!("9p attach as {id}: {e}"))?;
    println!("9p> attach worker-heartbeat {id}: ok");
    let record = format!("hb id={id} seq=1 src=probe\n");
    let n = nine
        .append(&format!("{dir}/telemetry"), record.as_bytes())
        .map_err(|e| format!("9p append telemetry: {e}"))?;
    println!("9p> append {dir}/telemetry: {n} bytes");
    if n as usize != record.len() {
        return Err(format!("short telemetry write: {n}"));
    }
    // The audit log is for the queen and relays only: a worker does not see it.
    match nine.read("/log/queen.log") {
        Err(_) => println!("9p> read /log/queen.log: refused, as it should be"),
        Ok(_) => return Err("a worker read /log/queen.log".to_string()),
    }
    Ok(())
}

/// After the kill the worker's ticket is revoked: a fresh attach is refused.
fn after_kill(opts: &Opts, id: &str, dir: &str, ticket: &str) -> Result<(), String> {
    let mut nine = Nine::connect(&opts.ninep_addr()).map_err(|e| e.to_string())?;
    let outcome = nine.attach("worker-heartbeat", id, ticket).and_then(|()| {
        nine.append(&format!("{dir}/telemetry"), b"late\n")
            .map(drop)
    });
    match outcome {
        Err(NineError::Remote(e)) => {
            println!("9p> attach after kill: refused ({e:?})");
            Ok(())
        }
        Err(NineError::Local(e)) if e.contains("closed") => {
            println!("9p> attach after kill: hung up");
            Ok(())
        }
        other => Err(format!("revoked worker was not refused: {other:?}")),
    }
}
