//! `dashboard`: a terminal view of a live hive (`attach`) or of a simulator transcript
//! (`replay`). See docs/dashboard.md for keys and panels.

use std::io::stdout;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use ratatui::backend::TestBackend;
use ratatui::{DefaultTerminal, Terminal};

use client::creds;
use dashboard::app::App;
use dashboard::model::Model;
use dashboard::source::{LiveOptions, LiveSource, PollPlan, ReplaySource, Source};
use dashboard::ui;

#[derive(Parser, Debug)]
#[command(
    name = "dashboard",
    version,
    about = "A terminal view of a Cohesix hive"
)]
struct Cli {
    /// Refuse every command that would change the hive.
    #[arg(long, global = true)]
    readonly: bool,
    /// Render one frame as text to stdout (WIDTHxHEIGHT) instead of running interactively.
    #[arg(long, global = true, value_name = "WxH")]
    print_frame: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Replay a simulator transcript over virtual time.
    Replay {
        file: PathBuf,
        /// Virtual seconds per real second.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Start paused.
        #[arg(long)]
        paused: bool,
        /// Start at this virtual time in seconds (`--print-frame` defaults to the end).
        #[arg(long)]
        at: Option<f64>,
    },
    /// Attach to a live hive over Secure9P as the queen.
    Attach {
        #[arg(long, default_value = "127.0.0.1:564")]
        addr: String,
        /// Ticket text (default: $COHESIX_TICKET, $COHSH_TICKET, or the queen ticket that
        /// `cohsh serve` wrote to the state directory).
        #[arg(long)]
        ticket: Option<String>,
        /// File holding the ticket text.
        #[arg(long, conflicts_with = "ticket")]
        ticket_file: Option<PathBuf>,
        /// Where `cohsh serve` keeps its queen ticket (default: $COHESIX_STATE_DIR,
        /// $XDG_STATE_HOME/cohesix or ~/.local/state/cohesix).
        #[arg(long)]
        state_dir: Option<PathBuf>,
        #[arg(long, default_value = "queen")]
        role: String,
        /// Attach name (default: the ticket's subject).
        #[arg(long)]
        subject: Option<String>,
        /// Milliseconds between polls.
        #[arg(long, default_value_t = 500)]
        refresh_ms: u64,
        /// Status files read per poll besides the ones on screen.
        #[arg(long, default_value_t = 64)]
        rotate: usize,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let mut model = Model::default();
    let print = cli.print_frame.as_deref().map(parse_size).transpose()?;
    let mut source: Box<dyn Source> = match cli.command {
        Command::Replay {
            file,
            speed,
            paused,
            at,
        } => replay(&file, speed, paused, at, print.is_some(), &mut model)?,
        Command::Attach {
            addr,
            ticket,
            ticket_file,
            state_dir,
            role,
            subject,
            refresh_ms,
            rotate,
        } => {
            let state_dir = state_dir.unwrap_or_else(creds::default_state_dir);
            let env = |var: &str| std::env::var(var).ok();
            let found =
                creds::find_ticket(ticket.as_deref(), ticket_file.as_deref(), &env, &state_dir)
                    .map_err(anyhow::Error::msg)?;
            let ticket = found.ticket;
            let subject = subject.unwrap_or_else(|| dashboard::source::subject_of(&ticket));
            let plan = PollPlan {
                rotate,
                ..PollPlan::default()
            };
            Box::new(LiveSource::attach(LiveOptions {
                addr,
                role,
                subject,
                ticket,
                refresh_ms,
                plan,
            }))
        }
    };
    let mut app = App::new(cli.readonly);
    if let Some((w, h)) = print {
        return print_frame(&mut app, &mut model, source.as_mut(), w, h);
    }
    let mut terminal = ratatui::try_init().context("terminal")?;
    let mouse = execute!(stdout(), EnableMouseCapture);
    let result = run(&mut terminal, &mut app, &mut model, source.as_mut());
    if mouse.is_ok() {
        let _ = execute!(stdout(), DisableMouseCapture);
    }
    ratatui::restore();
    result
}

fn replay(
    file: &PathBuf,
    speed: f64,
    paused: bool,
    at: Option<f64>,
    to_end: bool,
    model: &mut Model,
) -> Result<Box<dyn Source>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading transcript {}", file.display()))?;
    let label = file.display().to_string();
    let mut source = ReplaySource::from_text(&label, &text);
    if source.rejected() > 0 {
        eprintln!(
            "dashboard: {} transcript line(s) could not be parsed",
            source.rejected()
        );
    }
    source
        .control(model, dashboard::source::Control::Speed(speed))
        .ok();
    source.set_paused(paused);
    let start_us = match at {
        Some(secs) if secs.is_finite() && secs >= 0.0 => (secs * 1e6) as u64,
        Some(_) => bail!("--at takes seconds >= 0"),
        None if to_end => source.end_us(),
        None => 0,
    };
    source.seek_us(model, start_us);
    Ok(Box::new(source))
}

fn parse_size(text: &str) -> Result<(u16, u16)> {
    let (w, h) = text
        .split_once('x')
        .context("--print-frame takes WIDTHxHEIGHT, e.g. 160x48")?;
    let w: u16 = w.parse().context("width")?;
    let h: u16 = h.parse().context("height")?;
    if !(20..=1000).contains(&w) || !(5..=1000).contains(&h) {
        bail!("--print-frame size out of range");
    }
    Ok((w, h))
}

fn print_frame(
    app: &mut App,
    model: &mut Model,
    source: &mut dyn Source,
    w: u16,
    h: u16,
) -> Result<()> {
    let mut terminal = Terminal::new(TestBackend::new(w, h))?;
    source.tick(model, 0);
    if source.status().mode == "LIVE" {
        settle(source, model);
    }
    let status = source.status();
    terminal.draw(|f| ui::draw(f, app, model, &status))?;
    print!("{}", ui::buffer_text(terminal.backend().buffer()));
    Ok(())
}

/// Live `--print-frame`: polls until the roster has gone round once (or 10 s pass).
fn settle(source: &mut dyn Source, model: &mut Model) {
    let polls = (256 / PollPlan::default().shards_per_poll) as u64 + 2;
    let deadline = Instant::now() + Duration::from_secs(10);
    while source.status().done < polls && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        source.tick(model, 20);
    }
    std::thread::sleep(Duration::from_millis(50));
    source.tick(model, 50);
}

/// The interactive loop: tick the source, draw, handle input; about 20 frames a second.
fn run(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    model: &mut Model,
    source: &mut dyn Source,
) -> Result<()> {
    let mut last = Instant::now();
    let mut carry_us: u128 = 0;
    let mut focus: Vec<String> = Vec::new();
    while !app.quit {
        let now = Instant::now();
        carry_us += now.duration_since(last).as_micros();
        last = now;
        let elapsed_ms = (carry_us / 1000) as u64;
        carry_us %= 1000;
        source.tick(model, elapsed_ms);
        if let Some(msg) = source.messages().pop() {
            app.message = Some(msg);
        }
        let status = source.status();
        terminal.draw(|f| ui::draw(f, app, model, &status))?;
        let wanted = app.focus_ids(model);
        if wanted != focus {
            source.focus(&wanted);
            focus = wanted;
        }
        if event::poll(Duration::from_millis(50))? {
            // Drain everything queued so a burst of keys costs one frame.
            while event::poll(Duration::ZERO)? {
                let ev = event::read()?;
                app.handle(&ev, model, source);
            }
        }
    }
    Ok(())
}
