//! The Queen host: the very pump that runs on metal, turned once per tick over the sim HAL.
//! Core events become transcript lines; the audit log is mirrored into the host's store,
//! which survives crashes, so the journal continues across restarts.

use crate::hal::{SimClock, SimHal, SimNet};
use crate::world::World;
use hal::mem::{MemConsole, MemEntropy};
use hal::{Clock, CONSOLE_PORT, NINEP_PORT};
use hive::Event;
use pump::{Provision, Pump};
use std::net::Ipv4Addr;
use std::rc::Rc;
use std::time::Duration;
use turmoil::net::TcpListener;

/// The store log holding the audit journal of every boot.
pub const AUDIT_LOG: &str = "audit";

/// The Queen's software; `turmoil` calls it again on restart.
pub async fn run(world: Rc<World>, index: usize) -> turmoil::Result {
    let ninep = TcpListener::bind((Ipv4Addr::UNSPECIFIED, NINEP_PORT)).await?;
    let console = TcpListener::bind((Ipv4Addr::UNSPECIFIED, CONSOLE_PORT)).await?;
    let cell = &world.hives[index];
    let boot = cell.boots.get() + 1;
    cell.boots.set(boot);
    // A new boot is a new authority: revocations of the last one are its journal's business.
    cell.revoked.borrow_mut().clear();
    let seed = world.scenario.seed ^ ((index as u64) << 48) ^ (u64::from(boot) << 32);
    let mut hal = SimHal {
        clock: SimClock::new(cell.skew.clone()),
        net: SimNet::new(vec![(NINEP_PORT, ninep), (CONSOLE_PORT, console)]),
        console: MemConsole::new(),
        entropy: MemEntropy::new(seed),
        store: cell.store.clone(),
    };
    let provision = Provision {
        keys: cell.keys.clone(),
        console_token: Some(cell.console_token.clone()),
        platform: "sim",
    };
    let mut pump = Pump::new(cell.spec.manifest.clone(), provision, hal.now_ms());
    if let Some(hook) = &world.boot_hook {
        hook(&mut pump);
    }
    let journal = cell.store.log(AUDIT_LOG).len();
    *cell.pump.borrow_mut() = Some(pump);
    world.record(
        &cell.name,
        "queen",
        "queen.boot",
        None,
        vec![("boot", boot.to_string()), ("journal", journal.to_string())],
    );
    let tick = Duration::from_millis(world.scenario.tick_ms);
    let mut events = Vec::new();
    let mut audit_cursor = 0u64;
    loop {
        {
            let mut guard = cell.pump.borrow_mut();
            let Some(pump) = guard.as_mut() else {
                return Ok(());
            };
            pump.turn(&mut hal);
            pump.drain_events(&mut events);
            audit_cursor = mirror_audit(pump, &mut hal, audit_cursor);
        }
        for event in events.drain(..) {
            report(&world, index, event);
        }
        tokio::time::sleep(tick).await;
    }
}

/// Appends audit lines written since `cursor` to the store's journal; returns the new cursor.
fn mirror_audit(pump: &Pump, hal: &mut SimHal, cursor: u64) -> u64 {
    let audit = pump.hive().audit();
    if audit.end() == cursor {
        return cursor;
    }
    let read = audit.read(cursor, 64 * 1024);
    for line in read.data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        // The store is unbounded in the simulator; a refusal would only shorten the journal.
        let _ = hal::Store::store_append(hal, AUDIT_LOG, line);
    }
    read.next
}

/// One core event as a transcript line (refusals are only counted).
fn report(world: &World, index: usize, event: Event) {
    let cell = &world.hives[index];
    let hive = cell.name.as_str();
    match event {
        Event::WorkerSpawned { id, site } => world.record(
            hive,
            "queen",
            "worker.spawned",
            Some(&id),
            vec![("site", site.unwrap_or_else(|| "-".into()))],
        ),
        Event::WorkerOnline { id } => {
            world.record(hive, "queen", "worker.online", Some(&id), vec![])
        }
        Event::WorkerOffline { id, reason } => world.record(
            hive,
            "queen",
            "worker.offline",
            Some(&id),
            vec![("reason", reason.to_string())],
        ),
        Event::Revoked {
            id,
            ticket_id,
            reason,
        } => {
            cell.revoked
                .borrow_mut()
                .insert(ticket_id, (id.clone(), world.now_us()));
            world.record(
                hive,
                "queen",
                "worker.revoked",
                Some(&id),
                vec![("reason", reason.to_string())],
            );
        }
        Event::Lifecycle { from, to, reason } => world.record(
            hive,
            "queen",
            "lifecycle",
            None,
            vec![
                ("old", from.as_str().to_string()),
                ("new", to.as_str().to_string()),
                ("reason", reason.to_string()),
            ],
        ),
        Event::Refused { error, .. } => {
            *world
                .tally
                .borrow_mut()
                .refusals
                .entry(error.reason())
                .or_insert(0) += 1;
        }
    }
}
