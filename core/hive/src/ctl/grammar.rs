//! The `/queen/ctl` grammar (docs/interfaces.md §8): one JSON object per line, unknown fields
//! refused, parsed into a `Command` before anything is executed.

use crate::Refusal;
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use secure9p::Error;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    pub worker: Option<String>,
    pub ttl_s: Option<u32>,
    pub ops: Option<u64>,
    pub ticks: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseSpec {
    pub gpu: String,
    pub mem_mb: u32,
    pub streams: u32,
    pub ttl_s: u32,
    pub priority: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindSpec {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnbindSpec {
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeSpec {
    pub ticket: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    pub retire: u8,
}

/// The raw shape of one line; `classify` turns it into exactly one command or refuses it.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Line {
    spawn: Option<String>,
    /// The original Cohesix spelling of a spawn's ticks budget, at the top level.
    ticks: Option<u64>,
    count: Option<u32>,
    site: Option<String>,
    budget: Option<BudgetSpec>,
    lease: Option<LeaseSpec>,
    kill: Option<String>,
    bind: Option<BindSpec>,
    unbind: Option<UnbindSpec>,
    revoke: Option<RevokeSpec>,
    key: Option<KeySpec>,
    id: Option<String>,
    idempotency_key: Option<String>,
    epoch: Option<u64>,
    cmd: Option<Box<Line>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawn {
    pub kind: String,
    pub count: u32,
    pub site: Option<String>,
    pub budget: BudgetSpec,
    pub lease: Option<LeaseSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Spawn(Spawn),
    Kill(String),
    Budget(BudgetSpec),
    Bind(BindSpec),
    Unbind(UnbindSpec),
    /// Revokes any ticket by id, whatever its role.
    Revoke(RevokeSpec),
    /// Retires a key: tickets it signed stop verifying and their sessions close.
    RetireKey(u8),
    Envelope {
        id: String,
        key: String,
        epoch: u64,
        cmd: Box<Command>,
    },
}

/// Longest identifier (`id`, `idempotency_key`, worker id, site) accepted in a control line.
pub const IDENT_MAX: usize = 64;

/// Parses one control line.
pub fn parse(line: &str) -> Result<Command, Refusal> {
    let raw: Line = serde_json::from_str(line.trim()).map_err(|e| {
        let text = e.to_string();
        let detail = if text.starts_with("unknown field") {
            "unknown-field"
        } else if text.starts_with("invalid type") || text.starts_with("invalid value") {
            "bad-field-type"
        } else {
            "bad-json"
        };
        Refusal::new(Error::Invalid, detail)
    })?;
    classify(raw, true)
}

fn classify(raw: Line, outer: bool) -> Result<Command, Refusal> {
    let invalid = |detail| Refusal::new(Error::Invalid, detail);
    let is_envelope = raw.id.is_some() || raw.idempotency_key.is_some() || raw.epoch.is_some();
    if is_envelope || raw.cmd.is_some() {
        if !outer {
            return Err(invalid("nested-envelope"));
        }
        let (Some(id), Some(key), Some(epoch), Some(cmd)) =
            (raw.id, raw.idempotency_key, raw.epoch, raw.cmd)
        else {
            return Err(invalid("incomplete-envelope"));
        };
        let others = raw.spawn.is_some()
            || raw.kill.is_some()
            || raw.bind.is_some()
            || raw.unbind.is_some()
            || raw.revoke.is_some()
            || raw.key.is_some()
            || raw.budget.is_some()
            || raw.count.is_some()
            || raw.ticks.is_some()
            || raw.site.is_some()
            || raw.lease.is_some();
        if others {
            return Err(invalid("ambiguous"));
        }
        check_ident(&id)?;
        check_ident(&key)?;
        let cmd = Box::new(classify(*cmd, false)?);
        return Ok(Command::Envelope {
            id,
            key,
            epoch,
            cmd,
        });
    }
    let heads = usize::from(raw.spawn.is_some())
        + usize::from(raw.kill.is_some())
        + usize::from(raw.bind.is_some())
        + usize::from(raw.unbind.is_some())
        + usize::from(raw.revoke.is_some())
        + usize::from(raw.key.is_some())
        + usize::from(raw.spawn.is_none() && raw.budget.is_some());
    if heads != 1 {
        return Err(invalid(if heads == 0 { "empty" } else { "ambiguous" }));
    }
    if let Some(kind) = raw.spawn {
        let mut budget = raw.budget.unwrap_or_default();
        // Ticks given twice (top level and in the budget) is ambiguous, never a silent pick.
        if budget.worker.is_some() || (raw.ticks.is_some() && budget.ticks.is_some()) {
            return Err(invalid("ambiguous"));
        }
        budget.ticks = budget.ticks.or(raw.ticks);
        if let Some(site) = &raw.site {
            check_ident(site)?;
        }
        return Ok(Command::Spawn(Spawn {
            kind,
            count: raw.count.unwrap_or(1),
            site: raw.site,
            budget,
            lease: raw.lease,
        }));
    }
    if raw.count.is_some() || raw.ticks.is_some() || raw.site.is_some() || raw.lease.is_some() {
        return Err(invalid("ambiguous"));
    }
    if let Some(id) = raw.kill {
        check_ident(&id)?;
        return Ok(Command::Kill(id));
    }
    if let Some(bind) = raw.bind {
        return Ok(Command::Bind(bind));
    }
    if let Some(unbind) = raw.unbind {
        return Ok(Command::Unbind(unbind));
    }
    if let Some(revoke) = raw.revoke {
        return Ok(Command::Revoke(revoke));
    }
    if let Some(key) = raw.key {
        return Ok(Command::RetireKey(key.retire));
    }
    match raw.budget {
        Some(spec) if spec.worker.is_some() => Ok(Command::Budget(spec)),
        _ => Err(invalid("budget-needs-worker")),
    }
}

/// The identifiers control lines carry (worker ids, sites, keys; GPU, bridge and tenant
/// names): at most `IDENT_MAX` bytes of `[A-Za-z0-9._:-]`.
pub(crate) fn check_ident(text: &str) -> Result<(), Refusal> {
    let ok = !text.is_empty()
        && text.len() <= IDENT_MAX
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(Refusal::new(Error::Invalid, "bad-identifier"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_revoke_key_and_unbind() {
        assert_eq!(
            parse(r#"{"revoke":{"ticket":42}}"#).unwrap(),
            Command::Revoke(RevokeSpec { ticket: 42 })
        );
        assert_eq!(
            parse(r#"{"key":{"retire":3}}"#).unwrap(),
            Command::RetireKey(3)
        );
        assert_eq!(
            parse(r#"{"unbind":{"to":"/a/b"}}"#).unwrap(),
            Command::Unbind(UnbindSpec { to: "/a/b".into() })
        );
        assert_eq!(
            parse(r#"{"revoke":{"ticket":1},"kill":"w0001"}"#)
                .unwrap_err()
                .detail,
            "ambiguous"
        );
        assert_eq!(
            parse(r#"{"revoke":{"ticket":-1}}"#).unwrap_err().detail,
            "bad-field-type"
        );
    }

    #[test]
    fn parses_every_documented_line() {
        let spawn = parse(
            r#"{"spawn":"heartbeat","count":1,"site":"s3","budget":{"ttl_s":120,"ops":500}}"#,
        )
        .unwrap();
        assert!(matches!(spawn, Command::Spawn(Spawn { count: 1, .. })));
        let gpu = parse(r#"{"spawn":"gpu","lease":{"gpu":"GPU-0","mem_mb":4096,"streams":1,"ttl_s":120,"priority":1}}"#).unwrap();
        assert!(matches!(gpu, Command::Spawn(Spawn { lease: Some(_), .. })));
        assert_eq!(
            parse(r#"{"kill":"w0412"}"#).unwrap(),
            Command::Kill("w0412".into())
        );
        assert!(matches!(
            parse(r#"{"budget":{"worker":"w0412","ops":1000}}"#).unwrap(),
            Command::Budget(_)
        ));
        assert!(matches!(
            parse(r#"{"bind":{"from":"/gpu/models/active","to":"/shard/1a/worker/w0412/model"}}"#)
                .unwrap(),
            Command::Bind(_)
        ));
        let env =
            parse(r#"{"id":"i-77","idempotency_key":"k-77","epoch":3,"cmd":{"kill":"w0412"}}"#)
                .unwrap();
        assert!(matches!(env, Command::Envelope { epoch: 3, .. }));
    }

    #[test]
    fn top_level_ticks_is_the_spawn_budget() {
        let Command::Spawn(spawn) = parse(r#"{"spawn":"heartbeat","ticks":5}"#).unwrap() else {
            panic!("not a spawn");
        };
        assert_eq!(spawn.budget.ticks, Some(5));
        let Command::Spawn(spawn) =
            parse(r#"{"spawn":"heartbeat","ticks":100,"budget":{"ttl_s":120,"ops":500}}"#).unwrap()
        else {
            panic!("not a spawn");
        };
        assert_eq!(
            (spawn.budget.ticks, spawn.budget.ttl_s, spawn.budget.ops),
            (Some(100), Some(120), Some(500))
        );
        let detail = |line: &str| parse(line).unwrap_err().detail;
        assert_eq!(
            detail(r#"{"spawn":"heartbeat","ticks":1,"budget":{"ticks":2}}"#),
            "ambiguous"
        );
        assert_eq!(detail(r#"{"kill":"w1","ticks":2}"#), "ambiguous");
    }

    #[test]
    fn refuses_unknown_fields_and_ambiguity() {
        let detail = |line: &str| parse(line).unwrap_err().detail;
        assert_eq!(detail(r#"{"kill":"w1","bogus":1}"#), "unknown-field");
        assert_eq!(detail(r#"{"kill":"w1","spawn":"heartbeat"}"#), "ambiguous");
        assert_eq!(detail(r#"{}"#), "empty");
        assert_eq!(detail(r#"not json"#), "bad-json");
        assert_eq!(detail(r#"{"kill":7}"#), "bad-field-type");
        assert_eq!(detail(r#"{"kill":"w 1"}"#), "bad-identifier");
        assert_eq!(detail(r#"{"budget":{"ops":1}}"#), "budget-needs-worker");
        assert_eq!(
            detail(r#"{"id":"a","epoch":1,"cmd":{"kill":"w1"}}"#),
            "incomplete-envelope"
        );
        assert_eq!(
            detail(
                r#"{"id":"a","idempotency_key":"k","epoch":1,"cmd":{"id":"b","idempotency_key":"k","epoch":1,"cmd":{"kill":"w1"}}}"#
            ),
            "nested-envelope"
        );
        assert_eq!(detail(r#"{"kill":"w1","count":2}"#), "ambiguous");
    }
}
