//! An in-memory Ethernet wire between two `NetDevice` ends, for tests and host-side runs.
//!
//! Each direction queues at most `capacity` frames: a full queue is what descriptor
//! exhaustion looks like to the stack (`can_transmit` is false). The link can be cut and
//! restored, and raw frames can be injected, to prove the adapter survives all of it.

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::device::{DeviceError, NetDevice, ETHERNET_FRAME_MAX};

#[derive(Debug, Default)]
struct Lane {
    frames: VecDeque<Vec<u8>>,
}

#[derive(Debug)]
struct WireState {
    lanes: [Lane; 2],
    capacity: usize,
    link_up: bool,
    dropped: u64,
    delivered: u64,
}

/// A handle on the wire itself: link state, queue depth, counters, frame injection.
#[derive(Debug, Clone)]
pub struct Wire {
    state: Rc<RefCell<WireState>>,
}

/// One end of the wire; implements `NetDevice`.
#[derive(Debug, Clone)]
pub struct WireEnd {
    state: Rc<RefCell<WireState>>,
    side: usize,
    mac: [u8; 6],
}

impl Wire {
    /// A wire queueing at most `capacity` frames per direction, and its two ends with MACs
    /// `02:00:00:00:00:01` and `02:00:00:00:00:02`.
    pub fn new(capacity: usize) -> (Wire, WireEnd, WireEnd) {
        let state = Rc::new(RefCell::new(WireState {
            lanes: [Lane::default(), Lane::default()],
            capacity,
            link_up: true,
            dropped: 0,
            delivered: 0,
        }));
        let end = |side: usize| WireEnd {
            state: state.clone(),
            side,
            mac: [0x02, 0, 0, 0, 0, side as u8 + 1],
        };
        let (a, b) = (end(0), end(1));
        (Wire { state }, a, b)
    }

    /// Cuts (`false`) or restores (`true`) the link. Cutting drops every frame in flight.
    pub fn set_link(&self, up: bool) {
        let mut state = self.state.borrow_mut();
        state.link_up = up;
        if !up {
            let in_flight: usize = state.lanes.iter().map(|l| l.frames.len()).sum();
            state.dropped += in_flight as u64;
            for lane in &mut state.lanes {
                lane.frames.clear();
            }
        }
    }

    /// Changes how many frames each direction may queue.
    pub fn set_capacity(&self, capacity: usize) {
        self.state.borrow_mut().capacity = capacity;
    }

    /// Puts a raw frame in front of end `to` (0 or 1), bypassing the capacity bound.
    pub fn inject(&self, to: usize, frame: &[u8]) {
        let mut state = self.state.borrow_mut();
        if let Some(lane) = state.lanes.get_mut(to) {
            lane.frames.push_back(frame.to_vec());
        }
    }

    /// Frames lost to a cut link or an oversized delivery.
    pub fn dropped(&self) -> u64 {
        self.state.borrow().dropped
    }

    /// Frames handed to a receiver.
    pub fn delivered(&self) -> u64 {
        self.state.borrow().delivered
    }

    /// Frames waiting in both directions.
    pub fn in_flight(&self) -> usize {
        self.state
            .borrow()
            .lanes
            .iter()
            .map(|l| l.frames.len())
            .sum()
    }
}

impl NetDevice for WireEnd {
    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn receive(&mut self, buf: &mut [u8]) -> Option<usize> {
        let mut state = self.state.borrow_mut();
        loop {
            let frame = state.lanes[self.side].frames.pop_front()?;
            if frame.len() > buf.len() {
                state.dropped += 1;
                continue;
            }
            buf[..frame.len()].copy_from_slice(&frame);
            state.delivered += 1;
            return Some(frame.len());
        }
    }

    fn can_transmit(&mut self) -> bool {
        let state = self.state.borrow();
        state.lanes[1 - self.side].frames.len() < state.capacity
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<(), DeviceError> {
        let mut state = self.state.borrow_mut();
        if !state.link_up {
            state.dropped += 1;
            return Err(DeviceError::Down);
        }
        if frame.len() > ETHERNET_FRAME_MAX {
            state.dropped += 1;
            return Err(DeviceError::Busy);
        }
        let capacity = state.capacity;
        let lane = &mut state.lanes[1 - self.side];
        if lane.frames.len() >= capacity {
            return Err(DeviceError::Busy);
        }
        lane.frames.push_back(frame.to_vec());
        Ok(())
    }
}
