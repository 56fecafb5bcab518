//! The root-task runtime on aarch64 seL4: the entry point, the syscall stubs, the
//! [`Kernel`] implementation over them, and a debug console. Built only with the `sel4`
//! feature on aarch64; the ABI numbers come from `abi::CURRENT` (read from the seL4 build).

use core::arch::{asm, global_asm};

use crate::abi::{Abi, CURRENT};
use crate::bootinfo::{CAP_INIT_THREAD_CNODE, CAP_INIT_THREAD_VSPACE, CAP_IRQ_CONTROL};
use crate::devmap::{Kernel, Memory, ObjectKind};
use crate::invocation::{Invocation, ATTR_DEVICE_XN, ATTR_NORMAL_XN, IPC_BUFFER_WORDS};
use crate::msginfo::{CapRights, MessageInfo, Sel4Error};

/// Stack of the root task's only thread.
pub const STACK_SIZE: usize = 256 * 1024;

// The kernel starts the root task at its ELF entry with the boot-info pointer in x0 and no
// stack. `_sel4_start` sets one up and calls `cohesix_sel4_main(bootinfo)`, which the image
// defines and which never returns.
global_asm!(
    ".section .bss.cohesix_sel4_stack, \"aw\", @nobits",
    ".balign 16",
    "cohesix_sel4_stack_bottom:",
    ".space {size}",
    "cohesix_sel4_stack_top:",
    ".section .text._sel4_start, \"ax\"",
    ".global _sel4_start",
    "_sel4_start:",
    "    adrp x1, cohesix_sel4_stack_top",
    "    add x1, x1, :lo12:cohesix_sel4_stack_top",
    "    mov sp, x1",
    "    bl cohesix_sel4_main",
    "1:  wfe",
    "    b 1b",
    size = const STACK_SIZE,
);

/// `seL4_Call`: sends `inv` and waits for the reply, returning the reply's message info.
///
/// # Safety
/// `ipc` must be the calling thread's IPC buffer.
pub unsafe fn call(abi: &Abi, inv: &Invocation, ipc: *mut [u64; IPC_BUFFER_WORDS]) -> MessageInfo {
    // SAFETY: the caller's contract.
    unsafe { call_mr0(abi, inv, ipc) }.0
}

/// `seL4_Call` returning the reply's message info and its first message register.
///
/// # Safety
/// `ipc` must be the calling thread's IPC buffer.
pub unsafe fn call_mr0(
    abi: &Abi,
    inv: &Invocation,
    ipc: *mut [u64; IPC_BUFFER_WORDS],
) -> (MessageInfo, u64) {
    // SAFETY: the caller guarantees `ipc` is this thread's mapped IPC buffer.
    unsafe { inv.write_ipc(&mut *ipc) };
    let [x0, x1, x2, x3, x4, x5] = inv.registers();
    let info: u64;
    let mr0: u64;
    // SAFETY: the seL4 aarch64 syscall convention (libsel4 `arm_sys_send_recv`): the kernel
    // reads x0..x5 and x7 and returns badge, info and MR0..3 in x0..x5; memory may change
    // (the IPC buffer), which the "memory" clobber (default for asm!) covers.
    unsafe {
        asm!(
            "svc #0",
            inout("x0") x0 => _,
            inout("x1") x1 => info,
            inout("x2") x2 => mr0,
            inout("x3") x3 => _,
            inout("x4") x4 => _,
            inout("x5") x5 => _,
            in("x7") abi.sys_call,
            options(nostack),
        )
    };
    (MessageInfo(info), mr0)
}

/// `seL4_Yield`.
pub fn yield_now(abi: &Abi) {
    // SAFETY: Yield takes no arguments and touches no user memory.
    unsafe { asm!("svc #0", in("x7") abi.sys_yield, options(nostack)) };
}

/// `seL4_Wait` on a notification: blocks until it is signalled; returns the badge bits.
pub fn wait(abi: &Abi, notification: u64) -> u64 {
    let badge: u64;
    // SAFETY: Recv on a notification reads x0 (the capability) and returns the badge in x0
    // and a message info in x1; no user memory is written for a notification.
    unsafe {
        asm!(
            "svc #0",
            inout("x0") notification => badge,
            out("x1") _,
            out("x2") _,
            out("x3") _,
            out("x4") _,
            out("x5") _,
            in("x7") abi.sys_recv,
            options(nostack),
        )
    };
    badge
}

/// `seL4_DebugPutChar`, when the kernel has debug syscalls.
pub fn debug_put_char(abi: &Abi, c: u8) {
    if let Some(sys) = abi.sys_debug_put_char {
        // SAFETY: DebugPutChar reads x0 only.
        unsafe { asm!("svc #0", inout("x0") u64::from(c) => _, in("x7") sys, options(nostack)) };
    }
}

/// The [`Kernel`] of the root task: invocations on its own CNode and VSpace.
pub struct RootKernel {
    abi: Abi,
    ipc: *mut [u64; IPC_BUFFER_WORDS],
}

impl RootKernel {
    /// # Safety
    /// `ipc_buffer` must be the root thread's IPC buffer (`BootInfo::ipc_buffer`).
    pub unsafe fn new(ipc_buffer: u64) -> Self {
        Self {
            abi: CURRENT,
            ipc: ipc_buffer as usize as *mut [u64; IPC_BUFFER_WORDS],
        }
    }

    /// The physical address of `frame` (`seL4_ARM_Page_GetAddress`).
    pub fn page_address(&mut self, frame: u64) -> Result<u64, Sel4Error> {
        let inv = Invocation::page_get_address(&self.abi, frame);
        // SAFETY: `new`'s contract.
        let (info, paddr) = unsafe { call_mr0(&self.abi, &inv, self.ipc) };
        Sel4Error::check(info).map(|()| paddr)
    }

    /// An IRQ handler capability for `irq` (level- or edge-triggered) into root slot `dest`.
    pub fn irq_handler(&mut self, irq: u64, edge: bool, dest: u64) -> Result<(), Sel4Error> {
        let inv = Invocation::irq_get_trigger(
            &self.abi,
            CAP_IRQ_CONTROL,
            irq,
            edge,
            CAP_INIT_THREAD_CNODE,
            dest,
            64,
        );
        self.invoke(inv)
    }

    /// Delivers `handler`'s interrupt to `notification`.
    pub fn irq_set_notification(
        &mut self,
        handler: u64,
        notification: u64,
    ) -> Result<(), Sel4Error> {
        self.invoke(Invocation::irq_set_notification(
            &self.abi,
            handler,
            notification,
        ))
    }

    /// Unmasks `handler`'s interrupt after it was delivered.
    pub fn irq_ack(&mut self, handler: u64) -> Result<(), Sel4Error> {
        self.invoke(Invocation::irq_ack(&self.abi, handler))
    }

    fn invoke(&mut self, inv: Invocation) -> Result<(), Sel4Error> {
        // SAFETY: `new`'s contract.
        Sel4Error::check(unsafe { call(&self.abi, &inv, self.ipc) })
    }
}

impl Kernel for RootKernel {
    fn retype(
        &mut self,
        untyped: u64,
        kind: ObjectKind,
        size_bits: u8,
        dest: u64,
        count: u64,
    ) -> Result<(), Sel4Error> {
        let object = match kind {
            ObjectKind::Untyped => Abi::UNTYPED,
            ObjectKind::Frame => self.abi.small_page(),
            ObjectKind::LargeFrame => self.abi.large_page(),
            ObjectKind::Notification => Abi::NOTIFICATION,
            ObjectKind::PageTable => self.abi.page_table(),
        };
        // Fixed-size objects ignore size_bits; untypeds use it.
        let bits = if kind == ObjectKind::Untyped {
            u64::from(size_bits)
        } else {
            0
        };
        // node_depth 0 names the root CNode itself as the destination.
        let inv = Invocation::untyped_retype(
            &self.abi,
            untyped,
            object,
            bits,
            CAP_INIT_THREAD_CNODE,
            0,
            0,
            dest,
            count,
        );
        self.invoke(inv)
    }

    fn map_frame(&mut self, frame: u64, vaddr: u64, memory: Memory) -> Result<(), Sel4Error> {
        let attr = match memory {
            Memory::Device => ATTR_DEVICE_XN,
            Memory::Normal => ATTR_NORMAL_XN,
        };
        let inv = Invocation::page_map(
            &self.abi,
            frame,
            CAP_INIT_THREAD_VSPACE,
            vaddr,
            CapRights::READ_WRITE,
            attr,
        );
        self.invoke(inv)
    }

    fn map_table(&mut self, table: u64, vaddr: u64) -> Result<(), Sel4Error> {
        let inv = Invocation::page_table_map(&self.abi, table, CAP_INIT_THREAD_VSPACE, vaddr, 0);
        self.invoke(inv)
    }
}

/// Console output through the kernel's debug UART (`seL4_DebugPutChar`); no input. Used
/// when the kernel owns the UART (debug kernels print through it).
pub struct DebugConsole;

impl hal::Console for DebugConsole {
    fn console_read(&mut self, _buf: &mut [u8]) -> usize {
        0
    }

    fn console_write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            debug_put_char(&CURRENT, b);
        }
    }
}
