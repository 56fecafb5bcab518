//! `cohsh mint`: tickets signed with an operator key file, for the roles a hive does not mint
//! itself (queen, relay, gpu-bridge, vendor). Worker tickets come from `spawn` inside the hive,
//! which alone knows the worker ids they must name.
//!
//! Hive time is wall-clock time (milliseconds since the Unix epoch) on hosted and simulated
//! hives, so a ticket is issued now and lives `--ttl-s` seconds. Every ticket names the hive it
//! is for (`--hive-id`, or the `hive.id` file `cohsh serve` keeps in its state directory);
//! another hive refuses it.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use ticket::{Claims, Role, Scope, Verbs};

use crate::creds;

#[derive(Debug, Clone, Args)]
pub struct MintArgs {
    /// The hive key file (`<id>:<hex>` lines).
    #[arg(long)]
    pub key_file: PathBuf,
    /// queen, worker-heartbeat, worker-gpu, gpu-bridge, relay or vendor.
    #[arg(long)]
    pub role: String,
    /// Who the ticket speaks for (the `uname` at attach).
    #[arg(long, default_value = "operator")]
    pub subject: String,
    /// Lifetime in seconds of hive uptime, counted from --issued-at-ms.
    #[arg(long, default_value_t = 30 * 86_400)]
    pub ttl_s: u64,
    /// Issue instant in hive time (default: now).
    #[arg(long)]
    pub issued_at_ms: Option<u64>,
    /// The hive this ticket is for, in hex (default: the state directory's `hive.id`, or 0).
    #[arg(long, value_parser = parse_hive_id)]
    pub hive_id: Option<u64>,
    /// Ticket id (default: random, above every worker's).
    #[arg(long)]
    pub ticket_id: Option<u64>,
    /// Key id to sign with (default: the first key in the file).
    #[arg(long)]
    pub key_id: Option<u8>,
    /// Narrow the ticket: `PATH_PREFIX:VERBS[:RATE_PER_S]`, verbs from `rwa` (up to 8).
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// Operation budget.
    #[arg(long)]
    pub ops: Option<u64>,
    /// Tick budget (worker roles only: operator sessions have no tick clock).
    #[arg(long)]
    pub ticks: Option<u64>,
    /// Byte budget.
    #[arg(long)]
    pub bytes: Option<u64>,
}

/// A hive id as `cohsh serve` writes it: 16 hex digits.
pub fn parse_hive_id(text: &str) -> Result<u64, String> {
    u64::from_str_radix(text.trim(), 16).map_err(|e| format!("not a hex hive id: {e}"))
}

/// The claims `args` describe (ticket id drawn at random when not given).
pub fn claims(args: &MintArgs, default_key: u8) -> Result<Claims> {
    let role = Role::parse(&args.role).ok_or_else(|| {
        anyhow!(
            "unknown role `{}`; one of: queen, worker-heartbeat, worker-gpu, gpu-bridge, relay, vendor",
            args.role
        )
    })?;
    let ticket_id = match args.ticket_id {
        Some(id) => id,
        None => creds::random_ticket_id()?,
    };
    let ttl_ms = args
        .ttl_s
        .checked_mul(1000)
        .context("--ttl-s is too large")?;
    let key_id = args.key_id.unwrap_or(default_key);
    let mut claims = Claims::new(
        key_id,
        ticket_id,
        role,
        args.subject.clone(),
        args.issued_at_ms.unwrap_or_else(crate::creds::wall_ms),
        ttl_ms,
    );
    claims.hive_id = match args.hive_id {
        Some(id) => id,
        None => crate::creds::default_hive_id(&args.key_file)?,
    };
    if args.ticks.is_some() && !role.is_worker() {
        // The hive charges ticks only to registered workers and refuses operator tickets
        // that carry a limit it would not enforce.
        bail!("--ticks applies to worker tickets only; use --ops, --bytes or --ttl-s");
    }
    claims.budget.ops = args.ops;
    claims.budget.ticks = args.ticks;
    claims.budget.bytes = args.bytes;
    if args.scopes.len() > ticket::MAX_SCOPES {
        bail!("at most {} scopes", ticket::MAX_SCOPES);
    }
    claims.scopes = args
        .scopes
        .iter()
        .map(|s| parse_scope(s))
        .collect::<Result<_>>()?;
    Ok(claims)
}

/// `PATH_PREFIX:VERBS[:RATE]`.
pub fn parse_scope(text: &str) -> Result<Scope> {
    let mut parts = text.split(':');
    let prefix = parts.next().unwrap_or("");
    if !prefix.starts_with('/') {
        bail!("scope `{text}`: the path prefix must be absolute");
    }
    let verbs = parts
        .next()
        .and_then(Verbs::parse)
        .ok_or_else(|| anyhow!("scope `{text}`: verbs are letters from `rwa`"))?;
    let rate = match parts.next() {
        Some(rate) => rate
            .parse()
            .with_context(|| format!("scope `{text}`: rate is a whole number"))?,
        None => 0,
    };
    if parts.next().is_some() {
        bail!("scope `{text}`: expected PATH:VERBS[:RATE]");
    }
    Ok(Scope::new(prefix, verbs, rate))
}

/// Mints the ticket text: reads the key file, builds the claims, signs.
pub fn mint(args: &MintArgs) -> Result<(String, Claims)> {
    let keys = creds::read_keyring(&args.key_file)?;
    let default_key = keys.active_id().context("the key file has no key")?;
    let claims = claims(args, default_key)?;
    let text = ticket::mint(&keys, &claims).map_err(|e| anyhow!("cannot mint: {}", e.as_str()))?;
    Ok((text, claims))
}

/// The claims as JSON, for `--json`.
pub fn claims_json(claims: &Claims, text: &str) -> serde_json::Value {
    let scopes: Vec<serde_json::Value> = claims
        .scopes
        .iter()
        .map(|s| {
            serde_json::json!({
                "path_prefix": s.path_prefix,
                "verbs": s.verbs.to_string(),
                "rate_per_s": s.rate_per_s,
            })
        })
        .collect();
    serde_json::json!({
        "ticket": text,
        "ticket_id": claims.ticket_id,
        "key_id": claims.key_id,
        "role": claims.role.as_str(),
        "subject": claims.subject,
        "issued_at_ms": claims.issued_at_ms,
        "ttl_ms": claims.ttl_ms,
        "budget": {
            "ops": claims.budget.ops,
            "ticks": claims.budget.ticks,
            "bytes": claims.budget.bytes,
        },
        "scopes": scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(key_file: PathBuf) -> MintArgs {
        MintArgs {
            key_file,
            role: "queen".into(),
            subject: "ops".into(),
            ttl_s: 60,
            issued_at_ms: Some(0),
            hive_id: Some(0),
            ticket_id: Some(1 << 41),
            key_id: None,
            scopes: vec!["/proc:r".into(), "/queen/ctl:a:5".into()],
            ops: Some(10),
            ticks: None,
            bytes: None,
        }
    }

    #[test]
    fn minted_tickets_verify_under_the_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hive.key");
        creds::write_secret(&path, &creds::generate_key_file().unwrap()).unwrap();
        let (text, claims) = mint(&args(path.clone())).unwrap();
        let keys = creds::read_keyring(&path).unwrap();
        let verified = ticket::verify(&keys, &text, 1024, 59_999).unwrap();
        assert_eq!(verified, claims);
        assert_eq!(verified.scopes[1].rate_per_s, 5);
        assert!(
            ticket::verify(&keys, &text, 1024, 60_000).is_err(),
            "expired"
        );
    }

    #[test]
    fn bad_arguments_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hive.key");
        creds::write_secret(&path, &creds::generate_key_file().unwrap()).unwrap();
        let mut bad = args(path);
        bad.role = "king".into();
        assert!(mint(&bad).unwrap_err().to_string().contains("unknown role"));
        assert!(parse_scope("proc:r").is_err());
        assert!(parse_scope("/proc:x").is_err());
        assert!(parse_scope("/proc:r:1:2").is_err());
        let mut unknown_key = args(bad.key_file.clone());
        unknown_key.key_id = Some(9);
        assert!(mint(&unknown_key).is_err());
    }
}
