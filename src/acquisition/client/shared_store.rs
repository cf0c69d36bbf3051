//! The client's second cache level: sealed entries in the platform's shared store
//! ([`crate::platform::TokenStore`]). Every failure here is a miss: the provider is asked and
//! the entry overwritten; a store that fails costs requests, never an acquisition.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::ConfidentialClient;
use crate::acquisition::cache::{CachedToken, MAX_STORED_ENTRY_LEN};
use crate::platform::Platform;
use crate::seal::SealError;

impl ConfidentialClient {
    /// The entry stored under `storage_key`, if the store tier is on
    /// ([`ConfidentialClient::with_token_cache_key`]) and the value opens: sealed with one of
    /// the keys, under this very key, unexpired. A value that does not open is logged (it may
    /// be planted, moved, tampered with, or sealed with a key since retired) and is a miss.
    pub(super) async fn read_stored(
        &self,
        storage_key: &str,
        platform: &Platform<'_>,
    ) -> Option<CachedToken> {
        self.read_sealed(
            storage_key,
            MAX_STORED_ENTRY_LEN,
            "token cache entry",
            platform,
        )
        .await
    }

    /// Seals `token` and stores it under `storage_key` for `ttl_secs`, if the store tier is on.
    pub(super) async fn write_stored(
        &self,
        storage_key: &str,
        token: &CachedToken,
        ttl_secs: u64,
        platform: &Platform<'_>,
    ) {
        self.write_sealed(
            storage_key,
            token,
            token.expires_on,
            ttl_secs,
            "token cache entry",
            platform,
        )
        .await;
    }

    /// A `what` sealed with the token cache key under `key` (at most `max_len` characters),
    /// if the store tier is on and it opens; every failure is logged and is `None`.
    pub(super) async fn read_sealed<T: DeserializeOwned>(
        &self,
        key: &str,
        max_len: usize,
        what: &str,
        platform: &Platform<'_>,
    ) -> Option<T> {
        let sealer = self.store_sealer.as_ref()?;
        let stored = match platform.store.get(key).await {
            Ok(stored) => stored?,
            Err(error) => {
                log::debug!("{what} read failed, treated as absent: {error}");
                return None;
            }
        };
        let now = platform.clock.now_unix_secs();
        let opened = core::str::from_utf8(&stored)
            .map_err(|_| SealError::Malformed)
            .and_then(|text| sealer.open(text, key.as_bytes(), now, max_len));
        match opened {
            Ok(value) => Some(value),
            Err(error) => {
                log::warn!("{what} {key} refused ({error}): treated as absent");
                None
            }
        }
    }

    /// Seals `value` (a `what`) with the token cache key, valid until `expires_at` (Unix
    /// seconds) and bound to `key`, and stores it for `ttl_secs`, if the store tier is on. A
    /// failure is logged: it costs only a later miss.
    pub(super) async fn write_sealed<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        expires_at: u64,
        ttl_secs: u64,
        what: &str,
        platform: &Platform<'_>,
    ) {
        let Some(sealer) = &self.store_sealer else {
            return;
        };
        let stored = match sealer.seal(value, expires_at, key.as_bytes(), platform.entropy) {
            Ok(stored) => stored,
            Err(error) => {
                log::warn!("{what} not stored: {error}");
                return;
            }
        };
        if let Err(error) = platform.store.put(key, stored.into_bytes(), ttl_secs).await {
            log::warn!("{what} not stored: {error}");
        }
    }

    /// Deletes the entry under `storage_key` (the resource refused its token), if the store
    /// tier is on. A failed delete costs only one more refused call downstream.
    pub(super) async fn forget_stored(&self, storage_key: &str, platform: &Platform<'_>) {
        if self.store_sealer.is_some() {
            let _ = platform.store.delete(storage_key).await;
        }
    }
}

#[cfg(test)]
mod tests;
