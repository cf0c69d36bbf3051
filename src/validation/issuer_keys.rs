//! An issuer's signing keys as a relying party (ID tokens) or a resource server (access tokens)
//! keeps them: fetched from the `jwks_uri` on first use, kept per isolate, fetched again when
//! stale, and refetched at most once per cooldown when a token names an unknown key (the
//! issuer rotated its keys). The rules are [`JwksCache`]'s; this is their IO, over the
//! [`Platform`]'s transport and clock.

use core::cell::RefCell;
use core::future::Future;

use url::Url;

use crate::error::Error;
use crate::platform::Platform;
use crate::validation::jwks::{JwkSet, JwksCache};
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
    /// more.
    ///
    /// # Errors
    /// Whatever `validate` returns; a fetch failure ([`Error::Transport`],
    /// [`Error::InvalidResponse`]) when keys are needed and cannot be had.
    pub(crate) async fn validate_with<T, F, Fut>(
        &self,
        jwks_uri: &Url,
        platform: &Platform<'_>,
        validate: F,
    ) -> Result<T, Error>
    where
        F: Fn(JwkSet) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let now = platform.clock.now_unix_secs();
        let keys = self.keys(jwks_uri, false, platform).await?;
        match validate(keys).await {
            Err(Error::InvalidToken(TokenError::UnknownKey)) if self.may_refetch(now) => {
                let keys = self.keys(jwks_uri, true, platform).await?;
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

    /// The keys: cached, or fetched when absent, stale or `refetch`ed.
    async fn keys(
        &self,
        jwks_uri: &Url,
        refetch: bool,
        platform: &Platform<'_>,
    ) -> Result<JwkSet, Error> {
        let now = platform.clock.now_unix_secs();
        if let Some(cache) = self.cache.borrow().as_ref() {
            if !refetch && !cache.is_stale(now) {
                return Ok(cache.keys().clone());
            }
        }
        let response = platform.transport.send(JwkSet::request(jwks_uri)?).await?;
        let keys = JwkSet::parse(&response)?;
        let mut cache = self.cache.borrow_mut();
        match cache.as_mut() {
            Some(cache) if !keys.has_usable_key() => {
                log::warn!("the issuer's key set has no usable key: the last good set is kept");
                cache.keep_after_unusable_fetch(now);
                Ok(cache.keys().clone())
            }
            Some(cache) => {
                cache.replace(keys.clone(), now);
                Ok(keys)
            }
            None => {
                *cache = Some(JwksCache::new(keys.clone(), now));
                Ok(keys)
            }
        }
    }
}

#[cfg(all(test, feature = "rustcrypto"))]
mod tests;
