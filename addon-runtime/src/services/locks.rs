//! One async mutex per resource within this process. Requests for the same resource queue here
//! first, so they do not all poll the database for the resource's lease.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OwnedMutexGuard;

type LockMap = Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>;

/// One async mutex per key, created on demand and dropped when nobody holds or awaits it.
#[derive(Default)]
pub(crate) struct KeyedLocks {
    map: LockMap,
}

impl KeyedLocks {
    pub(crate) async fn lock(&self, key: &str) -> KeyGuard {
        let mutex = {
            let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
            map.entry(key.to_owned()).or_default().clone()
        };
        KeyGuard { guard: Some(mutex.lock_owned().await), key: key.to_owned(), map: self.map.clone() }
    }
}

pub(crate) struct KeyGuard {
    guard: Option<OwnedMutexGuard<()>>,
    key: String,
    map: LockMap,
}

impl Drop for KeyGuard {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        drop(self.guard.take());
        // Only the map's own reference left: nobody else holds or waits for this key.
        if map.get(&self.key).is_some_and(|m| Arc::strong_count(m) == 1) {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn locks_serialize_one_key_and_clean_up() {
        let locks = Arc::new(KeyedLocks::default());
        let first = locks.lock("a").await;
        let l = locks.clone();
        let waiter = tokio::spawn(async move {
            let _second = l.lock("a").await;
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        let other_key = locks.lock("b").await;
        drop(first);
        waiter.await.unwrap();
        drop(other_key);
        assert!(locks.map.lock().unwrap().is_empty());
    }
}
