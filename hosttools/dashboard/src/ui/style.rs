//! Colours and glyphs per lifecycle state. Every state has a distinct glyph as well as a
//! colour, so the grid still reads on a monochrome terminal.

use ratatui::style::{Color, Modifier, Style};

use crate::model::WorkerState;

pub fn color(state: WorkerState) -> Color {
    match state {
        WorkerState::Pending => Color::Yellow,
        WorkerState::Booting => Color::Cyan,
        WorkerState::Online => Color::Green,
        WorkerState::Degraded => Color::Magenta,
        WorkerState::Draining => Color::Blue,
        WorkerState::Quiesced => Color::Gray,
        WorkerState::Offline => Color::Red,
        WorkerState::Revoked => Color::DarkGray,
    }
}

pub fn glyph(state: WorkerState) -> &'static str {
    match state {
        WorkerState::Pending => "○",
        WorkerState::Booting => "◔",
        WorkerState::Online => "●",
        WorkerState::Degraded => "◆",
        WorkerState::Draining => "▽",
        WorkerState::Quiesced => "■",
        WorkerState::Offline => "✕",
        WorkerState::Revoked => "·",
    }
}

pub fn state(state: WorkerState) -> Style {
    Style::new().fg(color(state))
}

pub fn title() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn key() -> Style {
    Style::new().fg(Color::Black).bg(Color::Cyan)
}

pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
}

pub fn good() -> Style {
    Style::new().fg(Color::Black).bg(Color::Green)
}

pub fn bad() -> Style {
    Style::new().fg(Color::White).bg(Color::Red)
}

pub fn unknown() -> Style {
    Style::new().fg(Color::Black).bg(Color::Gray)
}
