//! Hive key files and ticket minting (what an operator holding the hive key may do).

use std::time::{SystemTime, UNIX_EPOCH};

use ticket::{Claims, Keyring, Role};

use crate::opts::Opts;

/// Ticket ids minted outside the hive start here (as `cohsh mint` does), far above the
/// hive's own worker sequence numbers.
const OPERATOR_TICKET_ID_BASE: u64 = 1 << 40;

/// Reads a key file in the cohsh format: `<id>:<64 hex>` lines (bare hex is key id 1), `#`
/// comments; the first key mints. Returns the ring and the minting key id.
pub fn load_keyring(opts: &Opts) -> Result<(Keyring, u8), String> {
    let path = opts.key.as_ref().ok_or("--key is required")?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut ring = Keyring::new();
    let mut first = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, hex_key) = match line.split_once(':') {
            Some((id, key)) => (
                id.trim().parse::<u8>().map_err(|_| "bad key id")?,
                key.trim(),
            ),
            None => (1, line),
        };
        let mut key = [0u8; 32];
        hex::decode_to_slice(hex_key, &mut key).map_err(|_| "a key is 64 hex digits")?;
        ring.insert(id, key);
        first.get_or_insert(id);
    }
    let first = first.ok_or("no key in the key file")?;
    Ok((ring, first))
}

pub fn role(name: &str) -> Result<Role, String> {
    Role::ALL
        .into_iter()
        .find(|r| r.as_str() == name)
        .ok_or_else(|| format!("unknown role {name}"))
}

/// A ticket issued at hive time zero, valid for `ttl_ms` of hive uptime.
pub fn mint(opts: &Opts, role_name: &str, subject: &str) -> Result<String, String> {
    let (ring, key_id) = load_keyring(opts)?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let ticket_id = OPERATOR_TICKET_ID_BASE | (nanos & 0xFF_FFFF_FFFF);
    let claims = Claims::new(key_id, ticket_id, role(role_name)?, subject, 0, opts.ttl_ms);
    ticket::mint(&ring, &claims).map_err(|e| format!("mint: {e:?}"))
}

pub fn mint_command(opts: &Opts) -> Result<(), String> {
    println!("{}", mint(opts, &opts.role, &opts.subject)?);
    Ok(())
}
