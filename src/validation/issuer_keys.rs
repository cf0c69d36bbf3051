//! An issuer's signing keys as a relying party (ID tokens) or a resource server (access tokens)
//! keeps them: fetched from the `jwks_uri` on first use, kept per isolate, fetched again when
//! stale, and refetched at most once per cooldown when a token names an unknown key (the
//! issuer rotated its keys). The rules are [`JwksCache`]'s; this is their IO, over the
//! [`Platform`]'s transport, clock and shared store.
//!
//! With a sealer (the client's token cache key) the key set is shared through the platform's
//! store ([`crate::acquisition::documents`]): a memory miss (or a stale memory copy) reads the
//! stored [`JwksCache`], which is used under the same rules as the memory copy (not stale: 24 h
//! after its fetch, cooldowns counted from its own times), and every fetch that gives a usable
//! set overwrites it. A fetch answering a set without a usable key never reaches the store, so
//! the stored copy stays the last good set; a stale stored set still serves as the last good
//! set that such an answer does not replace.

use core::cell::RefCell;
use core::future::Future;

use url::Url;

use crate::acquisition::documents::{document_storage_key, read_document, write_document};
use crate::error::Error;
use crate::platform::Platform;
use crate::seal::Sealer;
use crate::validation::jwks::{JwkSet, JwksCache, JWKS_STORED_LIFETIME_SECS};
use crate::validation::jwt::TokenError;

/// One issuer's keys, cached. Keep one per isolate and issuer.
#[derive(Debug, Default)]
pub(crate) struct IssuerKeys {
    cache: RefCell<Option<JwksCache>>,
}

impl IssuerKeys {
    /// Runs `validate` with the keys of `jwks_uri`; when it refuses the token with
    /// [`TokenError::UnknownKey`] and the cooldown allows
    /// ([`JwksCache::needs_refetch_for_unknown_kid`]), fetches the keys again and runs it once
    /// more. With `sealer` (`ConfidentialClient::document_sealer`), the key set is shared
    /// through [`Platform::store`] (see the module documentation); `None`: memory only.
    ///
    /// # Errors
    /// Whatever `validate` returns; a fetch failure ([`Error::Transport`],
    /// [`Error::InvalidResponse`]) when keys are needed and cannot be had.
    pub(crate) async fn validate_with<T, F, Fut>(
        &self,
        jwks_uri: &Url,
        sealer: Option<&Sealer>,
        platform: &Platform<'_>,
        validate: F,
    ) -> Result<T, Error>
    where
        F: Fn(JwkSet) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let store = Shared {
            sealer,
            key: sealer.map(|_| document_storage_key(jwks_uri)),
        };
        let keys = self.keys(jwks_uri, false, &store, platform).await?;
        let now = platform.clock.now_unix_secs();
        match validate(keys).await {
            Err(Error::InvalidToken(TokenError::UnknownKey)) if self.may_refetch(now) => {
                let keys = self.keys(jwks_uri, true, &store, platform).await?;
                validate(keys).await
            }
            result => result,
        }
    }

    fn may_refetch(&self, now: u64) -> bool {
        let mut cache = self.cache.borrow_mut();
        match cache.as_mut() {
            Some(cache) if cache.needs_refetch_for_unknown_kid(now) => {
                cache.record_refetch_attempt(now);
                true
            }
            _ => false,
        }
    }

    /// The keys: cached in memory, else stored, else fetched when absent, stale or
    /// `refetch`ed.
    async fn keys(
        &self,
        jwks_uri: &Url,
        refetch: bool,
        store: &Shared<'_>,
        platform: &Platform<'_>,
    ) -> Result<JwkSet, Error> {
        let now = platform.clock.now_unix_secs();
        if !refetch {
            if let Some(cache) = self.cache.borrow().as_ref() {
                if !cache.is_stale(now) {
                    return Ok(cache.keys().clone());
                }
            }
            // A miss or a stale copy: another isolate may have fetched meanwhile.
            if let Some(keys) = self.adopt_stored(store, now, platform).await {
                return Ok(keys);
            }
        }
        let response = platform.transport.send(JwkSet::request(jwks_uri)?).await?;
        let keys = JwkSet::parse(&response)?;
        let usable = keys.has_usable_key();
        let stored = {
            let mut cache = self.cache.borrow_mut();
            match cache.as_mut() {
                Some(cache) if !usable => {
                    log::warn!("the issuer's key set has no usable key: the last good set is kept");
                    cache.keep_after_unusable_fetch(now);
                    return Ok(cache.keys().clone());
                }
                Some(cache) => {
                    cache.replace(keys.clone(), now);
                    cache.clone()
                }
                None => {
                    let fetched = JwksCache::new(keys.clone(), now);
                    *cache = Some(fetched.clone());
                    fetched
                }
            }
        };
        // Only a usable set reaches the store: the stored copy is always a last good set.
        if usable {
            store.write(&stored, now, platform).await;
        }
        Ok(keys)
    }

    /// Reads the stored set (if the store tier is on) and keeps it in memory when it is
    /// newer than the memory copy; returns its keys when it is not stale. A stale stored set
    /// is still kept when memory has nothing: it is the last good set an unusable answer must
    /// not replace.
    async fn adopt_stored(
        &self,
        store: &Shared<'_>,
        now: u64,
        platform: &Platform<'_>,
    ) -> Option<JwkSet> {
        let stored = store.read(platform).await?;
        if !stored.keys().has_usable_key() {
            return None;
        }
        let mut cache = self.cache.borrow_mut();
        let newer = cache
            .as_ref()
            .is_none_or(|current| stored.fetched_at() > current.fetched_at());
        if newer {
            *cache = Some(stored);
        }
        cache
            .as_ref()
            .filter(|current| !current.is_stale(now))
            .map(|current| current.keys().clone())
    }
}

/// The shared store tier of one key set: its sealer and storage key, both `None` when off.
struct Shared<'s> {
    sealer: Option<&'s Sealer>,
    key: Option<alloc::string::String>,
}

impl Shared<'_> {
    async fn read(&self, platform: &Platform<'_>) -> Option<JwksCache> {
        read_document(self.sealer, self.key.as_deref()?, platform).await
    }

    /// Stores `cache`, written at `now`, for [`JWKS_STORED_LIFETIME_SECS`].
    async fn write(&self, cache: &JwksCache, now: u64, platform: &Platform<'_>) {
        if let Some(key) = &self.key {
            let expires_at = now.saturating_add(JWKS_STORED_LIFETIME_SECS);
            write_document(self.sealer, key, cache, expires_at, platform).await;
        }
    }
}

#[cfg(all(test, feature = "rustcrypto"))]
mod tests;
