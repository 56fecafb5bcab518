//! `spawn` arguments: a JSON object passed through to `/queen/ctl`, or the original Cohesix
//! shorthand `spawn <kind> key=value ...`, parsed here into typed requests.
//!
//! ```text
//! spawn heartbeat ticks=<n> [ttl_s=<n>] [ops=<n>] [count=<n>] [site=<s>]
//! spawn gpu gpu_id=<id> mem_mb=<n> streams=<n> ttl_s=<n> [priority=<n>]
//!           [budget_ttl_s=<n>] [budget_ops=<n>]
//! ```

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Longest identifier (`gpu_id`, `site`) the shorthand accepts; matches the control grammar.
const IDENT_MAX: usize = 64;

/// A heartbeat spawn in the shorthand. It becomes one `/queen/ctl` line in the original's
/// JSON form, ticks at the top level (`{"spawn":"heartbeat","ticks":5,"budget":{...}}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeartbeatSpawn {
    pub ticks: Option<u64>,
    pub ttl_s: Option<u64>,
    pub ops: Option<u64>,
    pub count: Option<u64>,
    pub site: Option<String>,
}

impl HeartbeatSpawn {
    /// The `/queen/ctl` line. Every value is a number or a checked identifier, so nothing
    /// needs escaping.
    pub fn to_json(&self) -> String {
        let mut json = String::from("{\"spawn\":\"heartbeat\"");
        if let Some(ticks) = self.ticks {
            json.push_str(&format!(",\"ticks\":{ticks}"));
        }
        if let Some(count) = self.count {
            json.push_str(&format!(",\"count\":{count}"));
        }
        if let Some(site) = &self.site {
            json.push_str(&format!(",\"site\":\"{site}\""));
        }
        let budget: Vec<String> = [("ttl_s", self.ttl_s), ("ops", self.ops)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("\"{k}\":{v}")))
            .collect();
        if !budget.is_empty() {
            json.push_str(&format!(",\"budget\":{{{}}}", budget.join(",")));
        }
        json.push('}');
        json
    }
}

/// A GPU worker spawn with its lease request, as the original's `spawn gpu` takes it. Kept
/// typed so it can be handed to a lease broker as is; until one exists it is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GpuSpawn {
    pub gpu_id: String,
    pub mem_mb: u32,
    pub streams: u32,
    pub ttl_s: u32,
    pub priority: Option<u8>,
    pub budget_ttl_s: Option<u32>,
    pub budget_ops: Option<u64>,
}

/// What `spawn` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpawnRequest {
    /// A JSON object for `/queen/ctl`, given verbatim or built from the heartbeat shorthand.
    Json(String),
    Gpu(GpuSpawn),
}

/// Parses the arguments of `spawn`; the error is the `detail=` tag of the refusal.
pub fn parse_spawn_args(rest: &str) -> Result<SpawnRequest, &'static str> {
    let rest = rest.trim_end();
    if rest.is_empty() {
        return Err("missing-json");
    }
    if rest.starts_with('{') {
        // The hive validates the JSON fully; the console only refuses what cannot be an object.
        if !rest.ends_with('}') {
            return Err("expected-json");
        }
        return Ok(SpawnRequest::Json(rest.to_string()));
    }
    let mut words = rest.split_whitespace();
    let kind = words.next().unwrap_or("");
    // Neither an object nor a plain kind word: most likely JSON that is not an object.
    if !kind
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("expected-json");
    }
    let pairs = words
        .map(|w| w.split_once('=').ok_or("expected-key-value"))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, (key, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(k, _)| k == key) {
            return Err("duplicate-key");
        }
    }
    match kind {
        "heartbeat" => heartbeat(&pairs).map(|h| SpawnRequest::Json(h.to_json())),
        "gpu" => gpu(&pairs).map(SpawnRequest::Gpu),
        _ => Err("unknown-worker-kind"),
    }
}

fn heartbeat(pairs: &[(&str, &str)]) -> Result<HeartbeatSpawn, &'static str> {
    let mut spec = HeartbeatSpawn::default();
    for (key, value) in pairs {
        match *key {
            "ticks" => spec.ticks = Some(number(value)?),
            "ttl_s" => spec.ttl_s = Some(number(value)?),
            "ops" => spec.ops = Some(number(value)?),
            "count" => spec.count = Some(number(value)?),
            "site" => spec.site = Some(ident(value)?),
            _ => return Err("unknown-key"),
        }
    }
    Ok(spec)
}

fn gpu(pairs: &[(&str, &str)]) -> Result<GpuSpawn, &'static str> {
    let mut spec = GpuSpawn::default();
    let mut required = 0u8;
    for (key, value) in pairs {
        match *key {
            "gpu_id" => (spec.gpu_id, required) = (ident(value)?, required | 1),
            "mem_mb" => (spec.mem_mb, required) = (number(value)?, required | 2),
            "streams" => (spec.streams, required) = (number(value)?, required | 4),
            "ttl_s" => (spec.ttl_s, required) = (number(value)?, required | 8),
            "priority" => spec.priority = Some(number(value)?),
            "budget_ttl_s" => spec.budget_ttl_s = Some(number(value)?),
            "budget_ops" => spec.budget_ops = Some(number(value)?),
            _ => return Err("unknown-key"),
        }
    }
    if required != 0b1111 {
        return Err("missing-key");
    }
    Ok(spec)
}

/// Digits only (`from_str` would take a leading `+`), within the target type.
fn number<T: core::str::FromStr>(value: &str) -> Result<T, &'static str> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err("bad-number");
    }
    value.parse().map_err(|_| "bad-number")
}

fn ident(value: &str) -> Result<String, &'static str> {
    let ok = !value.is_empty()
        && value.len() <= IDENT_MAX
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| value.to_string()).ok_or("bad-identifier")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_shorthand_is_the_original_json() {
        assert_eq!(
            parse_spawn_args("heartbeat ticks=100 ttl_s=120 ops=500"),
            Ok(SpawnRequest::Json(
                r#"{"spawn":"heartbeat","ticks":100,"budget":{"ttl_s":120,"ops":500}}"#.into()
            ))
        );
        assert_eq!(
            parse_spawn_args("heartbeat ticks=5"),
            Ok(SpawnRequest::Json(
                r#"{"spawn":"heartbeat","ticks":5}"#.into()
            ))
        );
        assert_eq!(parse_spawn_args("heartbeat ticks=+5"), Err("bad-number"));
        assert_eq!(
            parse_spawn_args("heartbeat ticks=1 ticks=2"),
            Err("duplicate-key")
        );
        assert_eq!(parse_spawn_args("heartbeat colour=red"), Err("unknown-key"));
        assert_eq!(
            parse_spawn_args("heartbeat site=a\"b"),
            Err("bad-identifier")
        );
        assert_eq!(parse_spawn_args("lora"), Err("unknown-worker-kind"));
    }

    #[test]
    fn gpu_shorthand_is_typed() {
        let line = "gpu gpu_id=GPU-0 mem_mb=4096 streams=2 ttl_s=120 priority=1 budget_ttl_s=180 budget_ops=500";
        assert_eq!(
            parse_spawn_args(line),
            Ok(SpawnRequest::Gpu(GpuSpawn {
                gpu_id: "GPU-0".into(),
                mem_mb: 4096,
                streams: 2,
                ttl_s: 120,
                priority: Some(1),
                budget_ttl_s: Some(180),
                budget_ops: Some(500),
            }))
        );
        assert_eq!(
            parse_spawn_args("gpu gpu_id=GPU-0 mem_mb=1 streams=1"),
            Err("missing-key")
        );
        assert_eq!(
            parse_spawn_args("gpu gpu_id=GPU-0 mem_mb=1 streams=1 ttl_s=1 priority=300"),
            Err("bad-number")
        );
    }
}
