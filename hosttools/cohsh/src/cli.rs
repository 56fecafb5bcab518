//! The command line. Flags of the original Cohesix cohsh (`--transport tcp`, `--tcp-host`,
//! `--tcp-port`) are accepted as aliases, so existing runbooks keep working.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use client::Timeouts;

use crate::creds::{self, QUEEN_TICKET_FILE, TOKEN_FILE};
use crate::mint::MintArgs;
use crate::serve::ServeArgs;
use crate::session::{Target, Transport};

#[derive(Debug, Parser)]
#[command(
    name = "cohsh",
    version,
    about = "The operator shell of a Cohesix hive",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Print every reply as one JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// `.coh` scripts to run (with EXPECT/WAIT); without any, an interactive shell, or the
    /// commands on stdin when it is not a terminal.
    pub scripts: Vec<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Sub>,
}

#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Run a hosted hive on this machine (real sockets, heartbeat agents for spawned workers).
    Serve(ServeArgs),
    /// Mint a ticket with an operator key file.
    Mint {
        #[command(flatten)]
        args: MintArgs,
        /// Print the claims as JSON next to the ticket.
        #[arg(long)]
        json: bool,
    },
    /// GPU leases: list, lease, release, status (docs/interfaces.md §8.4).
    Gpu(crate::gpu::GpuArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ConnArgs {
    /// console (TCP 31337; `tcp` also accepted) or 9p (Secure9P, TCP 564).
    #[arg(long, default_value = "console")]
    pub transport: Transport,
    /// Hive host [default: $COHESIX_HOST, else the `attach.env` of the state directory, else
    /// 127.0.0.1].
    #[arg(long, alias = "tcp-host")]
    pub host: Option<String>,
    /// Port [default: $COHESIX_CONSOLE_PORT / $COHESIX_NINEP_PORT, else `attach.env`, else
    /// 31337 for console and 564 for 9p].
    #[arg(long, alias = "tcp-port")]
    pub port: Option<u16>,
    /// Role to attach as.
    #[arg(long, default_value = "queen")]
    pub role: String,
    /// Ticket text. Other users can read a command line: prefer --ticket-file or
    /// $COHSH_TICKET (default: $COHSH_TICKET or $COHESIX_TICKET, or the queen ticket in the
    /// state directory).
    #[arg(long)]
    pub ticket: Option<String>,
    /// A file holding the ticket (owner-only: a file open to group or others is refused).
    #[arg(long, conflicts_with = "ticket")]
    pub ticket_file: Option<PathBuf>,
    /// Console token. Other users can read a command line: prefer --token-file or
    /// $COHSH_TOKEN (default: $COHSH_TOKEN, or the token in the state directory).
    #[arg(long)]
    pub token: Option<String>,
    /// A file holding the console token (owner-only).
    #[arg(long, conflicts_with = "token")]
    pub token_file: Option<PathBuf>,
    /// Where `cohsh serve` keeps its token and queen ticket.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Deadline for each reply, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Connection attempts before giving up (transient failures only; 250 ms back-off).
    #[arg(long, default_value_t = 1)]
    pub connect_attempts: u32,
    /// Run this command and exit (repeatable).
    #[arg(short = 'c', long = "command")]
    pub commands: Vec<String>,
}

impl ConnArgs {
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(creds::default_state_dir)
    }

    pub fn retry_backoff(&self) -> Duration {
        Duration::from_millis(250)
    }

    /// Host and port: flags, then the environment, then the state directory's `attach.env`
    /// (only when no host was named, so a remote hive never gets a local port).
    fn endpoint(&self, state: &Path) -> (String, u16) {
        let port_key = match self.transport {
            Transport::Console => "COHESIX_CONSOLE_PORT",
            Transport::NineP => "COHESIX_NINEP_PORT",
        };
        let env_port = || std::env::var(port_key).ok().and_then(|p| p.parse().ok());
        let named = self
            .host
            .clone()
            .or_else(|| std::env::var("COHESIX_HOST").ok());
        if let Some(host) = named {
            let port = self.port.or_else(env_port);
            return (host, port.unwrap_or(self.transport.default_port()));
        }
        let attach = creds::read_attach_env(state);
        let host = attach
            .get("COHESIX_HOST")
            .cloned()
            .unwrap_or_else(|| String::from("127.0.0.1"));
        let port = self
            .port
            .or_else(env_port)
            .or_else(|| attach.get(port_key).and_then(|p| p.parse().ok()))
            .unwrap_or(self.transport.default_port());
        (host, port)
    }

    /// Resolves credentials: flag, file flag, environment, then the state directory.
    pub fn target(&self) -> Result<Target> {
        let state = self.state_dir();
        let token = match (&self.token, &self.token_file) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(path)) => Some(creds::read_line(path)?),
            (None, None) => std::env::var("COHSH_TOKEN")
                .ok()
                .or_else(|| {
                    let file = std::env::var_os("COHESIX_TOKEN_FILE")?;
                    creds::read_line(Path::new(&file)).ok()
                })
                .or_else(|| creds::read_line(&state.join(TOKEN_FILE)).ok()),
        };
        let ticket = match (&self.ticket, &self.ticket_file) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(path)) => Some(creds::read_line(path)?),
            (None, None) => std::env::var("COHSH_TICKET")
                .or_else(|_| std::env::var("COHESIX_TICKET"))
                .ok()
                .or_else(|| {
                    (self.role == "queen")
                        .then(|| creds::read_line(&state.join(QUEEN_TICKET_FILE)).ok())
                        .flatten()
                }),
        };
        if self.ticket.is_some() || self.token.is_some() {
            eprintln!(
                "cohsh: note: secrets on the command line are visible to other users of this \
                 machine; prefer --ticket-file/--token-file or $COHSH_TICKET/$COHSH_TOKEN"
            );
        }
        let reply = Duration::from_millis(self.timeout_ms.max(1));
        let (host, port) = self.endpoint(&state);
        Ok(Target {
            transport: self.transport,
            host,
            port,
            role: self.role.clone(),
            ticket,
            token,
            timeouts: Timeouts {
                connect: reply.min(Duration::from_secs(5)),
                reply,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn original_flags_are_aliases() {
        let cli = Cli::parse_from([
            "cohsh",
            "--transport",
            "tcp",
            "--tcp-host",
            "10.0.0.2",
            "--tcp-port",
            "4000",
            "--token",
            "t",
            "--ticket",
            "x",
        ]);
        let target = cli.conn.target().unwrap();
        assert_eq!(target.transport, Transport::Console);
        assert_eq!(target.addr(), "10.0.0.2:4000");
        assert_eq!(target.token.as_deref(), Some("t"));
        let empty = tempfile::tempdir().unwrap();
        let state = empty.path().to_str().unwrap();
        let cli = Cli::parse_from([
            "cohsh",
            "--state-dir",
            state,
            "--transport",
            "9p",
            "pack.coh",
        ]);
        assert_eq!(cli.conn.target().unwrap().port, 564);
        assert_eq!(cli.scripts, [PathBuf::from("pack.coh")]);
        let addr = "127.0.0.1:5640".parse().unwrap();
        let file = empty.path().join("t");
        creds::write_attach_env(empty.path(), addr, addr, &file, &file).unwrap();
        let cli = Cli::parse_from(["cohsh", "--state-dir", state, "--transport", "9p"]);
        assert_eq!(cli.conn.target().unwrap().port, 5640, "from attach.env");
        let cli = Cli::parse_from(["cohsh", "--state-dir", state, "--host", "10.1.1.1"]);
        assert_eq!(
            cli.conn.target().unwrap().port,
            31337,
            "a named host ignores attach.env"
        );
        let cli = Cli::parse_from(["cohsh", "mint", "--key-file", "k", "--role", "queen"]);
        assert!(matches!(cli.command, Some(Sub::Mint { .. })));
        let cli = Cli::parse_from(["cohsh", "gpu", "--port", "4000", "release", "3"]);
        let Some(Sub::Gpu(gpu)) = cli.command else {
            panic!("gpu subcommand");
        };
        assert_eq!(gpu.conn.port, Some(4000));
        assert!(matches!(gpu.op, crate::gpu::GpuOp::Release { lease: 3 }));
    }
}
