//! With the `sel4` feature, reads the ABI numbers (syscall numbers, invocation labels, the
//! MCS switch) out of the headers an upstream seL4 build generated in `$SEL4_BUILD_DIR`, by
//! running them through the C preprocessor with that build's configuration. Those numbers
//! depend on the kernel version and configuration, so they are never hard-coded.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "src/abi_parse.rs"]
mod abi_parse;

fn main() {
    println!("cargo:rerun-if-env-changed=SEL4_BUILD_DIR");
    println!("cargo:rerun-if-changed=src/abi_parse.rs");
    if env::var_os("CARGO_FEATURE_SEL4").is_none() {
        return;
    }
    let Some(dir) = env::var_os("SEL4_BUILD_DIR").map(PathBuf::from) else {
        panic!("the `sel4` feature needs SEL4_BUILD_DIR: an seL4 build directory (see docs/hardware-platforms.md)");
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let abi = extract(&dir, &out)
        .unwrap_or_else(|e| panic!("reading the seL4 ABI from {}: {e}", dir.display()));
    fs::write(out.join("sel4_abi.rs"), abi).expect("write sel4_abi.rs");
}

/// Finds a file whose path ends with `suffix` under `dir` (bounded depth).
fn find(dir: &Path, suffix: &str, depth: u32) -> Option<PathBuf> {
    if depth == 0 {
        return None;
    }
    let mut entries: Vec<_> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in &entries {
        if path.is_file() && path.to_string_lossy().ends_with(suffix) {
            return Some(path.clone());
        }
    }
    entries
        .iter()
        .filter(|p| p.is_dir())
        .find_map(|p| find(p, suffix, depth - 1))
}

fn extract(dir: &Path, out: &Path) -> Result<String, String> {
    let need = |suffix: &str| {
        find(dir, suffix, 8).ok_or_else(|| format!("no {suffix} under the build directory"))
    };
    let config = need("gen_config/kernel/gen_config.h")?;
    let headers = [
        need("libsel4/include/sel4/syscall.h")?,
        need("libsel4/include/sel4/invocation.h")?,
        need("sel4_arch/invocation.h")?,
        need("sel4/arch/invocation.h")?,
    ];
    for h in headers.iter().chain([&config]) {
        println!("cargo:rerun-if-changed={}", h.display());
    }
    // The generated headers include each other; their bodies are concatenated with the
    // includes dropped so only the configuration header needs to resolve.
    let mut wrapper = format!("#include \"{}\"\n", config.display());
    for h in &headers {
        let text = fs::read_to_string(h).map_err(|e| e.to_string())?;
        for line in text
            .lines()
            .filter(|l| !l.trim_start().starts_with("#include"))
        {
            wrapper.push_str(line);
            wrapper.push('\n');
        }
    }
    let src = out.join("sel4_abi_wrapper.c");
    fs::write(&src, wrapper).map_err(|e| e.to_string())?;
    let cc = env::var("HOST_CC")
        .or_else(|_| env::var("CC"))
        .unwrap_or_else(|_| "cc".into());
    let pre = Command::new(cc)
        .arg("-E")
        .arg("-P")
        .arg(&src)
        .output()
        .map_err(|e| format!("running the C preprocessor: {e}"))?;
    if !pre.status.success() {
        return Err(String::from_utf8_lossy(&pre.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&pre.stdout);
    let v = abi_parse::enum_values(&text);
    let get = |n: &str| {
        v.get(n)
            .copied()
            .ok_or_else(|| format!("{n} not found in the generated headers"))
    };
    // Kernels before the unified aarch64 page-table object have separate PageUpperDirectory
    // and PageDirectory objects, which the device mapper does not create.
    if v.contains_key("ARMPageDirectoryMap") {
        return Err("this seL4 still has ARM PageDirectory objects; a kernel with the unified aarch64 PageTable object is required".into());
    }
    let cfg_text = fs::read_to_string(&config).map_err(|e| e.to_string())?;
    let mcs = cfg_text.lines().any(|l| {
        l.split_whitespace()
            .take(2)
            .eq(["#define", "CONFIG_KERNEL_MCS"])
    });
    let debug_put_char = match v.get("seL4_SysDebugPutChar") {
        Some(n) => format!("Some({n})"),
        None => "None".into(),
    };
    Ok(format!(
        "Abi {{ sys_call: {}, sys_send: {}, sys_yield: {}, sys_recv: {}, \
         sys_debug_put_char: {debug_put_char}, \
         untyped_retype: {}, arm_page_table_map: {}, arm_page_map: {}, \
         arm_page_get_address: {}, arm_irq_issue_irq_handler_trigger: {}, irq_ack_irq: {}, \
         irq_set_irq_handler: {}, mcs: {mcs} }}\n",
        get("seL4_SysCall")?,
        get("seL4_SysSend")?,
        get("seL4_SysYield")?,
        get("seL4_SysRecv")?,
        get("UntypedRetype")?,
        get("ARMPageTableMap")?,
        get("ARMPageMap")?,
        get("ARMPageGetAddress")?,
        get("ARMIRQIssueIRQHandlerTrigger")?,
        get("IRQAckIRQ")?,
        get("IRQSetIRQHandler")?,
    ))
}
