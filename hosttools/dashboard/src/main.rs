//! The hive dashboard: a terminal view of a live hive or a simulator transcript.

fn main() {
    eprintln!("dashboard: not built yet");
    std::process::exit(2);
}
