//! Spending against a [`Budget`]: a charge that would exceed a limit is refused and not counted.

use core::fmt;

use crate::claims::Budget;

/// Which budget a refused charge would have exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetKind {
    Ticks,
    Ops,
    Bytes,
}

impl BudgetKind {
    /// The revocation reason when this budget runs out (`budget-ops`, ...).
    pub fn reason(self) -> &'static str {
        match self {
            BudgetKind::Ticks => "budget-ticks",
            BudgetKind::Ops => "budget-ops",
            BudgetKind::Bytes => "budget-bytes",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BudgetKind::Ticks => "ticks",
            BudgetKind::Ops => "ops",
            BudgetKind::Bytes => "bytes",
        }
    }
}

impl fmt::Display for BudgetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Usage so far against a [`Budget`]. Counters never pass a limit: a charge that would is
/// refused whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Meter {
    pub ticks: u64,
    pub ops: u64,
    pub bytes: u64,
}

impl Meter {
    pub fn charge_op(&mut self, budget: &Budget) -> Result<(), BudgetKind> {
        charge(&mut self.ops, budget.ops, 1, BudgetKind::Ops)
    }

    pub fn charge_bytes(&mut self, budget: &Budget, n: u64) -> Result<(), BudgetKind> {
        charge(&mut self.bytes, budget.bytes, n, BudgetKind::Bytes)
    }

    pub fn charge_ticks(&mut self, budget: &Budget, n: u64) -> Result<(), BudgetKind> {
        charge(&mut self.ticks, budget.ticks, n, BudgetKind::Ticks)
    }

    /// Operations left; `None` when ops are unlimited.
    pub fn remaining_ops(&self, budget: &Budget) -> Option<u64> {
        budget.ops.map(|limit| limit.saturating_sub(self.ops))
    }

    /// Bytes left; `None` when bytes are unlimited.
    pub fn remaining_bytes(&self, budget: &Budget) -> Option<u64> {
        budget.bytes.map(|limit| limit.saturating_sub(self.bytes))
    }

    /// Ticks left; `None` when ticks are unlimited.
    pub fn remaining_ticks(&self, budget: &Budget) -> Option<u64> {
        budget.ticks.map(|limit| limit.saturating_sub(self.ticks))
    }

    /// The first budget (ticks, ops, bytes) that has been spent to its limit, if any.
    pub fn exhausted(&self, budget: &Budget) -> Option<BudgetKind> {
        [
            (BudgetKind::Ticks, self.remaining_ticks(budget)),
            (BudgetKind::Ops, self.remaining_ops(budget)),
            (BudgetKind::Bytes, self.remaining_bytes(budget)),
        ]
        .into_iter()
        .find(|(_, left)| *left == Some(0))
        .map(|(kind, _)| kind)
    }
}

/// Adds `n` to `used` unless that would pass `limit`; unlimited counters saturate.
fn charge(used: &mut u64, limit: Option<u64>, n: u64, kind: BudgetKind) -> Result<(), BudgetKind> {
    match limit {
        None => {
            *used = used.saturating_add(n);
            Ok(())
        }
        Some(limit) => match used.checked_add(n) {
            Some(total) if total <= limit => {
                *used = total;
                Ok(())
            }
            _ => Err(kind),
        },
    }
}
