//! Where the model's facts come from: a `Source` advances with real time and folds what it
//! learned into the `Model`. `ReplaySource` plays a transcript over virtual time;
//! `LiveSource` polls a live hive over Secure9P.

mod fs;
mod live;
mod poll;
mod replay;

pub use fs::{FsError, HiveFs, NineFs, StreamRead};
pub use live::{subject_of, Connector, LiveOptions, LiveSource};
pub use poll::{PollPlan, Poller, Update};
pub use replay::ReplaySource;

use crate::model::Model;

/// What the operator asked the source to do (keys and `:` commands end up here).
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    TogglePause,
    Pause,
    Play,
    /// Apply the next `n` events (replay) while paused.
    Step(u32),
    /// Jump to a virtual time, in milliseconds.
    Seek(u64),
    /// Jump by a signed number of milliseconds.
    SeekBy(i64),
    /// Set the replay speed (virtual ms per real ms).
    Speed(f64),
    Faster,
    Slower,
    /// Write one line to a control file of a live hive (e.g. `/queen/ctl`).
    Write {
        path: String,
        line: String,
    },
}

/// How a source describes itself in the header.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceStatus {
    /// `REPLAY` or `LIVE`.
    pub mode: &'static str,
    pub label: String,
    pub paused: bool,
    pub speed: f64,
    /// Replay: position and end in virtual ms; live: hive uptime and 0.
    pub position_ms: u64,
    pub end_ms: u64,
    /// Events applied so far and in total (replay), or polls done (live).
    pub done: u64,
    pub total: u64,
}

/// A feed for the model.
pub trait Source {
    /// Advances by `elapsed_ms` of real time, folding whatever became due into `model`.
    fn tick(&mut self, model: &mut Model, elapsed_ms: u64);

    /// Tells the source which workers are on screen (and which one is selected), so a live
    /// source can poll those first. Ids are in display order; the selected one comes first.
    fn focus(&mut self, _ids: &[String]) {}

    /// Carries out an operator request; `Err` holds a message for the status line.
    fn control(&mut self, model: &mut Model, control: Control) -> Result<String, String>;

    fn status(&self) -> SourceStatus;

    /// Messages that arrived since the last call (command replies, link changes).
    fn messages(&mut self) -> Vec<String> {
        Vec::new()
    }
}
