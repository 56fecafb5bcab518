//! Path arguments: absolute, bounded, with no `.`/`..` and no empty or control-character names.
//! The bounds mirror the Secure9P walk limits so the console never asks for what 9P refuses.

/// Longest path accepted by a console verb.
pub const PATH_MAX: usize = 240;
/// Longest single name in a path (docs/interfaces.md §3.3).
pub const NAME_MAX: usize = 64;
/// Most names in one path (the Secure9P walk depth).
pub const DEPTH_MAX: usize = 8;

/// Checks a path and returns it without a trailing slash (the root stays `/`). The error is
/// the `detail=` tag of the refusal.
pub fn check_path(path: &str) -> Result<&str, &'static str> {
    if !path.starts_with('/') {
        return Err("path-relative");
    }
    if path.len() > PATH_MAX {
        return Err("path-too-long");
    }
    let trimmed = match path.trim_end_matches('/') {
        "" => return Ok("/"),
        rest => rest,
    };
    let mut depth = 0;
    for name in trimmed[1..].split('/') {
        depth += 1;
        match name {
            "" => return Err("path-empty-name"),
            "." | ".." => return Err("path-dot"),
            _ if name.len() > NAME_MAX => return Err("path-too-long"),
            _ if name.chars().any(|c| c.is_control() || c.is_whitespace()) => {
                return Err("path-char")
            }
            _ => {}
        }
    }
    if depth > DEPTH_MAX {
        return Err("path-too-deep");
    }
    Ok(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_trailing_slash() {
        assert_eq!(check_path("/"), Ok("/"));
        assert_eq!(check_path("//"), Ok("/"));
        assert_eq!(check_path("/log/"), Ok("/log"));
        assert_eq!(check_path("/a//b"), Err("path-empty-name"));
    }
}
