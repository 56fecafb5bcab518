//! Provisioned secrets on the host: the console token, the hive key file and tickets, kept as
//! owner-only files in a 0700 state directory. Nothing here is ever built in. Secret files are
//! written and read as ssh treats private keys (`client::secret`): written atomically and
//! owner-only, never through a link; a symlinked file or one open to group or others is
//! refused with the fix.
//!
//! Key file format: one key per line, `<key_id>:<64 hex digits>` (or just the hex digits for
//! key id 1); blank lines and `#` comments are ignored. The first key listed mints.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};
use client::secret;
use ticket::Keyring;

// The state directory and its file names are the host tools' shared loader's, so `cohsh`
// provisions exactly what the dashboard reads.
pub use client::creds::{
    default_state_dir, ATTACH_ENV_FILE, HIVE_ID_FILE, KEY_FILE, QUEEN_TICKET_FILE, TOKEN_FILE,
};

/// Ticket ids minted outside the hive start here, far above the hive's own worker sequence
/// numbers, so revoking a worker can never revoke an operator's ticket by accident.
pub const OPERATOR_TICKET_ID_BASE: u64 = 1 << 40;

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no OS entropy: {e}"))?;
    Ok(bytes)
}

/// A fresh operator ticket id (`OPERATOR_TICKET_ID_BASE` plus 40 random bits).
/// Milliseconds since the Unix epoch: hive time on a hosted hive.
pub fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The hive a minted ticket is for: the `hive.id` beside the key file (a state directory
/// holds both), else the default state directory's.
pub fn default_hive_id(key_file: &Path) -> Result<u64> {
    let beside = key_file.parent().map(|dir| dir.join(HIVE_ID_FILE));
    let candidates = beside
        .into_iter()
        .chain([default_state_dir().join(HIVE_ID_FILE)]);
    for path in candidates {
        if let Ok(text) = fs::read_to_string(&path) {
            return u64::from_str_radix(text.trim(), 16)
                .with_context(|| format!("{} is not a hive id", path.display()));
        }
    }
    bail!(
        "no {HIVE_ID_FILE} beside {} or in {}: pass --hive-id (the hive's {HIVE_ID_FILE}, 16 hex digits)",
        key_file.display(),
        default_state_dir().display()
    )
}

/// The hive id in `dir`, generated (at random) and written there on first use.
pub fn hive_id_in(dir: &Path) -> Result<u64> {
    let path = dir.join(HIVE_ID_FILE);
    if let Ok(text) = fs::read_to_string(&path) {
        return u64::from_str_radix(text.trim(), 16)
            .with_context(|| format!("{} is not a hive id", path.display()));
    }
    let id = u64::from_le_bytes(random_bytes::<8>()?);
    ensure_state_dir(dir)?;
    write_secret(&path, &format!("{id:016x}"))?;
    Ok(id)
}

pub fn random_ticket_id() -> Result<u64> {
    let bytes = random_bytes::<8>()?;
    Ok(OPERATOR_TICKET_ID_BASE | (u64::from_le_bytes(bytes) & 0xFF_FFFF_FFFF))
}

/// Creates the state directory 0700, or tightens a looser one, saying so on stderr.
pub fn ensure_state_dir(dir: &Path) -> Result<()> {
    if let Some(note) = secret::ensure_private_dir(dir)? {
        eprintln!("cohsh: {note}");
    }
    Ok(())
}

/// Writes a secret readable by its owner only: a temporary file opened `O_EXCL|O_NOFOLLOW`,
/// mode 0600, synced, then renamed over `path`.
pub fn write_secret(path: &Path, contents: &str) -> Result<()> {
    let mut text = String::with_capacity(contents.len() + 1);
    text.push_str(contents);
    text.push('\n');
    Ok(secret::write_secret(path, text.as_bytes())?)
}

/// The first line of a secret file, trimmed (tokens and tickets). A symlink or a file open
/// to group or others is refused.
pub fn read_line(path: &Path) -> Result<String> {
    Ok(client::creds::read_line(path)?)
}

/// Records where a hive listens, for clients started later from the same state directory.
pub fn write_attach_env(
    state: &Path,
    console: std::net::SocketAddr,
    ninep: std::net::SocketAddr,
    token_file: &Path,
    key_file: &Path,
) -> Result<()> {
    let text = format!(
        "COHESIX_HOST={}\nCOHESIX_CONSOLE_PORT={}\nCOHESIX_NINEP_PORT={}\nCOHESIX_TOKEN_FILE={}\nCOHESIX_KEY_FILE={}\nCOHESIX_STATE_DIR={}",
        console.ip(),
        console.port(),
        ninep.port(),
        token_file.display(),
        key_file.display(),
        state.display()
    );
    write_secret(&state.join(ATTACH_ENV_FILE), &text)
}

/// The `KEY=value` lines of a state directory's `attach.env` (empty when there is none).
pub fn read_attach_env(state: &Path) -> BTreeMap<String, String> {
    let Ok(text) = fs::read_to_string(state.join(ATTACH_ENV_FILE)) else {
        return BTreeMap::new();
    };
    text.lines()
        .filter_map(|line| line.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// A new console token: 32 random bytes as hex.
pub fn generate_token() -> Result<String> {
    Ok(hex::encode(random_bytes::<32>()?))
}

/// A new key file body (key id 1).
pub fn generate_key_file() -> Result<String> {
    Ok(format!(
        "# Cohesix hive key: keep secret\n1:{}",
        hex::encode(random_bytes::<32>()?)
    ))
}

/// Parses a key file into a keyring whose active key is the first listed.
pub fn parse_keyring(text: &str) -> Result<Keyring> {
    let mut keys = Keyring::new();
    let mut first = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, hex_key) = match line.split_once(':') {
            Some((id, key)) => (
                id.trim()
                    .parse::<u8>()
                    .with_context(|| format!("line {}: key id must be 0-255", n + 1))?,
                key.trim(),
            ),
            None => (1, line),
        };
        let bytes = hex::decode(hex_key).with_context(|| format!("line {}: not hex", n + 1))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("line {}: a key is 32 bytes (64 hex digits)", n + 1))?;
        keys.insert(id, key);
        first.get_or_insert(id);
    }
    match first {
        Some(id) => {
            keys.set_active(id)
                .map_err(|e| anyhow::anyhow!("key {id}: {}", e.as_str()))?;
            Ok(keys)
        }
        None => bail!("no key in the key file"),
    }
}

/// Reads and parses a key file (refused if it is a symlink or open to group or others).
pub fn read_keyring(path: &Path) -> Result<Keyring> {
    let text = secret::read_secret(path)?;
    parse_keyring(&text).with_context(|| format!("in {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_parse_with_and_without_ids() {
        let hex64 = "ab".repeat(32);
        let keys = parse_keyring(&format!("# c\n\n{hex64}\n7:{hex64}\n")).unwrap();
        assert_eq!(keys.active_id(), Some(1));
        assert!(keys.contains(7));
        assert!(parse_keyring("").is_err());
        assert!(parse_keyring("1:abcd").is_err());
        assert!(parse_keyring(&format!("300:{hex64}")).is_err());
        let generated = generate_key_file().unwrap();
        assert_eq!(parse_keyring(&generated).unwrap().active_id(), Some(1));
    }

    #[test]
    fn secrets_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/token");
        write_secret(&path, "t0k3n").unwrap();
        assert_eq!(read_line(&path).unwrap(), "t0k3n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let addr = "127.0.0.1:5640".parse().unwrap();
        write_attach_env(dir.path(), addr, addr, &path, &path).unwrap();
        let env = read_attach_env(dir.path());
        assert_eq!(env["COHESIX_NINEP_PORT"], "5640");
        assert_eq!(env["COHESIX_HOST"], "127.0.0.1");
        assert!(read_attach_env(&dir.path().join("none")).is_empty());
        let id = random_ticket_id().unwrap();
        assert!(id >= OPERATOR_TICKET_ID_BASE);
    }

    #[cfg(unix)]
    #[test]
    fn loose_or_linked_secrets_are_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join(KEY_FILE);
        fs::write(&key, generate_key_file().unwrap()).unwrap();
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let err = format!("{:#}", read_keyring(&key).unwrap_err());
        assert!(err.contains("chmod 600") && err.contains(KEY_FILE), "{err}");
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read_keyring(&key).is_ok());
        let link = dir.path().join(TOKEN_FILE);
        std::os::unix::fs::symlink(&key, &link).unwrap();
        let err = format!("{:#}", read_line(&link).unwrap_err());
        assert!(err.contains("symbolic link"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn the_state_directory_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        fs::create_dir(&state).unwrap();
        fs::set_permissions(&state, fs::Permissions::from_mode(0o755)).unwrap();
        let id = hive_id_in(&state).unwrap();
        assert_eq!(hive_id_in(&state).unwrap(), id);
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&state.join(HIVE_ID_FILE)), 0o600);
    }
}
