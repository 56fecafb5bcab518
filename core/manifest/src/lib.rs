//! The hive manifest (`configs/hive.toml`): every limit the core enforces, as plain structs.
//! It is parsed and validated once at start-up; the core only ever sees a validated `Manifest`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod bounds;
mod sections;

pub use bounds::{
    ManifestError, BOUNDS, LOG_RING_MIN, SECURE9P_MSIZE_MAX, SECURE9P_MSIZE_MIN, SECURE9P_NAME_MAX,
    SECURE9P_WALK_DEPTH_MAX, TELEMETRY_RECORD_MAX, TELEMETRY_RING_MIN,
};
pub use sections::*;

impl Manifest {
    /// Checks every field against its bound; the first violation is reported by name.
    pub fn validate(&self) -> Result<(), ManifestError> {
        for bound in BOUNDS {
            let value = (bound.get)(self);
            if value < bound.min || value > bound.max {
                return Err(ManifestError::OutOfRange {
                    field: bound.field,
                    value,
                    min: bound.min,
                    max: bound.max,
                });
            }
        }
        bounds::check_relations(self)
    }

    /// Parses TOML text and validates it. Unknown fields are errors.
    #[cfg(feature = "std")]
    pub fn from_toml_str(text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| ManifestError::Parse(alloc::format!("{e}")))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Reads, parses and validates a manifest file.
    #[cfg(feature = "std")]
    pub fn load(path: &std::path::Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ManifestError::Parse(alloc::format!("cannot read {}: {e}", path.display()))
        })?;
        Self::from_toml_str(&text)
    }

    /// A short stable fingerprint of every bound (FNV-1a over field=value pairs), reported by
    /// `/proc/boot` so operators can tell two hives' manifests apart at a glance.
    pub fn fingerprint(&self) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        eat(self.hive.name.as_bytes());
        for bound in BOUNDS {
            eat(bound.field.as_bytes());
            eat(&(bound.get)(self).to_le_bytes());
        }
        for (name, on) in self.features.list() {
            eat(name.as_bytes());
            eat(&[u8::from(on)]);
        }
        hash
    }
}

#[cfg(test)]
mod tests;
