//! The access policy, evaluated before any provider runs: a node's mode names who may read
//! and who may write it, and a ticket's scopes can only narrow that further.

use crate::providers::{Entry, Who};
use hive::Principal;
use ticket::{Role, Verbs};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Read,
    /// Append (append-only nodes) or control write.
    Write,
}

impl Verb {
    fn scope_verbs(self) -> Verbs {
        match self {
            Verb::Read => Verbs::READ,
            Verb::Write => Verbs(Verbs::WRITE.0 | Verbs::APPEND.0),
        }
    }
}

/// May `principal` exercise `verb` on `entry` at `path`?
pub fn permits(principal: &Principal, entry: &Entry, path: &str, verb: Verb) -> bool {
    let who = match verb {
        Verb::Read => entry.read,
        Verb::Write => entry.write,
    };
    let by_mode = match who {
        Who::Nobody => false,
        Who::Anyone => true,
        Who::Queen => principal.role == Role::Queen,
        Who::QueenOrRelay => matches!(principal.role, Role::Queen | Role::Relay),
        Who::Owner => entry
            .owner
            .as_deref()
            .is_some_and(|owner| principal.worker_id() == Some(owner)),
    };
    by_mode && scopes_permit(principal, path, verb)
}

/// No scopes means no narrowing; otherwise some scope covering `path` must grant a verb.
fn scopes_permit(principal: &Principal, path: &str, verb: Verb) -> bool {
    principal.scopes.is_empty() || granting_scope(principal, path, verb).is_some()
}

/// The scope a request is charged to: the first, in ticket order, that covers `path` and
/// grants `verb`. Returns its index and `rate_per_s`.
pub fn granting_scope(principal: &Principal, path: &str, verb: Verb) -> Option<(u8, u32)> {
    let wanted = verb.scope_verbs();
    let index = principal
        .scopes
        .iter()
        .position(|scope| scope.covers(path) && scope.verbs.0 & wanted.0 != 0)?;
    // `ticket.scopes_max` is at most 8, so the index fits.
    Some((index as u8, principal.scopes[index].rate_per_s))
}
