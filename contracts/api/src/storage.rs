//! Typed storage over the raw key/value host calls. Values are JSON, so state is readable with any tool.

use crate::{Host, StdError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;

fn to_json<T: Serialize>(what: &str, value: &T) -> Result<Vec<u8>, StdError> {
    serde_json::to_vec(value).map_err(|e| StdError::Serialize { what: what.into(), message: e.to_string() })
}

fn from_json<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, StdError> {
    serde_json::from_slice(bytes).map_err(|e| StdError::Parse { what: what.into(), message: e.to_string() })
}

/// One value under a fixed key.
pub struct Item<T> {
    key: &'static str,
    kind: PhantomData<T>,
}

impl<T: Serialize + DeserializeOwned> Item<T> {
    pub const fn new(key: &'static str) -> Item<T> {
        Item { key, kind: PhantomData }
    }

    pub fn may_load(&self, host: &dyn Host) -> Result<Option<T>, StdError> {
        host.get(self.key.as_bytes()).map(|bytes| from_json(self.key, &bytes)).transpose()
    }

    pub fn load(&self, host: &dyn Host) -> Result<T, StdError> {
        self.may_load(host)?.ok_or_else(|| StdError::NotFound(self.key.into()))
    }

    pub fn save(&self, host: &mut dyn Host, value: &T) -> Result<(), StdError> {
        host.set(self.key.as_bytes(), &to_json(self.key, value)?);
        Ok(())
    }

    pub fn remove(&self, host: &mut dyn Host) {
        host.remove(self.key.as_bytes());
    }
}

/// Values under string keys, iterated in key (byte) order. Stored as `namespace ‖ 0x00 ‖ key`.
pub struct Map<T> {
    namespace: &'static str,
    kind: PhantomData<T>,
}

impl<T: Serialize + DeserializeOwned> Map<T> {
    pub const fn new(namespace: &'static str) -> Map<T> {
        Map { namespace, kind: PhantomData }
    }

    fn prefix(&self) -> Vec<u8> {
        let mut p = self.namespace.as_bytes().to_vec();
        p.push(0);
        p
    }

    fn key(&self, key: &str) -> Vec<u8> {
        let mut k = self.prefix();
        k.extend_from_slice(key.as_bytes());
        k
    }

    pub fn may_load(&self, host: &dyn Host, key: &str) -> Result<Option<T>, StdError> {
        host.get(&self.key(key)).map(|bytes| from_json(key, &bytes)).transpose()
    }

    pub fn load(&self, host: &dyn Host, key: &str) -> Result<T, StdError> {
        self.may_load(host, key)?.ok_or_else(|| StdError::NotFound(format!("{}[{key}]", self.namespace)))
    }

    pub fn has(&self, host: &dyn Host, key: &str) -> bool {
        host.get(&self.key(key)).is_some()
    }

    pub fn save(&self, host: &mut dyn Host, key: &str, value: &T) -> Result<(), StdError> {
        host.set(&self.key(key), &to_json(key, value)?);
        Ok(())
    }

    pub fn remove(&self, host: &mut dyn Host, key: &str) {
        host.remove(&self.key(key));
    }

    /// Up to `limit` entries in key order, starting after `after` (exclusive) or from the first.
    pub fn page(&self, host: &dyn Host, after: Option<&str>, limit: usize) -> Result<Vec<(String, T)>, StdError> {
        self.iter_from(host, after).take(limit).collect()
    }

    /// All entries in key order. Each step is one host call; bound it with `take` where it matters.
    pub fn iter<'a>(&'a self, host: &'a dyn Host) -> impl Iterator<Item = Result<(String, T), StdError>> + 'a {
        self.iter_from(host, None)
    }

    /// Entries whose key starts with `key_prefix`, in key order, strictly after the full key `after` (or
    /// from the first). Keys built as `"{group}/{sortable}"` make groups that iterate in order.
    pub fn iter_prefix<'a>(
        &'a self,
        host: &'a dyn Host,
        key_prefix: &str,
        after: Option<&str>,
    ) -> impl Iterator<Item = Result<(String, T), StdError>> + 'a {
        let prefix = self.key(key_prefix);
        self.walk(host, prefix, after.map(|a| self.key(a)))
    }

    fn iter_from<'a>(
        &'a self,
        host: &'a dyn Host,
        after: Option<&str>,
    ) -> impl Iterator<Item = Result<(String, T), StdError>> + 'a {
        self.walk(host, self.prefix(), after.map(|a| self.key(a)))
    }

    fn walk<'a>(
        &'a self,
        host: &'a dyn Host,
        prefix: Vec<u8>,
        mut cursor: Option<Vec<u8>>,
    ) -> impl Iterator<Item = Result<(String, T), StdError>> + 'a {
        let namespace_len = self.prefix().len();
        std::iter::from_fn(move || {
            let (key, value) = host.next(&prefix, cursor.as_deref())?;
            let name = String::from_utf8_lossy(&key[namespace_len..]).into_owned();
            cursor = Some(key);
            Some(from_json(&name, &value).map(|v| (name, v)))
        })
    }
}
