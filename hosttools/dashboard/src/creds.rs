//! Finding the queen ticket to attach with, the same way `cohsh` does: a flag, a file, the
//! environment, then the state directory where `cohsh serve` writes `queen.ticket`. Ticket
//! files are read as `cohsh` reads them (`client::secret`): a symlink, or a file open to
//! group or others, is refused with the fix.

use std::path::{Path, PathBuf};

/// The file `cohsh serve` writes its queen ticket to, inside the state directory.
pub const QUEEN_TICKET_FILE: &str = "queen.ticket";

/// `$COHESIX_STATE_DIR`, `$XDG_STATE_HOME/cohesix`, or `~/.local/state/cohesix`.
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

/// Where the ticket came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub ticket: String,
    pub from: String,
}

/// Resolves the ticket: `ticket`, then `file`, then `$COHESIX_TICKET` / `$COHSH_TICKET`, then
/// `<state_dir>/queen.ticket`.
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
        let text = client::secret::read_secret(path).map_err(|e| format!("ticket file: {e}"))?;
        return Ok(found(first_line(&text), path.display().to_string()));
    }
    for var in ["COHESIX_TICKET", "COHSH_TICKET"] {
        if let Some(t) = env(var).filter(|t| !t.trim().is_empty()) {
            return Ok(found(&t, format!("${var}")));
        }
    }
    let path = state_dir.join(QUEEN_TICKET_FILE);
    match client::secret::read_secret(&path) {
        Ok(text) if !first_line(&text).is_empty() => {
            Ok(found(first_line(&text), path.display().to_string()))
        }
        // A file that is there but refused says why, not that there is none.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(e.to_string()),
        _ => Err(format!(
            "no queen ticket: pass --ticket or --ticket-file, set COHESIX_TICKET, or start \
             `cohsh serve` so that {} exists",
            path.display()
        )),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

/// The ticket's subject (the attach `uname`), or `operator` when it cannot be read.
pub fn subject_of(ticket: &str) -> String {
    ticket::decode(ticket, ticket::MAX_TEXT_LEN)
        .map(|(claims, _)| claims.subject.to_string())
        .unwrap_or_else(|_| String::from("operator"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_of_sources() {
        let dir = std::env::temp_dir().join(format!("dash-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let none = |_: &str| None;
        assert!(find_ticket(None, None, &none, &dir).is_err());
        let write = |path: &Path, text: &str| client::secret::write_secret(path, text.as_bytes());
        write(&dir.join(QUEEN_TICKET_FILE), "state-ticket\n").unwrap();
        assert_eq!(
            find_ticket(None, None, &none, &dir).unwrap().ticket,
            "state-ticket"
        );
        let env = |v: &str| (v == "COHSH_TICKET").then(|| String::from("env-ticket"));
        assert_eq!(
            find_ticket(None, None, &env, &dir).unwrap().ticket,
            "env-ticket"
        );
        let file = dir.join("t");
        write(&file, " file-ticket \nrest").unwrap();
        let got = find_ticket(None, Some(&file), &env, &dir).unwrap();
        assert_eq!(got.ticket, "file-ticket");
        assert_eq!(
            find_ticket(Some("flag"), Some(&file), &env, &dir)
                .unwrap()
                .ticket,
            "flag"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let loose = std::fs::Permissions::from_mode(0o644);
            std::fs::set_permissions(&file, loose).unwrap();
            let err = find_ticket(None, Some(&file), &env, &dir).unwrap_err();
            assert!(err.contains("chmod 600"), "{err}");
            let link = dir.join("link");
            std::os::unix::fs::symlink(dir.join(QUEEN_TICKET_FILE), &link).unwrap();
            let err = find_ticket(None, Some(&link), &env, &dir).unwrap_err();
            assert!(err.contains("symbolic link"), "{err}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(subject_of("not-a-ticket"), "operator");
    }
}
