//! Replays a transcript over virtual time: play at a speed, pause, step one event, seek to a
//! time. Seeking backwards rebuilds the model from the start (transcripts are small: hundreds
//! to a few thousand lines), so every position shows exactly what the hive had seen by then.

use super::{Control, Source, SourceStatus};
use crate::model::Model;
use crate::transcript::{Record, Transcript};

/// Slowest and fastest replay speed.
pub const SPEED_MIN: f64 = 0.125;
pub const SPEED_MAX: f64 = 1024.0;

#[derive(Debug, Clone)]
pub struct ReplaySource {
    label: String,
    records: Vec<Record>,
    /// Index of the next record to apply.
    next: usize,
    /// Current virtual time in microseconds.
    at_us: u64,
    paused: bool,
    speed: f64,
    rejected: usize,
}

impl ReplaySource {
    pub fn new(label: &str, transcript: Transcript) -> Self {
        Self {
            label: label.to_string(),
            rejected: transcript.rejected.len(),
            records: transcript.records,
            next: 0,
            at_us: 0,
            paused: false,
            speed: 1.0,
        }
    }

    pub fn from_text(label: &str, text: &str) -> Self {
        Self::new(label, Transcript::parse(text))
    }

    /// Lines of the transcript that could not be parsed.
    pub fn rejected(&self) -> usize {
        self.rejected
    }

    pub fn end_us(&self) -> u64 {
        self.records.last().map_or(0, |r| r.t_us)
    }

    pub fn position_us(&self) -> u64 {
        self.at_us
    }

    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Applies every record at or before the current time.
    fn catch_up(&mut self, model: &mut Model) {
        while let Some(r) = self.records.get(self.next) {
            if r.t_us > self.at_us {
                break;
            }
            model.apply(r);
            self.next += 1;
        }
        model.now_ms = model.now_ms.max(self.at_us / 1000);
    }

    /// Moves to `target_us`, rebuilding from the start when going back.
    pub fn seek_us(&mut self, model: &mut Model, target_us: u64) {
        let target = target_us.min(self.end_us());
        if target < self.at_us {
            model.reset();
            self.next = 0;
        }
        self.at_us = target;
        self.catch_up(model);
        model.now_ms = target / 1000;
    }

    /// Applies the next `n` records, jumping virtual time to each.
    pub fn step(&mut self, model: &mut Model, n: u32) -> usize {
        let mut applied = 0;
        for _ in 0..n {
            let Some(r) = self.records.get(self.next) else {
                break;
            };
            self.at_us = self.at_us.max(r.t_us);
            model.apply(r);
            self.next += 1;
            applied += 1;
        }
        model.now_ms = self.at_us / 1000;
        applied
    }

    fn set_speed(&mut self, speed: f64) -> f64 {
        self.speed = if speed.is_finite() {
            speed.clamp(SPEED_MIN, SPEED_MAX)
        } else {
            1.0
        };
        self.speed
    }
}

impl Source for ReplaySource {
    fn tick(&mut self, model: &mut Model, elapsed_ms: u64) {
        if self.paused || self.next >= self.records.len() {
            return;
        }
        let advance = (elapsed_ms as f64 * 1000.0 * self.speed) as u64;
        self.at_us = self.at_us.saturating_add(advance).min(self.end_us());
        self.catch_up(model);
    }

    fn control(&mut self, model: &mut Model, control: Control) -> Result<String, String> {
        match control {
            Control::TogglePause => {
                self.paused = !self.paused;
                Ok(String::from(if self.paused { "paused" } else { "playing" }))
            }
            Control::Pause => {
                self.paused = true;
                Ok(String::from("paused"))
            }
            Control::Play => {
                self.paused = false;
                Ok(String::from("playing"))
            }
            Control::Step(n) => {
                self.paused = true;
                let applied = self.step(model, n);
                Ok(format!("stepped {applied} event(s)"))
            }
            Control::Seek(ms) => {
                self.seek_us(model, ms.saturating_mul(1000));
                Ok(format!("at {}", secs(self.at_us)))
            }
            Control::SeekBy(delta) => {
                let target = if delta < 0 {
                    self.at_us.saturating_sub(delta.unsigned_abs() * 1000)
                } else {
                    self.at_us.saturating_add(delta as u64 * 1000)
                };
                self.seek_us(model, target);
                Ok(format!("at {}", secs(self.at_us)))
            }
            Control::Speed(s) => Ok(format!("speed x{}", self.set_speed(s))),
            Control::Faster => Ok(format!("speed x{}", self.set_speed(self.speed * 2.0))),
            Control::Slower => Ok(format!("speed x{}", self.set_speed(self.speed / 2.0))),
            Control::Write { .. } => Err(String::from("a replay cannot be commanded")),
        }
    }

    fn status(&self) -> SourceStatus {
        SourceStatus {
            mode: "REPLAY",
            label: self.label.clone(),
            paused: self.paused,
            speed: self.speed,
            position_ms: self.at_us / 1000,
            end_ms: self.end_us() / 1000,
            done: self.next as u64,
            total: self.records.len() as u64,
        }
    }
}

fn secs(us: u64) -> String {
    format!("{}.{:03}s", us / 1_000_000, (us / 1000) % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DashboardWorkerState;

    const TEXT: &str = "\
t=1.000000 hive=a src=q ev=worker.spawn id=w1
t=2.000000 hive=a src=s ev=worker.online id=w1
t=3.000000 hive=a src=q ev=worker.spawn id=w2
t=9.000000 hive=a src=s ev=worker.offline id=w1 reason=silent
";

    #[test]
    fn plays_at_speed() {
        let mut m = Model::default();
        let mut r = ReplaySource::from_text("t", TEXT);
        r.tick(&mut m, 1000);
        assert_eq!(m.len(), 1);
        r.control(&mut m, Control::Speed(4.0)).unwrap();
        r.tick(&mut m, 500);
        assert_eq!(m.len(), 2);
        assert_eq!(m.count(DashboardWorkerState::Online), 1);
        r.tick(&mut m, 10_000);
        assert_eq!(m.count(DashboardWorkerState::Offline), 1);
        assert_eq!(r.status().done, 4);
    }

    #[test]
    fn pause_step_and_seek_back() {
        let mut m = Model::default();
        let mut r = ReplaySource::from_text("t", TEXT);
        r.control(&mut m, Control::Pause).unwrap();
        r.tick(&mut m, 60_000);
        assert!(m.is_empty());
        r.control(&mut m, Control::Step(2)).unwrap();
        assert_eq!(m.count(DashboardWorkerState::Online), 1);
        assert_eq!(r.position_us(), 2_000_000);
        r.control(&mut m, Control::Seek(9_000)).unwrap();
        assert_eq!(m.count(DashboardWorkerState::Offline), 1);
        r.control(&mut m, Control::SeekBy(-7_500)).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m.count(DashboardWorkerState::Pending), 1);
        assert_eq!(m.events, 1);
    }

    #[test]
    fn speed_is_clamped_and_writes_refused() {
        let mut m = Model::default();
        let mut r = ReplaySource::from_text("t", TEXT);
        r.control(&mut m, Control::Speed(1e9)).unwrap();
        assert_eq!(r.status().speed, SPEED_MAX);
        r.control(&mut m, Control::Speed(f64::NAN)).unwrap();
        assert_eq!(r.status().speed, 1.0);
        let write = Control::Write {
            path: String::from("/queen/ctl"),
            line: String::from("{}"),
        };
        assert!(r.control(&mut m, write).is_err());
    }
}
