//! The Spin key-value store as the shared token store. The values the core hands over are already sealed
//! (`TOKEN_CACHE_KEY`, else `COOKIE_KEY`; bound to their key): the store never holds a token in
//! the clear, and a planted or moved value is a miss.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;

use spin_sdk::key_value::Store;

use edge_token::acquisition::{ExpiringStore, KvHost};
use edge_token::error::Error;
use edge_token::platform::system::SystemClock;
use edge_token::platform::LocalBoxFuture;

/// The token store on Spin: a key-value store whose entries carry their absolute expiry.
pub type KvTokenStore = ExpiringStore<SpinKv, SystemClock>;

/// A Spin key-value store (the component must be granted it in `spin.toml`:
/// `key_value_stores = ["default"]`).
pub struct SpinKv {
    store: Store,
}

impl SpinKv {
    /// Opens the store labelled `label` (e.g. `"default"`).
    ///
    /// # Errors
    /// [`Error::Cache`] when the store does not exist or the component may not use it.
    pub async fn open(label: &str) -> Result<Self, Error> {
        Store::open(label)
            .await
            .map(|store| Self { store })
            .map_err(|error| Error::Cache(format!("Spin key-value open {label}: {error}")))
    }

    /// The token store on this key-value store.
    pub fn into_token_store(self) -> KvTokenStore {
        ExpiringStore::new(self, SystemClock)
    }
}

fn kv_error(operation: &str, error: &spin_sdk::key_value::Error) -> Error {
    Error::Cache(format!("Spin key-value {operation}: {error}"))
}

impl KvHost for SpinKv {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        Box::pin(async move {
            self.store
                .get(key)
                .await
                .map_err(|error| kv_error("get", &error))
        })
    }

    /// Spin key-value has no time-to-live: the expiry travels in the value only.
    fn set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        _ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.store
                .set(key, value)
                .await
                .map_err(|error| kv_error("set", &error))
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.store
                .delete(key)
                .await
                .map_err(|error| kv_error("delete", &error))
        })
    }
}
