//! The two ACPI tables the image reads on AWS: SPCR (where the serial console is) and MCFG
//! (where PCI configuration space is), found from the RSDP in the UEFI configuration table.
//! Everything is read in place, unaligned, with every length checked against its table.

use core::ptr::read_unaligned;

/// SPCR interface type of an ARM PL011.
pub const SPCR_PL011: u8 = 0x03;

const SDT_HEADER: usize = 36;

/// What the image takes from ACPI.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tables {
    /// SPCR: interface type and MMIO base of the console UART.
    pub uart: Option<(u8, u64)>,
    /// MCFG, first allocation: ECAM base and bus range.
    pub ecam: Option<(u64, u8, u8)>,
}

/// Reads `len` bytes at `addr` as a slice.
///
/// # Safety
/// `[addr, addr + len)` must be mapped and readable (UEFI identity-maps ACPI memory).
unsafe fn bytes<'a>(addr: u64, len: usize) -> &'a [u8] {
    // SAFETY: the caller's contract.
    unsafe { core::slice::from_raw_parts(addr as usize as *const u8, len) }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    // SAFETY: four bytes checked just above.
    Some(unsafe { read_unaligned(s.as_ptr() as *const u32) })
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at + 8)?;
    // SAFETY: eight bytes checked just above.
    Some(unsafe { read_unaligned(s.as_ptr() as *const u64) })
}

/// A whole system description table (header length), or `None` if implausible.
///
/// # Safety
/// `addr` must be the address of an ACPI table in mapped memory.
unsafe fn table<'a>(addr: u64) -> Option<&'a [u8]> {
    // SAFETY: the header is always there.
    let header = unsafe { bytes(addr, SDT_HEADER) };
    let len = u32_at(header, 4)? as usize;
    if !(SDT_HEADER..=1 << 20).contains(&len) {
        return None;
    }
    // SAFETY: the table says it is this long.
    Some(unsafe { bytes(addr, len) })
}

/// Walks the XSDT under the ACPI 2.0 RSDP at `rsdp`.
///
/// # Safety
/// `rsdp` must be the ACPI 2.0 RSDP from the UEFI configuration table, before or after
/// ExitBootServices (ACPI memory stays mapped).
pub unsafe fn read(rsdp: u64) -> Tables {
    let mut found = Tables::default();
    // SAFETY: the ACPI 2.0 RSDP is 36 bytes.
    let r = unsafe { bytes(rsdp, 36) };
    if &r[..8] != b"RSD PTR " || r[15] < 2 {
        return found;
    }
    let Some(xsdt_addr) = u64_at(r, 24) else {
        return found;
    };
    // SAFETY: the RSDP names the XSDT.
    let Some(xsdt) = (unsafe { table(xsdt_addr) }) else {
        return found;
    };
    if &xsdt[..4] != b"XSDT" {
        return found;
    }
    let entries = (xsdt.len() - SDT_HEADER) / 8;
    for i in 0..entries {
        let Some(addr) = u64_at(xsdt, SDT_HEADER + i * 8) else {
            break;
        };
        // SAFETY: the XSDT lists ACPI tables.
        let Some(t) = (unsafe { table(addr) }) else {
            continue;
        };
        match &t[..4] {
            b"SPCR" => {
                // Interface type at 36; the base address is a GAS at 40 (address at 44).
                if let (Some(&kind), Some(base)) = (t.get(36), u64_at(t, 44)) {
                    found.uart = Some((kind, base));
                }
            }
            b"MCFG" => {
                // 8 reserved bytes, then 16-byte allocations: base, segment, bus range.
                if let (Some(base), Some(&start), Some(&end)) =
                    (u64_at(t, 44), t.get(54), t.get(55))
                {
                    found.ecam = Some((base, start, end));
                }
            }
            _ => {}
        }
    }
    found
}
