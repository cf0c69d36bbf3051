//! Token cache rules: keys, entries, expiry and refresh decisions, and the store contract.
//!
//! The rules follow MSAL's conventions (Microsoft identity platform "token cache" docs):
//! - a token counts as expired [`EXPIRY_MARGIN_SECS`] (300 s) before its `expires_on`, so no
//!   caller is handed a token that expires in flight;
//! - a refresh is due at `refresh_in` when the provider sends it, or at half-life for tokens that
//!   live [`HALF_LIFE_REFRESH_MIN_SECS`] (2 h) or more;
//! - a token with too little life left is returned to its caller but not cached;
//! - app tokens are keyed by (authority, client id, scopes as a set).
//!
//! Two levels: a per-isolate memory tier ([`memory`]), and a shared [`TokenStore`] (Workers KV,
//! Fastly KV Store, Spin key-value) implemented by adapters. Entries carry absolute times, so
//! they stay correct wherever they are read. What goes to the shared store is sealed
//! ([`CachedToken::seal`]): the store holds no token, and an entry it did not get from
//! edge-token under that very key is a miss.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::platform::Entropy;
use crate::protocol::authority::Authority;
use crate::protocol::response::TokenResponse;
use crate::protocol::scope::Scopes;
use crate::seal::{SealError, Sealer};
use crate::secret::AccessToken;

/// Seconds before `expires_on` at which a cached token stops being handed out (MSAL: 5 min).
pub const EXPIRY_MARGIN_SECS: u64 = 300;

/// Lifetime from which a token without `refresh_in` is refreshed at half-life, in seconds
/// (MSAL: tokens of 2 h or more).
pub const HALF_LIFE_REFRESH_MIN_SECS: u64 = 2 * 3600;

/// The shortest time-to-live a store accepts, in seconds (Workers KV `expirationTtl` >= 60).
pub const MIN_STORE_TTL_SECS: u64 = 60;

// A token worth caching has more than the margin left, so its TTL always meets the store minimum.
const _: () = assert!(EXPIRY_MARGIN_SECS >= MIN_STORE_TTL_SECS);

/// The longest sealed entry read back from a shared store, in bytes (a sealed entry is about
/// 4/3 of its token's length plus 100 bytes; Entra access tokens stay far below 48 KiB).
pub(crate) const MAX_STORED_ENTRY_LEN: usize = 64 * 1024;

/// Identifies cached tokens. Built from canonical JSON, so no two different tuples collide
/// through a separator character. Made once (a prepared request keeps it): it carries its
/// storage key and the hash the memory tier probes with, both from one SHA-256 of the canonical
/// text, and clones share them.
#[derive(Clone)]
pub(crate) struct CacheKey(Arc<KeyParts>);

struct KeyParts {
    canonical: String,
    storage_key: String,
    /// The first 8 bytes of SHA-256 of `canonical`: not steerable by whoever picks the scopes
    /// or the incoming token, so the memory tier's table cannot be flooded into one bucket.
    hash: u64,
}

impl PartialEq for CacheKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.canonical == other.0.canonical
    }
}

impl Eq for CacheKey {}

impl PartialOrd for CacheKey {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CacheKey {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.0.canonical.cmp(&other.0.canonical)
    }
}

impl core::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("CacheKey").field(&self.0.canonical).finish()
    }
}

impl CacheKey {
    /// The key of an app-only token (MSAL's app token partition: client id + tenant, plus
    /// scopes): `["app", authority, client_id, scopes]` with the authority's identity (which
    /// carries the tenant) and the scopes sorted.
    pub(crate) fn app_token(authority: &Authority, client_id: &str, scopes: &Scopes) -> Self {
        let canonical = serde_json::json!([
            "app",
            authority.cache_identity(),
            client_id,
            scopes.to_param()
        ]);
        Self::from_canonical(canonical.to_string())
    }

    /// The key of an on-behalf-of token (MSAL's convention): `["obo", authority, client_id,
    /// user_assertion_hash, scopes]`, where the user partition is [`user_assertion_hash`] of
    /// the incoming token. Two users never share an entry, and a cached entry is reachable only
    /// with the very token that obtained it. (Feature `webapi`.)
    #[cfg(feature = "webapi")]
    pub(crate) fn on_behalf_of(
        authority: &Authority,
        client_id: &str,
        assertion: &AccessToken,
        scopes: &Scopes,
    ) -> Self {
        let canonical = serde_json::json!([
            "obo",
            authority.cache_identity(),
            client_id,
            user_assertion_hash(assertion),
            scopes.to_param()
        ]);
        Self::from_canonical(canonical.to_string())
    }

    /// The key of `canonical` text, with its storage key and hash.
    pub(crate) fn from_canonical(canonical: String) -> Self {
        let digest = Sha256::digest(canonical.as_bytes());
        let storage_key = storage_key_of_digest(STORAGE_KEY_PREFIX, &digest);
        let mut hash = [0u8; 8];
        hash.copy_from_slice(&digest[..8]);
        Self(Arc::new(KeyParts {
            canonical,
            storage_key,
            hash: u64::from_le_bytes(hash),
        }))
    }

    /// The canonical text of the key.
    pub(crate) fn canonical(&self) -> &str {
        &self.0.canonical
    }

    #[cfg(test)]
    pub(crate) fn as_str(&self) -> &str {
        self.canonical()
    }

    /// The hash the memory tier probes with.
    pub(crate) fn hash(&self) -> u64 {
        self.0.hash
    }

    /// The name under which a shared store keeps the entry: `edge-token/v1/` + base64url
    /// (no padding) of SHA-256 of the canonical key. Fixed length (57 bytes) whatever the scopes,
    /// within every store's key limits (Workers KV: 512 bytes).
    pub(crate) fn storage_key(&self) -> &str {
        &self.0.storage_key
    }
}

/// The prefix of the token cache's storage keys.
const STORAGE_KEY_PREFIX: &str = "edge-token/v1/";

/// A store key: `prefix` + base64url (no padding) of SHA-256 of `canonical`. Fixed length
/// whatever the input, and the input (which may hold a session id) never appears in the store's
/// key list. Every key edge-token writes is built here.
pub(crate) fn hashed_storage_key(prefix: &str, canonical: &str) -> String {
    storage_key_of_digest(prefix, &Sha256::digest(canonical.as_bytes()))
}

fn storage_key_of_digest(prefix: &str, digest: &[u8]) -> String {
    let mut key = String::from(prefix);
    URL_SAFE_NO_PAD.encode_string(digest, &mut key);
    key
}

/// MSAL's on-behalf-of partition key: base64url (no padding) of SHA-256 of the incoming
/// assertion's text (43 characters). The token itself is never kept in a key. (Feature
/// `webapi`.)
#[cfg(feature = "webapi")]
pub(crate) fn user_assertion_hash(assertion: &AccessToken) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(assertion.expose_secret().as_bytes()))
}

/// A cached access token with absolute times (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedToken {
    /// The token.
    pub access_token: AccessToken,
    /// When the provider says it expires, Unix seconds.
    pub expires_on: u64,
    /// When to refresh proactively, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_on: Option<u64>,
    /// Entra `ext_expires_in` as an absolute time: how long the provider honours the token
    /// during its own outage, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_expires_on: Option<u64>,
}

/// Where a cached token stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Hand it out.
    Fresh,
    /// Still good, but a refresh is due: fetch a new one, and hand this one out if that fails.
    RefreshDue,
    /// Within [`EXPIRY_MARGIN_SECS`] of `expires_on`, or past it.
    Expired,
}

impl CachedToken {
    /// The entry for `response` received at `now` (Unix seconds). A missing `expires_in` means
    /// an unknown lifetime: the token is used once and not cached.
    pub fn from_response(response: &TokenResponse, now: u64) -> Self {
        let lifetime = response.expires_in.unwrap_or(0);
        let refresh_on = match response.refresh_in {
            Some(refresh_in) => Some(now.saturating_add(refresh_in)),
            None if lifetime >= HALF_LIFE_REFRESH_MIN_SECS => {
                Some(now.saturating_add(lifetime / 2))
            }
            None => None,
        };
        Self {
            access_token: response.access_token.clone(),
            expires_on: now.saturating_add(lifetime),
            refresh_on,
            ext_expires_on: response.ext_expires_in.map(|ext| now.saturating_add(ext)),
        }
    }

    /// The token's state at `now`.
    pub fn state(&self, now: u64) -> TokenState {
        if now.saturating_add(EXPIRY_MARGIN_SECS) >= self.expires_on {
            TokenState::Expired
        } else if self.refresh_on.is_some_and(|refresh_on| now >= refresh_on) {
            TokenState::RefreshDue
        } else {
            TokenState::Fresh
        }
    }

    /// Whether the token has not yet reached `expires_on` (ignoring the margin): the last
    /// resort when the provider cannot issue a new one.
    pub fn is_unexpired(&self, now: u64) -> bool {
        now < self.expires_on
    }

    /// How long a store should keep the entry, in seconds; `None` when it should not be cached
    /// at all (it would be [`TokenState::Expired`] already). Always above
    /// [`EXPIRY_MARGIN_SECS`], hence above [`MIN_STORE_TTL_SECS`].
    pub fn store_ttl(&self, now: u64) -> Option<u64> {
        (self.state(now) != TokenState::Expired).then(|| self.expires_on - now)
    }

    /// The entry as a shared store keeps it: sealed ([`crate::seal`], purpose
    /// [`crate::seal::Purpose::TokenCache`]) with `sealer`, bound to `storage_key` (the name it is stored
    /// under, authenticated as associated data) and valid until `expires_on`. The store never
    /// sees the token, and a value moved under another key fails to open.
    ///
    /// # Errors
    /// [`Error::Platform`] when the entropy source fails (a fresh nonce per seal);
    /// [`Error::Cache`] when sealing fails.
    pub fn seal(
        &self,
        sealer: &Sealer,
        storage_key: &str,
        entropy: &dyn Entropy,
    ) -> Result<Vec<u8>, Error> {
        sealer
            .seal(self, self.expires_on, storage_key.as_bytes(), entropy)
            .map(String::into_bytes)
    }

    /// Opens an entry read from a shared store under `storage_key` at `now` (Unix seconds).
    /// Values longer than 64 KiB are refused unread.
    ///
    /// # Errors
    /// A [`SealError`] for anything that is not an entry sealed by [`CachedToken::seal`] with
    /// one of `sealer`'s keys under this very key: planted plain JSON, an entry copied from
    /// another key, a tampered or expired one. Callers treat it as a miss and overwrite it.
    pub fn open(
        stored: &[u8],
        sealer: &Sealer,
        storage_key: &str,
        now: u64,
    ) -> Result<Self, SealError> {
        let sealed = core::str::from_utf8(stored).map_err(|_| SealError::Malformed)?;
        sealer.open(sealed, storage_key.as_bytes(), now, MAX_STORED_ENTRY_LEN)
    }
}

pub(crate) mod expiring;
pub(crate) mod memory;
#[cfg(test)]
mod tests;
pub(crate) mod write_behind;
