//! What `cohsh serve` is provisioned with: the console token and hive key (given as files, or
//! generated once into the state directory), the manifest, and a fresh queen ticket the
//! operator's cohsh picks up from the same directory.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use clap::Args;
use manifest::Manifest;
use ticket::{Claims, Keyring, Role};

use super::{AgentOptions, ServeConfig};
use crate::creds::{self, KEY_FILE, QUEEN_TICKET_FILE, TOKEN_FILE};

/// Lifetime of the queen ticket written at start-up.
const QUEEN_TTL_MS: u64 = 30 * 86_400_000;
/// Secure9P's well-known address, and where it goes when binding 564 needs privileges (the
/// QEMU boot script makes the same choice).
const DEFAULT_NINEP: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 564);
const FALLBACK_NINEP: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5640);
/// The shipped manifest, used when it is found relative to the working directory.
const SHIPPED_MANIFEST: &str = "configs/hive.toml";

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Console-protocol listen address.
    #[arg(long, default_value = "127.0.0.1:31337")]
    pub console_addr: SocketAddr,
    /// Secure9P listen address [default: 127.0.0.1:564, or 127.0.0.1:5640 when 564 needs
    /// privileges this process lacks].
    #[arg(long)]
    pub ninep_addr: Option<SocketAddr>,
    /// Console port on the console address's host (0: any free port).
    #[arg(long)]
    pub console_port: Option<u16>,
    /// Secure9P port on the Secure9P address's host (0: any free port).
    #[arg(long)]
    pub ninep_port: Option<u16>,
    /// Where the token, key and queen ticket live (default: $COHESIX_STATE_DIR,
    /// $XDG_STATE_HOME/cohesix or ~/.local/state/cohesix).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Console token file (default: <state-dir>/console.token, generated if absent).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Hive key file (default: <state-dir>/hive.key, generated if absent).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Manifest (default: ./configs/hive.toml if present, else the reference defaults).
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Do not run heartbeat agents for spawned workers (they stay PENDING until something
    /// else attaches with their tickets).
    #[arg(long)]
    pub no_agents: bool,
    /// Heartbeat period of the hosted agents.
    #[arg(long, default_value_t = 5_000)]
    pub heartbeat_ms: u64,
    /// Serve the serial console (queen without a ticket) on stdin/stdout.
    #[arg(long)]
    pub serial: bool,
    /// Keep the hive's store (its journal) in this directory (default: <state-dir>/store).
    #[arg(long)]
    pub store_dir: Option<PathBuf>,
    /// Keep the store in memory: a throwaway hive whose journal ends with the process.
    #[arg(long, conflicts_with = "store_dir")]
    pub memory_store: bool,
    /// Do not print hive events to stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// A configuration ready to start, and where its secrets are.
pub struct Provisioned {
    pub config: ServeConfig,
    pub state_dir: PathBuf,
    pub token_file: PathBuf,
    pub key_file: PathBuf,
    pub queen_ticket_file: PathBuf,
}

/// The manifest at `path`, else the shipped one if present, else the reference defaults.
pub fn load_manifest(path: Option<&Path>) -> Result<Manifest> {
    let load = |p: &Path| Manifest::load(p).map_err(|e| anyhow!("manifest {}: {e:?}", p.display()));
    match path {
        Some(path) => load(path),
        None if Path::new(SHIPPED_MANIFEST).exists() => load(Path::new(SHIPPED_MANIFEST)),
        None => Ok(Manifest::default()),
    }
}

/// Reads `given`, or the state directory's file, generating the latter when absent.
fn secret(
    given: Option<&PathBuf>,
    default: PathBuf,
    make: fn() -> Result<String>,
) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.clone());
    }
    if !default.exists() {
        creds::write_secret(&default, &make()?)?;
    }
    Ok(default)
}

pub fn provision(args: &ServeArgs) -> Result<Provisioned> {
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(creds::default_state_dir);
    creds::ensure_state_dir(&state_dir)?;
    let token_file = secret(
        args.token_file.as_ref(),
        state_dir.join(TOKEN_FILE),
        creds::generate_token,
    )?;
    let key_file = secret(
        args.key_file.as_ref(),
        state_dir.join(KEY_FILE),
        creds::generate_key_file,
    )?;
    let token = creds::read_line(&token_file)?;
    let keys = creds::read_keyring(&key_file)?;
    let hive_id = creds::hive_id_in(&state_dir)?;
    let queen_ticket_file = state_dir.join(QUEEN_TICKET_FILE);
    creds::write_secret(&queen_ticket_file, &queen_ticket(&keys, hive_id)?)?;
    let mut console_addr = args.console_addr;
    if let Some(port) = args.console_port {
        console_addr.set_port(port);
    }
    let chosen = args.ninep_addr.is_some() || args.ninep_port.is_some();
    let mut ninep_addr = args.ninep_addr.unwrap_or(DEFAULT_NINEP);
    if let Some(port) = args.ninep_port {
        ninep_addr.set_port(port);
    }
    let config = ServeConfig {
        console_addr,
        ninep_addr,
        manifest: load_manifest(args.manifest.as_deref())?,
        keys,
        token,
        serial: args.serial,
        agents: (!args.no_agents).then_some(AgentOptions {
            heartbeat_ms: args.heartbeat_ms,
        }),
        ninep_fallback: (!chosen).then_some(FALLBACK_NINEP),
        store_dir: (!args.memory_store).then(|| {
            args.store_dir
                .clone()
                .unwrap_or_else(|| state_dir.join("store"))
        }),
        log_events: !args.quiet,
        hive_id,
    };
    Ok(Provisioned {
        config,
        state_dir,
        token_file,
        key_file,
        queen_ticket_file,
    })
}

/// A queen ticket for `hive_id` under the active key, valid for 30 days from now.
pub fn queen_ticket(keys: &Keyring, hive_id: u64) -> Result<String> {
    let key_id = keys.active_id().context("the key file has no key")?;
    let claims = Claims::new(
        key_id,
        creds::random_ticket_id()?,
        Role::Queen,
        "operator",
        creds::wall_ms(),
        QUEEN_TTL_MS,
    )
    .for_hive(hive_id);
    ticket::mint(keys, &claims).map_err(|e| anyhow!("cannot mint the queen ticket: {}", e.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn provisions_once_and_keeps_secrets_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().to_str().unwrap();
        let cli = Cli::parse_from([
            "serve",
            "--state-dir",
            state,
            "--ninep-port",
            "0",
            "--quiet",
        ]);
        let first = provision(&cli.serve).unwrap();
        assert_eq!(first.config.ninep_addr.port(), 0);
        assert_eq!(first.config.ninep_fallback, None, "a chosen port is kept");
        let default = Cli::parse_from(["serve", "--state-dir", state]);
        let default = provision(&default.serve).unwrap().config;
        assert_eq!(default.ninep_addr.port(), 564);
        assert_eq!(default.ninep_fallback.map(|a| a.port()), Some(5640));
        assert_eq!(first.config.console_addr.port(), 31337);
        assert!(!first.config.log_events);
        let token = creds::read_line(&first.token_file).unwrap();
        assert_eq!(token.len(), 64);
        let again = provision(&cli.serve).unwrap();
        assert_eq!(creds::read_line(&again.token_file).unwrap(), token);
        let ticket = creds::read_line(&again.queen_ticket_file).unwrap();
        let claims = ticket::verify(&again.config.keys, &ticket, 1024, 0).unwrap();
        assert_eq!(claims.role, Role::Queen);
    }
}
