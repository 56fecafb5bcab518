//! Render snapshots: whole frames drawn into ratatui's `TestBackend`, stored as text under
//! tests/snapshots. Everything shown comes from the model or virtual time, never a clock.

use dashboard::app::{App, Mode};
use dashboard::fixture;
use dashboard::model::{DashboardWorkerState, Model};
use dashboard::source::{ReplaySource, Source, SourceStatus};
use dashboard::ui;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;

const SMALL: &str = include_str!("fixtures/small.transcript");

fn frame(app: &mut App, model: &Model, status: &SourceStatus, w: u16, h: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| ui::draw(f, app, model, status)).unwrap();
    terminal.backend().buffer().clone()
}

fn replay_at(ms: u64) -> (Model, ReplaySource) {
    let mut model = Model::default();
    let mut source = ReplaySource::from_text("small.transcript", SMALL);
    source.set_paused(true);
    source.seek_us(&mut model, ms * 1000);
    (model, source)
}

fn bench_status() -> SourceStatus {
    ReplaySource::from_text("fixture", "").status()
}

#[test]
fn replay_mid_partition() {
    let (model, source) = replay_at(10_000);
    let mut app = App::new(false);
    let buf = frame(&mut app, &model, &source.status(), 120, 36);
    insta::assert_snapshot!(ui::buffer_text(&buf));
}

#[test]
fn replay_after_heal() {
    let (model, source) = replay_at(40_000);
    let mut app = App::new(false);
    app.selected = 4;
    let buf = frame(&mut app, &model, &source.status(), 120, 36);
    let text = ui::buffer_text(&buf);
    assert!(text.contains("ROOT ● reachable"));
    assert!(text.contains("REVOKED 1"));
    insta::assert_snapshot!(text);
}

#[test]
fn thousand_workers() {
    let model = fixture::model(1000);
    let mut app = App::new(true);
    let buf = frame(&mut app, &model, &bench_status(), 200, 50);
    insta::assert_snapshot!(ui::buffer_text(&buf));
}

#[test]
fn thousand_workers_scrolled_to_the_end() {
    let model = fixture::model(1000);
    let mut app = App::new(true);
    app.selected = 999;
    let buf = frame(&mut app, &model, &bench_status(), 200, 50);
    let text = ui::buffer_text(&buf);
    assert!(text.contains("w01000"));
    assert!(!text.contains("w00001 "));
    insta::assert_snapshot!(text);
}

#[test]
fn compact_grid_at_ten_thousand() {
    let model = fixture::model(10_000);
    let mut app = App::new(true);
    app.compact = true;
    let buf = frame(&mut app, &model, &bench_status(), 160, 40);
    insta::assert_snapshot!(ui::buffer_text(&buf));
}

#[test]
fn filtered_view() {
    let model = fixture::model(1000);
    let mut app = App::new(false);
    app.filter = String::from("state:offline site:s2");
    let buf = frame(&mut app, &model, &bench_status(), 160, 40);
    let text = ui::buffer_text(&buf);
    assert!(text.contains("Workers 25/1000"));
    insta::assert_snapshot!(text);
}

#[test]
fn help_overlay() {
    let (model, source) = replay_at(10_000);
    let mut app = App::new(false);
    app.mode = Mode::Help;
    let buf = frame(&mut app, &model, &source.status(), 120, 36);
    insta::assert_snapshot!(ui::buffer_text(&buf));
}

#[test]
fn command_line_and_narrow_terminal() {
    let (model, source) = replay_at(10_000);
    let mut app = App::new(false);
    app.mode = Mode::Command;
    app.input = String::from("seek 12.5");
    let buf = frame(&mut app, &model, &source.status(), 80, 24);
    let text = ui::buffer_text(&buf);
    assert!(
        !text.contains("Sessions & pressure"),
        "no side panel below 100 columns"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn cells_are_coloured_by_state() {
    let model = fixture::model(40);
    let mut app = App::new(true);
    let buf = frame(&mut app, &model, &bench_status(), 200, 50);
    let mut seen = Vec::new();
    for (pos, cell) in buf.content().iter().enumerate() {
        let glyph = cell.symbol();
        for state in DashboardWorkerState::ALL {
            if glyph == ui::style::glyph(state) && pos / 200 > 1 && pos / 200 < 30 {
                assert_eq!(cell.fg, ui::style::color(state), "{state:?} at {pos}");
                seen.push(state);
            }
        }
    }
    for state in [
        DashboardWorkerState::Online,
        DashboardWorkerState::Pending,
        DashboardWorkerState::Offline,
        DashboardWorkerState::Degraded,
    ] {
        assert!(seen.contains(&state), "{state:?} drawn");
    }
    assert_eq!(buf[(1, 3)].fg, Color::Green, "first worker is ONLINE");
}
