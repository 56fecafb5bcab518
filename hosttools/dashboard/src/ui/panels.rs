//! The side and bottom panels: the selected worker with its telemetry sparkline and tail,
//! sessions and pressure counters, leases and the scheduler queue, and the audit log tail.
//! Each panel reads only as many lines as it can show.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline, Widget};

use super::style;
use crate::model::{Model, Worker, PRESSURE};

fn block(title: &str) -> Block<'_> {
    Block::bordered().title(Line::styled(format!(" {title} "), style::title()))
}

/// The selected worker: facts, sparkline of its telemetry, and the tail of its records.
pub fn worker(w: Option<&Worker>, area: Rect, buf: &mut Buffer) {
    let title = w.map_or_else(|| String::from("Worker"), |w| format!("Worker {}", w.id));
    let outer = block(&title);
    let inner = outer.inner(area);
    outer.render(area, buf);
    let Some(w) = w else {
        Paragraph::new(Line::styled(
            "select a worker (arrows, mouse)",
            style::dim(),
        ))
        .render(inner, buf);
        return;
    };
    let [facts, spark, tail] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Fill(1),
    ])
    .areas(inner);
    let lines = vec![
        Line::from(vec![
            Span::styled(
                format!("{} {}", super::style::glyph(w.state), w.state.as_str()),
                style::state(w.state),
            ),
            Span::raw(format!("  reason={}", or_dash(&w.reason))),
        ]),
        Line::raw(format!("kind={} site={} shard={}", w.kind, w.site, w.shard)),
        Line::raw(format!(
            "ops={} records={} seen={}",
            w.ops,
            w.records,
            secs(w.last_seen_ms)
        )),
    ];
    Paragraph::new(lines).render(facts, buf);
    let data: Vec<u64> = w
        .samples
        .iter()
        .rev()
        .take(usize::from(spark.width))
        .rev()
        .copied()
        .collect();
    Sparkline::default()
        .block(Block::new().title(Line::styled("telemetry", style::dim())))
        .data(&data)
        .style(style::state(w.state))
        .render(spark, buf);
    let show = usize::from(tail.height);
    let lines: Vec<Line> = w
        .tail
        .iter()
        .skip(w.tail.len().saturating_sub(show))
        .map(|l| Line::raw(l.as_str()))
        .collect();
    if lines.is_empty() {
        Paragraph::new(Line::styled("no telemetry yet", style::dim())).render(tail, buf);
    } else {
        Paragraph::new(lines).render(tail, buf);
    }
}

/// Sessions by state and refusal counters by class.
pub fn pressure(model: &Model, area: Rect, buf: &mut Buffer) {
    let s = model.sessions;
    let mut lines = vec![
        Line::raw(format!(
            "sessions active={} setup={} draining={}",
            s.active, s.setup, s.draining
        )),
        Line::raw(format!("closed={} attaches={}", s.closed, s.opened)),
    ];
    for classes in PRESSURE.chunks(3).zip(model.pressure.chunks(3)) {
        let mut spans = vec![Span::raw("pressure ")];
        for (class, n) in classes.0.iter().zip(classes.1) {
            let st = if *n > 0 { style::bad() } else { style::dim() };
            spans.push(Span::styled(format!("{class}={n}"), st));
            spans.push(Span::raw(" "));
        }
        lines.push(Line::from(spans));
    }
    if model.dropped_workers > 0 {
        lines.push(Line::styled(
            format!("workers past the view bound: {}", model.dropped_workers),
            style::bad(),
        ));
    }
    Paragraph::new(lines)
        .block(block("Sessions & pressure"))
        .render(area, buf);
}

/// GPU leases and the scheduler queue, newest last.
pub fn leases(model: &Model, area: Rect, buf: &mut Buffer) {
    let outer = block("Leases & queue");
    let inner = outer.inner(area);
    outer.render(area, buf);
    let half = inner.height / 2;
    let [top, bottom] =
        Layout::vertical([Constraint::Length(half.max(1)), Constraint::Fill(1)]).areas(inner);
    let head = format!(
        "leases {} preemptions {}",
        model.leases.len(),
        model.preemptions
    );
    rows(&head, &model.leases, top, buf);
    let head = format!("queue {}", model.queue.len());
    rows(&head, &model.queue, bottom, buf);
}

fn rows(head: &str, rows: &[crate::model::Row], area: Rect, buf: &mut Buffer) {
    let show = usize::from(area.height.saturating_sub(1));
    let mut lines = vec![Line::styled(head.to_string(), style::dim())];
    lines.extend(
        rows.iter()
            .skip(rows.len().saturating_sub(show))
            .map(|r| Line::raw(format!("{} {}", r.key, r.detail))),
    );
    Paragraph::new(lines).render(area, buf);
}

/// The newest audit lines that fit.
pub fn audit(model: &Model, area: Rect, buf: &mut Buffer) {
    let show = usize::from(area.height.saturating_sub(2));
    let lines: Vec<Line> = model
        .audit
        .iter()
        .skip(model.audit.len().saturating_sub(show))
        .map(|l| audit_line(l))
        .collect();
    let title = format!("Audit log ({} events)", model.events);
    Paragraph::new(lines).block(block(&title)).render(area, buf);
}

/// Refusals and revocations stand out in the audit tail.
fn audit_line(text: &str) -> Line<'_> {
    let loud = ["deny", "refus", "revoke", "cut", "unreachable", "lost="];
    if loud.iter().any(|w| text.contains(w)) {
        Line::styled(
            text,
            style::state(crate::model::DashboardWorkerState::Offline),
        )
    } else {
        Line::raw(text)
    }
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() {
        "-"
    } else {
        text
    }
}

/// Milliseconds as seconds with three decimals.
pub fn secs(ms: u64) -> String {
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}
