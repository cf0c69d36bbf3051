//! [`TokenStore`] on Workers KV.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;

use worker::kv::KvStore;

use crate::cache::TokenStore;
use crate::error::Error;
use crate::platform::LocalBoxFuture;

/// Workers KV as the shared (cross-isolate, cross-location) token store. KV is eventually
/// consistent: an entry written in one location may take up to a minute to be seen elsewhere,
/// which only costs a token request there. Entries carry their absolute expiry, so a late read
/// is never trusted past it.
pub struct KvTokenStore {
    kv: KvStore,
}

impl KvTokenStore {
    /// Uses the namespace `kv` (e.g. `env.kv("TOKEN_CACHE")?`).
    pub fn new(kv: KvStore) -> Self {
        Self { kv }
    }
}

impl TokenStore for KvTokenStore {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        Box::pin(async move {
            self.kv
                .get(key)
                .bytes()
                .await
                .map_err(|e| Error::Cache(format!("KV get: {e}")))
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let put = self
                .kv
                .put_bytes(key, &value)
                .map_err(|e| Error::Cache(format!("KV put: {e}")))?;
            put.expiration_ttl(ttl_secs)
                .execute()
                .await
                .map_err(|e| Error::Cache(format!("KV put: {e}")))
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.kv
                .delete(key)
                .await
                .map_err(|e| Error::Cache(format!("KV delete: {e}")))
        })
    }
}
