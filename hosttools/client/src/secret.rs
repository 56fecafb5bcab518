//! Secret files on the host, handled as ssh handles private keys: owner-only or refused.
//!
//! Writing goes to a fresh temporary file beside the target, created exclusively without
//! following links (`O_EXCL|O_NOFOLLOW`), mode 0600, synced, then renamed over the target and
//! the directory synced: a crash leaves the old secret or the new one, a planted symlink or a
//! pre-existing loose file is never written through. Reading refuses a symbolic link and a
//! file that group or others may read or write, naming the file and the fix. Directories
//! holding secrets are made 0700; one that is looser is tightened, with a note to say so.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Permission bits a secret must not have: any access for group or others.
#[cfg(unix)]
const LOOSE_BITS: u32 = 0o077;

/// Creates `dir` (and its missing parents) 0700, or tightens an existing one that group or
/// others can reach. Returns a note for the operator when it tightened one.
pub fn ensure_private_dir(dir: &Path) -> io::Result<Option<String>> {
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a directory", dir.display()),
        )),
        Ok(meta) => tighten_dir(dir, &meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder
                .create(dir)
                .map_err(|e| with_path(e, "creating", dir))?;
            Ok(None)
        }
        Err(e) => Err(with_path(e, "reading", dir)),
    }
}

#[cfg(unix)]
fn tighten_dir(dir: &Path, meta: &fs::Metadata) -> io::Result<Option<String>> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & LOOSE_BITS == 0 {
        return Ok(None);
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(mode & 0o700)).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "{} is open to group or others (mode {mode:04o}) and holds secrets; \
                 it could not be tightened ({e}): run `chmod 700 {}`",
                dir.display(),
                dir.display()
            ),
        )
    })?;
    Ok(Some(format!(
        "tightened {} from mode {mode:04o} to {:04o}: it holds secrets",
        dir.display(),
        mode & 0o700
    )))
}

#[cfg(not(unix))]
fn tighten_dir(_dir: &Path, _meta: &fs::Metadata) -> io::Result<Option<String>> {
    Ok(None)
}

/// Writes `contents` to `path` atomically, owner-only (see the module documentation). The
/// parent directory is created 0700 if missing; an existing parent is left as it is (it may
/// be shared, like the directory of a `--ticket-file`).
pub fn write_secret(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        ensure_private_dir(&dir)?;
    }
    let (tmp, mut file) = create_temp(&dir, path)?;
    let written = file
        .write_all(contents)
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(with_path(e, "writing", path));
    }
    // The rename is durable once the directory is.
    File::open(&dir).and_then(|d| d.sync_all()).ok();
    Ok(())
}

/// A new temporary file beside `path`, created exclusively, never through a link.
fn create_temp(dir: &Path, path: &Path) -> io::Result<(PathBuf, File)> {
    static SEQUENCE: AtomicU32 = AtomicU32::new(0);
    let name = path.file_name().map_or_else(
        || String::from("secret"),
        |n| n.to_string_lossy().into_owned(),
    );
    for _ in 0..64 {
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(with_path(e, "creating", &tmp)),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("no free temporary name in {}", dir.display()),
    ))
}

/// Reads a secret file, refusing a symbolic link and a file group or others may access.
pub fn read_secret(path: &Path) -> io::Result<String> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return symlink_refused(path);
        }
        with_path(e, "reading", path)
    })?;
    // Checked on the open file, so the answer is about what is read.
    check_private(path, &file.metadata()?)?;
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| with_path(e, "reading", path))?;
    Ok(text)
}

/// Refuses anything but a regular file private to its owner.
pub fn check_private(path: &Path, meta: &fs::Metadata) -> io::Result<()> {
    if meta.file_type().is_symlink() {
        return Err(symlink_refused(path));
    }
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & LOOSE_BITS != 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} is accessible by group or others (mode {mode:04o}); a secret must be \
                     private to its owner: run `chmod 600 {}`",
                    path.display(),
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

fn symlink_refused(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "{} is a symbolic link; a secret must be a regular file (replace the link with \
             the file it points to)",
            path.display()
        ),
    )
}

fn with_path(e: io::Error, doing: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{doing} {}: {e}", path.display()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn written_secrets_are_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/token");
        write_secret(&path, b"t0k3n\n").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("state")), 0o700);
        assert_eq!(read_secret(&path).unwrap(), "t0k3n\n");
        write_secret(&path, b"again").unwrap();
        assert_eq!(read_secret(&path).unwrap(), "again");
        let leftovers = fs::read_dir(dir.path().join("state")).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }

    #[test]
    fn a_loose_existing_file_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queen.ticket");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_secret(&path).unwrap_err().to_string();
        assert!(
            err.contains("chmod 600") && err.contains("queen.ticket"),
            "{err}"
        );
        assert!(err.contains("0644"), "{err}");
        write_secret(&path, b"new").unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn symlinks_are_refused_and_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        fs::write(&target, "victim").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("hive.key");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = read_secret(&link).unwrap_err().to_string();
        assert!(
            err.contains("symbolic link") && err.contains("hive.key"),
            "{err}"
        );
        write_secret(&link, b"secret").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "victim");
        assert!(!fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[test]
    fn loose_directories_are_tightened_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        assert_eq!(ensure_private_dir(&state).unwrap(), None);
        assert_eq!(mode(&state), 0o700);
        fs::set_permissions(&state, fs::Permissions::from_mode(0o755)).unwrap();
        let note = ensure_private_dir(&state).unwrap().unwrap();
        assert!(note.contains("0755") && note.contains("0700"), "{note}");
        assert_eq!(mode(&state), 0o700);
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        assert!(ensure_private_dir(&file).is_err());
    }
}
