//! Where a host tool finds a hive's credentials: the state directory, the names of the files in
//! it, and the queen ticket to attach with. `cohsh` (which also provisions these files) and the
//! dashboard (which only reads them) share this one loader. Files are read as ssh reads private
//! keys ([`crate::secret`]): a symlink, or a file open to group or others, is refused with the
//! fix.

use std::io;
use std::path::{Path, PathBuf};

use crate::secret;

/// The console token, inside the state directory.
pub const TOKEN_FILE: &str = "console.token";
/// The hive key file, inside the state directory.
pub const KEY_FILE: &str = "hive.key";
/// The queen ticket `cohsh serve` writes, inside the state directory.
pub const QUEEN_TICKET_FILE: &str = "queen.ticket";
/// The hive's id (16 hex digits), inside the state directory.
pub const HIVE_ID_FILE: &str = "hive.id";
/// Where a running hive's addresses are written, as `KEY=value` lines a shell can source
/// (the QEMU boot script writes the same file into its run directory).
pub const ATTACH_ENV_FILE: &str = "attach.env";

/// `$COHESIX_STATE_DIR`, else `$XDG_STATE_HOME/cohesix`, else `~/.local/state/cohesix`.
pub fn default_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("COHESIX_STATE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("cohesix");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/state/cohesix"),
        None => PathBuf::from(".cohesix"),
    }
}

/// The first non-empty line of a secret file, trimmed (tokens and tickets). A symlink, a file
/// open to group or others, or an empty file is refused.
pub fn read_line(path: &Path) -> io::Result<String> {
    let text = secret::read_secret(path)?;
    match text.lines().map(str::trim).find(|l| !l.is_empty()) {
        Some(line) => Ok(line.to_string()),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is empty", path.display()),
        )),
    }
}

/// A ticket and where it came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub ticket: String,
    pub from: String,
}

/// Resolves the queen ticket: `ticket`, then `file`, then `$COHESIX_TICKET` / `$COHSH_TICKET`,
/// then `<state_dir>/queen.ticket`.
pub fn find_ticket(
    ticket: Option<&str>,
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    state_dir: &Path,
) -> Result<Found, String> {
    let found = |ticket: &str, from: String| Found {
        ticket: ticket.trim().to_string(),
        from,
    };
    if let Some(t) = ticket.filter(|t| !t.trim().is_empty()) {
        return Ok(found(t, String::from("--ticket")));
    }
    if let Some(path) = file {
        let line = read_line(path).map_err(|e| format!("ticket file: {e}"))?;
        return Ok(found(&line, path.display().to_string()));
    }
    for var in ["COHESIX_TICKET", "COHSH_TICKET"] {
        if let Some(t) = env(var).filter(|t| !t.trim().is_empty()) {
            return Ok(found(&t, format!("${var}")));
        }
    }
    let path = state_dir.join(QUEEN_TICKET_FILE);
    match read_line(&path) {
        Ok(line) => Ok(found(&line, path.display().to_string())),
        // A file that is there but refused says why, not that there is none.
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Err(e.to_string()),
        _ => Err(format!(
            "no queen ticket: pass --ticket or --ticket-file, set COHESIX_TICKET, or start \
             `cohsh serve` so that {} exists",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_of_sources() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let none = |_: &str| None;
        assert!(find_ticket(None, None, &none, dir).is_err());
        let write = |path: &Path, text: &str| secret::write_secret(path, text.as_bytes());
        write(&dir.join(QUEEN_TICKET_FILE), "state-ticket\n").unwrap();
        assert_eq!(
            find_ticket(None, None, &none, dir).unwrap().ticket,
            "state-ticket"
        );
        let env = |v: &str| (v == "COHSH_TICKET").then(|| String::from("env-ticket"));
        assert_eq!(
            find_ticket(None, None, &env, dir).unwrap().ticket,
            "env-ticket"
        );
        let file = dir.join("t");
        write(&file, " file-ticket \nrest").unwrap();
        let got = find_ticket(None, Some(&file), &env, dir).unwrap();
        assert_eq!(got.ticket, "file-ticket");
        assert_eq!(
            find_ticket(Some("flag"), Some(&file), &env, dir)
                .unwrap()
                .ticket,
            "flag"
        );
        write(&dir.join("empty"), "\n").unwrap();
        assert!(read_line(&dir.join("empty")).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let loose = std::fs::Permissions::from_mode(0o644);
            std::fs::set_permissions(&file, loose).unwrap();
            let err = find_ticket(None, Some(&file), &env, dir).unwrap_err();
            assert!(err.contains("chmod 600"), "{err}");
            let link = dir.join("link");
            std::os::unix::fs::symlink(dir.join(QUEEN_TICKET_FILE), &link).unwrap();
            let err = find_ticket(None, Some(&link), &env, dir).unwrap_err();
            assert!(err.contains("symbolic link"), "{err}");
        }
    }
}
