//! Console round trips against a live hive: `ping` to `OK PING`, one at a time, timed on the
//! host. Reports p50, p99, min, max and mean; not a test, a measurement.

use std::time::Instant;

use crate::console::Console;
use crate::keys;
use crate::opts::Opts;

pub fn run(opts: &Opts) -> Result<(), String> {
    if opts.count == 0 {
        return Err("--count must be at least 1".into());
    }
    let token = opts.token()?;
    let ticket = keys::mint(opts, "queen", "operator")?;
    let mut c = Console::connect(&opts.console_addr())?;
    if c.say(&format!("AUTH {token}"))? != ["OK AUTH"] {
        return Err("auth refused".into());
    }
    if c.say(&format!("ATTACH queen {ticket}"))? != ["OK ATTACH role=queen"] {
        return Err("attach refused".into());
    }
    // Warm-up: ARP, first allocations, caches.
    for _ in 0..20 {
        c.say("ping")?;
    }
    let mut samples = Vec::with_capacity(opts.count);
    let started = Instant::now();
    for _ in 0..opts.count {
        let t = Instant::now();
        let reply = c.say("ping")?;
        samples.push(t.elapsed().as_micros() as u64);
        if reply != ["PONG", "OK PING reply=pong"] {
            return Err(format!("unexpected reply {reply:?}"));
        }
    }
    let total = started.elapsed();
    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    let mean = samples.iter().sum::<u64>() / samples.len().max(1) as u64;
    println!(
        "console round trips: n={} p50={}us p99={}us min={}us max={}us mean={}us total={:.3}s",
        samples.len(),
        pct(0.50),
        pct(0.99),
        samples[0],
        samples[samples.len() - 1],
        mean,
        total.as_secs_f64()
    );
    c.say("quit")?;
    Ok(())
}
