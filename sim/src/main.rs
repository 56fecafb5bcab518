//! The simulator: the whole hive in virtual time over turmoil.

fn main() {
    eprintln!("cohesix-sim: not built yet");
    std::process::exit(2);
}
