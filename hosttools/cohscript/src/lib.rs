//! The cohsh command language and `.coh` regression scripts, parsed and translated with no I/O.
//! cohsh, the simulator's operator hosts and the hardware checks all run the same scripts
//! through this crate, so one regression pack means the same thing on every transport.

mod command;
mod redact;
mod reply;
mod script;

pub use command::{
    parse_command, retire_key_json, revoke_json, Command, Op, ParseError, LIFECYCLE_VERBS,
    QUEEN_CTL,
};
pub use redact::{redact, REDACTED};
pub use reply::{parse_reply, status_line, Reply};
pub use script::{check, parse_script, ScriptError, Step, WAIT_MAX_MS};
