//! Sealed values: authenticated encryption for what edge-token keeps outside its own memory
//! (the sign-in transaction cookie, server-side session records and token cache entries in the
//! runtime's shared store).
//!
//! - Cipher: AES-256-GCM (NIST SP 800-38D, RustCrypto `aes-gcm`), a fresh random 96-bit nonce
//!   per seal (from the platform's [`Entropy`]).
//! - Keys: root keys (`COOKIE_KEY`, `TOKEN_CACHE_KEY`: one or more of 32 random bytes,
//!   base64url, newest first) and one HKDF-SHA256 (RFC 5869) subkey per [`Purpose`] and root
//!   key, so a transaction cookie can never be opened as a session record, nor a session record
//!   as a cached token, whatever root key they share. Values are sealed with the
//!   newest key and opened with any, so a key can be rotated without ending every session:
//!   put the new key first, keep the old one until what it sealed has expired, then drop it.
//! - Binding: the caller's associated data (e.g. the cookie name, the KV key) is authenticated,
//!   so a value moved under another name fails to open.
//! - Expiry: the sealed envelope carries an absolute expiry (Unix seconds) checked on opening.
//!
//! Wire form: `BASE64URL(version || nonce || ciphertext || tag)`, version `1`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hkdf::Hkdf;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::platform::Entropy;

/// Length of the root key, in bytes (AES-256).
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;
const VERSION: u8 = 1;

/// What a subkey seals; each purpose has its own HKDF `info`, hence its own key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The in-flight sign-in (state, nonce, PKCE verifier) in a cookie.
    Transaction,
    /// A server-side session record (tokens, claims) in the shared store.
    Session,
    /// A cached access token (app-only or on-behalf-of) in the shared store.
    TokenCache,
    /// A provider document in the shared store: the discovery document (OIDC Discovery 1.0,
    /// RFC 8414) or the issuer's key set (RFC 7517), so whoever can write to the store cannot
    /// plant signing keys or endpoints.
    ProviderDocument,
    /// The in-flight admin consent of a tenant (its `state`) in a cookie
    /// ([`crate::scenarios::tenants`]).
    AdminConsent,
    /// The registry of onboarded tenants in the shared store ([`crate::scenarios::tenants`]).
    TenantRegistry,
    /// An index record from a provider session (`sid`) or a subject (`sub`) to the web app's
    /// sessions in the shared store, for Front-Channel and Back-Channel Logout
    /// (`scenarios::session::index`, the web app's logout index).
    SessionIndex,
}

impl Purpose {
    fn info(self) -> &'static [u8] {
        match self {
            Self::Transaction => b"edge-token/v1 sign-in transaction",
            Self::Session => b"edge-token/v1 session record",
            Self::TokenCache => b"edge-token/v1 token cache entry",
            Self::ProviderDocument => b"edge-token/v1 provider document",
            Self::AdminConsent => b"edge-token/v1 admin consent transaction",
            Self::TenantRegistry => b"edge-token/v1 tenant registry",
            Self::SessionIndex => b"edge-token/v1 session index",
        }
    }
}

/// Why a sealed value was refused. None of them says which byte was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealError {
    /// Not base64url, too short, too long, or an unknown version.
    Malformed,
    /// Authentication failed: the value was altered, sealed with another key or purpose, or is
    /// presented under another name (associated data).
    Forged,
    /// Authentic, but past its expiry.
    Expired,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "sealed value is malformed",
            Self::Forged => "sealed value failed authentication",
            Self::Expired => "sealed value has expired",
        })
    }
}

/// The most root keys accepted at once: each one is a decryption attempt for a value that
/// fails to open, so a rotation keeps only the keys still in use (typically two).
pub const MAX_ROOT_KEYS: usize = 4;

/// The root keys (`COOKIE_KEY`, `TOKEN_CACHE_KEY`), newest first. `Debug` redacts them; they are zeroized when
/// dropped.
#[derive(Clone)]
pub struct RootKeys(Vec<Zeroizing<[u8; KEY_BYTES]>>);

impl RootKeys {
    /// Decodes one or more root keys, separated by commas or white space, newest first, each
    /// base64url (padding optional) of exactly [`KEY_BYTES`] bytes.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `setting` when there is no key, more than
    /// [`MAX_ROOT_KEYS`], or a key that is not base64url of 32 bytes (a short key is never
    /// padded or stretched). The message never contains a key.
    pub fn parse(setting: &str, value: &str) -> Result<Self, Error> {
        let bad = || {
            Error::configuration(alloc::format!(
                "{setting} must be base64url of {KEY_BYTES} random bytes (several keys: newest \
                 first, separated by commas, at most {MAX_ROOT_KEYS})"
            ))
        };
        let keys = value
            .split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|key| !key.is_empty())
            .map(|key| {
                let decoded = Zeroizing::new(
                    URL_SAFE_NO_PAD
                        .decode(key.trim_end_matches('='))
                        .map_err(|_| bad())?,
                );
                let bytes: [u8; KEY_BYTES] = decoded.as_slice().try_into().map_err(|_| bad())?;
                Ok(Zeroizing::new(bytes))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        if keys.is_empty() || keys.len() > MAX_ROOT_KEYS {
            return Err(bad());
        }
        Ok(Self(keys))
    }

    /// The [`Sealer`] for `purpose` (HKDF-SHA256, no salt, `info` per purpose): it seals with
    /// the newest key's subkey and opens with any key's.
    pub fn sealer(&self, purpose: Purpose) -> Sealer {
        let ciphers = self
            .0
            .iter()
            .map(|root| {
                let mut subkey = Zeroizing::new([0u8; KEY_BYTES]);
                // 32 bytes is far below HKDF-SHA256's 8160-byte output limit: expand cannot fail.
                let _ = Hkdf::<Sha256>::new(None, root.as_slice())
                    .expand(purpose.info(), subkey.as_mut_slice());
                Aes256Gcm::new(subkey.as_slice().into())
            })
            .collect();
        Sealer { ciphers }
    }
}

impl fmt::Debug for RootKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RootKeys([redacted; {}])", self.0.len())
    }
}

/// Seals and opens values for one [`Purpose`]: seals with the newest root key, opens with any.
#[derive(Clone)]
pub struct Sealer {
    /// One per root key, newest first (never empty: [`RootKeys::parse`] refuses no key).
    ciphers: Vec<Aes256Gcm>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    /// Absolute expiry, Unix seconds.
    exp: u64,
    /// The sealed value.
    v: T,
}

impl Sealer {
    /// Seals `value` as JSON, valid until `expires_at` (Unix seconds), bound to `binding` (the
    /// name it will be stored under).
    ///
    /// # Errors
    /// [`Error::Platform`] when the entropy source fails; [`Error::Cache`] when `value` cannot
    /// be serialized.
    pub fn seal<T: Serialize>(
        &self,
        value: &T,
        expires_at: u64,
        binding: &[u8],
        entropy: &dyn Entropy,
    ) -> Result<String, Error> {
        let plaintext = Zeroizing::new(
            serde_json::to_vec(&Envelope {
                exp: expires_at,
                v: value,
            })
            .map_err(|_| Error::Cache("cannot serialize a sealed value".into()))?,
        );
        let mut nonce = [0u8; NONCE_BYTES];
        entropy.fill(&mut nonce)?;
        let newest = self
            .ciphers
            .first()
            .ok_or_else(|| Error::configuration("no sealing key"))?;
        let ciphertext = newest
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plaintext,
                    aad: binding,
                },
            )
            .map_err(|_| Error::Cache("cannot seal a value".into()))?;
        let mut wire = Vec::with_capacity(1 + NONCE_BYTES + ciphertext.len());
        wire.push(VERSION);
        wire.extend_from_slice(&nonce);
        wire.extend_from_slice(&ciphertext);
        Ok(URL_SAFE_NO_PAD.encode(wire))
    }

    /// Opens a value sealed by [`Sealer::seal`] under the same `binding`, refusing it at or after
    /// its expiry (`now`, Unix seconds). Values longer than `max_len` characters are refused
    /// before any decoding.
    ///
    /// # Errors
    /// [`SealError`]: malformed, forged (tampered, none of the keys, other purpose or
    /// binding), or expired.
    pub fn open<T: DeserializeOwned>(
        &self,
        sealed: &str,
        binding: &[u8],
        now: u64,
        max_len: usize,
    ) -> Result<T, SealError> {
        if sealed.len() > max_len {
            return Err(SealError::Malformed);
        }
        let wire = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| SealError::Malformed)?;
        if wire.len() < 1 + NONCE_BYTES + TAG_BYTES || wire[0] != VERSION {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = wire[1..].split_at(NONCE_BYTES);
        // The newest key first: what it sealed is the common case.
        let plaintext = Zeroizing::new(
            self.ciphers
                .iter()
                .find_map(|cipher| {
                    cipher
                        .decrypt(
                            Nonce::from_slice(nonce),
                            Payload {
                                msg: ciphertext,
                                aad: binding,
                            },
                        )
                        .ok()
                })
                .ok_or(SealError::Forged)?,
        );
        // Authentic but unreadable means another version of edge-token wrote it: malformed.
        let envelope: Envelope<T> =
            serde_json::from_slice(&plaintext).map_err(|_| SealError::Malformed)?;
        if now >= envelope.exp {
            return Err(SealError::Expired);
        }
        Ok(envelope.v)
    }
}

#[cfg(test)]
mod tests;
