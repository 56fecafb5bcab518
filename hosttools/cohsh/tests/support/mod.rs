//! A hosted hive on loopback ephemeral ports, with its secrets in a temporary directory.
#![allow(dead_code)]

use std::time::Duration;

use client::Timeouts;
use cohsh::creds;
use cohsh::serve::{queen_ticket, HostedHive, ServeConfig};
use cohsh::{Session, Target, Transport};

pub const TOKEN: &str = "test-console-token";

pub struct Hive {
    pub hive: HostedHive,
    pub dir: tempfile::TempDir,
    pub keys: ticket::Keyring,
    pub queen: String,
}

impl Hive {
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    pub fn start_with(adjust: impl FnOnce(&mut ServeConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join(creds::KEY_FILE);
        creds::write_secret(&key_file, &creds::generate_key_file().unwrap()).unwrap();
        let keys = creds::read_keyring(&key_file).unwrap();
        let mut config = ServeConfig::ephemeral(keys.clone(), TOKEN);
        adjust(&mut config);
        let hive = HostedHive::start(config).unwrap();
        let queen = queen_ticket(&keys, 0).unwrap();
        Self {
            hive,
            dir,
            keys,
            queen,
        }
    }

    pub fn key_file(&self) -> std::path::PathBuf {
        self.dir.path().join(creds::KEY_FILE)
    }

    pub fn target(&self, transport: Transport) -> Target {
        let addr = match transport {
            Transport::Console => self.hive.console_addr(),
            Transport::NineP => self.hive.ninep_addr(),
        };
        Target {
            transport,
            host: addr.ip().to_string(),
            port: addr.port(),
            role: String::from("queen"),
            ticket: Some(self.queen.clone()),
            token: Some(String::from(TOKEN)),
            timeouts: Timeouts {
                connect: Duration::from_secs(5),
                reply: Duration::from_secs(10),
            },
        }
    }

    pub fn queen(&self, transport: Transport) -> Session {
        Session::open(&self.target(transport)).unwrap()
    }
}

/// Runs one cohsh command line and returns every reply line.
pub fn say(session: &mut Session, line: &str) -> Vec<String> {
    let command = cohscript::parse_command(line).unwrap();
    session.run(&command).unwrap().lines()
}

pub const BOTH: [Transport; 2] = [Transport::Console, Transport::NineP];
