//! Sealed values in the platform's shared store ([`crate::platform::TokenStore`]): the one read
//! and the one write that every sealed record goes through (token cache entries, provider
//! documents, the coordinator's session records). Values are sealed ([`crate::seal`]) bound to
//! their storage key, with an absolute expiry inside; without a sealer nothing is read or
//! written. Every failure is logged and is a miss: the caller fetches and overwrites.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::acquisition::cache::MIN_STORE_TTL_SECS;
use crate::platform::Platform;
use crate::seal::{SealError, Sealer};

/// The `what` stored under `key`, if there is a `sealer` and the value opens: at most
/// `max_len` characters, sealed with one of its keys under this very key, before its expiry.
/// Anything else (absent, a store failure, planted, moved, tampered, expired, too long) is
/// `None`; refused values are logged at `warn`.
pub(crate) async fn read_sealed<T: DeserializeOwned>(
    sealer: Option<&Sealer>,
    key: &str,
    max_len: usize,
    what: &str,
    platform: &Platform<'_>,
) -> Option<T> {
    let sealer = sealer?;
    let stored = match platform.store.get(key).await {
        Ok(stored) => stored?,
        Err(error) => {
            log::debug!("{what} read failed, treated as a miss: {error}");
            return None;
        }
    };
    let now = platform.clock.now_unix_secs();
    let opened = core::str::from_utf8(&stored)
        .map_err(|_| SealError::Malformed)
        .and_then(|sealed| sealer.open(sealed, key.as_bytes(), now, max_len));
    match opened {
        Ok(value) => Some(value),
        Err(error) => {
            log::warn!("{what} {key} refused ({error}): a miss");
            None
        }
    }
}

/// Seals `value` (a `what`) under `key` until `expires_at` (Unix seconds) and stores it for
/// that long (at least [`MIN_STORE_TTL_SECS`]), if there is a `sealer`. Nothing is written for
/// a value already expired, or sealing longer than `max_len` (it would not be read back);
/// failures are logged, never returned: they cost only a later miss.
pub(crate) async fn write_sealed<T: Serialize>(
    sealer: Option<&Sealer>,
    key: &str,
    value: &T,
    expires_at: u64,
    max_len: usize,
    what: &str,
    platform: &Platform<'_>,
) {
    let Some(sealer) = sealer else {
        return;
    };
    let now = platform.clock.now_unix_secs();
    if expires_at <= now {
        return;
    }
    let sealed = match sealer.seal(value, expires_at, key.as_bytes(), platform.entropy) {
        Ok(sealed) if sealed.len() <= max_len => sealed,
        Ok(_) => {
            log::debug!("{what} {key} not stored: too long");
            return;
        }
        Err(error) => {
            log::warn!("{what} {key} not stored: {error}");
            return;
        }
    };
    let ttl = (expires_at - now).max(MIN_STORE_TTL_SECS);
    if let Err(error) = platform.store.put(key, sealed.into_bytes(), ttl).await {
        log::debug!("{what} write failed: {error}");
    }
}
