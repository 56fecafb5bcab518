//! Command-line options shared by every subcommand.

use std::path::PathBuf;

pub struct Opts {
    pub host: String,
    pub console_port: u16,
    pub ninep_port: u16,
    pub key: Option<PathBuf>,
    pub token_file: Option<PathBuf>,
    pub platform: String,
    pub count: usize,
    pub role: String,
    pub subject: String,
    pub ttl_ms: u64,
}

impl Opts {
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut o = Opts {
            host: "127.0.0.1".into(),
            console_port: 31337,
            ninep_port: 564,
            key: None,
            token_file: None,
            platform: "qemu-virt".into(),
            count: 1000,
            role: "queen".into(),
            subject: "operator".into(),
            ttl_ms: 30 * 24 * 3_600_000,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
            let number = |v: String| {
                v.parse::<u64>()
                    .map_err(|_| format!("{flag}: not a number"))
            };
            match flag.as_str() {
                "--host" => o.host = value()?,
                "--console-port" => o.console_port = number(value()?)? as u16,
                "--ninep-port" => o.ninep_port = number(value()?)? as u16,
                "--key" => o.key = Some(value()?.into()),
                "--token-file" => o.token_file = Some(value()?.into()),
                "--platform" => o.platform = value()?,
                "--count" => o.count = number(value()?)? as usize,
                "--role" => o.role = value()?,
                "--subject" => o.subject = value()?,
                "--ttl-ms" => o.ttl_ms = number(value()?)?,
                other => return Err(format!("unknown option {other}")),
            }
        }
        Ok(o)
    }

    pub fn console_addr(&self) -> String {
        format!("{}:{}", self.host, self.console_port)
    }

    pub fn ninep_addr(&self) -> String {
        format!("{}:{}", self.host, self.ninep_port)
    }

    pub fn token(&self) -> Result<String, String> {
        let path = self.token_file.as_ref().ok_or("--token-file is required")?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(text.trim().to_string())
    }
}
