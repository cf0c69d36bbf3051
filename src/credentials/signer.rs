//! The signer abstraction: one async operation, "sign these bytes with the credential's key".
//!
//! The core builds the JWS signing input (RFC 7515 §5.1: `BASE64URL(header) '.'
//! BASE64URL(payload)`) and assembles the compact serialization; a [`JwsSigner`] only produces
//! the signature. Backends:
//! - [`rustcrypto::RustCryptoSigner`] (feature `rustcrypto`): pure Rust (jwt-compact + rsa), every
//!   target. RSA-2048 takes ~2 ms in wasm with the wide-arithmetic instructions (the Fastly and
//!   Spin apps' build), ~10 ms without.
//! - `edge_token_cloudflare::WebCryptoSigner` (the Workers adapter): `crypto.subtle` with a
//!   non-extractable key, on Workers and in browsers (~0.5 ms for PS256 in workerd).

#[cfg(feature = "rustcrypto")]
pub(crate) mod rustcrypto;

use alloc::vec::Vec;

use crate::error::Error;
use crate::platform::LocalBoxFuture;

/// JWS algorithms for client assertions (RFC 7518 §3.1): RSA only, what Entra accepts for
/// certificate credentials. Received tokens are verified with
/// [`crate::validation::VerificationAlgorithm`], which adds ES256; edge-token never signs with
/// ES256, so `CLIENT_ASSERTION_ALG=ES256` is a configuration error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlgorithm {
    /// RSASSA-PSS with SHA-256 and a 32-byte salt (RFC 7518 §3.5). Entra's default for
    /// certificate assertions, identified by `x5t#S256`.
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3). The legacy choice, identified by `x5t`
    /// (SHA-1 thumbprint); what ADFS and older providers accept.
    Rs256,
}

impl JwsAlgorithm {
    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ps256 => "PS256",
            Self::Rs256 => "RS256",
        }
    }

    /// Parses `PS256` or `RS256` (exact, upper-case as in RFC 7518).
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `setting` for any other value.
    pub fn parse(setting: &str, value: &str) -> Result<Self, Error> {
        match value {
            "PS256" => Ok(Self::Ps256),
            "RS256" => Ok(Self::Rs256),
            _ => Err(Error::configuration(alloc::format!(
                "{setting} must be PS256 or RS256"
            ))),
        }
    }
}

/// Produces JWS signatures with a private key it keeps to itself.
pub trait JwsSigner {
    /// The algorithm this signer's key and padding implement.
    fn algorithm(&self) -> JwsAlgorithm;

    /// Signs the JWS signing input and returns the raw signature bytes (for RSA, the modulus
    /// length: 256 bytes for RSA-2048).
    ///
    /// # Errors
    /// [`Error::Signing`] when the backend fails; the message never contains key material.
    fn sign<'a>(&'a self, signing_input: &'a [u8]) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>>;
}
