//! What a caller gets and asks for: the [`AcquiredToken`], where it came from ([`TokenSource`]),
//! how it is wanted ([`TokenOptions`]) and a prepared app token request ([`AppTokenRequest`]).

use alloc::string::String;

use crate::acquisition::cache::{CacheKey, CachedToken};
use crate::protocol::scope::Scopes;
use crate::secret::AccessToken;

/// A token handed to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AcquiredToken {
    /// The access token, for `Authorization: Bearer` (RFC 6750 §2.1).
    pub access_token: AccessToken,
    /// When it expires, Unix seconds.
    pub expires_on: u64,
    /// Where it came from.
    pub source: TokenSource,
    /// The token is good, but a refresh is due (`refresh_in`, or half-life, with jitter): the
    /// adapter should run [`super::ConfidentialClient::refresh_token_for_client`] in the background
    /// (`ctx.waitUntil` on Workers) so later callers never wait (MSAL's proactive refresh).
    pub refresh_due: bool,
    /// When a refresh ahead of expiry is due (the provider's `refresh_in`, or half-life), Unix
    /// seconds; `None` when the token is simply used until its expiry margin.
    pub refresh_on: Option<u64>,
}

impl AcquiredToken {
    /// The `Authorization` request header value for this token: `Bearer {access_token}` (RFC
    /// 6750 §2.1). It holds the token: send it, never log it.
    pub fn authorization(&self) -> String {
        alloc::format!("Bearer {}", self.access_token.expose_secret())
    }

    /// The token of a cache entry, from `source`.
    pub fn from_cached(token: &CachedToken, source: TokenSource) -> Self {
        Self {
            access_token: token.access_token.clone(),
            expires_on: token.expires_on,
            source,
            refresh_due: false,
            refresh_on: token.refresh_on,
        }
    }
}

/// Where an [`AcquiredToken`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// This isolate's memory cache.
    Memory,
    /// The shared store (e.g. Workers KV).
    Store,
    /// A token request to the provider.
    Provider,
    /// A cached token that was due for refresh (or inside the expiry margin) but still
    /// unexpired, served because the provider failed with a retryable error (MSAL behaviour).
    CachedAfterProviderFailure,
    /// The deployment's coordinator ([`crate::acquisition::coordination`]): one provider
    /// request per key for every isolate.
    Coordinator,
}

impl TokenSource {
    /// A short name for logs and diagnostics headers: `memory`, `store`, `provider`, `stale`,
    /// `coordinator`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Store => "store",
            Self::Provider => "provider",
            Self::CachedAfterProviderFailure => "stale",
            Self::Coordinator => "coordinator",
        }
    }
}

/// How a token is wanted (MSAL's `WithForceRefresh` and `WithClaims`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenOptions {
    /// Skip the caches and ask the provider; the cached entry is evicted first, and a provider
    /// failure is not covered by serving it (the resource has refused it). For a downstream
    /// `401 invalid_token`.
    pub force_refresh: bool,
    /// A claims challenge (JSON text) to send, merged with the client capabilities; implies
    /// `force_refresh` (a cached token cannot satisfy it).
    pub claims: Option<String>,
}

impl TokenOptions {
    /// Bypass and evict the cache.
    pub fn force_refresh() -> Self {
        Self {
            force_refresh: true,
            claims: None,
        }
    }

    /// Answer the claims challenge `claims` (JSON text), bypassing the cache.
    pub fn with_claims(claims: impl Into<String>) -> Self {
        Self {
            force_refresh: true,
            claims: Some(claims.into()),
        }
    }

    pub(super) fn bypasses_cache(&self) -> bool {
        self.force_refresh || self.claims.is_some()
    }
}

/// A prepared client credentials request (RFC 6749 §4.4) of one [`super::ConfidentialClient`]:
/// its scopes, checked once, and its cache key, computed once (the memory tier's hash and the
/// shared store's key with it). Made by [`super::ConfidentialClient::app_token_request`], used
/// by [`super::ConfidentialClient::acquire_app_token`]; cloning shares the key. It holds no
/// secret.
#[derive(Debug, Clone)]
pub struct AppTokenRequest {
    /// The id of the client that prepared it.
    pub(super) client: usize,
    pub(super) scopes: Scopes,
    pub(super) key: CacheKey,
}

impl AppTokenRequest {
    /// The requested scopes.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }
}
