//! The confidential client: acquires tokens with the cache rules, single-flight and the
//! client's credential, over the platform's clock, entropy, transport and store.
//!
//! This is MSAL's `ConfidentialClientApplication` for the edge. It does no IO of its own: every
//! effect goes through the [`Platform`] passed to each call. Keep one client per isolate (per
//! configuration): its memory cache, single-flight table and discovered endpoints live in it.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::acquisition::cache::memory::MemoryCache;
use crate::acquisition::cache::{CacheKey, CachedToken, TokenState};
use crate::acquisition::clock::{ClockOffset, CorrectedClock};
use crate::acquisition::single_flight::{SingleFlight, SINGLE_FLIGHT_RECHECK_MS};
use crate::acquisition::throttle::ThrottleTable;
use crate::credentials::credential::ClientCredential;
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::authority::{Authority, Region};
use crate::protocol::claims::claims_parameter;
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::request::Grant;
pub use crate::protocol::response::ReceivedTokens;
use crate::protocol::scope::Scopes;
use crate::seal::{Purpose, RootKeys, Sealer};
use send::random_below;

/// The largest random advance of a proactive refresh, in seconds: isolates holding the same
/// token do not all refresh at the same second.
pub(crate) const REFRESH_JITTER_SECS: u16 = 60;

/// How [`ConfidentialClient`]'s second level and provider are consulted after a memory miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refill {
    /// A caller is waiting: a stored token due for refresh is served (flagged `refresh_due`).
    Normal,
    /// A background refresh ahead of expiry: only a fresh stored token stops the request.
    Ahead,
    /// The resource refused the cached token: skip the store, never serve it as stale.
    Bypass,
}

/// A confidential client (RFC 6749 §2.1) of one authority.
///
/// Keep one per isolate (it holds the memory cache, single-flight table, throttles and the
/// learned clock offset) and pass each call the adapter's [`Platform`].
///
/// ```
/// use edge_token::{ConfidentialClient, Error, Platform, Scopes, TokenOptions};
///
/// async fn token_for_a_challenge(
///     client: &ConfidentialClient,
///     challenge: &str, // the `claims` of a downstream `WWW-Authenticate` (decoded JSON)
///     platform: &Platform<'_>,
/// ) -> Result<String, Error> {
///     let scopes = Scopes::parse("api://downstream/.default")?;
///     let options = TokenOptions::with_claims(challenge);
///     let token = client.acquire_token_for_client_with(&scopes, &options, platform).await?;
///     Ok(token.authorization())
/// }
/// ```
pub struct ConfidentialClient {
    /// Tells this client's prepared requests ([`AppTokenRequest`]) from other clients'.
    id: usize,
    authority: Authority,
    client_id: String,
    credential: Rc<ClientCredential>,
    capabilities: Vec<String>,
    metadata: RefCell<Option<ProviderMetadata>>,
    memory: MemoryCache,
    /// What [`ConfidentialClient::acquire_token_for_client`] prepared, by scopes.
    prepared: PreparedRequests<Scopes>,
    flights: SingleFlight<CacheKey, Result<AcquiredToken, Error>>,
    /// A web-app session's refresh-token redemptions in progress here, as its coordinator.
    #[cfg(all(feature = "webapp", feature = "coordination"))]
    redemptions: SingleFlight<String, ()>,
    throttles: ThrottleTable,
    clock_offset: ClockOffset,
    region: Option<Region>,
    instance_validated: core::cell::Cell<bool>,
    store_sealer: Option<Sealer>,
    document_sealer: Option<Sealer>,
    /// `Some` for a client made by [`ConfidentialClient::for_tenant`].
    tenant: Option<String>,
    tenants: TenantClients,
}

impl ConfidentialClient {
    /// A client `client_id` of `authority`, authenticating with `credential`.
    ///
    /// # Errors
    /// [`Error::Configuration`] when `client_id` is empty.
    pub fn new(
        authority: Authority,
        client_id: impl Into<String>,
        credential: ClientCredential,
    ) -> Result<Self, Error> {
        let client_id = client_id.into();
        if client_id.trim().is_empty() {
            return Err(Error::configuration("CLIENT_ID is empty"));
        }
        Ok(Self {
            id: next_client_id(),
            authority,
            client_id,
            credential: Rc::new(credential),
            capabilities: Vec::new(),
            metadata: RefCell::default(),
            memory: MemoryCache::default(),
            prepared: PreparedRequests::default(),
            flights: SingleFlight::default(),
            #[cfg(all(feature = "webapp", feature = "coordination"))]
            redemptions: SingleFlight::default(),
            throttles: ThrottleTable::default(),
            clock_offset: ClockOffset::default(),
            region: None,
            instance_validated: core::cell::Cell::new(false),
            store_sealer: None,
            document_sealer: None,
            tenant: None,
            tenants: TenantClients::default(),
        })
    }

    /// Declares client capabilities (e.g. [`crate::protocol::claims::CAPABILITY_CP1`]): sent as the
    /// `claims` parameter of every client credentials, on-behalf-of and refresh token request
    /// (see `claims_parameter`).
    #[must_use]
    pub fn with_capabilities(mut self, capabilities: Vec<String>) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Bounds this client's memory tier of tokens at `bytes` (each of its tenant clients has
    /// one of its own with the same limit; default
    /// [`crate::acquisition::DEFAULT_MEMORY_CACHE_SIZE_LIMIT`], 32 MiB). Each entry counts its
    /// token, its keys and [`crate::acquisition::ENTRY_OVERHEAD_BYTES`]; past the limit, expired
    /// entries and then the least recently used go (Microsoft.Identity.Web's in-memory token
    /// cache `SizeLimit`). Set by `MEMORY_CACHE_SIZE_LIMIT`
    /// ([`crate::config::memory_cache_size_limit`]).
    #[must_use]
    pub fn with_memory_cache_size_limit(self, bytes: usize) -> Self {
        self.memory.set_size_limit(bytes);
        self
    }

    /// Turns on the shared store tier ([`Platform::store`]: Workers KV, Fastly KV Store, Spin
    /// key-value) with entries sealed under `keys` (`TOKEN_CACHE_KEY`, or `COOKIE_KEY`; AES-256-GCM
    /// with an HKDF subkey of its own, bound to the entry's storage key: see
    /// [`crate::seal`]). The provider's discovery document and key set are shared there too,
    /// sealed under a subkey of their own (`crate::acquisition::documents`), so a new isolate
    /// fetches neither again. Without it the client caches in memory only and never reads or
    /// writes the store: an unauthenticated store could hand it planted tokens or keys.
    ///
    /// ```
    /// use edge_token::credentials::SecretMethod;
    /// use edge_token::secret::ClientSecret;
    /// use edge_token::seal::RootKeys;
    /// use edge_token::{Authority, ClientCredential, ConfidentialClient, Error};
    ///
    /// fn client(cache_key: &str) -> Result<ConfidentialClient, Error> {
    ///     let authority = Authority::parse("https://login.microsoftonline.com/contoso.com", None)?;
    ///     let credential = ClientCredential::Secret {
    ///         secret: ClientSecret::new("client secret"),
    ///         method: SecretMethod::Post,
    ///     };
    ///     // Several keys for a rotation: newest first, comma-separated.
    ///     let keys = RootKeys::parse("TOKEN_CACHE_KEY", cache_key)?;
    ///     Ok(ConfidentialClient::new(authority, "client id", credential)?.with_token_cache_key(&keys))
    /// }
    /// # client("ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8").unwrap();
    /// # assert!(client("too short").is_err());
    /// ```
    #[must_use]
    pub fn with_token_cache_key(mut self, keys: &RootKeys) -> Self {
        self.store_sealer = Some(keys.sealer(Purpose::TokenCache));
        self.document_sealer = Some(keys.sealer(Purpose::ProviderDocument));
        self
    }

    /// Sends client credentials requests to the regional token endpoint of `region` (ESTS-R;
    /// MSAL `WithAzureRegion`): lower latency and resilience for app tokens. Other grants keep
    /// the global endpoint; cache and throttle keys stay on the configured authority.
    ///
    /// # Errors
    /// [`Error::Configuration`] when the authority has no regional endpoints (B2C, External ID,
    /// AD FS, OIDC, IP hosts).
    pub fn with_region(mut self, region: Region) -> Result<Self, Error> {
        self.authority.regional_token_endpoint(&region)?;
        self.region = Some(region);
        Ok(self)
    }

    /// The `claims` parameter for a request answering `challenge`, if any.
    ///
    /// # Errors
    /// [`Error::Configuration`] when `challenge` is not a JSON object.
    pub fn claims_parameter(&self, challenge: Option<&str>) -> Result<Option<String>, Error> {
        claims_parameter(&self.capabilities, challenge)
    }

    /// The sealer of provider documents (discovery, key sets) in the shared store
    /// ([`crate::acquisition::documents`]); `None` without a token cache key (no store tier).
    pub(crate) fn document_sealer(&self) -> Option<&Sealer> {
        self.document_sealer.as_ref()
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The authority.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The local clock corrected by the offset learned from the provider's `Date` headers
    /// ([`crate::acquisition::clock`]).
    fn corrected_clock<'p>(&'p self, platform: &Platform<'p>) -> CorrectedClock<'p> {
        CorrectedClock {
            local: platform.clock,
            offset: &self.clock_offset,
        }
    }

    pub(super) fn require_tenant(&self, flow: &str) -> Result<(), Error> {
        match &self.authority {
            Authority::Entra(entra) if entra.is_tenantless() => Err(Error::configuration(
                alloc::format!("AUTHORITY: {flow} needs a tenant-specific authority, not common/organizations/consumers"),
            )),
            _ => Ok(()),
        }
    }

    /// The memory tier's answer for `key` (`platform` has the corrected clock): `Ok` with a
    /// token that is not expired, else `Err` with what memory held (an expired token is still
    /// the last resort if the provider fails); `Err(None)` for `options` that bypass the cache.
    fn served_from_memory(
        &self,
        key: &CacheKey,
        options: &TokenOptions,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, Option<CachedToken>> {
        if options.bypasses_cache() {
            return Err(None);
        }
        let Some(hit) = self.memory.get(key) else {
            return Err(None);
        };
        let now = platform.clock.now_unix_secs();
        if hit.token.state(now) == TokenState::Expired {
            return Err(Some(hit.token));
        }
        let mut served = acquired(&hit.token, TokenSource::Memory);
        served.refresh_due = hit.refresh_due(now);
        Ok(served)
    }

    /// After a memory miss: the store and the provider under single-flight for `key`.
    /// `options` that bypass the cache evict the entry from memory and the store first.
    async fn refill_under_flight(
        &self,
        key: CacheKey,
        grant: Grant<'_>,
        cached: Option<CachedToken>,
        options: &TokenOptions,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, Error> {
        let mode = if options.bypasses_cache() {
            self.memory.remove(&key);
            self.forget_stored(key.storage_key(), platform).await;
            Refill::Bypass
        } else {
            Refill::Normal
        };
        let refill = || self.refill(key.clone(), grant, cached, mode, platform);
        self.flights
            .run(key.clone(), refill, || {
                platform.sleep.sleep(SINGLE_FLIGHT_RECHECK_MS)
            })
            .await
    }

    /// Keeps `token` in memory, with this isolate's refresh jitter drawn once.
    fn remember(&self, key: CacheKey, token: &CachedToken, now: u64, platform: &Platform<'_>) {
        let jitter = match token.refresh_on {
            Some(_) => u64::from(random_below(platform, REFRESH_JITTER_SECS)),
            None => 0,
        };
        self.memory.put(key, token.clone(), now, jitter);
    }

    /// Second level, then the provider; on a retryable provider failure, the best unexpired
    /// cached token (unless [`Refill::Bypass`]: the resource refused the cached one).
    async fn refill(
        &self,
        key: CacheKey,
        grant: Grant<'_>,
        cached: Option<CachedToken>,
        mode: Refill,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, Error> {
        let bypass = mode == Refill::Bypass;
        let storage_key = key.storage_key();
        let stored = if bypass {
            None
        } else {
            self.read_stored(storage_key, platform).await
        };
        let now = platform.clock.now_unix_secs();
        if let Some(token) = &stored {
            let state = token.state(now);
            // A stored token due for refresh is served as one in memory would be, with the
            // refresh left to the adapter's background (one-request instances, like Fastly's,
            // read only the store); a refresh ahead of time wants a fresher one.
            if state == TokenState::Fresh
                || (state == TokenState::RefreshDue && mode == Refill::Normal)
            {
                self.remember(key, token, now, platform);
                let mut served = acquired(token, TokenSource::Store);
                served.refresh_due = state == TokenState::RefreshDue;
                return Ok(served);
            }
        }
        let requested = match self.coordinated(&key, &grant, mode, platform).await {
            Some(Ok(served)) => return Ok(served),
            Some(Err(error)) => Err(error),
            None => self.request_token(grant, platform).await,
        };
        match requested {
            Ok(token) => {
                let now = platform.clock.now_unix_secs();
                if token.store_ttl(now).is_some() {
                    self.remember(key.clone(), &token, now, platform);
                    self.write_stored(storage_key, &token, platform).await;
                }
                Ok(acquired(&token, TokenSource::Provider))
            }
            Err(err) if err.is_retryable() && !bypass => [cached, stored]
                .into_iter()
                .flatten()
                .filter(|t| t.is_unexpired(now))
                .max_by_key(|t| t.expires_on)
                .map(|t| acquired(&t, TokenSource::CachedAfterProviderFailure))
                .ok_or(err),
            Err(err) => Err(err),
        }
    }

    async fn request_token(
        &self,
        grant: Grant<'_>,
        platform: &Platform<'_>,
    ) -> Result<CachedToken, Error> {
        let received = self.send_grant(grant, platform).await?;
        Ok(CachedToken::from_response(
            &received.response,
            received.requested_at,
        ))
    }
}

impl core::fmt::Debug for ConfidentialClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ConfidentialClient")
            .field("authority", &self.authority)
            .field("client_id", &self.client_id)
            .field("credential", &self.credential)
            .field("cached_tokens", &self.memory.len())
            .finish_non_exhaustive()
    }
}

fn acquired(token: &CachedToken, source: TokenSource) -> AcquiredToken {
    AcquiredToken::from_cached(token, source)
}

#[cfg(feature = "webapp")]
mod authorization_code;
mod client_credentials;
pub(crate) use client_credentials::PreparedRequests;
pub use client_credentials::MAX_PREPARED_REQUESTS;
#[cfg(feature = "coordination")]
mod coordinated;
mod metadata;
#[cfg(feature = "webapi")]
mod on_behalf_of;
#[cfg(feature = "webapp")]
mod redemption;
mod send;
mod tenant;
mod token;
#[cfg(not(feature = "coordination"))]
mod uncoordinated;
#[cfg(feature = "webapp")]
pub use redemption::{RedeemedRefreshToken, SessionRedemption};
use tenant::TenantClients;
pub use tenant::MAX_TENANT_CLIENTS;

pub use token::{AcquiredToken, AppTokenRequest, TokenOptions, TokenSource};

/// A new [`ConfidentialClient`]'s id, distinct from every other client's in this isolate.
fn next_client_id() -> usize {
    use core::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
mod shared_store;
#[cfg(test)]
mod tests;
