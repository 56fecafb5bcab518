//! What the simulated hosts and the driver share: the transcript, each hive's running pump
//! and persistent store, each site's agents, and running tallies. Everything is single
//! threaded (turmoil runs hosts one after another), so plain `RefCell`s suffice.

use crate::hal::Skew;
use crate::scenario::{HiveSpec, Scenario};
use crate::transcript::Transcript;
use hal::mem::MemStore;
use pump::Pump;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use ticket::{Claims, Keyring, Role};
use worker::{AgentState, AgentStats};

/// Records kept in one transcript before the rest are only counted.
pub const TRANSCRIPT_RECORDS_MAX: usize = 2_000_000;

/// A hook run on every Queen boot (tests use it to flip test-only switches).
pub type BootHook = Rc<dyn Fn(&mut Pump)>;

pub struct World {
    pub scenario: Scenario,
    pub transcript: RefCell<Transcript>,
    pub hives: Vec<HiveCell>,
    pub sites: Vec<SiteCell>,
    /// Virtual time for records made outside any host (the driver).
    pub clock_us: Cell<u64>,
    pub tally: RefCell<Tally>,
    pub boot_hook: Option<BootHook>,
    /// Every operator reply in full, in order (see `operator::OpReply`).
    pub replies: RefCell<Vec<crate::operator::OpReply>>,
}

/// One hive: provisioned secrets, the pump while the Queen runs, state that survives it.
pub struct HiveCell {
    pub name: String,
    pub spec: HiveSpec,
    pub keys: Keyring,
    /// The hive's identity, provisioned like its key (derived from the scenario seed).
    pub hive_id: u64,
    pub console_token: Vec<u8>,
    /// A queen ticket for the operator host, minted with the hive key (an operator key file).
    pub operator_ticket: String,
    pub pump: RefCell<Option<Pump>>,
    pub boots: Cell<u32>,
    pub store: MemStore,
    pub skew: Skew,
    /// Ticket id → (worker id, virtual time of revocation), for the invariant checkers.
    pub revoked: RefCell<BTreeMap<u64, (String, u64)>>,
}

/// One site: a machine hosting many worker agents.
pub struct SiteCell {
    pub hive: usize,
    pub label: String,
    pub host: String,
    pub capacity: usize,
    pub store: MemStore,
    pub skew: Skew,
    pub agents: RefCell<BTreeMap<String, AgentView>>,
    pub boots: Cell<u32>,
    pub generations: Cell<u64>,
}

/// The latest state an agent reported.
#[derive(Debug, Clone, Copy)]
pub struct AgentView {
    pub state: AgentState,
    pub stats: AgentStats,
    pub since_us: u64,
    /// Bumped when the id is provisioned again with another ticket: the older agent stops.
    pub generation: u64,
    /// A hash of the ticket, to tell a repeated hand-off from a new one.
    pub ticket_hash: u64,
}

/// Counters for the summary and the final transcript lines.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Queen refusals by class (`busy`, `quota`, `cut`, `policy`, `invalid`, `unsupported`).
    pub refusals: BTreeMap<&'static str, u64>,
    pub provisioned: u64,
    pub provision_failed: u64,
    pub commands: u64,
    pub expectations_failed: u64,
    pub violations: u64,
}

/// The bytes every key of one hive is derived from.
fn seed_material(seed: u64, hive: &str) -> Vec<u8> {
    format!("cohesix-sim/{seed}/{hive}").into_bytes()
}

impl World {
    pub fn new(scenario: Scenario, boot_hook: Option<BootHook>) -> Self {
        let hives = scenario
            .hives
            .iter()
            .map(|spec| HiveCell::new(&scenario, spec))
            .collect();
        let mut sites = Vec::new();
        for (hive, spec) in scenario.hives.iter().enumerate() {
            for i in 0..spec.sites {
                sites.push(SiteCell {
                    hive,
                    label: HiveSpec::site_label(i),
                    host: spec.site_host(i),
                    capacity: spec.site_capacity as usize,
                    store: MemStore::new(),
                    skew: Skew::default(),
                    agents: RefCell::new(BTreeMap::new()),
                    boots: Cell::new(0),
                    generations: Cell::new(0),
                });
            }
        }
        Self {
            scenario,
            transcript: RefCell::new(Transcript::new(TRANSCRIPT_RECORDS_MAX)),
            hives,
            sites,
            clock_us: Cell::new(0),
            tally: RefCell::new(Tally::default()),
            boot_hook,
            replies: RefCell::new(Vec::new()),
        }
    }

    /// Virtual time: the running host's view of the simulation clock, or the driver's.
    pub fn now_us(&self) -> u64 {
        turmoil::sim_elapsed()
            .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
            .unwrap_or_else(|| self.clock_us.get())
    }

    /// Appends one transcript record at the current virtual time.
    pub fn record(
        &self,
        hive: &str,
        src: &str,
        ev: &'static str,
        id: Option<&str>,
        fields: Vec<(&'static str, String)>,
    ) {
        let now = self.now_us();
        self.transcript
            .borrow_mut()
            .push(now, hive, src, ev, id, fields);
    }

    pub fn site_by_host(&self, host: &str) -> Option<usize> {
        self.sites.iter().position(|s| s.host == host)
    }

    pub fn hive_by_host(&self, host: &str) -> Option<usize> {
        self.hives.iter().position(|h| h.spec.queen_host() == host)
    }

    /// The sites of one hive, as indices into `sites`.
    pub fn sites_of(&self, hive: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.sites.len()).filter(move |&i| self.sites[i].hive == hive)
    }
}

impl HiveCell {
    fn new(scenario: &Scenario, spec: &HiveSpec) -> Self {
        let material = seed_material(scenario.seed, &spec.name);
        let mut keys = Keyring::new();
        keys.insert(1, Keyring::derive_key(&material, "hive"));
        let token = hex::encode(&Keyring::derive_key(&material, "console")[..16]);
        // Valid for the whole run and a day more, whatever the Queen's clock says.
        let ttl_ms = scenario.duration_us / 1000 + 86_400_000;
        let id_bytes = Keyring::derive_key(&material, "hive-id");
        let hive_id = u64::from_le_bytes(id_bytes[..8].try_into().expect("8 of 32 bytes"));
        let claims = Claims::new(1, 1 << 40, Role::Queen, "operator", 0, ttl_ms).for_hive(hive_id);
        let operator_ticket = ticket::mint(&keys, &claims).unwrap_or_default();
        Self {
            name: spec.name.clone(),
            spec: spec.clone(),
            keys,
            hive_id,
            console_token: token.into_bytes(),
            operator_ticket,
            pump: RefCell::new(None),
            boots: Cell::new(0),
            store: MemStore::new(),
            skew: Skew::default(),
            revoked: RefCell::new(BTreeMap::new()),
        }
    }
}
