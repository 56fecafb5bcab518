//! The fault plan, applied by the driver between simulation steps: partitions and heals
//! (both ways or one way), clogged links held and released, link latency and loss, host
//! crashes and restarts, clock skew, and faults of a host's store (full, failing, a write
//! torn at the next crash).

use crate::scenario::FaultAction;
use crate::world::World;
use hal::mem::MemStore;
use std::time::Duration;
use turmoil::Sim;

/// Applies one fault and records it in the transcript.
pub fn apply(sim: &mut Sim<'_>, world: &World, action: &FaultAction) {
    let hive_of = |host: &str| host.split('-').next().unwrap_or_default().to_string();
    let (hive, fields) = match action {
        FaultAction::Partition { a, b } => {
            sim.partition(a.as_str(), b.as_str());
            (hive_of(a), link(a, b))
        }
        FaultAction::Heal { a, b } => {
            sim.repair(a.as_str(), b.as_str());
            (hive_of(a), link(a, b))
        }
        FaultAction::Latency { a, b, ms } => {
            let (lo, hi) = (world.scenario.min_latency_ms, world.scenario.max_latency_ms);
            if *ms == 0 {
                // Back to the scenario's own range.
                sim.set_link_latency(a.as_str(), b.as_str(), Duration::from_millis(lo));
                sim.set_link_max_message_latency(a.as_str(), b.as_str(), Duration::from_millis(hi));
            } else {
                sim.set_link_latency(a.as_str(), b.as_str(), Duration::from_millis(*ms));
            }
            let mut fields = link(a, b);
            fields.push(("ms", ms.to_string()));
            (hive_of(a), fields)
        }
        FaultAction::Loss { a, b, rate } => {
            sim.set_link_fail_rate(a.as_str(), b.as_str(), *rate);
            let mut fields = link(a, b);
            fields.push(("rate", format!("{rate}")));
            (hive_of(a), fields)
        }
        FaultAction::PartitionOneway { a, b } => {
            sim.partition_oneway(a.as_str(), b.as_str());
            (hive_of(a), link(a, b))
        }
        FaultAction::HealOneway { a, b } => {
            sim.repair_oneway(a.as_str(), b.as_str());
            (hive_of(a), link(a, b))
        }
        FaultAction::Hold { a, b } => {
            sim.hold(a.as_str(), b.as_str());
            (hive_of(a), link(a, b))
        }
        FaultAction::Release { a, b } => {
            sim.release(a.as_str(), b.as_str());
            (hive_of(a), link(a, b))
        }
        FaultAction::StoreFull { host }
        | FaultAction::StoreIo { host }
        | FaultAction::StoreTorn { host }
        | FaultAction::StoreHeal { host } => {
            if let Some(store) = store_of(world, host) {
                store_fault(store, action);
            }
            (hive_of(host), vec![("host", host.clone())])
        }
        FaultAction::Crash { host } => {
            sim.crash(host.as_str());
            if let Some(store) = store_of(world, host) {
                store.crash();
            }
            forget_host(world, host);
            (hive_of(host), vec![("host", host.clone())])
        }
        FaultAction::Restart { host } => {
            if sim.is_host_running(host.as_str()) {
                forget_host(world, host);
            }
            sim.bounce(host.as_str());
            (hive_of(host), vec![("host", host.clone())])
        }
        FaultAction::Skew {
            host,
            offset_ms,
            drift_ppm,
        } => {
            if let Some(skew) = skew_of(world, host) {
                skew.set(*offset_ms, *drift_ppm);
            }
            (
                hive_of(host),
                vec![
                    ("host", host.clone()),
                    ("offset_ms", offset_ms.to_string()),
                    ("drift_ppm", drift_ppm.to_string()),
                ],
            )
        }
    };
    let ev = action.event();
    world.record(&hive, "sim", ev, None, fields);
}

fn link(a: &str, b: &str) -> Vec<(&'static str, String)> {
    vec![("a", a.to_string()), ("b", b.to_string())]
}

/// A crashed host's software is gone: the Queen's pump goes with it.
fn forget_host(world: &World, host: &str) {
    if let Some(hive) = world.hive_by_host(host) {
        world.hives[hive].pump.borrow_mut().take();
    }
    if let Some(site) = world.site_by_host(host) {
        world.sites[site].agents.borrow_mut().clear();
    }
}

/// Applies a store fault. A full disk is a capacity of the bytes in use, so any write that
/// grows the store is refused while shrinking ones (trims) still succeed.
fn store_fault(store: &MemStore, action: &FaultAction) {
    match action {
        FaultAction::StoreFull { .. } => store.set_capacity(Some(store.used_bytes())),
        FaultAction::StoreIo { .. } => store.set_failing(true),
        FaultAction::StoreTorn { .. } => store.tear_at_crash(true),
        _ => {
            store.set_capacity(None);
            store.set_failing(false);
        }
    }
}

fn store_of<'a>(world: &'a World, host: &str) -> Option<&'a MemStore> {
    if let Some(hive) = world.hive_by_host(host) {
        return Some(&world.hives[hive].store);
    }
    world.site_by_host(host).map(|s| &world.sites[s].store)
}

fn skew_of<'a>(world: &'a World, host: &str) -> Option<&'a crate::hal::Skew> {
    if let Some(hive) = world.hive_by_host(host) {
        return Some(&world.hives[hive].skew);
    }
    world.site_by_host(host).map(|s| &world.sites[s].skew)
}
