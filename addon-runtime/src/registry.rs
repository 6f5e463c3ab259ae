//! The runtime's record of every resource Heroku created: what it answered, the plan, and
//! whether the resource is gone. It is what makes re-delivered requests safe.
//!
//! This registry lives in memory; a restart forgets it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OwnedMutexGuard;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Provisioned,
    Deprovisioned,
}

#[derive(Clone, Debug)]
pub(crate) struct Resource {
    pub(crate) uuid: String,
    /// The id returned to Heroku (its `uuid` unless the vendor chose another).
    pub(crate) id: String,
    pub(crate) plan: String,
    pub(crate) state: State,
    /// The provision answer's body, replayed byte for byte when Heroku delivers the request again.
    pub(crate) response: Vec<u8>,
}

#[derive(Default)]
struct Tables {
    by_uuid: HashMap<String, Resource>,
    /// Vendor-chosen id to uuid, for `PUT`/`DELETE` paths that carry the id.
    uuid_by_id: HashMap<String, String>,
}

#[derive(Default)]
pub(crate) struct Registry {
    tables: Mutex<Tables>,
    locks: KeyedLocks,
}

impl Registry {
    /// The resource with this uuid or vendor-chosen id.
    pub(crate) fn find(&self, id: &str) -> Option<Resource> {
        let tables = self.tables();
        let uuid = tables.uuid_by_id.get(id).map_or(id, String::as_str);
        tables.by_uuid.get(uuid).cloned()
    }

    pub(crate) fn insert(&self, resource: Resource) {
        let mut tables = self.tables();
        tables
            .uuid_by_id
            .insert(resource.id.clone(), resource.uuid.clone());
        tables.by_uuid.insert(resource.uuid.clone(), resource);
    }

    pub(crate) fn set_plan(&self, uuid: &str, plan: &str) {
        if let Some(resource) = self.tables().by_uuid.get_mut(uuid) {
            plan.clone_into(&mut resource.plan);
        }
    }

    pub(crate) fn mark_deprovisioned(&self, uuid: &str) {
        if let Some(resource) = self.tables().by_uuid.get_mut(uuid) {
            resource.state = State::Deprovisioned;
        }
    }

    /// Serializes every change to one resource: duplicate provisions, plan changes and
    /// deprovisions of the same uuid run one after another, never at once.
    pub(crate) async fn lock(&self, uuid: &str) -> KeyGuard {
        self.locks.lock(uuid).await
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        // The tables hold no invariant a panic could break halfway: every update is one insert.
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type LockMap = Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>;

/// One async mutex per key, created on demand and dropped when nobody holds or awaits it.
#[derive(Default)]
struct KeyedLocks {
    map: LockMap,
}

impl KeyedLocks {
    async fn lock(&self, key: &str) -> KeyGuard {
        let mutex = {
            let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
            map.entry(key.to_owned()).or_default().clone()
        };
        KeyGuard {
            guard: Some(mutex.lock_owned().await),
            key: key.to_owned(),
            map: self.map.clone(),
        }
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
        if map
            .get(&self.key)
            .is_some_and(|m| Arc::strong_count(m) == 1)
        {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn locks_serialize_one_key_and_clean_up() {
        let registry = Arc::new(Registry::default());
        let first = registry.lock("a").await;
        let r = registry.clone();
        let waiter = tokio::spawn(async move {
            let _second = r.lock("a").await;
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        let _other_key = registry.lock("b").await;
        drop(first);
        waiter.await.unwrap();
        drop(_other_key);
        assert!(registry.locks.map.lock().unwrap().is_empty());
    }

    #[test]
    fn find_by_uuid_or_id() {
        let registry = Registry::default();
        registry.insert(Resource {
            uuid: "u1".into(),
            id: "vendor-1".into(),
            plan: "basic".into(),
            state: State::Provisioned,
            response: b"{}".to_vec(),
        });
        assert_eq!(registry.find("u1").unwrap().id, "vendor-1");
        assert_eq!(registry.find("vendor-1").unwrap().uuid, "u1");
        assert!(registry.find("u2").is_none());
    }
}
