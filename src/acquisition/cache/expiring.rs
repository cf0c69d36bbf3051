//! A [`TokenStore`] over a plain key-value store whose values carry their own absolute expiry:
//! for stores without a reliable time-to-live (Spin key-value has none; a Fastly KV Store's TTL
//! is not guaranteed to be enforced at read time, and Viceroy keeps entries for its lifetime).
//!
//! The stored value is `[1][expires_at: u64 big-endian][value]`: a version byte, the Unix
//! second after which the entry is a miss, and the bytes the core handed over. Reads of expired,
//! truncated or other-version values are misses. Host errors are returned as [`Error::Cache`]
//! (the core treats them as misses). Platform-free: adapters implement [`KvHost`] for their
//! runtime's store; [`MemoryKv`] is an in-memory host for runtimes without one and for tests.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::error::Error;
use crate::platform::{Clock, LocalBoxFuture, TokenStore};

/// The version byte of the stored layout.
const LAYOUT_VERSION: u8 = 1;
/// Version byte + expiry.
const HEADER_LEN: usize = 1 + 8;

/// The operations of a runtime's key-value store that [`ExpiringStore`] needs.
pub trait KvHost {
    /// The bytes stored under `key`, or `None` when absent.
    ///
    /// # Errors
    /// [`Error::Cache`] for any store failure.
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>>;
    /// Stores `value` under `key`, replacing any previous value. `ttl_secs` is a hint for stores
    /// that can drop entries themselves; [`ExpiringStore`] does not rely on it.
    ///
    /// # Errors
    /// [`Error::Cache`] for any store failure.
    fn set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>>;
    /// Removes `key`; an absent key is not an error.
    ///
    /// # Errors
    /// [`Error::Cache`] for any store failure.
    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>>;
}

/// A [`TokenStore`] on a [`KvHost`], expiring entries by the time stored with them.
#[derive(Debug)]
pub struct ExpiringStore<H, C> {
    host: H,
    clock: C,
}

impl<H: KvHost, C: Clock> ExpiringStore<H, C> {
    /// Stores entries in `host`, judging expiry by `clock`.
    pub fn new(host: H, clock: C) -> Self {
        Self { host, clock }
    }

    /// The underlying store.
    pub fn host(&self) -> &H {
        &self.host
    }
}

/// `value` with its expiry, as stored.
fn seal(value: &[u8], expires_at: u64) -> Vec<u8> {
    let mut stored = Vec::with_capacity(HEADER_LEN + value.len());
    stored.push(LAYOUT_VERSION);
    stored.extend_from_slice(&expires_at.to_be_bytes());
    stored.extend_from_slice(value);
    stored
}

/// The value of `stored` if it is in this layout and unexpired at `now`.
fn open(mut stored: Vec<u8>, now: u64) -> Option<Vec<u8>> {
    let header: [u8; HEADER_LEN] = stored.get(..HEADER_LEN)?.try_into().ok()?;
    let (version, expiry) = header.split_first()?;
    let expires_at = u64::from_be_bytes(expiry.try_into().ok()?);
    if *version != LAYOUT_VERSION || now >= expires_at {
        return None;
    }
    stored.drain(..HEADER_LEN);
    Some(stored)
}

impl<H: KvHost, C: Clock> TokenStore for ExpiringStore<H, C> {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        Box::pin(async move {
            let stored = self.host.get(key).await?;
            let now = self.clock.now_unix_secs();
            Ok(stored.and_then(|stored| open(stored, now)))
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let expires_at = self.clock.now_unix_secs().saturating_add(ttl_secs);
            self.host.set(key, seal(&value, expires_at), ttl_secs).await
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        self.host.delete(key)
    }
}

/// An in-memory [`KvHost`]: a map that lives as long as the value (for a runtime instance
/// without a key-value store, and for tests). Keeps at most [`MemoryKv::CAPACITY`] keys; past
/// that, a new key evicts the smallest one (entries carry their expiry, so losing one only
/// costs a token request).
#[derive(Debug, Default)]
pub struct MemoryKv {
    entries: RefCell<BTreeMap<String, Vec<u8>>>,
}

impl MemoryKv {
    /// The most keys held.
    pub const CAPACITY: usize = 256;

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw stored bytes under `key` (layout included), for inspection.
    pub fn raw(&self, key: &str) -> Option<Vec<u8>> {
        self.entries.borrow().get(key).cloned()
    }
}

impl KvHost for MemoryKv {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        Box::pin(core::future::ready(Ok(self.raw(key))))
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        _ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= Self::CAPACITY && !entries.contains_key(key) {
            entries.pop_first();
        }
        entries.insert(key.to_string(), value);
        Box::pin(core::future::ready(Ok(())))
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        self.entries.borrow_mut().remove(key);
        Box::pin(core::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests;
