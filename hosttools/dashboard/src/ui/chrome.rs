//! The frame around the panels: the header with hive, source, clock, lifecycle, root badge
//! and state counts; the key hint bar (or the line being typed); and the `?` help overlay.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use super::panels::secs;
use super::style;
use crate::app::{App, Mode};
use crate::model::{DashboardWorkerState, Model};
use crate::source::SourceStatus;

/// Two lines: hive, root badge, lifecycle and source clock; then worker counts by state.
pub fn header(model: &Model, status: &SourceStatus, area: Rect, buf: &mut Buffer) {
    let first = Line::from(vec![
        Span::styled(" COHESIX ", style::key()),
        Span::raw(format!(" hive={} ", model.hive)),
        root_badge(model),
        Span::raw(format!(" lifecycle={} ", model.lifecycle)),
        Span::styled(format!(" {} ", status.mode), style::title()),
        Span::raw(clock(status, model)),
    ]);
    let mut spans = vec![Span::raw(format!(" workers={} ", model.len()))];
    for state in DashboardWorkerState::ALL {
        let n = model.count(state);
        if n > 0 {
            spans.push(Span::styled(
                format!(" {} {} {n} ", super::style::glyph(state), state.as_str()),
                style::state(state),
            ));
        }
    }
    Paragraph::new(vec![first, Line::from(spans)]).render(area, buf);
}

fn clock(status: &SourceStatus, model: &Model) -> String {
    let play = if status.paused { "PAUSED" } else { "PLAYING" };
    if status.mode == "REPLAY" {
        format!(
            "t={}/{} {play} x{} events {}/{} ",
            secs(status.position_ms),
            secs(status.end_ms),
            status.speed,
            status.done,
            status.total
        )
    } else {
        let play = if status.paused { "PAUSED" } else { "POLLING" };
        format!(
            "{} t={} {play} polls={} ",
            status.label,
            secs(model.now_ms),
            status.done
        )
    }
}

/// ROOT badge: green when every source reaches the hive's authority, red with the first cut
/// source and reason otherwise, grey before anything is known.
fn root_badge(model: &Model) -> Span<'static> {
    if let Some(Err(_)) = &model.link {
        return Span::styled(" ROOT ✕ unreachable ", style::bad());
    }
    if let Some((who, reason)) = model.root.cut.iter().next() {
        let text = match model.root.cut.len() {
            1 => format!(" ROOT ✕ cut {who} {reason} "),
            n => format!(" ROOT ✕ {n} cut ({reason}) "),
        };
        return Span::styled(text, style::bad());
    }
    if model.root.known || matches!(model.link, Some(Ok(()))) {
        Span::styled(" ROOT ● reachable ", style::good())
    } else {
        Span::styled(" ROOT ? ", style::unknown())
    }
}

/// The bottom line: the typed filter or command, else a message and the key hints.
pub fn footer(app: &App, status: &SourceStatus, area: Rect, buf: &mut Buffer) {
    let line = match app.mode {
        Mode::Filter => Line::from(vec![
            Span::styled("/", style::key()),
            Span::raw(app.input.clone()),
            Span::styled(
                "▏ enter keep · esc cancel · state:online site:s1 kind:gpu",
                style::dim(),
            ),
        ]),
        Mode::Command => Line::from(vec![
            Span::styled(":", style::key()),
            Span::raw(app.input.clone()),
            Span::styled("▏ enter run · esc cancel · :help", style::dim()),
        ]),
        _ => hints(app, status),
    };
    Paragraph::new(line).render(area, buf);
}

fn hints(app: &App, status: &SourceStatus) -> Line<'static> {
    let mut keys: Vec<(&str, &str)> = vec![("?", "help"), ("/", "filter"), (":", "command")];
    if status.mode == "REPLAY" {
        keys.extend([
            ("space", "pause"),
            (".", "step"),
            ("[ ]", "seek"),
            ("- +", "speed"),
        ]);
    } else {
        keys.push(("space", "pause polling"));
    }
    keys.extend([("z", "compact"), ("esc", "back"), ("q", "quit")]);
    let mut spans = Vec::new();
    if let Some(msg) = &app.message {
        spans.push(Span::styled(format!(" {msg} "), style::title()));
        spans.push(Span::raw("│"));
    }
    if app.readonly {
        spans.push(Span::styled(" READ-ONLY ", style::unknown()));
    }
    for (k, what) in keys {
        spans.push(Span::styled(format!(" {k} "), style::key()));
        spans.push(Span::raw(format!(" {what} ")));
    }
    Line::from(spans)
}

const HELP: [(&str, &str); 23] = [
    ("?", "this help (esc closes)"),
    ("/", "filter: id text, state:online, site:s3, kind:gpu"),
    (":", "command line (see below)"),
    ("esc", "back: close, cancel, or clear the filter"),
    ("q ctrl-c", "quit"),
    ("arrows hjkl", "move; PgUp PgDn page; g G first/last"),
    ("mouse", "click selects a worker; wheel scrolls"),
    ("z", "compact grid (one glyph per worker)"),
    ("space p", "pause / play (live: pause polling)"),
    (". n", "step one event (replay)"),
    ("[ ] { }", "seek -/+10 s, -/+60 s (replay)"),
    ("0 $", "seek to start / end (replay)"),
    ("- +", "slower / faster (replay)"),
    (":seek 12.5", "seek to a time; :seek +5 is relative"),
    (":speed 4", "replay speed; :step 10 steps ten events"),
    (":filter t", "set a filter; :clear removes it"),
    (":goto w0042", "select a worker by id"),
    (":spawn k n", "spawn n workers of kind k (live)"),
    (":kill w0042", "kill a worker (live)"),
    (":revoke 42", "revoke a ticket by id (live)"),
    (":ctl {json}", "one raw /queen/ctl line (live)"),
    (":drain", "also :cordon :resume :quiesce :reset"),
    (":q", "quit (writes are off under --readonly)"),
];

pub fn help(area: Rect, buf: &mut Buffer) {
    let width = 66.min(area.width);
    let height = (HELP.len() as u16 + 5).min(area.height);
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    Clear.render(popup, buf);
    let mut lines = vec![
        Line::styled(
            "● ONLINE ○ PENDING ◔ BOOTING ◆ DEGRADED ▽ DRAINING",
            style::dim(),
        ),
        Line::styled("■ QUIESCED ✕ OFFLINE · REVOKED", style::dim()),
    ];
    lines.extend(HELP.iter().map(|(k, what)| {
        Line::from(vec![
            Span::styled(format!(" {k:<12} "), style::title()),
            Span::raw(*what),
        ])
    }));
    Paragraph::new(lines)
        .block(Block::bordered().title(Line::styled(" Help ", style::title())))
        .render(popup, buf);
}
