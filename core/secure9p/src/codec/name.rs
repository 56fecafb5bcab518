//! Path-element validation shared by `Twalk`, `Tlcreate` and the session engine.

use crate::Error;

/// Accepts one path element: 1..=`name_max` bytes of UTF-8 with no NUL or `/`, and neither
/// `.` nor `..` (the namespace is walked one real child at a time, never upwards).
pub fn validate_name(raw: &[u8], name_max: u32) -> Result<&str, Error> {
    if raw.is_empty() {
        return Err(Error::Invalid);
    }
    if raw.len() > name_max as usize {
        return Err(Error::TooBig);
    }
    let name = core::str::from_utf8(raw).map_err(|_| Error::Invalid)?;
    if name == "." || name == ".." || raw.iter().any(|&b| b == 0 || b == b'/') {
        return Err(Error::Invalid);
    }
    Ok(name)
}
