//! One full dashboard frame (200x50, every panel populated) rendered into ratatui's
//! `TestBackend`, at 1,000 and 10,000 workers; plus a frame that must rebuild a filtered view.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use dashboard::app::App;
use dashboard::fixture;
use dashboard::model::DashboardWorkerState;
use dashboard::source::{ReplaySource, Source};
use dashboard::ui;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn frames(c: &mut Criterion) {
    let status = ReplaySource::from_text("bench", "").status();
    let mut group = c.benchmark_group("frame");
    for workers in [1_000usize, 10_000] {
        let model = fixture::model(workers);
        let mut app = App::new(true);
        app.selected = 40;
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
        group.bench_with_input(BenchmarkId::from_parameter(workers), &workers, |b, _| {
            b.iter(|| {
                terminal
                    .draw(|f| ui::draw(f, &mut app, &model, &status))
                    .expect("draw");
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("frame_filter_rebuild");
    for workers in [1_000usize, 10_000] {
        let mut model = fixture::model(workers);
        let mut app = App::new(true);
        app.filter = String::from("state:online site:s3");
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
        let mut flip = false;
        group.bench_with_input(BenchmarkId::from_parameter(workers), &workers, |b, _| {
            b.iter(|| {
                // A state change forces the filtered view to be rebuilt this frame.
                flip = !flip;
                let state = if flip {
                    DashboardWorkerState::Offline
                } else {
                    DashboardWorkerState::Online
                };
                model.set_state("w00003", state, "bench");
                terminal
                    .draw(|f| ui::draw(f, &mut app, &model, &status))
                    .expect("draw");
            });
        });
    }
    group.finish();
}

criterion_group!(benches, frames);
criterion_main!(benches);
