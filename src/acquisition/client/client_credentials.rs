//! App tokens: the client credentials grant (RFC 6749 §4.4; MSAL `AcquireTokenForClient`),
//! per call or through a prepared [`AppTokenRequest`] whose cache key is computed once.

use super::{AcquiredToken, AppTokenRequest, ConfidentialClient, Refill, TokenOptions};
use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::hash::Hash;

use hashbrown::HashMap;

use crate::acquisition::cache::{CacheKey, CachedToken};
use crate::acquisition::single_flight::SINGLE_FLIGHT_RECHECK_MS;
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::request::Grant;
use crate::protocol::scope::Scopes;

impl ConfidentialClient {
    /// Prepares the client credentials request for `scopes` (RFC 6749 §4.4): checks the scopes
    /// and computes the cache key once. Keep it (per isolate, beside this client) and pass it
    /// to [`ConfidentialClient::acquire_app_token`] on every call: a token in memory is then
    /// served without hashing, allocating or copying the token.
    ///
    /// ```
    /// use edge_token::{AppTokenRequest, ConfidentialClient, Error, Platform, Scopes};
    ///
    /// struct Downstream {
    ///     client: ConfidentialClient,
    ///     request: AppTokenRequest, // prepared once per isolate
    /// }
    ///
    /// impl Downstream {
    ///     fn new(client: ConfidentialClient) -> Result<Self, Error> {
    ///         let scopes = Scopes::parse("api://downstream/.default")?;
    ///         let request = client.app_token_request(&scopes)?;
    ///         Ok(Self { client, request })
    ///     }
    ///
    ///     async fn authorization(&self, platform: &Platform<'_>) -> Result<String, Error> {
    ///         let token = self.client.acquire_app_token(&self.request, platform).await?;
    ///         Ok(token.authorization())
    ///     }
    /// }
    /// ```
    ///
    /// # Errors
    /// [`Error::Configuration`] for an Entra multi-tenant alias authority (`common`,
    /// `organizations`, `consumers`): app tokens need a tenant; and, on a Microsoft authority
    /// other than AD FS, for scopes other than exactly one `{resource}/.default`
    /// ([`Scopes::require_app_only`], Microsoft.Identity.Web IDW10404/IDW10405).
    pub fn app_token_request(&self, scopes: &Scopes) -> Result<AppTokenRequest, Error> {
        self.require_app_only(scopes)?;
        Ok(AppTokenRequest {
            client: self.id,
            key: CacheKey::app_token(&self.authority, &self.client_id, scopes),
            scopes: scopes.clone(),
        })
    }

    /// Acquires the app-only token of a prepared `request` with the client credentials grant
    /// (RFC 6749 §4.4; MSAL `AcquireTokenForClient`): from memory, else from the store, else
    /// from the provider, with concurrent misses for the same scopes sharing one token request.
    /// A miss for one request never waits for another's.
    ///
    /// # Errors
    /// - [`Error::Configuration`] when `request` was prepared by another client.
    /// - [`Error::Server`] / [`Error::InvalidResponse`] / [`Error::Transport`] / [`Error::Signing`]
    ///   when no token could be obtained. Store failures are not errors: they count as misses.
    pub async fn acquire_app_token(
        &self,
        request: &AppTokenRequest,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, Error> {
        self.acquire_app_token_with(request, &TokenOptions::default(), platform)
            .await
    }

    /// [`ConfidentialClient::acquire_app_token`] with `options`: a forced refresh or a claims
    /// challenge skips (and evicts) the cached token.
    ///
    /// # Errors
    /// As [`ConfidentialClient::acquire_app_token`]; [`Error::Configuration`] for a claims
    /// challenge that is not a JSON object.
    pub async fn acquire_app_token_with(
        &self,
        request: &AppTokenRequest,
        options: &TokenOptions,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, Error> {
        if request.client != self.id {
            return Err(Error::configuration(
                "an AppTokenRequest serves only the client that prepared it",
            ));
        }
        let cached = {
            let clock = self.corrected_clock(platform);
            match self.served_from_memory(&request.key, options, &platform.with_clock(&clock)) {
                Ok(served) => return Ok(served),
                Err(cached) => cached,
            }
        };
        // The miss path's state lives on the heap: a hit's future stays a few words.
        Box::pin(self.app_token_miss(request, options, cached, platform)).await
    }

    /// After a memory miss: the store and the provider, under single-flight.
    async fn app_token_miss(
        &self,
        request: &AppTokenRequest,
        options: &TokenOptions,
        cached: Option<CachedToken>,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, Error> {
        let clock = self.corrected_clock(platform);
        let platform = &platform.with_clock(&clock);
        let claims = self.claims_parameter(options.claims.as_deref())?;
        let grant = Grant::ClientCredentials {
            scopes: &request.scopes,
            claims: claims.as_deref(),
        };
        self.refill_under_flight(request.key.clone(), grant, cached, options, platform)
            .await
    }

    /// Acquires an app-only token for `scopes` with the client credentials grant (RFC 6749
    /// §4.4; MSAL `AcquireTokenForClient`): [`ConfidentialClient::app_token_request`] and
    /// [`ConfidentialClient::acquire_app_token`] in one call. The client keeps the requests it
    /// prepares (up to [`MAX_PREPARED_REQUESTS`] distinct scopes), so a repeated call costs a
    /// lookup by scopes on top of the prepared path.
    ///
    /// # Errors
    /// As [`ConfidentialClient::app_token_request`] and
    /// [`ConfidentialClient::acquire_app_token`].
    pub async fn acquire_token_for_client(
        &self,
        scopes: &Scopes,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, Error> {
        self.acquire_token_for_client_with(scopes, &TokenOptions::default(), platform)
            .await
    }

    /// [`ConfidentialClient::acquire_token_for_client`] with `options`: a forced refresh or a
    /// claims challenge skips (and evicts) the cached token.
    ///
    /// # Errors
    /// As [`ConfidentialClient::acquire_token_for_client`]; [`Error::Configuration`] for a
    /// claims challenge that is not a JSON object.
    pub async fn acquire_token_for_client_with(
        &self,
        scopes: &Scopes,
        options: &TokenOptions,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, Error> {
        let request = self
            .prepared
            .get_or_prepare(scopes, || self.app_token_request(scopes))?;
        self.acquire_app_token_with(&request, options, platform)
            .await
    }

    /// Refreshes the app token for `scopes` ahead of time (when an [`AcquiredToken`] said
    /// `refresh_due`): adopts a fresher one from the store if another isolate already
    /// refreshed, else asks the provider, under the same single-flight as foreground misses.
    /// Run it in the background (`ctx.waitUntil`); a failure keeps the cached token, which
    /// stays valid until its expiry margin.
    ///
    /// # Errors
    /// As [`ConfidentialClient::acquire_token_for_client`]; callers running it in the
    /// background only log them.
    pub async fn refresh_token_for_client(
        &self,
        scopes: &Scopes,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, Error> {
        let request = self
            .prepared
            .get_or_prepare(scopes, || self.app_token_request(scopes))?;
        let key = request.key.clone();
        let clock = self.corrected_clock(platform);
        let platform = &platform.with_clock(&clock);
        let claims = self.claims_parameter(None)?;
        let grant = Grant::ClientCredentials {
            scopes,
            claims: claims.as_deref(),
        };
        let cached = self.memory.get(&key).map(|hit| hit.token);
        let refill = || self.refill(key.clone(), grant, cached, Refill::Ahead, platform);
        self.flights
            .run(key.clone(), refill, || {
                platform.sleep.sleep(SINGLE_FLIGHT_RECHECK_MS)
            })
            .await
    }

    /// Client credentials need a tenant and, on the Microsoft identity platform (AD FS aside),
    /// one `{resource}/.default` scope ([`Scopes::require_app_only`]).
    fn require_app_only(&self, scopes: &Scopes) -> Result<(), Error> {
        self.require_tenant("client credentials")?;
        if self.authority.requires_default_scope() {
            scopes.require_app_only()?;
        }
        Ok(())
    }
}

/// How many distinct scopes a client (and an [`crate::AppTokens`]) keeps a prepared request
/// for when called per call: as many as the default memory tier holds tokens. Each takes well
/// under a kilobyte (its scopes twice and its key); an app that asks for more distinct scopes
/// starts over (the kept requests are dropped and prepared again as they are asked for).
pub const MAX_PREPARED_REQUESTS: usize = 16_384;

/// Prepared app token requests by how callers name their scopes (`Scopes`, or their text), at
/// most [`MAX_PREPARED_REQUESTS`]: when a new one finds the table full, the table starts over.
/// A hash table (hashbrown's default hasher): the app names its scopes, not whoever calls it.
pub(crate) struct PreparedRequests<K>(RefCell<HashMap<K, Rc<AppTokenRequest>>>);

impl<K> Default for PreparedRequests<K> {
    fn default() -> Self {
        Self(RefCell::default())
    }
}

impl<K> core::fmt::Debug for PreparedRequests<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreparedRequests")
            .field("kept", &self.0.borrow().len())
            .finish()
    }
}

impl<K: Hash + Eq> PreparedRequests<K> {
    /// The request kept for `key`, else `prepare`'s, kept (in an emptied table if it was full).
    ///
    /// # Errors
    /// Whatever `prepare` returns; nothing is kept then.
    pub(crate) fn get_or_prepare<Q>(
        &self,
        key: &Q,
        prepare: impl FnOnce() -> Result<AppTokenRequest, Error>,
    ) -> Result<Rc<AppTokenRequest>, Error>
    where
        K: core::borrow::Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(request) = self.0.borrow().get(key) {
            return Ok(Rc::clone(request));
        }
        let request = Rc::new(prepare()?);
        let mut kept = self.0.borrow_mut();
        if kept.len() >= MAX_PREPARED_REQUESTS {
            kept.clear();
        }
        kept.insert(key.to_owned(), Rc::clone(&request));
        Ok(request)
    }

    #[cfg(test)]
    /// How many are kept.
    pub(crate) fn len(&self) -> usize {
        self.0.borrow().len()
    }
}

#[cfg(test)]
mod tests;
