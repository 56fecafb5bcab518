//! Role views (docs/interfaces.md §4): each session sees the namespace through a mount table.
//! A path outside the view does not exist for that session.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use hive::{Principal, ShardLabel};
use ticket::Role;

/// A session's mount table, computed once at attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// Everything (the Queen).
    Full,
    /// Only these subtrees, plus the directories leading to them.
    Mounts(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Hidden,
    /// A directory on the way to a mount: visible, listing filtered.
    Ancestor,
    Inside,
}

impl View {
    pub fn for_principal(principal: &Principal) -> View {
        match principal.role {
            Role::Queen => View::Full,
            Role::WorkerHeartbeat | Role::WorkerGpu => {
                let id = &principal.subject;
                let shard = ShardLabel::of(id);
                let mut mounts = vec![
                    String::from("/proc/boot"),
                    alloc::format!("/shard/{}/worker/{id}", shard.as_str()),
                ];
                if principal.role == Role::WorkerGpu {
                    // Every GPU is visible; only a live lease lets a worker write one.
                    mounts.push(String::from("/gpu"));
                    mounts.push(String::from("/queen/lease/ctl"));
                    mounts.push(String::from("/queen/schedule/ctl"));
                }
                View::Mounts(mounts)
            }
            Role::GpuBridge => {
                View::Mounts(vec![String::from("/gpu"), String::from("/queen/lease/ctl")])
            }
            Role::Relay => View::Mounts(vec![
                String::from("/proc"),
                String::from("/queen/ctl"),
                String::from("/queen/export"),
                String::from("/log"),
            ]),
            Role::Vendor => View::Mounts(
                principal
                    .scopes
                    .iter()
                    .map(|s| String::from(s.path_prefix.trim_end_matches('/')))
                    .collect(),
            ),
        }
    }

    pub fn visibility(&self, path: &str) -> Visibility {
        let View::Mounts(mounts) = self else {
            return Visibility::Inside;
        };
        let mut best = Visibility::Hidden;
        for mount in mounts {
            if path == mount || is_under(path, mount) {
                return Visibility::Inside;
            }
            if path == "/" || is_under(mount, path) {
                best = Visibility::Ancestor;
            }
        }
        best
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            View::Full => 0,
            View::Mounts(m) => {
                m.capacity() * core::mem::size_of::<String>()
                    + m.iter().map(String::capacity).sum::<usize>()
            }
        }
    }
}

/// `path` lies strictly below `dir` on an element boundary.
pub fn is_under(path: &str, dir: &str) -> bool {
    if dir == "/" {
        return path.len() > 1;
    }
    path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(id: &str) -> Principal {
        Principal {
            role: Role::WorkerHeartbeat,
            subject: String::from(id),
            ticket_id: Some(1),
            scopes: Vec::new(),
            expires_at_ms: u64::MAX,
        }
    }

    #[test]
    fn worker_sees_only_its_mounts() {
        let view = View::for_principal(&worker("w0001"));
        assert_eq!(view.visibility("/"), Visibility::Ancestor);
        assert_eq!(view.visibility("/proc"), Visibility::Ancestor);
        assert_eq!(view.visibility("/proc/boot"), Visibility::Inside);
        assert_eq!(view.visibility("/proc/pressure"), Visibility::Hidden);
        assert_eq!(
            view.visibility("/shard/9f/worker/w0001/telemetry"),
            Visibility::Inside
        );
        assert_eq!(
            view.visibility("/shard/9f/worker/w0002"),
            Visibility::Hidden
        );
        assert_eq!(
            view.visibility("/shard/9f/worker/w00011"),
            Visibility::Hidden
        );
        assert_eq!(view.visibility("/queen/ctl"), Visibility::Hidden);
    }
}
