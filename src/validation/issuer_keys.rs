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
//!
//! Each set held in memory has a [`KeySetGeneration`], new whenever the memory set is replaced
//! (first fetch, refetch, a newer stored set adopted): what was verified with one set is known
//! to be verifiable with the set held as long as the generation is the same
//! ([`crate::validation::validated_tokens`]).

use core::cell::{Cell, RefCell};
use core::future::Future;

use url::Url;

use crate::acquisition::documents::{document_storage_key, read_document, write_document};
use crate::error::Error;
use crate::platform::Platform;
use crate::seal::Sealer;
use crate::validation::jwks::{JwkSet, JwksCache, JWKS_STORED_LIFETIME_SECS};
use crate::validation::jwt::TokenError;

/// Which key set an isolate held when a token was verified: see the module documentation.
/// Two generations are equal only when no other set was held in memory between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeySetGeneration(u64);

#[cfg(test)]
impl KeySetGeneration {
    /// The generation numbered `n` (tests of the tables that keep generations).
    pub(crate) const fn numbered(n: u64) -> Self {
        Self(n)
    }
}

/// One issuer's keys, cached. Keep one per isolate and issuer.
#[derive(Debug, Default)]
pub(crate) struct IssuerKeys {
    cache: RefCell<Option<JwksCache>>,
    /// Counts the sets held in memory (0: none yet).
    generation: Cell<u64>,
}

impl IssuerKeys {
    /// The generation of the set held in memory when it is usable at `now` (Unix seconds)
    /// without asking anyone (held and not stale, [`JwksCache::is_stale`]): the set a
    /// validation at `now` would use. `None` when a validation would read or fetch one.
    pub(crate) fn current_generation(&self, now: u64) -> Option<KeySetGeneration> {
        self.cache
            .borrow()
            .as_ref()
            .filter(|cache| !cache.is_stale(now))
            .map(|_| KeySetGeneration(self.generation.get()))
    }

    /// Replaces the set held in memory, under a new generation.
    fn hold(&self, cache: &mut Option<JwksCache>, held: JwksCache) -> KeySetGeneration {
        *cache = Some(held);
        self.next_generation()
    }

    fn next_generation(&self) -> KeySetGeneration {
        let generation = self.generation.get().wrapping_add(1);
        self.generation.set(generation);
        KeySetGeneration(generation)
    }

    fn held_generation(&self) -> KeySetGeneration {
        KeySetGeneration(self.generation.get())
    }

    /// Runs `validate` with the keys of `jwks_uri`; when it refuses the token with
    /// [`TokenError::UnknownKey`] and the cooldown allows
    /// ([`JwksCache::needs_refetch_for_unknown_kid`]), fetches the keys again and runs it once
    /// more. With `sealer` (`ConfidentialClient::document_sealer`), the key set is shared
    /// through [`Platform::store`] (see the module documentation); `None`: memory only.
    ///
    /// # Errors
    /// Whatever `validate` returns; a fetch failure ([`Error::Transport`],
    /// [`Error::InvalidResponse`]) when keys are needed and cannot be had.
    #[cfg_attr(not(feature = "webapp"), allow(dead_code))]
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
        self.validate_noting_key_set(jwks_uri, sealer, platform, validate)
            .await
            .map(|(value, _)| value)
    }

    /// [`IssuerKeys::validate_with`], also answering the generation of the key set `validate`
    /// accepted.
    ///
    /// # Errors
    /// As [`IssuerKeys::validate_with`].
    pub(crate) async fn validate_noting_key_set<T, F, Fut>(
        &self,
        jwks_uri: &Url,
        sealer: Option<&Sealer>,
        platform: &Platform<'_>,
        validate: F,
    ) -> Result<(T, KeySetGeneration), Error>
    where
        F: Fn(JwkSet) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let store = Shared {
            sealer,
            key: sealer.map(|_| document_storage_key(jwks_uri)),
        };
        let (keys, generation) = self.keys(jwks_uri, false, &store, platform).await?;
        let now = platform.clock.now_unix_secs();
        match validate(keys).await {
            Err(Error::InvalidToken(TokenError::UnknownKey)) if self.may_refetch(now) => {
                let (keys, generation) = self.keys(jwks_uri, true, &store, platform).await?;
                validate(keys).await.map(|value| (value, generation))
            }
            result => result.map(|value| (value, generation)),
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

    /// The keys and their generation: cached in memory, else stored, else fetched when absent,
    /// stale or `refetch`ed.
    async fn keys(
        &self,
        jwks_uri: &Url,
        refetch: bool,
        store: &Shared<'_>,
        platform: &Platform<'_>,
    ) -> Result<(JwkSet, KeySetGeneration), Error> {
        let now = platform.clock.now_unix_secs();
        if !refetch {
            if let Some(cache) = self.cache.borrow().as_ref() {
                if !cache.is_stale(now) {
                    return Ok((cache.keys().clone(), self.held_generation()));
                }
            }
            // A miss or a stale copy: another isolate may have fetched meanwhile.
            if let Some(held) = self.adopt_stored(store, now, platform).await {
                return Ok(held);
            }
        }
        let response = platform.transport.send(JwkSet::request(jwks_uri)?).await?;
        let keys = JwkSet::parse(&response)?;
        let usable = keys.has_usable_key();
        let (stored, generation) = {
            let mut cache = self.cache.borrow_mut();
            match cache.as_mut() {
                Some(cache) if !usable => {
                    log::warn!("the issuer's key set has no usable key: the last good set is kept");
                    cache.keep_after_unusable_fetch(now);
                    return Ok((cache.keys().clone(), self.held_generation()));
                }
                Some(cache) => {
                    cache.replace(keys.clone(), now);
                    (cache.clone(), self.next_generation())
                }
                None => {
                    let fetched = JwksCache::new(keys.clone(), now);
                    let generation = self.hold(&mut cache, fetched.clone());
                    (fetched, generation)
                }
            }
        };
        // Only a usable set reaches the store: the stored copy is always a last good set.
        if usable {
            store.write(&stored, now, platform).await;
        }
        Ok((keys, generation))
    }

    /// Reads the stored set (if the store tier is on) and keeps it in memory when it is
    /// newer than the memory copy; returns the keys held and their generation when they are
    /// not stale. A stale stored set is still kept when memory has nothing: it is the last good
    /// set an unusable answer must not replace.
    async fn adopt_stored(
        &self,
        store: &Shared<'_>,
        now: u64,
        platform: &Platform<'_>,
    ) -> Option<(JwkSet, KeySetGeneration)> {
        let stored = store.read(platform).await?;
        if !stored.keys().has_usable_key() {
            return None;
        }
        let mut cache = self.cache.borrow_mut();
        let newer = cache
            .as_ref()
            .is_none_or(|current| stored.fetched_at() > current.fetched_at());
        if newer {
            self.hold(&mut cache, stored);
        }
        cache
            .as_ref()
            .filter(|current| !current.is_stale(now))
            .map(|current| (current.keys().clone(), self.held_generation()))
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
