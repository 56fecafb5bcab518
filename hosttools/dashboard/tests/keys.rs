//! Key and mouse handling against a replay: the conventions (`?`, `/`, `:`, `esc`, `q`),
//! replay transport keys, `--readonly`, and mouse selection.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use dashboard::app::{App, Mode};
use dashboard::model::{DashboardWorkerState, Model};
use dashboard::source::{ReplaySource, Source};
use dashboard::ui;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const SMALL: &str = include_str!("fixtures/small.transcript");

struct Rig {
    app: App,
    model: Model,
    source: ReplaySource,
    terminal: Terminal<TestBackend>,
}

impl Rig {
    fn new(readonly: bool) -> Self {
        let mut model = Model::default();
        let mut source = ReplaySource::from_text("small", SMALL);
        source.set_paused(true);
        source.seek_us(&mut model, 10_000_000);
        let mut rig = Self {
            app: App::new(readonly),
            model,
            source,
            terminal: Terminal::new(TestBackend::new(120, 36)).unwrap(),
        };
        rig.draw();
        rig
    }

    fn draw(&mut self) -> String {
        let status = self.source.status();
        let (app, model) = (&mut self.app, &self.model);
        self.terminal
            .draw(|f| ui::draw(f, app, model, &status))
            .unwrap();
        ui::buffer_text(self.terminal.backend().buffer())
    }

    fn key(&mut self, code: KeyCode) {
        let ev = Event::Key(KeyEvent::new(code, KeyModifiers::NONE));
        self.app.handle(&ev, &mut self.model, &mut self.source);
        self.draw();
    }

    fn chars(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn selected(&self) -> Option<String> {
        let i = self.app.selected_index()?;
        self.model.worker(i).map(|w| w.id.clone())
    }
}

#[test]
fn help_opens_and_esc_closes() {
    let mut rig = Rig::new(false);
    rig.key(KeyCode::Char('?'));
    assert_eq!(rig.app.mode, Mode::Help);
    assert!(rig.draw().contains(" Help "));
    rig.key(KeyCode::Esc);
    assert_eq!(rig.app.mode, Mode::Normal);
    assert!(!rig.draw().contains(" Help "));
}

#[test]
fn filter_applies_while_typing_and_esc_restores() {
    let mut rig = Rig::new(false);
    rig.key(KeyCode::Char('/'));
    rig.chars("site:s02");
    assert_eq!(rig.app.mode, Mode::Filter);
    assert_eq!(rig.app.len(), 3);
    assert!(rig.draw().contains("Workers 3/6"));
    rig.key(KeyCode::Enter);
    assert_eq!(rig.app.filter, "site:s02");
    // Editing again and cancelling keeps the accepted filter.
    rig.key(KeyCode::Char('/'));
    rig.chars(" state:pend");
    assert_eq!(rig.app.len(), 1);
    rig.key(KeyCode::Esc);
    assert_eq!(rig.app.filter, "site:s02");
    // In normal mode esc clears the filter.
    rig.key(KeyCode::Esc);
    assert!(rig.app.filter.is_empty());
    assert_eq!(rig.app.len(), 6);
}

#[test]
fn commands_seek_step_and_speed() {
    let mut rig = Rig::new(false);
    rig.key(KeyCode::Char(':'));
    rig.chars("seek 30.5");
    rig.key(KeyCode::Enter);
    assert_eq!(rig.source.position_us(), 30_500_000);
    assert_eq!(rig.model.count(DashboardWorkerState::Revoked), 1);
    rig.key(KeyCode::Char('['));
    assert_eq!(rig.source.position_us(), 20_500_000);
    assert_eq!(rig.model.count(DashboardWorkerState::Revoked), 0);
    rig.key(KeyCode::Char('.'));
    assert_eq!(rig.source.position_us(), 21_000_000);
    assert_eq!(rig.model.count(DashboardWorkerState::Revoked), 1);
    rig.key(KeyCode::Char('+'));
    assert_eq!(rig.source.status().speed, 2.0);
    rig.key(KeyCode::Char(':'));
    rig.chars("bogus");
    rig.key(KeyCode::Enter);
    assert!(rig.draw().contains("unknown command: bogus"));
}

#[test]
fn pause_and_play_with_space() {
    let mut rig = Rig::new(false);
    assert!(rig.source.status().paused);
    rig.key(KeyCode::Char(' '));
    assert!(!rig.source.status().paused);
    rig.source.tick(&mut rig.model, 25_000);
    assert_eq!(rig.source.status().done, 25);
    assert_eq!(rig.model.lifecycle, "DEGRADED");
}

#[test]
fn readonly_refuses_writes() {
    let mut rig = Rig::new(true);
    rig.key(KeyCode::Char(':'));
    rig.chars("spawn heartbeat 10");
    rig.key(KeyCode::Enter);
    let screen = rig.draw();
    assert!(screen.contains("read-only"), "{screen}");
    assert!(screen.contains("READ-ONLY"));
}

#[test]
fn replay_refuses_writes_without_readonly() {
    let mut rig = Rig::new(false);
    rig.key(KeyCode::Char(':'));
    rig.chars("kill w0001");
    rig.key(KeyCode::Enter);
    assert!(rig.draw().contains("a replay cannot be commanded"));
}

#[test]
fn arrows_goto_and_mouse_select() {
    let mut rig = Rig::new(false);
    assert_eq!(rig.selected().as_deref(), Some("w0001"));
    rig.key(KeyCode::Right);
    rig.key(KeyCode::Char('l'));
    assert_eq!(rig.selected().as_deref(), Some("w0003"));
    rig.key(KeyCode::Char('G'));
    assert_eq!(rig.selected().as_deref(), Some("w0006"));
    rig.key(KeyCode::Char(':'));
    rig.chars("goto w0004");
    rig.key(KeyCode::Enter);
    assert_eq!(rig.selected().as_deref(), Some("w0004"));
    // Cells are 8 wide from column 1 of row 3: the fifth cell is w0005.
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 1 + 8 * 4 + 3,
        row: 3,
        modifiers: KeyModifiers::NONE,
    };
    rig.app
        .handle(&Event::Mouse(click), &mut rig.model, &mut rig.source);
    assert_eq!(rig.selected().as_deref(), Some("w0005"));
    assert!(rig.draw().contains("Worker w0005"));
    // A click outside the grid changes nothing.
    let outside = MouseEvent {
        column: 119,
        row: 0,
        ..click
    };
    rig.app
        .handle(&Event::Mouse(outside), &mut rig.model, &mut rig.source);
    assert_eq!(rig.selected().as_deref(), Some("w0005"));
}

#[test]
fn q_quits_and_ctrl_c_quits_anywhere() {
    let mut rig = Rig::new(false);
    rig.key(KeyCode::Char('q'));
    assert!(rig.app.quit);
    let mut rig = Rig::new(false);
    rig.key(KeyCode::Char('/'));
    rig.key(KeyCode::Char('q'));
    assert!(!rig.app.quit, "q is text inside the filter");
    let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    rig.app.handle(&ctrl_c, &mut rig.model, &mut rig.source);
    assert!(rig.app.quit);
}
