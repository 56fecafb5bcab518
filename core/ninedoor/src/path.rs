//! Path helpers shared by the 9P walk and the console's path arguments.

use alloc::vec::Vec;
use secure9p::Error;

/// Splits an absolute path into its elements, refusing anything a walk would refuse:
/// relative paths, empty, `.` or `..` elements, NUL, elements over 64 bytes, over 8 deep.
pub fn split_path(path: &str) -> Result<Vec<&str>, Error> {
    let rest = path.strip_prefix('/').ok_or(Error::Invalid)?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    let elements: Vec<&str> = rest.split('/').collect();
    if elements.len() > 16 {
        return Err(Error::TooBig);
    }
    for e in &elements {
        if e.is_empty() || *e == "." || *e == ".." || e.contains('\0') {
            return Err(Error::Invalid);
        }
        if e.len() > 64 {
            return Err(Error::TooBig);
        }
    }
    Ok(elements)
}

/// A stable 64-bit qid path for a namespace path (FNV-1a): deterministic across runs.
pub fn qid_path(path: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Joins a parent path and a child name.
pub fn join(parent: &str, name: &str) -> alloc::string::String {
    let mut out = alloc::string::String::with_capacity(parent.len() + name.len() + 1);
    out.push_str(parent);
    if !parent.ends_with('/') {
        out.push('/');
    }
    out.push_str(name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_refuses_what_walk_refuses() {
        assert_eq!(split_path("/").unwrap().len(), 0);
        assert_eq!(split_path("/proc/boot").unwrap(), ["proc", "boot"]);
        assert_eq!(split_path("/proc/boot/").unwrap(), ["proc", "boot"]);
        assert_eq!(split_path("proc"), Err(Error::Invalid));
        assert_eq!(split_path("/a/../b"), Err(Error::Invalid));
        assert_eq!(split_path("/a//b"), Err(Error::Invalid));
        let long = alloc::format!("/{}", "x".repeat(65));
        assert_eq!(split_path(&long), Err(Error::TooBig));
    }

    #[test]
    fn join_and_qid_are_stable() {
        assert_eq!(join("/", "proc"), "/proc");
        assert_eq!(join("/proc", "boot"), "/proc/boot");
        // Published FNV-1a 64-bit test vectors: qids must not change between releases, or a
        // client's cached qid paths would silently point elsewhere.
        assert_eq!(qid_path(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(qid_path("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(qid_path("foobar"), 0x8594_4171_f739_67e8);
        assert_ne!(qid_path("/proc"), qid_path("/queen"));
    }
}
