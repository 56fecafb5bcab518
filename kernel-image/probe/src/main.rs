//! cohesix-probe: drives a booted image from the host. `check` runs the end-to-end bar
//! (console and Secure9P against one hive), `bench` times console round trips, `mint` prints a
//! ticket signed with a hive key file, `closed` proves the console port refuses.

mod bench;
mod check;
mod closed;
mod console;
mod keys;
mod ninep;
mod opts;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cohesix-probe <check|bench|mint|closed> [options]
  check   the end-to-end bar: console + Secure9P against one hive
  bench   time --count console round trips (ping), report p50/p99
  mint    print a ticket signed with --key (--role, --subject, --ttl-ms)
  closed  succeed if the console port hangs up without answering
  --host H           hive address (default 127.0.0.1)
  --console-port P   TCP console port (default 31337)
  --ninep-port P     Secure9P port (default 564)
  --key FILE         hive key file: `<id>:<64 hex>` lines (bare hex = key id 1)
  --token-file FILE  console token file
  --platform NAME    platform /proc/boot must report (check; default qemu-virt)
  --count N          round trips (bench; default 1000)
  --role R --subject S --ttl-ms N   (mint; default queen operator 30 days)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let opts = match opts::Opts::parse(rest) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("cohesix-probe: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command.as_str() {
        "check" => check::run(&opts),
        "bench" => bench::run(&opts),
        "mint" => keys::mint_command(&opts),
        "closed" => closed::run(&opts),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cohesix-probe {command}: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
