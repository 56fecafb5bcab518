//! The store invariant: nothing acknowledged is lost and nothing torn is misread. Checked on
//! every Queen's and site's store once per virtual second, so it holds across every crash,
//! torn write, full disk and failing medium the fault plan injects.

use hal::mem::MemStore;
use hal::Store;

/// Breaches of the invariant in `store`, as details for `invariant.violated` lines.
///
/// For every log, the index after its last readable record must be the index after its last
/// acknowledged append (an append that returned `Ok`): fewer is a lost write, more is a write
/// the caller was told failed. Where the last crash tore a write, whatever is read at its
/// index must not be the torn bytes.
pub fn store_intact(store: &MemStore) -> Vec<String> {
    let mut found = Vec::new();
    for log in store.log_names() {
        let acknowledged = store.acknowledged(&log);
        let mut page = Vec::new();
        let from = acknowledged.saturating_sub(1);
        let readable = match store.store_read(&log, from, 1, &mut page) {
            Ok(next) if page.is_empty() => next.min(acknowledged),
            Ok(next) => next,
            Err(e) => {
                found.push(format!("log {log} unreadable: {e:?}"));
                continue;
            }
        };
        // Nothing past the acknowledged tail either.
        let mut beyond = Vec::new();
        let _ = store.store_read(&log, acknowledged, 1, &mut beyond);
        if readable != acknowledged || !beyond.is_empty() {
            let seen = readable + beyond.len() as u64;
            found.push(format!(
                "log {log}: {acknowledged} acknowledged, {seen} readable"
            ));
        }
        if let Some((at, torn)) = store.torn_tail(&log) {
            let mut at_torn = Vec::new();
            let _ = store.store_read(&log, at, 1, &mut at_torn);
            if at_torn.first() == Some(&torn) {
                found.push(format!("log {log}: torn write at {at} read as a record"));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_crash_and_a_full_disk_keep_the_invariant() {
        let mut store = MemStore::new();
        store.store_append("journal", b"one").unwrap();
        store.store_append("journal", b"two").unwrap();
        store.tear_at_crash(true);
        store.crash();
        assert!(store_intact(&store).is_empty());
        store.set_capacity(Some(store.used_bytes()));
        assert!(store.store_append("journal", b"three").is_err());
        store.store_trim("journal", 2).unwrap();
        assert!(store_intact(&store).is_empty());
        store.set_capacity(None);
        store.store_append("journal", b"three").unwrap();
        assert!(store_intact(&store).is_empty());
    }
}
