//! Properties of the `/queen/ctl` grammar (docs/interfaces.md §8) against a model: lines are
//! built from random sets of the documented fields (valid and invalid identifiers, several
//! heads at once, envelopes complete or not, nested or not), serialised as JSON, and the
//! parser's answer must be the one the model derives from the rules of docs/interfaces.md §8:
//! - exactly one head (`spawn`, `kill`, `bind`, `unbind`, `revoke`, `key`, or `budget` with a
//!   `worker`) or the line is `empty`/`ambiguous`;
//! - `count`, `site` and `lease` go only with `spawn`, and a spawn's budget names no worker;
//! - identifiers are 1..=64 of `[A-Za-z0-9._:-]`;
//! - an envelope needs all of `id`, `idempotency_key`, `epoch` and `cmd`, no head beside them,
//!   and no envelope inside.

use cohesix_hive::ctl::{parse, BindSpec, BudgetSpec, Command, RevokeSpec, Spawn, UnbindSpec};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// One command's fields, each present or not.
#[derive(Debug, Clone, Default)]
struct Fields {
    spawn: Option<String>,
    count: Option<u32>,
    site: Option<String>,
    budget: Option<(Option<String>, Option<u32>, Option<u64>)>,
    lease: Option<u8>,
    kill: Option<String>,
    bind: Option<(String, String)>,
    unbind: Option<String>,
    revoke: Option<u64>,
    key: Option<u8>,
}

#[derive(Debug, Clone)]
struct Envelope {
    id: Option<String>,
    key: Option<String>,
    epoch: Option<u64>,
    /// A head written beside the envelope's fields.
    stray_kill: Option<String>,
    /// The inner command carries an envelope field of its own.
    nested: bool,
}

/// Mostly valid identifiers, sometimes empty, spaced, quoted or too long.
fn ident() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9._:-]{1,64}",
        1 => Just(String::new()),
        1 => "[a-z]{1,4}[ \"/\\\\é][a-z]{0,4}",
        1 => "[a-z]{65,70}",
    ]
}

fn ident_ok(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:-".contains(c))
}

fn some<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    proptest::option::weighted(0.3, s)
}

fn fields() -> impl Strategy<Value = Fields> {
    (
        (
            some("[a-z]{1,10}"),
            some(any::<u32>()),
            some(ident()),
            some((some(ident()), some(any::<u32>()), some(any::<u64>()))),
            some(any::<u8>()),
        ),
        (
            some(ident()),
            some(("/[a-z]{1,6}", "/[a-z]{1,6}")),
            some("/[a-z]{1,6}"),
            some(any::<u64>()),
            some(any::<u8>()),
        ),
    )
        .prop_map(
            |((spawn, count, site, budget, lease), (kill, bind, unbind, revoke, key))| Fields {
                spawn,
                count,
                site,
                budget,
                lease,
                kill,
                bind,
                unbind,
                revoke,
                key,
            },
        )
}

fn envelope() -> impl Strategy<Value = Envelope> {
    (
        proptest::option::weighted(0.85, ident()),
        proptest::option::weighted(0.85, ident()),
        proptest::option::weighted(0.85, any::<u64>()),
        some(ident()),
        proptest::bool::weighted(0.15),
    )
        .prop_map(|(id, key, epoch, stray_kill, nested)| Envelope {
            id,
            key,
            epoch,
            stray_kill,
            nested,
        })
}

fn budget_spec(b: &(Option<String>, Option<u32>, Option<u64>)) -> BudgetSpec {
    BudgetSpec {
        worker: b.0.clone(),
        ttl_s: b.1,
        ops: b.2,
        ticks: None,
    }
}

fn to_json(f: &Fields) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    if let Some(v) = &f.spawn {
        put("spawn", json!(v));
    }
    if let Some(v) = f.count {
        put("count", json!(v));
    }
    if let Some(v) = &f.site {
        put("site", json!(v));
    }
    if let Some((worker, ttl_s, ops)) = &f.budget {
        let mut b = Map::new();
        if let Some(w) = worker {
            b.insert("worker".into(), json!(w));
        }
        if let Some(t) = ttl_s {
            b.insert("ttl_s".into(), json!(t));
        }
        if let Some(o) = ops {
            b.insert("ops".into(), json!(o));
        }
        put("budget", Value::Object(b));
    }
    if let Some(p) = f.lease {
        put(
            "lease",
            json!({"gpu": "gpu0", "mem_mb": 512, "streams": 1, "ttl_s": 60, "priority": p}),
        );
    }
    if let Some(v) = &f.kill {
        put("kill", json!(v));
    }
    if let Some((from, to)) = &f.bind {
        put("bind", json!({"from": from, "to": to}));
    }
    if let Some(to) = &f.unbind {
        put("unbind", json!({ "to": to }));
    }
    if let Some(t) = f.revoke {
        put("revoke", json!({ "ticket": t }));
    }
    if let Some(k) = f.key {
        put("key", json!({ "retire": k }));
    }
    m
}

/// The model of docs/interfaces.md §8 for one command: its command, or the refusal's `detail`.
fn expect_command(f: &Fields) -> Result<Command, &'static str> {
    let budget_head = f.spawn.is_none() && f.budget.is_some();
    let heads = [
        f.spawn.is_some(),
        f.kill.is_some(),
        f.bind.is_some(),
        f.unbind.is_some(),
        f.revoke.is_some(),
        f.key.is_some(),
        budget_head,
    ]
    .iter()
    .filter(|h| **h)
    .count();
    match heads {
        0 => return Err("empty"),
        1 => {}
        _ => return Err("ambiguous"),
    }
    if let Some(kind) = &f.spawn {
        let budget = f.budget.as_ref().map(budget_spec).unwrap_or_default();
        if budget.worker.is_some() {
            return Err("ambiguous");
        }
        if f.site.as_deref().is_some_and(|s| !ident_ok(s)) {
            return Err("bad-identifier");
        }
        return Ok(Command::Spawn(Spawn {
            kind: kind.clone(),
            count: f.count.unwrap_or(1),
            site: f.site.clone(),
            budget,
            lease: f.lease.map(|priority| cohesix_hive::ctl::LeaseSpec {
                gpu: "gpu0".into(),
                mem_mb: 512,
                streams: 1,
                ttl_s: 60,
                priority,
            }),
        }));
    }
    if f.count.is_some() || f.site.is_some() || f.lease.is_some() {
        return Err("ambiguous");
    }
    Ok(match f {
        Fields { kill: Some(id), .. } if ident_ok(id) => Command::Kill(id.clone()),
        Fields { kill: Some(_), .. } => return Err("bad-identifier"),
        Fields {
            bind: Some((from, to)),
            ..
        } => Command::Bind(BindSpec {
            from: from.clone(),
            to: to.clone(),
        }),
        Fields {
            unbind: Some(to), ..
        } => Command::Unbind(UnbindSpec { to: to.clone() }),
        Fields {
            revoke: Some(ticket),
            ..
        } => Command::Revoke(RevokeSpec { ticket: *ticket }),
        Fields { key: Some(k), .. } => Command::RetireKey(*k),
        Fields {
            budget: Some(b @ (Some(_), _, _)),
            ..
        } => Command::Budget(budget_spec(b)),
        _ => return Err("budget-needs-worker"),
    })
}

fn expect_envelope(e: &Envelope, inner: &Fields) -> Result<Command, &'static str> {
    let (Some(id), Some(key), Some(epoch)) = (&e.id, &e.key, e.epoch) else {
        return Err("incomplete-envelope");
    };
    if e.stray_kill.is_some() {
        return Err("ambiguous");
    }
    if !ident_ok(id) || !ident_ok(key) {
        return Err("bad-identifier");
    }
    if e.nested {
        return Err("nested-envelope");
    }
    Ok(Command::Envelope {
        id: id.clone(),
        key: key.clone(),
        epoch,
        cmd: Box::new(expect_command(inner)?),
    })
}

fn envelope_json(e: &Envelope, inner: &Fields) -> Value {
    let mut cmd = to_json(inner);
    if e.nested {
        cmd.insert("epoch".into(), json!(1));
    }
    let mut m = Map::new();
    if let Some(id) = &e.id {
        m.insert("id".into(), json!(id));
    }
    if let Some(key) = &e.key {
        m.insert("idempotency_key".into(), json!(key));
    }
    if let Some(epoch) = e.epoch {
        m.insert("epoch".into(), json!(epoch));
    }
    if let Some(k) = &e.stray_kill {
        m.insert("kill".into(), json!(k));
    }
    m.insert("cmd".into(), Value::Object(cmd));
    Value::Object(m)
}

fn detail(got: Result<Command, cohesix_hive::Refusal>) -> Result<Command, &'static str> {
    got.map_err(|r| r.detail)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn commands_follow_the_model(f in fields(), pad in "[ \t]{0,2}") {
        let line = format!("{pad}{}{pad}", Value::Object(to_json(&f)));
        prop_assert_eq!(detail(parse(&line)), expect_command(&f), "{}", line);
    }

    #[test]
    fn envelopes_follow_the_model(e in envelope(), f in fields()) {
        let line = envelope_json(&e, &f).to_string();
        prop_assert_eq!(detail(parse(&line)), expect_envelope(&e, &f), "{}", line);
    }

    /// Any text: only a JSON object is ever accepted, and every identifier in an accepted
    /// command is well formed.
    #[test]
    fn any_text_is_refused_or_well_formed(line in ".{0,300}") {
        if let Ok(command) = parse(&line) {
            let value: Result<Value, _> = serde_json::from_str(line.trim());
            prop_assert!(value.is_ok_and(|v| v.is_object()), "{}", line);
            let (outer, inner) = match &command {
                Command::Envelope { id, key, cmd, .. } => {
                    prop_assert!(ident_ok(id) && ident_ok(key));
                    (true, cmd.as_ref())
                }
                other => (false, other),
            };
            let nested = matches!(inner, Command::Envelope { .. });
            prop_assert!(!(outer && nested), "an envelope inside an envelope");
            match inner {
                Command::Kill(id) => prop_assert!(ident_ok(id)),
                Command::Spawn(s) => prop_assert!(s.site.as_deref().is_none_or(ident_ok)),
                Command::Budget(b) => prop_assert!(b.worker.is_some()),
                _ => {}
            }
        }
    }
}
