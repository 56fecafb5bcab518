//! From the provisioning blob to what the pump and the network are started with, and which
//! ports open. Missing or bad provisioning never stops the serial console; it closes the
//! network (no hive key) or just the console port (no console token), with the reason.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use hal::{CONSOLE_PORT, NINEP_PORT};
use hal_smoltcp::Ipv4Cidr;
use hal_virt::provision::{self, Provisioned, FW_CFG_NAME};
use manifest::Manifest;
use ticket::Keyring;

use crate::board::BlobFault;

/// The shipped manifest, used when the blob carries none. Limits are not secrets.
const BUILT_IN_MANIFEST: &str = include_str!("../../configs/hive.toml");

/// Which network services open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    /// Secure9P and the TCP console.
    Full,
    /// Secure9P only: the console port stays closed for `reason`.
    NinePOnly { reason: String },
    /// Nothing listens, for `reason`; the serial console still works.
    Closed { reason: String },
}

impl Network {
    pub fn ports(&self) -> &'static [u16] {
        match self {
            Network::Full => &[NINEP_PORT, CONSOLE_PORT],
            Network::NinePOnly { .. } => &[NINEP_PORT],
            Network::Closed { .. } => &[],
        }
    }
}

pub struct Plan {
    pub manifest: Manifest,
    /// Where the manifest came from (`provisioned` or `built-in`).
    pub manifest_source: &'static str,
    pub keys: Keyring,
    pub console_token: Option<Vec<u8>>,
    pub seed: Option<[u8; 32]>,
    pub address: Option<(Ipv4Cidr, Option<[u8; 4]>)>,
    pub network: Network,
    /// Facts worth a serial line (what was provisioned, never the secrets).
    pub notes: Vec<String>,
}

/// Decides the boot from the blob as the platform read it.
pub fn plan(blob: Result<Vec<u8>, BlobFault>) -> Plan {
    let parsed = match blob {
        Ok(bytes) => provision::parse(&bytes).map_err(|e| format!("provisioning blob refused: {e}")),
        Err(BlobFault::Absent { source }) => Err(format!(
            "no provisioning blob ({source}; boot with scripts/boot-qemu.sh or -fw_cfg name={FW_CFG_NAME},file=<blob>)"
        )),
        Err(BlobFault::Unreadable { source, why }) => {
            Err(format!("provisioning blob unreadable ({source}): {why}"))
        }
    };
    let (provisioned, mut fault) = match parsed {
        Ok(p) => (p, None),
        Err(reason) => (Provisioned::default(), Some(reason)),
    };
    let (manifest, manifest_source) = match provisioned.manifest.as_deref() {
        Some(text) => match parse_manifest(text) {
            Ok(m) => (m, "provisioned"),
            Err(e) => {
                fault.get_or_insert(format!("provisioned manifest refused: {e}"));
                (built_in_manifest(), "built-in")
            }
        },
        None => (built_in_manifest(), "built-in"),
    };
    let keys = keyring(&provisioned);
    if fault.is_none() && keys.is_empty() {
        fault = Some(String::from("no hive-key provisioned"));
    }
    let network = match (fault, &provisioned.console_token) {
        (Some(reason), _) => Network::Closed { reason },
        (None, None) => Network::NinePOnly {
            reason: String::from("no console-token provisioned"),
        },
        (None, Some(_)) => Network::Full,
    };
    let notes = alloc::vec![format!(
        "provision keys={} active={} console-token={} seed={} manifest={manifest_source}",
        keys.len(),
        keys.active_id()
            .map_or("none".to_string(), |id| id.to_string()),
        set(provisioned.console_token.is_some()),
        set(provisioned.seed.is_some()),
    )];
    Plan {
        manifest,
        manifest_source,
        keys,
        console_token: provisioned.console_token,
        seed: provisioned.seed,
        address: provisioned.ip.map(|ip| (ip, provisioned.gateway)),
        network,
        notes,
    }
}

fn set(present: bool) -> &'static str {
    if present {
        "set"
    } else {
        "absent"
    }
}

fn keyring(p: &Provisioned) -> Keyring {
    let mut keys = Keyring::new();
    for (id, key) in &p.keys {
        keys.insert(*id, *key);
    }
    if let Some(active) = p.active_key {
        // `provision::parse` already checked the active key is among the keys.
        let _ = keys.set_active(active);
    }
    keys
}

/// Parses and validates manifest TOML (the no_std twin of `Manifest::from_toml_str`).
fn parse_manifest(text: &str) -> Result<Manifest, String> {
    let manifest: Manifest = toml::from_str(text).map_err(|e| {
        let full = e.to_string();
        String::from(full.lines().next().unwrap_or("invalid TOML"))
    })?;
    manifest.validate().map_err(|e| e.to_string())?;
    Ok(manifest)
}

fn built_in_manifest() -> Manifest {
    // The shipped file is checked by the workspace tests; the default is the same reference
    // hive should it ever fail here.
    parse_manifest(BUILT_IN_MANIFEST).unwrap_or_default()
}
