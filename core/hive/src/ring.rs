//! A byte ring of whole records addressed by absolute cursors.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Records are kept whole: when a new record does not fit, the oldest records are evicted.
/// Offsets are absolute (they keep growing), so a reader can tell exactly how much it missed.
#[derive(Debug, Clone)]
pub struct Ring {
    capacity: usize,
    bytes: VecDeque<u8>,
    /// Length of each retained record, oldest first.
    records: VecDeque<u16>,
    /// Absolute offset of the oldest retained byte.
    start: u64,
}

/// What a read returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingRead {
    /// Bytes the reader missed because they were evicted before it asked (0 if none).
    pub lost: u64,
    /// Whole records starting at the (possibly advanced) cursor.
    pub data: Vec<u8>,
    /// The cursor to ask for next.
    pub next: u64,
}

impl Ring {
    /// `capacity` bytes; nothing is allocated until the first record arrives.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            bytes: VecDeque::new(),
            records: VecDeque::new(),
            start: 0,
        }
    }

    /// An empty ring whose next record starts at absolute offset `start` (a restored log
    /// continues its offsets).
    pub fn starting_at(capacity: usize, start: u64) -> Self {
        Self {
            start,
            ..Self::new(capacity)
        }
    }

    /// The retained bytes, oldest first.
    pub fn retained(&self) -> Vec<u8> {
        self.bytes.iter().copied().collect()
    }

    /// Absolute offset of the oldest retained byte.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Absolute offset one past the newest byte (total bytes ever appended).
    pub fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes of heap this ring holds right now.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.records.capacity() * core::mem::size_of::<u16>()
    }

    /// Appends one whole record, evicting the oldest records to make room. The caller bounds
    /// record size; a record larger than the ring (or than u16) is refused with `false`.
    #[must_use = "a refused record is lost"]
    pub fn push(&mut self, record: &[u8]) -> bool {
        if record.is_empty() || record.len() > self.capacity || record.len() > usize::from(u16::MAX)
        {
            return false;
        }
        while self.bytes.len() + record.len() > self.capacity {
            let Some(oldest) = self.records.pop_front() else {
                break;
            };
            self.bytes.drain(..usize::from(oldest));
            self.start += u64::from(oldest);
        }
        debug_assert!(self.bytes.len() + record.len() <= self.capacity);
        self.bytes.extend(record.iter().copied());
        // Length checked against u16::MAX above.
        self.records.push_back(record.len() as u16);
        true
    }

    /// Reads whole records from `cursor`, at most `max` bytes (but always at least one record
    /// if any is available and it fits in `max`). A cursor older than the ring reports `lost`
    /// and resumes at the oldest record; a cursor inside a record resumes at the next record.
    pub fn read(&self, cursor: u64, max: usize) -> RingRead {
        let (lost, mut at) = if cursor < self.start {
            (self.start - cursor, self.start)
        } else {
            (0, cursor.min(self.end()))
        };
        let mut data = Vec::new();
        let mut rec_start = self.start;
        for &len in &self.records {
            let rec_end = rec_start + u64::from(len);
            if rec_start >= at {
                if data.len() + usize::from(len) > max {
                    break;
                }
                let from = (rec_start - self.start) as usize;
                data.extend(self.bytes.range(from..from + usize::from(len)));
                at = rec_end;
            } else if rec_end > at {
                // Cursor points inside this record: skip to the next whole one.
                at = rec_end;
            }
            rec_start = rec_end;
        }
        debug_assert!(data.len() <= max && at <= self.end());
        RingRead {
            lost,
            data,
            next: at,
        }
    }

    /// Number of retained records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_whole_records_and_reports_loss() {
        let mut ring = Ring::new(10);
        assert!(ring.push(b"aaaa"));
        assert!(ring.push(b"bbbb"));
        assert!(ring.push(b"cccc"));
        assert_eq!(ring.start(), 4);
        assert_eq!(ring.end(), 12);
        let read = ring.read(0, 100);
        assert_eq!(read.lost, 4);
        assert_eq!(read.data, b"bbbbcccc");
        assert_eq!(read.next, 12);
        let read = ring.read(12, 100);
        assert!(read.data.is_empty());
        assert_eq!(read.next, 12);
    }

    #[test]
    fn reads_stop_at_whole_records() {
        let mut ring = Ring::new(64);
        assert!(ring.push(b"one\n"));
        assert!(ring.push(b"two\n"));
        assert!(ring.push(b"three\n"));
        let read = ring.read(0, 9);
        assert_eq!(read.data, b"one\ntwo\n");
        assert_eq!(read.next, 8);
        let read = ring.read(2, 100);
        assert_eq!(
            read.data, b"two\nthree\n",
            "mid-record cursor skips forward"
        );
    }

    #[test]
    fn refuses_records_bigger_than_the_ring() {
        let mut ring = Ring::new(4);
        assert!(!ring.push(b"12345"));
        assert!(!ring.push(b""));
        assert!(ring.is_empty());
    }

    #[test]
    fn allocates_nothing_until_used() {
        let ring = Ring::new(4096);
        assert_eq!(ring.heap_bytes(), 0);
    }
}
