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

/// Why no provisioning blob could be read.
#[derive(Debug)]
pub enum BlobFault {
    /// The boot medium carries none (`source` says where it was looked for).
    Absent { source: &'static str },
    /// There is one but it could not be read whole. Only fw_cfg (qemu-virt and sel4) can
    /// fail this way so far; the other platforms have no provisioning medium yet.
    Unreadable { source: &'static str, why: String },
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const KEY: &str = "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2";
    const TOKEN: &str = "tok-0123456789abcdef";

    fn blob(body: &str) -> Result<Vec<u8>, BlobFault> {
        Ok(format!("cohesix-provision 1\n{body}").into_bytes())
    }

    fn closed_reason(plan: &Plan) -> &str {
        match &plan.network {
            Network::Closed { reason } => reason,
            other => panic!("expected a closed network, got {other:?}"),
        }
    }

    #[test]
    fn no_blob_closes_the_network_and_says_how_to_provide_one() {
        let plan = plan(Err(BlobFault::Absent { source: "fw_cfg" }));
        let reason = closed_reason(&plan);
        assert!(
            reason.starts_with("no provisioning blob (fw_cfg;"),
            "{reason}"
        );
        assert!(reason.contains(&format!("name={FW_CFG_NAME}")), "{reason}");
        assert_eq!(plan.network.ports(), &[] as &[u16]);
        assert!(plan.keys.is_empty());
        assert_eq!(plan.manifest_source, "built-in");
        assert_eq!(plan.manifest, built_in_manifest());
    }

    #[test]
    fn an_unreadable_or_refused_blob_closes_the_network_with_why() {
        let plan = plan(Err(BlobFault::Unreadable {
            source: "fw_cfg",
            why: "short read".into(),
        }));
        assert_eq!(
            closed_reason(&plan),
            "provisioning blob unreadable (fw_cfg): short read"
        );
        let plan = super::plan(Ok(b"not a provisioning blob".to_vec()));
        assert!(
            closed_reason(&plan).starts_with("provisioning blob refused: "),
            "{}",
            closed_reason(&plan)
        );
    }

    #[test]
    fn a_blob_without_keys_closes_the_network() {
        let plan = plan(blob(&format!("console-token {TOKEN}\n")));
        assert_eq!(closed_reason(&plan), "no hive-key provisioned");
        // The token is still handed on; it only matters once a key exists.
        assert_eq!(plan.console_token.as_deref(), Some(TOKEN.as_bytes()));
    }

    #[test]
    fn a_key_without_a_token_opens_only_secure9p() {
        let plan = plan(blob(&format!("hive-key 3 {KEY}\n")));
        assert_eq!(
            plan.network,
            Network::NinePOnly {
                reason: "no console-token provisioned".into()
            }
        );
        assert_eq!(plan.network.ports(), &[NINEP_PORT]);
        assert_eq!(plan.keys.active_id(), Some(3));
        assert_eq!(plan.address, None);
    }

    #[test]
    fn a_full_blob_opens_both_ports_and_notes_no_secret() {
        let plan = plan(blob(&format!(
            "hive-key 1 {KEY}\nhive-key 7 {KEY}\nactive-key 1\nconsole-token {TOKEN}\n\
             seed {KEY}\nip 10.0.2.15/24\ngateway 10.0.2.2\n"
        )));
        assert_eq!(plan.network, Network::Full);
        assert_eq!(plan.network.ports(), &[NINEP_PORT, CONSOLE_PORT]);
        assert_eq!((plan.keys.len(), plan.keys.active_id()), (2, Some(1)));
        assert_eq!(plan.seed, Some([0xa2; 32]));
        let (ip, gateway) = plan.address.expect("an address");
        assert_eq!(
            (ip.addr, ip.prefix_len, gateway),
            ([10, 0, 2, 15], 24, Some([10, 0, 2, 2]))
        );
        assert_eq!(
            plan.notes,
            vec![String::from(
                "provision keys=2 active=1 console-token=set seed=set manifest=built-in"
            )]
        );
        assert!(!plan.notes.concat().contains("a2a2") && !plan.notes.concat().contains(TOKEN));
    }

    #[test]
    fn a_provisioned_manifest_replaces_the_built_in_one() {
        let plan = plan(blob(&format!(
            "hive-key 1 {KEY}\nconsole-token {TOKEN}\nmanifest\n[hive]\nname = \"edge\"\n"
        )));
        assert_eq!(plan.network, Network::Full);
        assert_eq!(plan.manifest_source, "provisioned");
        assert_eq!(plan.manifest.hive.name, "edge");
        assert!(
            plan.notes[0].ends_with("manifest=provisioned"),
            "{:?}",
            plan.notes
        );
    }

    #[test]
    fn a_bad_provisioned_manifest_closes_the_network_on_the_built_in_one() {
        for (text, why) in [
            ("[hive]\nname = \n", "provisioned manifest refused: "),
            (
                "[hive]\nworkers_max = 0\n",
                "provisioned manifest refused: ",
            ),
            ("[hive]\nbogus = 1\n", "provisioned manifest refused: "),
        ] {
            let plan = plan(blob(&format!(
                "hive-key 1 {KEY}\nconsole-token {TOKEN}\nmanifest\n{text}"
            )));
            assert!(
                closed_reason(&plan).starts_with(why),
                "{text:?}: {:?}",
                plan.network
            );
            // One line of the parser's report, never a multi-line dump on the serial console.
            assert!(!closed_reason(&plan).contains('\n'));
            assert_eq!(plan.manifest_source, "built-in");
            assert_eq!(plan.manifest, built_in_manifest());
        }
    }

    #[test]
    fn the_built_in_manifest_is_the_shipped_file_not_the_fallback() {
        let shipped = parse_manifest(BUILT_IN_MANIFEST).expect("configs/hive.toml is valid");
        assert_eq!(shipped.hive.name, "hive");
        assert_eq!(built_in_manifest(), shipped);
    }
}
