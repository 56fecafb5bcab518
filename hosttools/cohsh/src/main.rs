//! cohsh, the operator shell of a Cohesix hive.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use clap::Parser;
use cohsh::output::Printer;
use cohsh::script::run_script;
use cohsh::serve::{provision, HostedHive, ServeArgs};
use cohsh::shell::interactive;
use cohsh::Session;

use cohsh::cli::{Cli, Sub};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Sub::Serve(args)) => serve(args),
        Some(Sub::Mint { args, json }) => mint(args, *json),
        Some(Sub::Gpu(args)) => gpu(args, cli.json),
        None => shell(&cli),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cohsh: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `cohsh gpu ...`: the operation's console commands, run as `-c` commands are.
fn gpu(args: &cohsh::gpu::GpuArgs, json: bool) -> anyhow::Result<ExitCode> {
    let mut session = open(&args.conn)?;
    let mut printer = Printer::new(std::io::stdout().lock(), json);
    run_commands(&mut session, &cohsh::gpu::commands(&args.op), &mut printer)
}

fn open(conn: &cohsh::cli::ConnArgs) -> anyhow::Result<Session> {
    let target = conn.target()?;
    let policy = client::RetryPolicy::new(conn.connect_attempts, conn.retry_backoff());
    client::retry(&policy, |_| Session::open(&target)).map_err(|e| {
        anyhow::anyhow!(
            "cannot open a {} session with {} as {}: {e}",
            target.transport,
            target.addr(),
            target.role
        )
    })
}

fn shell(cli: &Cli) -> anyhow::Result<ExitCode> {
    let target = cli.conn.target()?;
    let mut session = open(&cli.conn)?;
    let mut printer = Printer::new(std::io::stdout().lock(), cli.json);
    if !cli.scripts.is_empty() {
        let mut failed = false;
        for path in &cli.scripts {
            let src = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let name = path.display().to_string();
            let report = run_script(&mut session, &name, &src, &mut printer)
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            failed |= !report.passed();
        }
        return Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    if !cli.conn.commands.is_empty() {
        return run_commands(&mut session, &cli.conn.commands, &mut printer);
    }
    if std::io::stdin().is_terminal() {
        let prompt = format!("cohsh:{}> ", target.role);
        let history = cli.conn.state_dir().join("cohsh_history");
        interactive(session, &prompt, Some(history), &mut printer)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut src = String::new();
    std::io::stdin().read_to_string(&mut src)?;
    let report = run_script(&mut session, "stdin", &src, &mut printer)
        .map_err(|e| anyhow::anyhow!("stdin: {e}"))?;
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `-c` commands: each reply printed; exit 1 if any was refused.
fn run_commands<W: std::io::Write>(
    session: &mut Session,
    commands: &[String],
    printer: &mut Printer<W>,
) -> anyhow::Result<ExitCode> {
    let mut refused = false;
    for raw in commands {
        // Replies and errors name the command without its ticket.
        let shown = cohscript::redact(raw);
        let text = shown.as_str();
        let command = cohscript::parse_command(raw).map_err(|e| anyhow::anyhow!("{text}: {e}"))?;
        match session.run(&command) {
            Ok(response) => {
                refused |= !response.ok();
                printer.response(text, &response);
            }
            Err(e) => {
                printer.failure(text, &e);
                return Ok(ExitCode::from(2));
            }
        }
    }
    Ok(if refused {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let provisioned = provision(args)?;
    let config = provisioned.config.clone();
    let hive = HostedHive::start(config).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::PermissionDenied {
            " (ports below 1024 need privileges: try --ninep-port 5640 and cohsh --transport 9p --port 5640)"
        } else if e.kind() == std::io::ErrorKind::AddrInUse {
            " (another hive is running, or pick other ports with --console-port/--ninep-port)"
        } else {
            ""
        };
        anyhow::anyhow!("cannot start the hive: {e}{hint}")
    })?;
    cohsh::creds::write_attach_env(
        &provisioned.state_dir,
        hive.console_addr(),
        hive.ninep_addr(),
        &provisioned.token_file,
        &provisioned.key_file,
    )?;
    let m = &provisioned.config.manifest;
    eprintln!(
        "cohesix hosted hive `{}` (manifest {:016x})",
        m.hive.name,
        m.fingerprint()
    );
    eprintln!(
        "  console   {}   token  {}",
        hive.console_addr(),
        provisioned.token_file.display()
    );
    eprintln!("  secure9p  {}", hive.ninep_addr());
    eprintln!(
        "  queen ticket   {}",
        provisioned.queen_ticket_file.display()
    );
    eprintln!("  hive key       {}", provisioned.key_file.display());
    match &provisioned.config.agents {
        Some(a) => eprintln!("  agents    on (heartbeat every {} ms)", a.heartbeat_ms),
        None => eprintln!("  agents    off"),
    }
    eprintln!(
        "try: cohsh --port {} -c ping   (Ctrl-C stops the hive)",
        hive.console_addr().port()
    );
    let stop = hive.stopper();
    ctrlc::set_handler(move || stop.store(true, std::sync::atomic::Ordering::SeqCst))?;
    hive.wait();
    eprintln!("hive stopped");
    Ok(ExitCode::SUCCESS)
}

fn mint(args: &cohsh::mint::MintArgs, json: bool) -> anyhow::Result<ExitCode> {
    let (text, claims) = cohsh::mint::mint(args)?;
    if json {
        println!("{}", cohsh::mint::claims_json(&claims, &text));
    } else {
        println!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}
