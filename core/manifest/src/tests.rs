use super::*;
use alloc::string::ToString;

#[test]
fn defaults_are_valid() {
    Manifest::default().validate().expect("defaults validate");
}

#[test]
fn every_bound_is_enforced() {
    for bound in BOUNDS {
        if bound.max == u64::from(u32::MAX) {
            continue;
        }
        let text = alloc::format!(
            "[{}]\n{} = {}\n",
            bound.field.split('.').next().unwrap(),
            bound.field.split('.').nth(1).unwrap(),
            bound.max + 1
        );
        let err = Manifest::from_toml_str(&text).unwrap_err();
        assert!(
            err.to_string().contains(bound.field),
            "{}: {err}",
            bound.field
        );
    }
}

#[test]
fn unknown_fields_are_rejected_with_their_name() {
    let err = Manifest::from_toml_str("[secure9p]\nmsize = 4096\nbogus = 1\n").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bogus"), "{text}");
}

#[test]
fn relations_are_checked() {
    let err =
        Manifest::from_toml_str("[telemetry]\nring_bytes = 512\nrecord_max = 513\n").unwrap_err();
    assert!(err.to_string().contains("record_max"), "{err}");
    let err =
        Manifest::from_toml_str("[guard]\nauth_delay_base_ms = 500\nauth_delay_cap_ms = 100\n")
            .unwrap_err();
    assert!(err.to_string().contains("auth_delay_cap_ms"), "{err}");
    let err = Manifest::from_toml_str("[guard]\nconsole_reserved = 16\n").unwrap_err();
    assert!(err.to_string().contains("console_reserved"), "{err}");
    let err = Manifest::from_toml_str("[hive]\nname = \"bad name\"\n").unwrap_err();
    assert!(err.to_string().contains("hive.name"), "{err}");
}

#[test]
fn shipped_manifest_is_valid_and_default() {
    let text = include_str!("../../../configs/hive.toml");
    let m = Manifest::from_toml_str(text).expect("configs/hive.toml validates");
    assert_eq!(m.secure9p, Secure9pLimits::default());
    assert_eq!(m.telemetry, TelemetryLimits::default());
    assert_eq!(m.guard, GuardLimits::default());
}

#[test]
fn fingerprint_changes_with_any_bound() {
    let a = Manifest::default();
    let mut b = Manifest::default();
    b.secure9p.fids_per_session = 32;
    assert_ne!(a.fingerprint(), b.fingerprint());
    assert_eq!(a.fingerprint(), Manifest::default().fingerprint());
}
