//! Screen state that is not the hive's: the mode (normal, filter, command, help), the filter
//! and the filtered view of workers, the selection and scroll position, and the last message.

pub mod command;
mod keys;

use ratatui::layout::Rect;

use crate::model::{Model, Term};
use crate::source::{Control, Source};
use command::Cmd;

/// What keys currently mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing a filter after `/`.
    Filter,
    /// Typing a command after `:`.
    Command,
    /// The `?` overlay.
    Help,
}

/// Where the grid was last drawn, for scrolling and mouse hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GridGeom {
    pub inner: Rect,
    pub cell_w: u16,
    pub cols: usize,
}

impl GridGeom {
    pub fn rows(&self) -> usize {
        usize::from(self.inner.height)
    }

    pub fn capacity(&self) -> usize {
        self.cols * self.rows()
    }
}

#[derive(Debug, Clone)]
pub struct App {
    pub mode: Mode,
    /// The applied filter (terms separated by spaces, all must match).
    pub filter: String,
    /// The line being typed in filter or command mode.
    pub input: String,
    pub readonly: bool,
    pub message: Option<String>,
    pub quit: bool,
    pub compact: bool,
    /// Position of the selected worker in the view.
    pub selected: usize,
    /// First grid row on screen.
    pub scroll: usize,
    pub grid: GridGeom,
    /// Filter in force before `/` was pressed (restored by `esc`).
    saved_filter: String,
    view: View,
}

/// The filtered worker list, rebuilt only when the roster, a state or the filter changes.
#[derive(Debug, Clone, Default)]
struct View {
    generation: u64,
    filter: String,
    built: bool,
    /// Model indices in display order; unused when there is no filter.
    indices: Vec<u32>,
    all: bool,
    len: usize,
    id_width: usize,
}

impl App {
    pub fn new(readonly: bool) -> Self {
        Self {
            mode: Mode::Normal,
            filter: String::new(),
            input: String::new(),
            readonly,
            message: None,
            quit: false,
            compact: false,
            selected: 0,
            scroll: 0,
            grid: GridGeom::default(),
            saved_filter: String::new(),
            view: View::default(),
        }
    }

    /// Rebuilds the view if the model or filter changed; keeps the selected worker selected.
    pub fn refresh(&mut self, model: &Model) {
        let v = &self.view;
        if v.built && v.generation == model.generation && v.filter == self.filter {
            if v.all {
                self.view.len = model.len();
            }
            self.clamp();
            return;
        }
        let keep = self.selected_index();
        let terms: Vec<Term> = self.filter.split_whitespace().map(Term::parse).collect();
        let mut view = View {
            generation: model.generation,
            filter: self.filter.clone(),
            built: true,
            all: terms.is_empty(),
            ..View::default()
        };
        for (i, w) in model.workers().iter().enumerate() {
            view.id_width = view.id_width.max(w.id.chars().count());
            if !view.all && terms.iter().all(|t| t.matches(w)) {
                view.indices.push(i as u32);
            }
        }
        view.len = if view.all {
            model.len()
        } else {
            view.indices.len()
        };
        self.view = view;
        if let Some(keep) = keep {
            if let Some(pos) = self.position_of(keep) {
                self.selected = pos;
            }
        }
        self.clamp();
    }

    fn clamp(&mut self) {
        self.selected = self.selected.min(self.view.len.saturating_sub(1));
    }

    /// Workers in the view.
    pub fn len(&self) -> usize {
        self.view.len
    }

    pub fn is_empty(&self) -> bool {
        self.view.len == 0
    }

    /// Widest worker id, for the grid's cell width.
    pub fn id_width(&self) -> usize {
        self.view.id_width.max(2)
    }

    /// The model index of the worker at view position `pos`.
    pub fn at(&self, pos: usize) -> Option<usize> {
        if pos >= self.view.len {
            return None;
        }
        if self.view.all {
            Some(pos)
        } else {
            self.view.indices.get(pos).map(|&i| i as usize)
        }
    }

    fn position_of(&self, index: usize) -> Option<usize> {
        if self.view.all {
            return (index < self.view.len).then_some(index);
        }
        self.view.indices.binary_search(&(index as u32)).ok()
    }

    pub fn selected_index(&self) -> Option<usize> {
        self.at(self.selected)
    }

    /// Scrolls so the selection is on screen (called by the grid with its geometry).
    pub fn follow_selection(&mut self, geom: GridGeom) {
        self.grid = geom;
        let rows = geom.rows().max(1);
        let cols = geom.cols.max(1);
        let row = self.selected / cols;
        if row < self.scroll {
            self.scroll = row;
        } else if row >= self.scroll + rows {
            self.scroll = row + 1 - rows;
        }
        let last_row = self.view.len.div_ceil(cols);
        self.scroll = self.scroll.min(last_row.saturating_sub(rows));
    }

    /// Ids to poll first: the selected worker, then everything on screen.
    pub fn focus_ids(&self, model: &Model) -> Vec<String> {
        let mut ids = Vec::new();
        if let Some(w) = self.selected_index().and_then(|i| model.worker(i)) {
            ids.push(w.id.clone());
        }
        let start = self.scroll * self.grid.cols;
        for pos in start..(start + self.grid.capacity()).min(self.view.len) {
            if pos == self.selected {
                continue;
            }
            if let Some(w) = self.at(pos).and_then(|i| model.worker(i)) {
                ids.push(w.id.clone());
            }
        }
        ids
    }

    /// Runs a parsed command.
    pub fn run(&mut self, cmd: Cmd, model: &mut Model, source: &mut dyn Source) {
        if cmd.mutates() && self.readonly {
            self.message = Some(String::from(
                "read-only: commands that change the hive are off",
            ));
            return;
        }
        let control = match cmd {
            Cmd::Quit => {
                self.quit = true;
                return;
            }
            Cmd::Help => {
                self.mode = Mode::Help;
                return;
            }
            Cmd::Filter(f) => {
                self.filter = f;
                self.selected = 0;
                return;
            }
            Cmd::ClearFilter => {
                self.filter.clear();
                return;
            }
            Cmd::Goto(id) => {
                self.goto(model, &id);
                return;
            }
            Cmd::Compact => {
                self.compact = !self.compact;
                return;
            }
            Cmd::Pause => Control::Pause,
            Cmd::Play => Control::Play,
            Cmd::Step(n) => Control::Step(n),
            Cmd::Seek(ms) => Control::Seek(ms),
            Cmd::SeekBy(ms) => Control::SeekBy(ms),
            Cmd::Speed(s) => Control::Speed(s),
            Cmd::Write { path, line } => Control::Write { path, line },
        };
        self.control(model, source, control);
    }

    pub fn control(&mut self, model: &mut Model, source: &mut dyn Source, control: Control) {
        self.message = Some(match source.control(model, control) {
            Ok(text) => text,
            Err(text) => text,
        });
    }

    fn goto(&mut self, model: &Model, id: &str) {
        let found = model
            .index_of(id)
            .or_else(|| model.workers().iter().position(|w| w.id.contains(id)));
        let Some(index) = found else {
            self.message = Some(format!("no worker {id}"));
            return;
        };
        if self.position_of(index).is_none() {
            self.filter.clear();
            self.refresh(model);
        }
        if let Some(pos) = self.position_of(index) {
            self.selected = pos;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DashboardWorkerState;

    fn model(n: usize) -> Model {
        let mut m = Model::new("h");
        for i in 0..n {
            let state = if i % 3 == 0 {
                DashboardWorkerState::Online
            } else {
                DashboardWorkerState::Pending
            };
            m.set_state(&format!("w{i:04}"), state, "");
        }
        m
    }

    #[test]
    fn filter_view_keeps_selection() {
        let m = model(30);
        let mut app = App::new(false);
        app.refresh(&m);
        assert_eq!(app.len(), 30);
        app.selected = 9;
        app.filter = String::from("state:online");
        app.refresh(&m);
        assert_eq!(app.len(), 10);
        assert_eq!(app.selected_index(), Some(9));
        assert_eq!(app.id_width(), 5);
    }

    #[test]
    fn scroll_follows_selection() {
        let m = model(100);
        let mut app = App::new(false);
        app.refresh(&m);
        let geom = GridGeom {
            inner: Rect::new(0, 0, 40, 5),
            cell_w: 8,
            cols: 5,
        };
        app.selected = 99;
        app.follow_selection(geom);
        assert_eq!(app.scroll, 15);
        app.selected = 0;
        app.follow_selection(geom);
        assert_eq!(app.scroll, 0);
        let focus = app.focus_ids(&m);
        assert_eq!(focus.len(), 25);
        assert_eq!(focus[0], "w0000");
    }
}
