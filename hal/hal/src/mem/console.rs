//! A memory console: the test types into it and reads what the core printed.

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::Console;

#[derive(Debug, Default)]
struct ConsoleState {
    input: VecDeque<u8>,
    output: Vec<u8>,
}

/// A serial console in memory. Clones share the same input and output buffers.
#[derive(Clone, Debug, Default)]
pub struct MemConsole {
    state: Rc<RefCell<ConsoleState>>,
}

impl MemConsole {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues bytes as if typed on the serial line.
    pub fn push_input(&self, bytes: &[u8]) {
        self.state.borrow_mut().input.extend(bytes.iter().copied());
    }

    /// Input bytes not yet read by `console_read`.
    pub fn pending_input(&self) -> usize {
        self.state.borrow().input.len()
    }

    /// Everything written since the last call, leaving the output empty.
    pub fn take_output(&self) -> Vec<u8> {
        core::mem::take(&mut self.state.borrow_mut().output)
    }
}

impl Console for MemConsole {
    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        let mut state = self.state.borrow_mut();
        let n = buf.len().min(state.input.len());
        for (slot, byte) in buf.iter_mut().zip(state.input.drain(..n)) {
            *slot = byte;
        }
        n
    }

    fn console_write(&mut self, bytes: &[u8]) {
        self.state.borrow_mut().output.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_returns_zero_when_idle() {
        let mut console = MemConsole::new();
        let mut buf = [0u8; 8];
        assert_eq!(console.console_read(&mut buf), 0);
    }

    #[test]
    fn input_is_read_in_order_across_small_buffers() {
        let mut console = MemConsole::new();
        console.push_input(b"help\r\n");
        let mut buf = [0u8; 4];
        assert_eq!(console.console_read(&mut buf), 4);
        assert_eq!(&buf, b"help");
        assert_eq!(console.pending_input(), 2);
        assert_eq!(console.console_read(&mut buf), 2);
        assert_eq!(&buf[..2], b"\r\n");
        assert_eq!(console.console_read(&mut buf), 0);
    }

    #[test]
    fn output_is_taken_once() {
        let console = MemConsole::new();
        let mut writer = console.clone();
        writer.console_write(b"cohesix> ");
        writer.console_write(b"OK PING reply=pong\r\n");
        assert_eq!(console.take_output(), b"cohesix> OK PING reply=pong\r\n");
        assert!(console.take_output().is_empty());
    }
}
