//! [`CollapsingStore`]: the POP's Core Cache (`fastly::cache::core`) in front of the KV Store, with
//! request collapsing. A Fastly instance serves one request, so a cold burst of N requests is N
//! instances, each missing the KV Store and asking the provider. Here the first instance to
//! miss a key takes the key's cache transaction (the obligation to insert it), the others
//! block in their transactional lookup until it inserts, then read what it inserted: one
//! provider request per key per POP.
//!
//! - The cached bytes are exactly what the core hands its store (`TokenStore::put`): the
//!   sealed entry (`CachedToken::seal`, or a sealed provider document), bound to its key and
//!   carrying its expiry. The cache never holds a token in the clear, and what a follower reads
//!   the core opens and checks as it does a KV value. Without `TOKEN_CACHE_KEY` the core has no
//!   store tier: nothing is cached, nor collapsed.
//! - A miss: the transaction is held, the KV Store read; a KV hit is inserted for
//!   [`KV_FILL_MAX_AGE`] (the KV value's own expiry is sealed inside), a KV miss leaves the
//!   obligation to the core's `put` after its provider request, which inserts for the entry's
//!   store time-to-live. A `put` without a held transaction (a refresh ahead of time, a
//!   follower that gave up waiting) overwrites the entry.
//! - No `put` (the provider failed, nothing to store): [`CollapsingStore::release`], called
//!   after each core call, cancels the held transactions, and the platform hands the obligation
//!   to one waiting instance. An instance handed it after waiting passes it on at once and goes
//!   on as without collapsing (so after a failed fill the waiters ask in parallel, as they would
//!   have without the cache, instead of queueing). A waiter gives up after the `wait` bound and
//!   reads the KV Store; any cache failure is a miss of this tier, never an error.
//! - `delete` (the resource refused the token) cancels a held transaction and purges the key's
//!   entry (surrogate key: the storage key) before deleting it from the KV Store.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use core::future::ready;
use core::time::Duration;
use std::io::Write;

use edge_token::error::Error;
use edge_token::platform::{LocalBoxFuture, TokenStore};
use fastly::cache::core::{CacheKey, Transaction};

/// How long an entry read from the KV Store stays in the POP's cache. The KV value's expiry is
/// sealed inside it (the core checks it on every read); this bounds how long the cache can hold
/// a copy the core would refuse (then a miss, and the next `put` overwrites it).
pub const KV_FILL_MAX_AGE: Duration = Duration::from_secs(60);

/// A [`TokenStore`] that keeps entries in the POP's Core Cache, collapsing concurrent misses of a
/// key into one fill, in front of an optional second store (the KV Store).
pub struct CollapsingStore<S> {
    inner: Option<S>,
    wait: Duration,
    /// The transactions this instance must fill (its misses), by storage key.
    held: RefCell<Vec<(String, Transaction)>>,
}

impl<S> core::fmt::Debug for CollapsingStore<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CollapsingStore")
            .field("second_store", &self.inner.is_some())
            .field("wait", &self.wait)
            .field("held", &self.held.borrow().len())
            .finish()
    }
}

impl<S: TokenStore> CollapsingStore<S> {
    /// The POP's cache in front of `inner` (none: the cache only). A lookup waits at most `wait`
    /// for another instance's fill, then goes on as a miss.
    pub fn new(inner: Option<S>, wait: Duration) -> Self {
        Self {
            inner,
            wait,
            held: RefCell::new(Vec::new()),
        }
    }

    /// The second store, if any.
    pub fn inner(&self) -> Option<&S> {
        self.inner.as_ref()
    }

    /// How many transactions this instance holds (misses not filled yet).
    pub fn held(&self) -> usize {
        self.held.borrow().len()
    }

    /// Cancels the transactions this instance still holds (misses it did not fill): one waiting
    /// instance per key takes over. Call it after each core call.
    pub fn release(&self) {
        for (key, transaction) in core::mem::take(&mut *self.held.borrow_mut()) {
            if let Err(error) = transaction.cancel_insert_or_update() {
                log::debug!("token cache transaction {key} not cancelled: {error}");
            }
        }
    }

    fn take_held(&self, key: &str) -> Option<Transaction> {
        let mut held = self.held.borrow_mut();
        let index = held.iter().position(|(held, _)| held == key)?;
        Some(held.swap_remove(index).1)
    }

    fn holds(&self, key: &str) -> bool {
        self.held.borrow().iter().any(|(held, _)| held == key)
    }

    fn inner_get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        match &self.inner {
            Some(inner) => crate::block_on(inner.get(key))
                .unwrap_or_else(|| Err(Error::Cache("store read did not complete".into()))),
            None => Ok(None),
        }
    }

    fn lookup(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        // This instance already missed the key and must fill it: nothing in the cache yet.
        if self.holds(key) {
            return self.inner_get(key);
        }
        let lookup = Transaction::lookup(cache_key(key))
            .timeout(self.wait)
            .execute_async()
            .and_then(|pending| {
                let waited = pending.pending()?;
                Ok((pending.wait()?, waited))
            });
        let (transaction, waited) = match lookup {
            Ok(looked_up) => looked_up,
            Err(error) => {
                log::debug!("token cache lookup {key} failed ({error}): the KV Store");
                return self.inner_get(key);
            }
        };
        // Handed the fill after waiting: the instance before gave up (its provider request
        // failed). Pass it on at once and go on as without collapsing, so that a failing
        // provider does not queue the waiting instances one behind the other.
        if waited && transaction.must_insert() {
            let _ = transaction.cancel_insert_or_update();
            return self.inner_get(key);
        }
        if !transaction.must_insert_or_update() {
            if let Some(found) = transaction.found() {
                match found.to_stream() {
                    Ok(body) => {
                        let value = body.into_bytes();
                        if !value.is_empty() {
                            return Ok(Some(value));
                        }
                    }
                    Err(error) => log::debug!("token cache entry {key} unreadable: {error}"),
                }
            }
            return self.inner_get(key);
        }
        // A miss: this instance fills the key, from the KV Store if it has it.
        let stored = self.inner_get(key);
        match &stored {
            Ok(Some(value)) => insert(Some(transaction), key, value, KV_FILL_MAX_AGE),
            _ => self.held.borrow_mut().push((key.to_string(), transaction)),
        }
        stored
    }

    fn store(&self, key: &str, value: &[u8], ttl_secs: u64) {
        insert(
            self.take_held(key),
            key,
            value,
            Duration::from_secs(ttl_secs),
        );
    }
}

impl<S: TokenStore> TokenStore for CollapsingStore<S> {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        Box::pin(ready(self.lookup(key)))
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        self.store(key, &value, ttl_secs);
        match &self.inner {
            Some(inner) => inner.put(key, value, ttl_secs),
            None => Box::pin(ready(Ok(()))),
        }
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        if let Some(transaction) = self.take_held(key) {
            let _ = transaction.cancel_insert_or_update();
        }
        if let Err(error) = fastly::http::purge::purge_surrogate_key(key) {
            log::debug!("token cache purge {key} failed: {error}");
        }
        match &self.inner {
            Some(inner) => inner.delete(key),
            None => Box::pin(ready(Ok(()))),
        }
    }
}

fn cache_key(key: &str) -> CacheKey {
    CacheKey::copy_from_slice(key.as_bytes())
}

/// Inserts `value` under `key` for `max_age`: through `transaction` (this instance's miss:
/// the instances waiting for it read `value`), else overwriting whatever the cache holds. Tagged
/// with `key` as surrogate key (purged by `delete`), marked sensitive. Failures are logged.
fn insert(transaction: Option<Transaction>, key: &str, value: &[u8], max_age: Duration) {
    let length = u64::try_from(value.len()).unwrap_or(u64::MAX);
    let started = match transaction {
        Some(transaction) => transaction
            .insert(max_age)
            .surrogate_keys([key])
            .known_length(length)
            .sensitive_data(true)
            .execute(),
        None => fastly::cache::core::insert(cache_key(key), max_age)
            .surrogate_keys([key])
            .known_length(length)
            .sensitive_data(true)
            .execute(),
    };
    let written = started
        .map_err(|error| error.to_string())
        .and_then(|mut body| {
            body.write_all(value).map_err(|error| error.to_string())?;
            body.finish().map_err(|error| error.to_string())
        });
    if let Err(error) = written {
        log::debug!("token cache insert {key} failed: {error}");
    }
}
