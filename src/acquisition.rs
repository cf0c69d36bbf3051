//! Getting tokens: the [`ConfidentialClient`] (client credentials, on-behalf-of, authorization
//! code and refresh token grants), its two-level cache and expiry rules, single-flight,
//! throttling and retries, and clock correction.
//!
//! The rules come from RFC 6749 §4–6 and MSAL's conventions (see the items): tokens are served
//! from the isolate's memory, then the shared [`crate::platform::TokenStore`], then the provider;
//! concurrent misses for one key share one request; a `Retry-After` is honoured per request.
//! With a [`Coordinator`] (a Durable Object on Workers), the misses of every isolate for one key
//! share one request, and a session's refresh-token redemptions are serialised deployment-wide
//! ([`coordination`]).

pub(crate) mod cache;
pub(crate) mod client;
pub(crate) mod clock;
pub mod coordination;
pub(crate) mod documents;
pub(crate) mod sealed_store;
pub(crate) mod single_flight;
pub(crate) mod throttle;

pub use cache::expiring::{ExpiringStore, KvHost, MemoryKv};
pub use cache::memory::{DEFAULT_MEMORY_CACHE_SIZE_LIMIT, ENTRY_OVERHEAD_BYTES};
pub use cache::write_behind::WriteBehind;
pub use cache::{
    CachedToken, TokenState, EXPIRY_MARGIN_SECS, HALF_LIFE_REFRESH_MIN_SECS, MIN_STORE_TTL_SECS,
};
pub use client::{
    AcquiredToken, AppTokenRequest, ConfidentialClient, ReceivedTokens, TokenOptions, TokenSource,
    MAX_PREPARED_REQUESTS, MAX_TENANT_CLIENTS,
};
#[cfg(feature = "webapp")]
pub use client::{RedeemedRefreshToken, SessionRedemption};
pub use coordination::Coordinator;
pub use single_flight::{BuiltOnce, SingleFlight};
