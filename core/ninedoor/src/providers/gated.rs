//! Manifest-gated subtrees (`/gpu`, `/policy`, `/actions`, `/replay`, `/updates`, `/host`):
//! absent for everyone when disabled, an empty directory until a publisher fills it. (The audit
//! log is `/log/queen.log`, always served; there is no `/audit`.)

use super::{Entry, Provider};
use crate::NineDoor;

const GATED: [&str; 6] = ["gpu", "policy", "actions", "replay", "updates", "host"];

fn is_enabled(nd: &NineDoor, name: &str) -> bool {
    let f = &nd.hive().manifest().features;
    match name {
        "gpu" => f.gpu,
        "policy" | "actions" => f.policy,
        "replay" => f.replay,
        "updates" => f.updates,
        "host" => f.host,
        _ => false,
    }
}

pub(super) fn enabled(nd: &NineDoor) -> impl Iterator<Item = &'static str> + '_ {
    GATED.into_iter().filter(move |name| is_enabled(nd, name))
}

pub(super) fn resolve(nd: &NineDoor, name: &str, rest: &[&str]) -> Option<Entry> {
    if name == "gpu" && is_enabled(nd, name) {
        return super::gpu::resolve(nd, rest);
    }
    (rest.is_empty() && is_enabled(nd, name)).then(|| Entry::dir(Provider::Gated))
}
