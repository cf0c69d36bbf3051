//! The Fastly KV Store as the shared token store. The values the core hands over are already sealed
//! (`TOKEN_CACHE_KEY`, else `COOKIE_KEY`; bound to their key): the store never holds a token in
//! the clear, and a planted or moved value is a miss.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use core::future::ready;
use core::time::Duration;

use fastly::kv_store::{KVStore, KVStoreError};

use edge_token::acquisition::{ExpiringStore, KvHost};
use edge_token::error::Error;
use edge_token::platform::system::SystemClock;
use edge_token::platform::LocalBoxFuture;

/// The token store on Fastly: a KV Store whose entries carry their absolute expiry.
pub type KvTokenStore = ExpiringStore<FastlyKv, SystemClock>;

/// A Fastly KV Store (e.g. `KVStore::open("token_cache")`). Its calls block until done, so
/// every returned future is ready. Entries are also written with a KV time-to-live, so the
/// store drops them eventually; reads do not rely on it.
pub struct FastlyKv {
    store: KVStore,
}

impl FastlyKv {
    /// Uses the open store `store`.
    pub fn new(store: KVStore) -> Self {
        Self { store }
    }

    /// Opens the KV Store linked to the service as `name`; `None` when there is none or it
    /// cannot be opened (the adapter then runs without a shared store).
    pub fn open(name: &str) -> Option<Self> {
        KVStore::open(name).ok().flatten().map(Self::new)
    }

    /// The token store on this KV Store.
    pub fn into_token_store(self) -> KvTokenStore {
        ExpiringStore::new(self, SystemClock)
    }
}

fn kv_error(operation: &str, error: &KVStoreError) -> Error {
    Error::Cache(format!("Fastly KV {operation}: {error}"))
}

impl KvHost for FastlyKv {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        let result = match self.store.lookup(key) {
            Ok(mut found) => Ok(Some(found.take_body_bytes())),
            Err(KVStoreError::ItemNotFound) => Ok(None),
            Err(error) => Err(kv_error("lookup", &error)),
        };
        Box::pin(ready(result))
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        let result = self
            .store
            .build_insert()
            .time_to_live(Duration::from_secs(ttl_secs))
            .execute(key, value)
            .map_err(|error| kv_error("insert", &error));
        Box::pin(ready(result))
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        let result = match self.store.delete(key) {
            Ok(()) | Err(KVStoreError::ItemNotFound) => Ok(()),
            Err(error) => Err(kv_error("delete", &error)),
        };
        Box::pin(ready(result))
    }
}
