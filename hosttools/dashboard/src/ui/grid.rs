//! The worker grid: one cell per worker, coloured by lifecycle state. Only the cells that fit
//! on screen are visited, so a frame costs the same at 1,000 or 100,000 workers.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{
    Block, Scrollbar, ScrollbarOrientation, ScrollbarState, StatefulWidget, Widget,
};

use super::style;
use crate::app::{App, GridGeom};
use crate::model::Model;

/// Draws the grid into `area` and tells the app its geometry (for scrolling and the mouse).
pub fn render(app: &mut App, model: &Model, area: Rect, buf: &mut Buffer) {
    let title = if app.filter.is_empty() {
        format!(" Workers {} ", app.len())
    } else {
        format!(
            " Workers {}/{}  filter: {} ",
            app.len(),
            model.len(),
            app.filter
        )
    };
    let block = Block::bordered().title(Line::styled(title, style::title()));
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.width < 2 || inner.height == 0 {
        return;
    }
    // One column is kept for the scrollbar.
    let usable = inner.width - 1;
    let cell_w = if app.compact {
        2
    } else {
        (app.id_width() as u16 + 3).min(usable.max(1))
    };
    let cols = usize::from((usable / cell_w).max(1));
    app.follow_selection(GridGeom {
        inner,
        cell_w,
        cols,
    });
    if app.is_empty() {
        let text = if model.is_empty() {
            "no workers yet"
        } else {
            "no worker matches the filter (esc clears it)"
        };
        buf.set_string(inner.x + 1, inner.y, text, style::dim());
        return;
    }
    draw_cells(app, model, inner, cell_w, cols, buf);
    let rows_total = app.len().div_ceil(cols);
    if rows_total > usize::from(inner.height) {
        let mut state = ScrollbarState::new(rows_total.saturating_sub(usize::from(inner.height)))
            .position(app.scroll);
        Scrollbar::new(ScrollbarOrientation::VerticalRight).render(inner, buf, &mut state);
    }
}

fn draw_cells(app: &App, model: &Model, inner: Rect, cell_w: u16, cols: usize, buf: &mut Buffer) {
    let first = app.scroll * cols;
    let last = (first + cols * usize::from(inner.height)).min(app.len());
    for pos in first..last {
        let Some(w) = app.at(pos).and_then(|i| model.worker(i)) else {
            continue;
        };
        let offset = pos - first;
        let x = inner.x + (offset % cols) as u16 * cell_w;
        let y = inner.y + (offset / cols) as u16;
        let mut st = style::state(w.state);
        if pos == app.selected {
            st = st.patch(style::selected());
        }
        if let Some(cell) = buf.cell_mut((x, y)) {
            cell.set_symbol(style::glyph(w.state)).set_style(st);
        }
        if !app.compact && cell_w > 2 {
            let room = usize::from(cell_w - 3);
            buf.set_stringn(x + 2, y, &w.id, room, st);
        }
    }
}
