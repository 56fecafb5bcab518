//! Rendering: lays out the header, worker grid, side panels, audit tail and footer, and the
//! help overlay. Reads the model, never changes it; only the app's scroll state moves.

mod chrome;
mod grid;
mod panels;
pub mod style;

use ratatui::layout::{Constraint, Layout};
use ratatui::Frame;

use crate::app::{App, Mode};
use crate::model::Model;
use crate::source::SourceStatus;

/// Side panel width bounds.
const SIDE_MIN: u16 = 44;
const SIDE_MAX: u16 = 72;

/// Draws one full frame.
pub fn draw(frame: &mut Frame, app: &mut App, model: &Model, status: &SourceStatus) {
    app.refresh(model);
    let area = frame.area();
    let audit_h = (area.height / 5).clamp(3, 12);
    let [top, body, audit, bottom] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Fill(1),
        Constraint::Length(audit_h),
        Constraint::Length(1),
    ])
    .areas(area);
    let side_w = if area.width >= 100 {
        (area.width * 3 / 10).clamp(SIDE_MIN, SIDE_MAX)
    } else {
        0
    };
    let [grid_area, side] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(side_w)]).areas(body);
    let buf = frame.buffer_mut();
    chrome::header(model, status, top, buf);
    grid::render(app, model, grid_area, buf);
    if side_w > 0 {
        let [detail, counters, leases] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(8),
        ])
        .areas(side);
        let selected = app.selected_index().and_then(|i| model.worker(i));
        panels::worker(selected, detail, buf);
        panels::pressure(model, counters, buf);
        panels::leases(model, leases, buf);
    }
    panels::audit(model, audit, buf);
    chrome::footer(app, status, bottom, buf);
    if app.mode == Mode::Help {
        chrome::help(area, buf);
    }
}

/// A buffer as plain text, one line per row with trailing spaces trimmed (for snapshots and
/// `--print-frame`).
pub fn buffer_text(buf: &ratatui::buffer::Buffer) -> String {
    let area = buf.area;
    let mut out = String::with_capacity(usize::from(area.width + 1) * usize::from(area.height));
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        let mut skip = 0usize;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buf[(x, y)].symbol();
            line.push_str(symbol);
            skip = unicode_width(symbol).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Display width of a cell symbol: wide glyphs cover the next cell.
fn unicode_width(symbol: &str) -> usize {
    ratatui::text::Span::raw(symbol).width()
}
