//! The provisioning blob: the secrets and settings a boot script hands the image at boot
//! (QEMU `-fw_cfg name=opt/cohesix/provision,file=...`, or a file on the boot medium). Keys and
//! tokens are never compiled into the image; without this blob the image refuses network
//! authority and says why.
//!
//! The blob is UTF-8 text, one field per line, `#` comments and blank lines ignored:
//!
//! ```text
//! cohesix-provision 1
//! hive-key 1 <64 hex digits>       # 1..=8 lines; key ids 0..=255
//! active-key 1                     # optional; default: the first hive-key
//! console-token <16..=128 printable ASCII, no spaces>
//! seed <64 hex digits>             # optional entropy seed, fresh per boot
//! ip 10.0.2.15/24                  # optional interface address
//! gateway 10.0.2.2                 # optional default route
//! manifest                         # optional, last: the rest of the blob is the hive manifest (TOML)
//! ```
//!
//! Errors name the line and the field, never the value, so secrets do not reach the serial log.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use hal_smoltcp::Ipv4Cidr;

/// The name of the fw_cfg file QEMU carries the blob in.
pub const FW_CFG_NAME: &str = "opt/cohesix/provision";
/// Largest blob accepted (the manifest included).
pub const PROVISION_MAX: usize = 16 * 1024;
const HEADER: &str = "cohesix-provision 1";
const KEYS_MAX: usize = 8;
const LINE_MAX: usize = 256;
const TOKEN_MIN: usize = 16;
const TOKEN_MAX: usize = 128;

/// What was provisioned. `Debug` shows which secrets are present, never their bytes.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Provisioned {
    /// Hive MAC keys by key id, in blob order.
    pub keys: Vec<(u8, [u8; 32])>,
    /// The key new tickets are minted under.
    pub active_key: Option<u8>,
    pub console_token: Option<Vec<u8>>,
    pub seed: Option<[u8; 32]>,
    pub ip: Option<Ipv4Cidr>,
    pub gateway: Option<[u8; 4]>,
    /// Hive manifest TOML, if the blob carries one.
    pub manifest: Option<String>,
}

impl fmt::Debug for Provisioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<u8> = self.keys.iter().map(|(id, _)| *id).collect();
        f.debug_struct("Provisioned")
            .field("key_ids", &ids)
            .field("active_key", &self.active_key)
            .field(
                "console_token",
                &self.console_token.as_ref().map(|_| "<set>"),
            )
            .field("seed", &self.seed.map(|_| "<set>"))
            .field("ip", &self.ip)
            .field("gateway", &self.gateway)
            .field("manifest_bytes", &self.manifest.as_ref().map(String::len))
            .finish()
    }
}

/// What is wrong with one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineError {
    UnknownField,
    /// The field appeared twice (or a key id did).
    Repeated,
    TooLong,
    BadKeyId,
    BadHex,
    TooManyKeys,
    BadToken,
    BadAddress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisionError {
    TooBig,
    NotText,
    /// The first line is not `cohesix-provision 1`.
    Header,
    /// `active-key` names a key the blob does not carry.
    UnknownActiveKey,
    Line {
        line: usize,
        field: &'static str,
        error: LineError,
    },
}

impl fmt::Display for ProvisionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooBig => write!(f, "blob larger than {PROVISION_MAX} bytes"),
            Self::NotText => write!(f, "blob is not UTF-8 text"),
            Self::Header => write!(f, "first line is not `{HEADER}`"),
            Self::UnknownActiveKey => write!(f, "active-key names no provisioned hive-key"),
            Self::Line { line, field, error } => {
                let what = match error {
                    LineError::UnknownField => "unknown field",
                    LineError::Repeated => "given twice",
                    LineError::TooLong => "line too long",
                    LineError::BadKeyId => "key id must be 0..=255",
                    LineError::BadHex => "expected 64 hex digits",
                    LineError::TooManyKeys => "more than 8 keys",
                    LineError::BadToken => "token must be 16..=128 printable ASCII characters",
                    LineError::BadAddress => "expected a.b.c.d (ip: a.b.c.d/len)",
                };
                write!(f, "line {line}: {field}: {what}")
            }
        }
    }
}

/// Parses and checks a blob. The manifest text is returned unparsed.
pub fn parse(blob: &[u8]) -> Result<Provisioned, ProvisionError> {
    if blob.len() > PROVISION_MAX {
        return Err(ProvisionError::TooBig);
    }
    let text = core::str::from_utf8(blob).map_err(|_| ProvisionError::NotText)?;
    let mut lines = text.split_inclusive('\n');
    let header = lines.next().unwrap_or("");
    if header.trim_end() != HEADER {
        return Err(ProvisionError::Header);
    }
    let mut out = Provisioned::default();
    let mut consumed = header.len();
    for (index, raw) in lines.enumerate() {
        let line_no = index + 2;
        consumed += raw.len();
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (field, value) = line.split_once(' ').unwrap_or((line, ""));
        let fail = |error| ProvisionError::Line {
            line: line_no,
            field: field_name(field),
            error,
        };
        if field == "manifest" {
            out.manifest = Some(String::from(&text[consumed..]));
            break;
        }
        if raw.len() > LINE_MAX {
            return Err(fail(LineError::TooLong));
        }
        apply(&mut out, field, value.trim()).map_err(fail)?;
    }
    if let Some(active) = out.active_key {
        if !out.keys.iter().any(|(id, _)| *id == active) {
            return Err(ProvisionError::UnknownActiveKey);
        }
    }
    Ok(out)
}

/// A static name for error messages (the field as typed could be anything).
fn field_name(field: &str) -> &'static str {
    const KNOWN: [&str; 7] = [
        "hive-key",
        "active-key",
        "console-token",
        "seed",
        "ip",
        "gateway",
        "manifest",
    ];
    KNOWN.into_iter().find(|k| *k == field).unwrap_or("field")
}

fn apply(out: &mut Provisioned, field: &str, value: &str) -> Result<(), LineError> {
    fn once<T>(slot: &mut Option<T>, value: T) -> Result<(), LineError> {
        if slot.is_some() {
            return Err(LineError::Repeated);
        }
        *slot = Some(value);
        Ok(())
    }
    match field {
        "hive-key" => {
            let (id, hex) = value.split_once(' ').ok_or(LineError::BadHex)?;
            let id: u8 = id.parse().map_err(|_| LineError::BadKeyId)?;
            let key = hex32(hex.trim())?;
            if out.keys.iter().any(|(k, _)| *k == id) {
                return Err(LineError::Repeated);
            }
            if out.keys.len() >= KEYS_MAX {
                return Err(LineError::TooManyKeys);
            }
            out.keys.push((id, key));
            Ok(())
        }
        "active-key" => once(
            &mut out.active_key,
            value.parse().map_err(|_| LineError::BadKeyId)?,
        ),
        "console-token" => once(&mut out.console_token, token(value)?),
        "seed" => once(&mut out.seed, hex32(value)?),
        "ip" => {
            let (addr, len) = value.split_once('/').ok_or(LineError::BadAddress)?;
            let prefix_len: u8 = len.parse().map_err(|_| LineError::BadAddress)?;
            if prefix_len == 0 || prefix_len > 32 {
                return Err(LineError::BadAddress);
            }
            let addr = ipv4(addr)?;
            once(&mut out.ip, Ipv4Cidr { addr, prefix_len })
        }
        "gateway" => once(&mut out.gateway, ipv4(value)?),
        _ => Err(LineError::UnknownField),
    }
}

fn hex32(text: &str) -> Result<[u8; 32], LineError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).map_err(|_| LineError::BadHex)?;
    Ok(out)
}

fn token(text: &str) -> Result<Vec<u8>, LineError> {
    let ok =
        (TOKEN_MIN..=TOKEN_MAX).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(text.as_bytes().to_vec())
    } else {
        Err(LineError::BadToken)
    }
}

fn ipv4(text: &str) -> Result<[u8; 4], LineError> {
    let mut out = [0u8; 4];
    let mut parts = text.split('.');
    for byte in &mut out {
        *byte = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or(LineError::BadAddress)?;
    }
    if parts.next().is_some() {
        return Err(LineError::BadAddress);
    }
    Ok(out)
}
