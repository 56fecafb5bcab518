//! The hive dashboard: a ratatui terminal view of one hive, fed either by a live hive over
//! Secure9P or by a simulator transcript replayed over virtual time.
//! A `Source` fills a bounded `Model`; the `ui` renders only what fits on screen.

pub mod app;
pub mod fixture;
pub mod model;
pub mod source;
pub mod transcript;
pub mod ui;
