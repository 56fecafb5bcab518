//! The JSON lines of `/queen/lease/ctl`, `/queen/schedule/ctl` and `/gpu/<id>/ctl`
//! (docs/interfaces.md §8.4). Parsing never touches the hive.

use crate::ctl::check_ident;
use crate::Refusal;
use alloc::string::String;
use secure9p::Error;
use serde::Deserialize;

/// What a lease asks for. `worker` is required of the Queen and implied for a worker.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Want {
    #[serde(default)]
    pub gpu: Option<String>,
    #[serde(default)]
    pub worker: Option<String>,
    pub mem_mb: u32,
    #[serde(default = "one")]
    pub streams: u32,
    pub ttl_s: u32,
    #[serde(default)]
    pub priority: u8,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    pub gpu: String,
    /// Implied for a bridge (its own name); required of the Queen.
    #[serde(default)]
    pub bridge: Option<String>,
    pub mem_mb: u32,
    pub streams: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lost {
    pub bridge: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Renew {
    pub lease: u64,
    pub ttl_s: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub lease: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub tenant: String,
    pub leases: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cancel {
    pub req: u64,
}

/// One line of `/queen/lease/ctl` (and, for `renew`/`release`, of `/gpu/<id>/ctl`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LeaseLine {
    Inventory(Inventory),
    Lost(Lost),
    Grant(Want),
    Renew(Renew),
    Release(Release),
    Quota(Quota),
}

/// One line of `/queen/schedule/ctl`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScheduleLine {
    Enqueue(Want),
    Cancel(Cancel),
}

fn json<'a, T: Deserialize<'a>>(line: &'a str) -> Result<T, Refusal> {
    serde_json::from_str(line.trim()).map_err(|_| Refusal::new(Error::Invalid, "bad-json"))
}

pub fn parse_lease(line: &str) -> Result<LeaseLine, Refusal> {
    let parsed: LeaseLine = json(line)?;
    let idents: &[&Option<String>] = match &parsed {
        LeaseLine::Grant(w) => &[&w.gpu, &w.worker],
        LeaseLine::Inventory(i) => {
            check_ident(&i.gpu)?;
            &[&i.bridge]
        }
        LeaseLine::Lost(l) => {
            check_ident(&l.bridge)?;
            &[]
        }
        LeaseLine::Quota(q) => {
            check_ident(&q.tenant)?;
            &[]
        }
        _ => &[],
    };
    for ident in idents.iter().filter_map(|i| i.as_deref()) {
        check_ident(ident)?;
    }
    Ok(parsed)
}

pub fn parse_schedule(line: &str) -> Result<ScheduleLine, Refusal> {
    let parsed: ScheduleLine = json(line)?;
    if let ScheduleLine::Enqueue(w) = &parsed {
        if w.gpu.is_some() {
            // The scheduler places requests on any GPU that fits; a named GPU is a `grant`.
            return Err(Refusal::new(Error::Invalid, "queue-names-no-gpu"));
        }
        if let Some(worker) = &w.worker {
            check_ident(worker)?;
        }
    }
    Ok(parsed)
}
