//! What a ticket says: the role and subject it names, how long it lives, what it may spend and
//! which parts of the namespace it may touch with which verbs.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::BitOr;

/// Roles of docs/interfaces.md §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Queen,
    WorkerHeartbeat,
    WorkerGpu,
    GpuBridge,
    Relay,
    Vendor,
}

impl Role {
    /// Every role, in wire-code order (the index is the role's byte in the claims encoding).
    pub const ALL: [Role; 6] = [
        Role::Queen,
        Role::WorkerHeartbeat,
        Role::WorkerGpu,
        Role::GpuBridge,
        Role::Relay,
        Role::Vendor,
    ];

    /// Wire name: `queen`, `worker-heartbeat`, `worker-gpu`, `gpu-bridge`, `relay`, `vendor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Queen => "queen",
            Role::WorkerHeartbeat => "worker-heartbeat",
            Role::WorkerGpu => "worker-gpu",
            Role::GpuBridge => "gpu-bridge",
            Role::Relay => "relay",
            Role::Vendor => "vendor",
        }
    }

    /// Parses the wire name (also accepts the short forms `heartbeat` and `gpu` for workers).
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "heartbeat" => Some(Role::WorkerHeartbeat),
            "gpu" => Some(Role::WorkerGpu),
            _ => Role::ALL.into_iter().find(|role| role.as_str() == text),
        }
    }

    pub fn is_worker(self) -> bool {
        matches!(self, Role::WorkerHeartbeat | Role::WorkerGpu)
    }

    /// The role's byte in the claims encoding.
    pub fn code(self) -> u8 {
        match self {
            Role::Queen => 0,
            Role::WorkerHeartbeat => 1,
            Role::WorkerGpu => 2,
            Role::GpuBridge => 3,
            Role::Relay => 4,
            Role::Vendor => 5,
        }
    }

    /// The role behind an encoding byte, if any.
    pub fn from_code(code: u8) -> Option<Role> {
        Role::ALL.get(usize::from(code)).copied()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Verbs a scope grants: read, write (control files), append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verbs(pub u8);

impl Verbs {
    pub const NONE: Verbs = Verbs(0);
    pub const READ: Verbs = Verbs(1);
    pub const WRITE: Verbs = Verbs(2);
    pub const APPEND: Verbs = Verbs(4);
    /// Every defined verb; bits outside this mask are invalid in an encoded ticket.
    pub const ALL: Verbs = Verbs(7);

    /// Letters in display order, paired with their bits.
    const LETTERS: [(char, Verbs); 3] = [
        ('r', Verbs::READ),
        ('w', Verbs::WRITE),
        ('a', Verbs::APPEND),
    ];

    pub fn contains(self, other: Verbs) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when no bit outside [`Verbs::ALL`] is set.
    pub fn is_valid(self) -> bool {
        self.0 & !Verbs::ALL.0 == 0
    }

    /// Parses letters `r`, `w`, `a` in any order, each at most once (`"ra"`, `"rw"`, `"rwa"`);
    /// `"-"` is the empty set. Anything else, including the empty string, is refused.
    pub fn parse(text: &str) -> Option<Verbs> {
        if text == "-" {
            return Some(Verbs::NONE);
        }
        if text.is_empty() {
            return None;
        }
        let mut verbs = Verbs::NONE;
        for ch in text.chars() {
            let (_, bit) = Verbs::LETTERS.iter().find(|(letter, _)| *letter == ch)?;
            if verbs.contains(*bit) {
                return None;
            }
            verbs = verbs | *bit;
        }
        Some(verbs)
    }
}

impl BitOr for Verbs {
    type Output = Verbs;
    fn bitor(self, rhs: Verbs) -> Verbs {
        Verbs(self.0 | rhs.0)
    }
}

impl fmt::Display for Verbs {
    /// Letters in the order `r`, `w`, `a`; `-` when no verb is granted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut any = false;
        for (letter, bit) in Verbs::LETTERS {
            if self.contains(bit) {
                fmt::Write::write_char(f, letter)?;
                any = true;
            }
        }
        if !any {
            f.write_str("-")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Absolute namespace path (starts with `/`); it covers itself and everything below it.
    pub path_prefix: String,
    pub verbs: Verbs,
    /// Requests per second through this scope; 0 = unlimited.
    pub rate_per_s: u32,
}

impl Scope {
    pub fn new(path_prefix: impl Into<String>, verbs: Verbs, rate_per_s: u32) -> Scope {
        Scope {
            path_prefix: path_prefix.into(),
            verbs,
            rate_per_s,
        }
    }

    /// True when `path` is the prefix itself or lies below it on a component boundary:
    /// `/a/b` covers `/a/b` and `/a/b/c` but not `/a/bc`.
    pub fn covers(&self, path: &str) -> bool {
        let prefix = self.path_prefix.trim_end_matches('/');
        match path.strip_prefix(prefix) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }
}

/// Spending limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Budget {
    pub ticks: Option<u64>,
    pub ops: Option<u64>,
    pub bytes: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quotas {
    pub bandwidth_bytes: u64,
    pub cursor_resumes: u32,
    pub cursor_advances: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub version: u8,
    pub key_id: u8,
    /// The hive the ticket was minted for: a hive refuses tickets naming another, even when
    /// both were given the same key.
    pub hive_id: u64,
    pub ticket_id: u64,
    pub role: Role,
    pub subject: String,
    pub issued_at_ms: u64,
    pub ttl_ms: u64,
    pub budget: Budget,
    pub scopes: Vec<Scope>,
    pub quotas: Quotas,
}

impl Claims {
    /// Claims at the current [`crate::VERSION`] with no budget, no scopes and zero quotas.
    pub fn new(
        key_id: u8,
        ticket_id: u64,
        role: Role,
        subject: impl Into<String>,
        issued_at_ms: u64,
        ttl_ms: u64,
    ) -> Claims {
        Claims {
            version: crate::VERSION,
            key_id,
            hive_id: 0,
            ticket_id,
            role,
            subject: subject.into(),
            issued_at_ms,
            ttl_ms,
            budget: Budget::default(),
            scopes: Vec::new(),
            quotas: Quotas::default(),
        }
    }

    /// The same claims, bound to `hive_id`.
    pub fn for_hive(mut self, hive_id: u64) -> Claims {
        self.hive_id = hive_id;
        self
    }

    /// First instant at which the ticket is no longer valid.
    pub fn expires_at_ms(&self) -> u64 {
        self.issued_at_ms.saturating_add(self.ttl_ms)
    }

    /// Expired from `expires_at_ms` onwards (the boundary instant itself is expired).
    pub fn is_expired(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_at_ms()
    }

    /// Whether the ticket allows `verb` on `path`. A ticket without scopes does not narrow its
    /// role's view; otherwise some scope must cover `path` and grant `verb`.
    pub fn permits(&self, path: &str, verb: Verbs) -> bool {
        self.scopes.is_empty()
            || self
                .scopes
                .iter()
                .any(|scope| scope.covers(path) && scope.verbs.contains(verb))
    }

    /// Index of the scope that governs `path`: the covering scope with the longest prefix
    /// (the first one listed wins a tie). `None` when no scope covers it.
    pub fn scope_index(&self, path: &str) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        for (index, scope) in self.scopes.iter().enumerate() {
            if !scope.covers(path) {
                continue;
            }
            let len = scope.path_prefix.trim_end_matches('/').len();
            if best.is_none_or(|(_, best_len)| len > best_len) {
                best = Some((index, len));
            }
        }
        best.map(|(index, _)| index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(Role::from_code(role.code()), Some(role));
        }
        assert_eq!(Role::parse("heartbeat"), Some(Role::WorkerHeartbeat));
        assert_eq!(Role::parse("gpu"), Some(Role::WorkerGpu));
        assert_eq!(Role::parse("Queen"), None);
        assert_eq!(Role::parse(""), None);
        assert_eq!(Role::from_code(6), None);
    }

    #[test]
    fn verbs_parse_and_display() {
        assert_eq!(Verbs::parse("r"), Some(Verbs::READ));
        assert_eq!(Verbs::parse("a"), Some(Verbs::APPEND));
        assert_eq!(Verbs::parse("w"), Some(Verbs::WRITE));
        assert_eq!(Verbs::parse("ra"), Some(Verbs::READ | Verbs::APPEND));
        assert_eq!(Verbs::parse("ar"), Some(Verbs::READ | Verbs::APPEND));
        assert_eq!(Verbs::parse("rw"), Some(Verbs::READ | Verbs::WRITE));
        assert_eq!(Verbs::parse("-"), Some(Verbs::NONE));
        for bad in ["", "rr", "x", "r-", "R", "rwax"] {
            assert_eq!(Verbs::parse(bad), None, "{bad:?}");
        }
        for bits in 0..8u8 {
            let text = Verbs(bits).to_string();
            assert_eq!(Verbs::parse(&text), Some(Verbs(bits)), "{text}");
        }
        assert_eq!((Verbs::APPEND | Verbs::READ).to_string(), "ra");
        assert_eq!(Verbs::ALL.to_string(), "rwa");
    }

    #[test]
    fn scope_matches_on_component_boundary() {
        let scope = Scope::new("/a/b", Verbs::READ, 0);
        assert!(scope.covers("/a/b"));
        assert!(scope.covers("/a/b/"));
        assert!(scope.covers("/a/b/c"));
        assert!(!scope.covers("/a/bc"));
        assert!(!scope.covers("/a"));
        assert!(!scope.covers("/x/a/b"));
        let slashed = Scope::new("/a/b/", Verbs::READ, 0);
        assert!(slashed.covers("/a/b"));
        assert!(slashed.covers("/a/b/c"));
        assert!(!slashed.covers("/a/bc"));
        let root = Scope::new("/", Verbs::READ, 0);
        assert!(root.covers("/"));
        assert!(root.covers("/anything/below"));
    }

    fn scoped() -> Claims {
        let mut claims = Claims::new(1, 7, Role::Relay, "r1", 0, 1000);
        claims.scopes = vec![
            Scope::new("/log", Verbs::READ, 0),
            Scope::new("/log/queen.log", Verbs::APPEND, 0),
            Scope::new("/queen/ctl", Verbs::WRITE, 5),
        ];
        claims
    }

    #[test]
    fn permits_needs_covering_scope_with_verb() {
        let claims = scoped();
        assert!(claims.permits("/log/queen.log", Verbs::READ));
        assert!(claims.permits("/log/queen.log", Verbs::APPEND));
        assert!(!claims.permits("/log/other", Verbs::APPEND));
        assert!(claims.permits("/queen/ctl", Verbs::WRITE));
        assert!(!claims.permits("/queen/ctl", Verbs::READ));
        assert!(!claims.permits("/queen/ctlx", Verbs::WRITE));
        assert!(!claims.permits("/proc", Verbs::READ));
        assert!(!claims.permits("/logs", Verbs::READ));
    }

    #[test]
    fn no_scopes_means_no_narrowing() {
        let claims = Claims::new(1, 7, Role::Queen, "queen", 0, 1000);
        assert!(claims.permits("/anything", Verbs::ALL));
        assert_eq!(claims.scope_index("/anything"), None);
    }

    #[test]
    fn scope_index_prefers_longest_prefix() {
        let claims = scoped();
        assert_eq!(claims.scope_index("/log"), Some(0));
        assert_eq!(claims.scope_index("/log/x"), Some(0));
        assert_eq!(claims.scope_index("/log/queen.log"), Some(1));
        assert_eq!(claims.scope_index("/queen/ctl"), Some(2));
        assert_eq!(claims.scope_index("/queen"), None);
    }

    #[test]
    fn expiry_boundary_and_saturation() {
        let claims = Claims::new(1, 7, Role::Queen, "q", 1_000, 500);
        assert_eq!(claims.expires_at_ms(), 1_500);
        assert!(!claims.is_expired(1_499));
        assert!(claims.is_expired(1_500));
        let forever = Claims::new(1, 7, Role::Queen, "q", u64::MAX - 1, u64::MAX);
        assert_eq!(forever.expires_at_ms(), u64::MAX);
    }
}
