//! Marshalling of object invocations into the aarch64 syscall registers and the IPC buffer,
//! following libsel4's `arm_sys_send_recv`: x0 = destination cap, x1 = message info,
//! x2..x5 = message registers 0..3, x7 = syscall number; further message registers and
//! the extra caps go into the IPC buffer (`seL4_IPCBuffer`: tag, msg[120], userData,
//! caps_or_badges[3], receiveCNode, receiveIndex, receiveDepth).

use crate::abi::Abi;
use crate::msginfo::{CapRights, MessageInfo};

/// Message registers carried in x2..x5.
pub const REGISTER_MRS: usize = 4;
/// Word index of `msg[0]` in the IPC buffer.
pub const IPC_MSG_WORD: usize = 1;
/// Word index of `caps_or_badges[0]` in the IPC buffer (after tag, 120 MRs, userData).
pub const IPC_CAPS_WORD: usize = 1 + 120 + 1;
/// Size of the IPC buffer in words.
pub const IPC_BUFFER_WORDS: usize = IPC_CAPS_WORD + 3 + 3;
/// VM attribute: never execute (aarch64). Without the cacheable bit the kernel maps the
/// frame as device memory, which is what MMIO needs.
pub const ATTR_DEVICE_XN: u64 = 0x04;
/// VM attributes: cacheable (`seL4_ARM_PageCacheable`), never execute: normal memory for
/// the heap and DMA buffers.
pub const ATTR_NORMAL_XN: u64 = 0x01 | 0x04;

/// One invocation: the capability invoked, its message and extra caps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub dest: u64,
    pub info: MessageInfo,
    pub mrs: [u64; 8],
    pub caps: [u64; 3],
}

impl Invocation {
    fn new(dest: u64, label: u64, mrs: &[u64], caps: &[u64]) -> Self {
        let mut m = [0u64; 8];
        let mut c = [0u64; 3];
        let n = mrs.len().min(8);
        let k = caps.len().min(3);
        m[..n].copy_from_slice(&mrs[..n]);
        c[..k].copy_from_slice(&caps[..k]);
        Self {
            dest,
            info: MessageInfo::new(label, 0, k as u64, n as u64),
            mrs: m,
            caps: c,
        }
    }

    /// `seL4_Untyped_Retype(untyped, type, size_bits, root, node_index, node_depth,
    /// node_offset, num_objects)`.
    #[allow(clippy::too_many_arguments)]
    pub fn untyped_retype(
        abi: &Abi,
        untyped: u64,
        object_type: u64,
        size_bits: u64,
        root: u64,
        node_index: u64,
        node_depth: u64,
        node_offset: u64,
        num_objects: u64,
    ) -> Self {
        let mrs = [
            object_type,
            size_bits,
            node_index,
            node_depth,
            node_offset,
            num_objects,
        ];
        Self::new(untyped, abi.untyped_retype, &mrs, &[root])
    }

    /// `seL4_ARM_Page_Map(frame, vspace, vaddr, rights, attr)`.
    pub fn page_map(
        abi: &Abi,
        frame: u64,
        vspace: u64,
        vaddr: u64,
        rights: CapRights,
        attr: u64,
    ) -> Self {
        Self::new(frame, abi.arm_page_map, &[vaddr, rights.0, attr], &[vspace])
    }

    /// `seL4_ARM_PageTable_Map(table, vspace, vaddr, attr)`.
    pub fn page_table_map(abi: &Abi, table: u64, vspace: u64, vaddr: u64, attr: u64) -> Self {
        Self::new(table, abi.arm_page_table_map, &[vaddr, attr], &[vspace])
    }

    /// `seL4_ARM_Page_GetAddress(frame)`: the reply's first message register is the frame's
    /// physical address (what a device is told for DMA).
    pub fn page_get_address(abi: &Abi, frame: u64) -> Self {
        Self::new(frame, abi.arm_page_get_address, &[], &[])
    }

    /// `seL4_IRQControl_GetTrigger(irq_control, irq, trigger, root, index, depth)`: an IRQ
    /// handler capability for `irq` into slot `index` of `root` (level 0, edge 1).
    pub fn irq_get_trigger(
        abi: &Abi,
        irq_control: u64,
        irq: u64,
        edge: bool,
        root: u64,
        index: u64,
        depth: u64,
    ) -> Self {
        let mrs = [irq, u64::from(edge), index, depth & 0xff];
        Self::new(
            irq_control,
            abi.arm_irq_issue_irq_handler_trigger,
            &mrs,
            &[root],
        )
    }

    /// `seL4_IRQHandler_SetNotification(handler, notification)`.
    pub fn irq_set_notification(abi: &Abi, handler: u64, notification: u64) -> Self {
        Self::new(handler, abi.irq_set_irq_handler, &[], &[notification])
    }

    /// `seL4_IRQHandler_Ack(handler)`.
    pub fn irq_ack(abi: &Abi, handler: u64) -> Self {
        Self::new(handler, abi.irq_ack_irq, &[], &[])
    }

    /// x0..x5 as the kernel expects them.
    pub fn registers(&self) -> [u64; 6] {
        [
            self.dest,
            self.info.0,
            self.mrs[0],
            self.mrs[1],
            self.mrs[2],
            self.mrs[3],
        ]
    }

    /// The IPC-buffer words this invocation needs, as (word index, value): message
    /// registers beyond the fourth, then the extra caps.
    pub fn ipc_words(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        let len = self.info.length() as usize;
        let mrs = (REGISTER_MRS..len.min(8)).map(move |i| (IPC_MSG_WORD + i, self.mrs[i]));
        let caps =
            (0..self.info.extra_caps() as usize).map(move |i| (IPC_CAPS_WORD + i, self.caps[i]));
        mrs.chain(caps)
    }

    /// Writes [`ipc_words`](Self::ipc_words) into an IPC buffer.
    pub fn write_ipc(&self, ipc: &mut [u64; IPC_BUFFER_WORDS]) {
        for (word, value) in self.ipc_words() {
            ipc[word] = value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::TEST_ABI;
    use std::vec::Vec;

    #[test]
    fn retype_puts_four_mrs_in_registers_and_the_rest_in_the_ipc_buffer() {
        let inv = Invocation::untyped_retype(&TEST_ABI, 40, 7, 0, 2, 0, 0, 120, 1);
        assert_eq!(inv.info, MessageInfo::new(1, 0, 1, 6));
        assert_eq!(inv.registers(), [40, inv.info.0, 7, 0, 0, 0]);
        let words: Vec<_> = inv.ipc_words().collect();
        assert_eq!(words, [(5, 120), (6, 1), (IPC_CAPS_WORD, 2)]);
        let mut ipc = [0u64; IPC_BUFFER_WORDS];
        inv.write_ipc(&mut ipc);
        assert_eq!((ipc[5], ipc[6], ipc[122]), (120, 1, 2));
        assert_eq!(
            IPC_BUFFER_WORDS, 128,
            "seL4_IPCBuffer is 2^10 bytes on 64-bit"
        );
    }

    #[test]
    fn page_map_fits_in_registers_with_the_vspace_as_extra_cap() {
        let inv = Invocation::page_map(
            &TEST_ABI,
            99,
            3,
            0x10_0000,
            CapRights::READ_WRITE,
            ATTR_DEVICE_XN,
        );
        assert_eq!(inv.info, MessageInfo::new(37, 0, 1, 3));
        assert_eq!(inv.registers(), [99, inv.info.0, 0x10_0000, 0b11, 4, 0]);
        let words: Vec<_> = inv.ipc_words().collect();
        assert_eq!(words, [(IPC_CAPS_WORD, 3)]);
    }

    #[test]
    fn page_table_map_carries_vaddr_and_attributes() {
        let inv = Invocation::page_table_map(&TEST_ABI, 50, 3, 0x4000_0000, 0);
        assert_eq!(inv.info, MessageInfo::new(35, 0, 1, 2));
        assert_eq!(inv.registers()[2..4], [0x4000_0000, 0]);
    }
}
