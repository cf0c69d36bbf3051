//! The provider's documents in the platform's shared store ([`crate::platform::TokenStore`]):
//! the discovery document (OIDC Discovery 1.0 §4, RFC 8414 §3) and the issuer's key set (RFC
//! 7517 §5), so a new isolate (or a Fastly instance, which serves one request) does not fetch
//! them again.
//!
//! - Read-through: a memory miss reads the store; a fetch writes it. Every store failure is a
//!   miss (the document is fetched), a failed write costs only a later fetch.
//! - Sealed as token cache entries are ([`crate::seal`], purpose
//!   [`crate::seal::Purpose::ProviderDocument`]): bound to the storage key (associated data),
//!   with an absolute expiry inside. Whoever can write to the store cannot plant signing keys
//!   (forged tokens would pass) or endpoints (token requests would go elsewhere): a value that
//!   does not open is a miss and is overwritten after the next fetch.
//! - Only with a sealer (`ConfidentialClient::with_token_cache_key`): without one, nothing is
//!   read or written.
//! - Keys: [`document_storage_key`], `edge-token/v1/doc/` + base64url(SHA-256(document URL)).
//!
//! What is kept, and for how long, is the caller's business (`ConfidentialClient::metadata`,
//! `IssuerKeys`): each stores its fetch time (Unix seconds) with the document and applies the
//! same freshness rules as to its memory copy.

use alloc::string::String;

use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::acquisition::cache::hashed_storage_key;
use crate::acquisition::sealed_store::{read_sealed, write_sealed};
use crate::platform::Platform;
use crate::seal::Sealer;

/// The prefix of every provider document's storage key. Token entries are `edge-token/v1/` +
/// 43 base64url characters, which never contain `/`: no document key is a token key.
pub(crate) const DOCUMENT_KEY_PREFIX: &str = "edge-token/v1/doc/";

/// The longest sealed document read back from the store, in characters (a sealed value is
/// about 4/3 of its JSON plus 100; discovery documents and key sets are a few KiB). Longer
/// values are refused unread, and a document that would seal longer is not stored.
pub(crate) const MAX_STORED_DOCUMENT_LEN: usize = 256 * 1024;

/// The storage key of the document at `url`: `edge-token/v1/doc/` + base64url (no padding) of
/// SHA-256 of the URL's text (61 bytes).
pub(crate) fn document_storage_key(url: &Url) -> String {
    hashed_storage_key(DOCUMENT_KEY_PREFIX, url.as_str())
}

/// The document stored under `key`, if there is a `sealer` and the value opens: sealed with one
/// of its keys for [`crate::seal::Purpose::ProviderDocument`], under this very key, before its
/// expiry ([`read_sealed`]). Anything else is `None`; refused values are logged.
pub(crate) async fn read_document<T: DeserializeOwned>(
    sealer: Option<&Sealer>,
    key: &str,
    platform: &Platform<'_>,
) -> Option<T> {
    read_sealed(
        sealer,
        key,
        MAX_STORED_DOCUMENT_LEN,
        "provider document",
        platform,
    )
    .await
}

/// Seals `document` under `key` until `expires_at` (Unix seconds) and stores it for that long
/// (at least [`crate::acquisition::cache::MIN_STORE_TTL_SECS`]), if there is a `sealer`
/// ([`write_sealed`]). Nothing is written for a document already expired or too long
/// ([`MAX_STORED_DOCUMENT_LEN`]); failures are logged, never returned.
pub(crate) async fn write_document<T: Serialize>(
    sealer: Option<&Sealer>,
    key: &str,
    document: &T,
    expires_at: u64,
    platform: &Platform<'_>,
) {
    let what = "provider document";
    write_sealed(
        sealer,
        key,
        document,
        expires_at,
        MAX_STORED_DOCUMENT_LEN,
        what,
        platform,
    )
    .await;
}
