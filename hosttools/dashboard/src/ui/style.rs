//! Colours and glyphs per lifecycle state. Every state has a distinct glyph as well as a
//! colour, so the grid still reads on a monochrome terminal.

use ratatui::style::{Color, Modifier, Style};

use crate::model::DashboardWorkerState;

pub fn color(state: DashboardWorkerState) -> Color {
    match state {
        DashboardWorkerState::Pending => Color::Yellow,
        DashboardWorkerState::Booting => Color::Cyan,
        DashboardWorkerState::Online => Color::Green,
        DashboardWorkerState::Degraded => Color::Magenta,
        DashboardWorkerState::Draining => Color::Blue,
        DashboardWorkerState::Quiesced => Color::Gray,
        DashboardWorkerState::Offline => Color::Red,
        DashboardWorkerState::Revoked => Color::DarkGray,
    }
}

pub fn glyph(state: DashboardWorkerState) -> &'static str {
    match state {
        DashboardWorkerState::Pending => "○",
        DashboardWorkerState::Booting => "◔",
        DashboardWorkerState::Online => "●",
        DashboardWorkerState::Degraded => "◆",
        DashboardWorkerState::Draining => "▽",
        DashboardWorkerState::Quiesced => "■",
        DashboardWorkerState::Offline => "✕",
        DashboardWorkerState::Revoked => "·",
    }
}

pub fn state(state: DashboardWorkerState) -> Style {
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
