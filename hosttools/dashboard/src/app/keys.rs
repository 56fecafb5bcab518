//! Keys and mouse: the conventions of good terminal tools (`?` help, `/` filter, `:` command,
//! `esc` back, `q` quit), arrow/vi movement, mouse selection, and replay transport keys.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::{command, App, Mode};
use crate::model::Model;
use crate::source::{Control, Source};

/// Seek step of `[` `]` and of `{` `}`, in milliseconds.
const SEEK_SMALL: i64 = 10_000;
const SEEK_LARGE: i64 = 60_000;

impl App {
    /// Handles one terminal event.
    pub fn handle(&mut self, event: &Event, model: &mut Model, source: &mut dyn Source) {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.key(*key, model, source),
            Event::Mouse(mouse) => self.mouse(*mouse),
            _ => {}
        }
    }

    pub fn key(&mut self, key: KeyEvent, model: &mut Model, source: &mut dyn Source) {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        match self.mode {
            Mode::Normal => self.normal_key(key, model, source),
            Mode::Help => {
                if matches!(
                    key.code,
                    KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter
                ) {
                    self.mode = Mode::Normal;
                }
            }
            Mode::Filter => self.filter_key(key),
            Mode::Command => self.command_key(key, model, source),
        }
    }

    fn normal_key(&mut self, key: KeyEvent, model: &mut Model, source: &mut dyn Source) {
        let page = self.grid.capacity().max(1);
        let cols = self.grid.cols.max(1);
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') => self.mode = Mode::Help,
            KeyCode::Char('/') => {
                self.saved_filter = self.filter.clone();
                self.input = self.filter.clone();
                self.mode = Mode::Filter;
            }
            KeyCode::Char(':') => {
                self.input.clear();
                self.mode = Mode::Command;
            }
            KeyCode::Esc => {
                if !self.filter.is_empty() {
                    self.filter.clear();
                    self.message = Some(String::from("filter cleared"));
                } else {
                    self.message = None;
                }
            }
            KeyCode::Left | KeyCode::Char('h') => self.move_by(-1),
            KeyCode::Right | KeyCode::Char('l') => self.move_by(1),
            KeyCode::Up | KeyCode::Char('k') => self.move_by(-(cols as i64)),
            KeyCode::Down | KeyCode::Char('j') => self.move_by(cols as i64),
            KeyCode::PageUp => self.move_by(-(page as i64)),
            KeyCode::PageDown => self.move_by(page as i64),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = self.len().saturating_sub(1),
            KeyCode::Char('z') => self.compact = !self.compact,
            _ => self.transport_key(key, model, source),
        }
    }

    /// Replay transport (and live pause): space, step, seek, speed.
    fn transport_key(&mut self, key: KeyEvent, model: &mut Model, source: &mut dyn Source) {
        let control = match key.code {
            KeyCode::Char(' ') | KeyCode::Char('p') => Control::TogglePause,
            KeyCode::Char('.') | KeyCode::Char('n') => Control::Step(1),
            KeyCode::Char('[') => Control::SeekBy(-SEEK_SMALL),
            KeyCode::Char(']') => Control::SeekBy(SEEK_SMALL),
            KeyCode::Char('{') => Control::SeekBy(-SEEK_LARGE),
            KeyCode::Char('}') => Control::SeekBy(SEEK_LARGE),
            KeyCode::Char('0') => Control::Seek(0),
            KeyCode::Char('$') => Control::Seek(u64::MAX / 1000),
            KeyCode::Char('+') | KeyCode::Char('=') => Control::Faster,
            KeyCode::Char('-') => Control::Slower,
            _ => return,
        };
        self.control(model, source, control);
    }

    fn move_by(&mut self, delta: i64) {
        let last = self.len().saturating_sub(1) as i64;
        self.selected = (self.selected as i64 + delta).clamp(0, last.max(0)) as usize;
    }

    /// The filter applies as it is typed; enter keeps it, esc restores the previous one.
    fn filter_key(&mut self, key: KeyEvent) {
        match key.code {
            KeyCode::Esc => {
                self.filter = std::mem::take(&mut self.saved_filter);
                self.mode = Mode::Normal;
            }
            KeyCode::Enter => {
                self.mode = Mode::Normal;
                self.message =
                    (!self.filter.is_empty()).then(|| format!("filter: {}", self.filter));
            }
            KeyCode::Backspace => {
                self.input.pop();
                self.filter = self.input.clone();
            }
            KeyCode::Char(c) if self.input.len() < 128 => {
                self.input.push(c);
                self.filter = self.input.clone();
                self.selected = 0;
            }
            _ => {}
        }
    }

    fn command_key(&mut self, key: KeyEvent, model: &mut Model, source: &mut dyn Source) {
        match key.code {
            KeyCode::Esc => {
                self.input.clear();
                self.mode = Mode::Normal;
            }
            KeyCode::Enter => {
                let line = std::mem::take(&mut self.input);
                self.mode = Mode::Normal;
                match command::parse(&line) {
                    Ok(cmd) => self.run(cmd, model, source),
                    Err(e) => self.message = Some(e),
                }
            }
            KeyCode::Backspace if self.input.is_empty() => self.mode = Mode::Normal,
            KeyCode::Backspace => {
                self.input.pop();
            }
            KeyCode::Char(c) if self.input.len() < 256 => self.input.push(c),
            _ => {}
        }
    }

    /// Left click selects the worker under the pointer; the wheel scrolls a row at a time.
    pub fn mouse(&mut self, mouse: MouseEvent) {
        let cols = self.grid.cols.max(1) as i64;
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(pos) = self.hit(mouse.column, mouse.row) {
                    self.selected = pos;
                }
            }
            MouseEventKind::ScrollDown => self.move_by(cols),
            MouseEventKind::ScrollUp => self.move_by(-cols),
            _ => {}
        }
    }

    /// The view position drawn at a screen cell, if any.
    pub fn hit(&self, x: u16, y: u16) -> Option<usize> {
        let g = self.grid;
        let inside = x >= g.inner.x
            && y >= g.inner.y
            && x < g.inner.x + g.inner.width
            && y < g.inner.y + g.inner.height;
        if !inside || g.cell_w == 0 {
            return None;
        }
        let col = usize::from((x - g.inner.x) / g.cell_w);
        if col >= g.cols {
            return None;
        }
        let row = usize::from(y - g.inner.y) + self.scroll;
        let pos = row * g.cols + col;
        (pos < self.len()).then_some(pos)
    }
}
