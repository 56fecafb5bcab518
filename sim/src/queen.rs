//! The Queen host: the very pump that runs on metal, turned once per tick over the sim HAL.
//! Core events become transcript lines; the audit log is mirrored into the host's store,
//! which survives crashes, so the journal continues across restarts.

use crate::hal::{SimClock, SimHal, SimNet};
use crate::world::World;
use hal::mem::{MemConsole, MemEntropy};
use hal::{CONSOLE_PORT, NINEP_PORT};
use hive::Event;
use pump::{Provision, Pump};
use std::net::Ipv4Addr;
use std::rc::Rc;
use std::time::Duration;
use turmoil::net::TcpListener;

/// The store log holding the audit lines of every boot (the Queen journal's audit log).
pub const AUDIT_LOG: &str = journal::AUDIT_LOG;

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
        hive_id: Some(cell.hive_id),
    };
    let (mut pump, booted) = match Pump::boot(&mut hal, cell.spec.manifest.clone(), provision) {
        Ok(booted) => booted,
        Err(error) => {
            world.record(
                &cell.name,
                "queen",
                "queen.boot-refused",
                None,
                vec![
                    ("boot", boot.to_string()),
                    ("reason", error.tag().to_string()),
                ],
            );
            return Ok(());
        }
    };
    if let Some(hook) = &world.boot_hook {
        hook(&mut pump);
    }
    *cell.pump.borrow_mut() = Some(pump);
    let mut fields = vec![
        ("boot", boot.to_string()),
        ("journal", booted.restored.entries.to_string()),
    ];
    if booted.restored.entries > 0 {
        fields.push(("workers", booted.restored.workers.to_string()));
        fields.push(("revocations", booted.restored.revocations.to_string()));
    }
    world.record(&cell.name, "queen", "queen.boot", None, fields);
    let tick = Duration::from_millis(world.scenario.tick_ms);
    let mut events = Vec::new();
    loop {
        {
            let mut guard = cell.pump.borrow_mut();
            let Some(pump) = guard.as_mut() else {
                return Ok(());
            };
            pump.turn(&mut hal);
            pump.drain_events(&mut events);
        }
        for event in events.drain(..) {
            report(&world, index, event);
        }
        tokio::time::sleep(tick).await;
    }
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
