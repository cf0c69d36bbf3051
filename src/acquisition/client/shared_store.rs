//! The client's second cache level: sealed entries in the platform's shared store
//! ([`crate::platform::TokenStore`]). Every failure here is a miss: the provider is asked and
//! the entry overwritten; a store that fails costs requests, never an acquisition.

use super::ConfidentialClient;
use crate::acquisition::cache::CachedToken;
use crate::platform::Platform;

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
        let sealer = self.store_sealer.as_ref()?;
        let stored = match platform.store.get(storage_key).await {
            Ok(stored) => stored?,
            Err(error) => {
                log::debug!("token cache read failed, treated as a miss: {error}");
                return None;
            }
        };
        let now = platform.clock.now_unix_secs();
        match CachedToken::open(&stored, sealer, storage_key, now) {
            Ok(token) => Some(token),
            Err(error) => {
                log::warn!("token cache entry {storage_key} refused ({error}): a miss");
                None
            }
        }
    }

    /// Seals `token` and stores it under `storage_key` for `ttl_secs`, if the store tier is on.
    pub(super) async fn write_stored(
        &self,
        storage_key: &str,
        token: &CachedToken,
        ttl_secs: u64,
        platform: &Platform<'_>,
    ) {
        let Some(sealer) = &self.store_sealer else {
            return;
        };
        let stored = match token.seal(sealer, storage_key, platform.entropy) {
            Ok(stored) => stored,
            Err(error) => {
                log::warn!("token cache entry not stored: {error}");
                return;
            }
        };
        // A store failure costs only a later miss elsewhere.
        if let Err(error) = platform.store.put(storage_key, stored, ttl_secs).await {
            log::debug!("token cache write failed: {error}");
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
