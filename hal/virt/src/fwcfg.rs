//! QEMU's fw_cfg device: named blobs passed with `-fw_cfg name=opt/...,file=...`. The image
//! reads its provisioning from here on the virt machine. Reads go a byte at a time through
//! the data register: the blobs are small and this needs no DMA.

use alloc::vec::Vec;

use crate::mmio::Regs;

const KEY_SIGNATURE: u16 = 0x0000;
const KEY_FILE_DIR: u16 = 0x0019;
/// Directory entries examined at most, whatever the device claims.
const DIR_ENTRIES_MAX: u32 = 4096;
const NAME_LEN: usize = 56;

/// Byte access to a fw_cfg device: pick an item, then read it from the start.
pub trait FwCfgPort {
    fn select(&mut self, key: u16);
    fn read_byte(&mut self) -> u8;
}

/// The MMIO interface: data register at +0, big-endian selector at +8.
#[derive(Debug)]
pub struct MmioFwCfg {
    regs: Regs,
}

impl MmioFwCfg {
    /// # Safety
    /// `base` must be the fw_cfg MMIO block, mapped as device memory.
    pub const unsafe fn new(base: usize) -> Self {
        Self {
            regs: unsafe { Regs::new(base) },
        }
    }
}

impl FwCfgPort for MmioFwCfg {
    fn select(&mut self, key: u16) {
        self.regs.write16(8, key.to_be());
    }

    fn read_byte(&mut self) -> u8 {
        self.regs.read8(0)
    }
}

/// A file in the fw_cfg directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FwFile {
    pub key: u16,
    pub size: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FwCfgError {
    /// No fw_cfg device answers (its signature is not "QEMU").
    NoDevice,
    /// No file of that name was passed.
    Absent,
    /// The file is larger than the caller accepts.
    TooBig { size: u32, max: usize },
}

pub struct FwCfg<P> {
    port: P,
}

impl<P: FwCfgPort> FwCfg<P> {
    /// The device behind `port`, if its signature reads "QEMU".
    pub fn probe(mut port: P) -> Result<Self, FwCfgError> {
        port.select(KEY_SIGNATURE);
        let mut sig = [0u8; 4];
        for b in &mut sig {
            *b = port.read_byte();
        }
        if &sig != b"QEMU" {
            return Err(FwCfgError::NoDevice);
        }
        Ok(Self { port })
    }

    fn read_be(&mut self, n: usize) -> u64 {
        (0..n).fold(0, |acc, _| (acc << 8) | u64::from(self.port.read_byte()))
    }

    /// Looks `name` up in the file directory.
    pub fn find(&mut self, name: &str) -> Option<FwFile> {
        self.port.select(KEY_FILE_DIR);
        let count = (self.read_be(4) as u32).min(DIR_ENTRIES_MAX);
        for _ in 0..count {
            let size = self.read_be(4) as u32;
            let key = self.read_be(2) as u16;
            let _reserved = self.read_be(2);
            let mut raw = [0u8; NAME_LEN];
            for b in &mut raw {
                *b = self.port.read_byte();
            }
            let len = raw.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
            if &raw[..len] == name.as_bytes() {
                return Some(FwFile { key, size });
            }
        }
        None
    }

    /// The whole file `name`, refused if it is larger than `max` bytes.
    pub fn read_file(&mut self, name: &str, max: usize) -> Result<Vec<u8>, FwCfgError> {
        let file = self.find(name).ok_or(FwCfgError::Absent)?;
        if file.size as usize > max {
            return Err(FwCfgError::TooBig {
                size: file.size,
                max,
            });
        }
        self.port.select(file.key);
        Ok((0..file.size).map(|_| self.port.read_byte()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::vec;

    /// A fw_cfg device in memory: items by key, read from the start after each select.
    #[derive(Default)]
    struct FakePort {
        items: BTreeMap<u16, Vec<u8>>,
        current: Vec<u8>,
        cursor: usize,
    }

    impl FwCfgPort for FakePort {
        fn select(&mut self, key: u16) {
            self.current = self.items.get(&key).cloned().unwrap_or_default();
            self.cursor = 0;
        }

        fn read_byte(&mut self) -> u8 {
            let b = self.current.get(self.cursor).copied().unwrap_or(0);
            self.cursor += 1;
            b
        }
    }

    fn device(files: &[(&str, u16, &[u8])]) -> FakePort {
        let mut port = FakePort::default();
        port.items.insert(KEY_SIGNATURE, b"QEMU".to_vec());
        let mut dir = (files.len() as u32).to_be_bytes().to_vec();
        for (name, key, data) in files {
            dir.extend((data.len() as u32).to_be_bytes());
            dir.extend(key.to_be_bytes());
            dir.extend([0, 0]);
            let mut raw = vec![0u8; NAME_LEN];
            raw[..name.len()].copy_from_slice(name.as_bytes());
            dir.extend(raw);
            port.items.insert(*key, data.to_vec());
        }
        port.items.insert(KEY_FILE_DIR, dir);
        port
    }

    #[test]
    fn reads_a_named_file() {
        let port = device(&[
            ("etc/boot-fail-wait", 0x20, b"\x00\x00"),
            ("opt/cohesix/provision", 0x21, b"cohesix-provision 1\n"),
        ]);
        let mut fw = FwCfg::probe(port).unwrap();
        assert_eq!(
            fw.find("opt/cohesix/provision"),
            Some(FwFile {
                key: 0x21,
                size: 20
            })
        );
        assert_eq!(
            fw.read_file("opt/cohesix/provision", 64).unwrap(),
            b"cohesix-provision 1\n"
        );
    }

    #[test]
    fn absent_and_oversized_files_are_refused() {
        let port = device(&[("opt/cohesix/provision", 0x21, &[7u8; 100])]);
        let mut fw = FwCfg::probe(port).unwrap();
        assert_eq!(fw.read_file("opt/other", 64), Err(FwCfgError::Absent));
        assert_eq!(
            fw.read_file("opt/cohesix/provision", 64),
            Err(FwCfgError::TooBig { size: 100, max: 64 })
        );
        assert_eq!(fw.find("opt/cohesix/provisio"), None, "names match whole");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_directories_never_panic(dir in proptest::collection::vec(proptest::num::u8::ANY, 0..2048),
                                             max in 0usize..512) {
            let mut port = FakePort::default();
            port.items.insert(KEY_SIGNATURE, b"QEMU".to_vec());
            port.items.insert(KEY_FILE_DIR, dir);
            let mut fw = FwCfg::probe(port).unwrap();
            if let Ok(data) = fw.read_file("opt/cohesix/provision", max) {
                proptest::prop_assert!(data.len() <= max);
            }
        }
    }

    #[test]
    fn a_missing_device_is_reported() {
        assert_eq!(
            FwCfg::probe(FakePort::default()).err(),
            Some(FwCfgError::NoDevice)
        );
    }
}
