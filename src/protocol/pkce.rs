//! Proof Key for Code Exchange (RFC 7636), `S256` only.
//!
//! The verifier is 32 random bytes, base64url-encoded without padding: 43 characters from the
//! unreserved set, 256 bits of entropy (RFC 7636 §4.1 recommends exactly this). The challenge is
//! `BASE64URL(SHA256(ASCII(code_verifier)))` (§4.2). `plain` is never offered: RFC 9700 §2.1.1
//! requires a method that does not expose the verifier in the authorization request.

use alloc::string::String;
use core::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::error::Error;

/// `code_challenge_method`: always `S256`.
#[cfg_attr(not(feature = "webapp"), allow(dead_code))]
pub(crate) const CODE_CHALLENGE_METHOD: &str = "S256";

/// Random bytes drawn for a verifier (32 bytes = 256 bits, 43 characters encoded).
pub(crate) const VERIFIER_ENTROPY_BYTES: usize = 32;

/// A `code_verifier` (RFC 7636 §4.1): a secret that only the token request reveals. `Debug`
/// and `Display` redact it.
#[derive(Clone, PartialEq, Eq)]
pub struct PkceVerifier(String);

impl PkceVerifier {
    /// A verifier from [`VERIFIER_ENTROPY_BYTES`] random bytes.
    pub fn from_random(bytes: &[u8; VERIFIER_ENTROPY_BYTES]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Wraps an existing verifier (e.g. one read back from a sealed transaction).
    ///
    /// # Errors
    /// [`Error::Configuration`] unless it has 43–128 characters from `[A-Za-z0-9-._~]`
    /// (RFC 7636 §4.1).
    pub fn new(verifier: impl Into<String>) -> Result<Self, Error> {
        let verifier = verifier.into();
        let unreserved =
            |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        if (43..=128).contains(&verifier.len()) && verifier.bytes().all(unreserved) {
            Ok(Self(verifier))
        } else {
            Err(Error::configuration(
                "code_verifier must be 43-128 unreserved characters (RFC 7636 §4.1)",
            ))
        }
    }

    /// The `code_challenge` for method `S256` (RFC 7636 §4.2).
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes()))
    }

    /// The raw verifier, for the token request and for sealing into the transaction.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

impl Serialize for PkceVerifier {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PkceVerifier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let verifier = String::deserialize(deserializer)?;
        Self::new(verifier).map_err(|_| D::Error::custom("invalid code_verifier"))
    }
}

impl Drop for PkceVerifier {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests;
