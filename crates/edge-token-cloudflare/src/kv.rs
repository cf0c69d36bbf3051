//! [`TokenStore`] on Workers KV.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use worker::kv::KvStore;
use worker::Context;

use edge_token::error::Error;
use edge_token::platform::{LocalBoxFuture, TokenStore};

/// Workers KV as the shared (cross-isolate, cross-location) token store. KV is eventually
/// consistent: an entry written in one location may take up to a minute to be seen elsewhere,
/// which only costs a token request there. Entries carry their absolute expiry, so a late read
/// is never trusted past it.
///
/// What the core puts here is already sealed (AES-256-GCM under `TOKEN_CACHE_KEY`, else
/// `COOKIE_KEY`, bound to the KV key: see `edge_token::seal`; session
/// records likewise): KV never holds a token in the clear, and a value planted or moved in
/// the namespace is a miss. Without either key the core does not use this store for tokens.
///
/// Built [`KvTokenStore::write_behind`], a `put` is handed to `ctx.wait_until` and returns at
/// once: the KV write is never on the response path (a failed background write is logged and
/// only costs a later miss).
pub struct KvTokenStore<'ctx> {
    kv: KvStore,
    background: Option<&'ctx Context>,
}

impl KvTokenStore<'static> {
    /// Uses the namespace `kv` (e.g. `env.kv("TOKEN_CACHE")?`); writes complete before `put`
    /// returns (for work that already runs in the background).
    pub fn new(kv: KvStore) -> Self {
        Self {
            kv,
            background: None,
        }
    }
}

impl<'ctx> KvTokenStore<'ctx> {
    /// Uses the namespace `kv`, writing in `ctx.wait_until` after the response.
    pub fn write_behind(kv: KvStore, ctx: &'ctx Context) -> Self {
        Self {
            kv,
            background: Some(ctx),
        }
    }
}

async fn put(kv: KvStore, key: &str, value: &[u8], ttl_secs: u64) -> Result<(), Error> {
    let put = kv
        .put_bytes(key, value)
        .map_err(|e| Error::Cache(format!("KV put: {e}")))?;
    put.expiration_ttl(ttl_secs)
        .execute()
        .await
        .map_err(|e| Error::Cache(format!("KV put: {e}")))
}

impl TokenStore for KvTokenStore<'_> {
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
        match self.background {
            Some(ctx) => {
                let (kv, key) = (self.kv.clone(), key.to_string());
                ctx.wait_until(async move {
                    if let Err(error) = put(kv, &key, &value, ttl_secs).await {
                        ::log::warn!("background {error}");
                    }
                });
                Box::pin(core::future::ready(Ok(())))
            }
            None => Box::pin(async move { put(self.kv.clone(), key, &value, ttl_secs).await }),
        }
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
