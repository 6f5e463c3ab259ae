//! Recorded answers this process has opened, so a provision replayed again is answered without
//! opening its sealed answer again.
//!
//! Heroku replays a provision whose answer it did not get (a timeout, a dropped connection),
//! often several times in a row; each replay reads the row afresh and used to open the sealed
//! answer afresh (base64, then ChaCha20-Poly1305), which was the largest single step of a replay.
//!
//! - **Exact.** An entry is found only by its uuid together with the sealed text it was opened
//!   from, compared whole. The row is still read on every replay, so a deprovision, another
//!   instance's answer or a re-sealing under a new key is seen at once: the text differs, or the
//!   state no longer takes an answer.
//! - **No exposure the keys do not already have.** What is kept here is in this process's memory,
//!   beside the keys that open every sealed value of the registry; at rest (the database, its
//!   backups) nothing changes. An entry is dropped when this process deprovisions its resource
//!   or reads it deprovisioned, every entry when the keys change, and all at once when [`MOST`]
//!   are held.
//! - **Bounded.** At most [`MOST`] answers of a few hundred bytes each.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// The most answers kept: a replayed provision is rare and its retries come close together.
const MOST: usize = 256;

#[derive(Default)]
pub(super) struct Opened {
    /// uuid → (the sealed text, what it opened to).
    entries: Mutex<HashMap<String, (String, String)>>,
}

impl Opened {
    /// What `sealed` opened to for `uuid`, if this process opened that very text before.
    pub(super) fn get(&self, uuid: &str, sealed: &str) -> Option<String> {
        let entries = self.entries();
        let (kept, plain) = entries.get(uuid)?;
        (kept == sealed).then(|| plain.clone())
    }

    /// Keeps what `sealed` opened to for `uuid`; all are dropped first when [`MOST`] are held.
    pub(super) fn keep(&self, uuid: &str, sealed: &str, plain: &str) {
        let mut entries = self.entries();
        if entries.len() >= MOST && !entries.contains_key(uuid) {
            entries.clear();
        }
        entries.insert(uuid.to_owned(), (sealed.to_owned(), plain.to_owned()));
    }

    /// Drops `uuid`'s answer (its resource is gone).
    pub(super) fn forget(&self, uuid: &str) {
        self.entries().remove(uuid);
    }

    /// Drops every answer (the keys changed).
    pub(super) fn clear(&self) {
        self.entries().clear();
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, (String, String)>> {
        // Each entry is whole whenever the lock is free: a panic elsewhere cannot break one.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The count only: the answers hold config and secrets.
impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened").field("answers", &self.entries().len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_found_only_with_the_text_it_was_opened_from() {
        let opened = Opened::default();
        assert_eq!(opened.get("uuid-1", "v2.k.n.a"), None);
        opened.keep("uuid-1", "v2.k.n.a", "{\"config\":{}}");
        assert_eq!(opened.get("uuid-1", "v2.k.n.a").as_deref(), Some("{\"config\":{}}"));
        assert_eq!(opened.get("uuid-1", "v2.k.m.b"), None, "sealed anew: opened anew");
        assert_eq!(opened.get("uuid-2", "v2.k.n.a"), None, "another resource's row");
        opened.forget("uuid-1");
        assert_eq!(opened.get("uuid-1", "v2.k.n.a"), None);
    }

    #[test]
    fn at_most_the_bound_is_held_and_nothing_shows_in_debug() {
        let opened = Opened::default();
        for n in 0..MOST + 1 {
            opened.keep(&format!("uuid-{n}"), "sealed", "secret-config");
        }
        assert_eq!(opened.entries().len(), 1, "full: everything dropped before the next");
        assert_eq!(opened.get(&format!("uuid-{MOST}"), "sealed").as_deref(), Some("secret-config"));
        let debug = format!("{opened:?}");
        assert!(!debug.contains("secret") && debug.contains("answers: 1"), "{debug}");
        opened.clear();
        assert_eq!(opened.entries().len(), 0);
    }
}
