//! cohsh, the operator shell of a Cohesix hive.

fn main() {
    eprintln!("cohsh: not built yet");
    std::process::exit(2);
}
