//! cohsh, the operator shell of a Cohesix hive: one command language over the console protocol
//! or Secure9P, interactive or as `.coh` regression scripts. It also mints tickets and runs a
//! hosted hive (`cohsh serve`): the unchanged core on real sockets, with worker agents.

pub mod cli;
pub mod creds;
pub mod gpu;
pub mod mint;
pub mod output;
pub mod script;
pub mod serve;
pub mod session;
pub mod shell;

pub use session::{Session, Target, Transport};
