//! The verifier abstraction: one async operation, "does this signature verify with this public
//! key", the counterpart of [`crate::credentials::signer`] for tokens edge-token receives.
//!
//! The core parses the token ([`crate::validation::jwt::UnverifiedToken`]), chooses the algorithm from its
//! configuration and the key from the issuer's set ([`crate::validation::jwks::JwkSet::find`]); a
//! [`JwsVerifier`] only checks the signature. Algorithms: RS256 (RFC 7518 §3.3) and PS256
//! (§3.5, salt length 32) with RSA keys of 2048 to 8192 bits. Backends:
//! - [`rustcrypto::RustCryptoVerifier`] (feature `rustcrypto`): the `rsa` crate with SHA-256,
//!   every target. Verification needs no randomness.
//! - `edge_token_cloudflare::WebCryptoVerifier` (the Workers adapter): `crypto.subtle`, on
//!   Workers and in browsers, keys imported once and reused.

#[cfg(feature = "rustcrypto")]
pub(crate) mod rustcrypto;

use alloc::string::String;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::platform::LocalBoxFuture;
use crate::validation::jwks::{Jwk, JwkSet, RsaComponents};
use crate::validation::jwt::{TokenError, UnverifiedToken};

/// The JWS algorithms a signature can be verified with: the signer's set, RS256 and PS256.
pub(crate) use crate::credentials::signer::JwsAlgorithm;

/// Verifies JWS signatures with public keys from the issuer's key set.
pub trait JwsVerifier {
    /// Verifies `signature` over `signing_input` (RFC 7515 §5.2 steps 8–9) with `key` and
    /// `algorithm`. `algorithm` comes from configuration, never from the token.
    ///
    /// # Errors
    /// - [`Error::InvalidToken`] with [`TokenError::BadSignature`] when the signature does not
    ///   verify (including a signature whose length is not the key's modulus length);
    /// - [`Error::InvalidToken`] with [`TokenError::UnusableKey`] when `key` cannot verify
    ///   `algorithm` (see [`check_rsa_key`]);
    /// - [`Error::Platform`] when the backend itself fails (e.g. no `crypto.subtle`).
    fn verify<'a>(
        &'a self,
        algorithm: JwsAlgorithm,
        key: &'a Jwk,
        signing_input: &'a [u8],
        signature: &'a [u8],
    ) -> LocalBoxFuture<'a, Result<(), Error>>;
}

/// The steps every received token starts with (RFC 7515 §5.2, RFC 7519 §7.2): parse `token`
/// ([`UnverifiedToken::parse`]), require `alg` to equal the configured `algorithm`, find the key
/// by `kid` in `keys` ([`JwkSet::find`]) and verify the signature with `verifier`. Returns the
/// claims, now signed by the issuer but not yet checked (issuer, audience, times: the caller's
/// rules).
///
/// # Errors
/// [`Error::InvalidToken`] with [`TokenError::Malformed`] / [`TokenError::TooLarge`],
/// [`TokenError::AlgorithmNotAllowed`], [`TokenError::UnknownKey`] (the only one worth a key
/// refetch), [`TokenError::UnusableKey`] or [`TokenError::BadSignature`]; [`Error::Platform`]
/// when the backend fails.
pub(crate) async fn verify_signed_token(
    token: &str,
    algorithm: JwsAlgorithm,
    keys: &JwkSet,
    verifier: &dyn JwsVerifier,
) -> Result<Map<String, Value>, Error> {
    let parsed = UnverifiedToken::parse(token)?;
    if parsed.header().alg != algorithm.name() {
        return Err(TokenError::AlgorithmNotAllowed.into());
    }
    let key = keys.find(parsed.header().kid.as_deref(), algorithm)?;
    verifier
        .verify(algorithm, key, parsed.signing_input(), parsed.signature())
        .await?;
    Ok(parsed.into_claims())
}

/// The checks every backend makes before verifying: `key` [`Jwk::supports`] `algorithm`, its
/// RSA numbers are in range ([`Jwk::rsa_components`]), and `signature` is exactly as long as
/// the modulus (RFC 8017 §8.1.2 step 1, §8.2.2 step 1).
///
/// # Errors
/// [`TokenError::UnusableKey`] for the key, then [`TokenError::BadSignature`] for the length.
pub fn check_rsa_key(
    algorithm: JwsAlgorithm,
    key: &Jwk,
    signature: &[u8],
) -> Result<RsaComponents, TokenError> {
    if !key.supports(algorithm) {
        return Err(TokenError::UnusableKey);
    }
    let components = key.rsa_components()?;
    if signature.len() != components.modulus_len() {
        return Err(TokenError::BadSignature);
    }
    Ok(components)
}

#[cfg(all(test, feature = "rustcrypto"))]
pub(crate) mod tests;
