//! The client's second cache level: sealed entries in the platform's shared store
//! ([`crate::platform::TokenStore`]). Every failure here is a miss: the provider is asked and
//! the entry overwritten; a store that fails costs requests, never an acquisition.

use super::ConfidentialClient;
use crate::acquisition::cache::{CachedToken, MAX_STORED_ENTRY_LEN};
use crate::acquisition::sealed_store::{read_sealed, write_sealed};
use crate::platform::Platform;

/// What a token cache entry is called in logs.
const TOKEN_ENTRY: &str = "token cache entry";

impl ConfidentialClient {
    /// The entry stored under `storage_key`, if the store tier is on
    /// ([`ConfidentialClient::with_token_cache_key`]) and the value opens: sealed with one of
    /// the keys, under this very key, unexpired ([`read_sealed`]). A value that does not open
    /// is logged (it may be planted, moved, tampered with, or sealed with a key since retired)
    /// and is a miss.
    pub(super) async fn read_stored(
        &self,
        storage_key: &str,
        platform: &Platform<'_>,
    ) -> Option<CachedToken> {
        let sealer = self.store_sealer.as_ref();
        read_sealed(
            sealer,
            storage_key,
            MAX_STORED_ENTRY_LEN,
            TOKEN_ENTRY,
            platform,
        )
        .await
    }

    /// Seals `token` and stores it under `storage_key` until it expires, if the store tier is
    /// on ([`write_sealed`]).
    pub(super) async fn write_stored(
        &self,
        storage_key: &str,
        token: &CachedToken,
        platform: &Platform<'_>,
    ) {
        let (sealer, expires_on) = (self.store_sealer.as_ref(), token.expires_on);
        let max_len = MAX_STORED_ENTRY_LEN;
        write_sealed(
            sealer,
            storage_key,
            token,
            expires_on,
            max_len,
            TOKEN_ENTRY,
            platform,
        )
        .await;
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
