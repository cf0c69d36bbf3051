//! The verifier abstraction: one async operation, "does this signature verify with this public
//! key", the counterpart of [`crate::credentials::signer`] for tokens edge-token receives.
//!
//! The core parses the token ([`crate::validation::jwt::UnverifiedToken`]), chooses the algorithm from its
//! configuration and the key from the issuer's set ([`crate::validation::jwks::JwkSet::find`]); a
//! [`JwsVerifier`] only checks the signature. Algorithms ([`VerificationAlgorithm`]): RS256
//! (RFC 7518 §3.3) and PS256 (§3.5, salt length 32) with RSA keys of 2048 to 8192 bits, and
//! ES256 (§3.4) with P-256 keys. Backends:
//! - [`rustcrypto::RustCryptoVerifier`] (feature `rustcrypto`): the `rsa` crate with SHA-256 and
//!   `p256`'s ECDSA, every target. Verification needs no randomness.
//! - `edge_token_cloudflare::WebCryptoVerifier` (the Workers adapter): `crypto.subtle`, on
//!   Workers and in browsers, keys imported once and reused.

#[cfg(feature = "rustcrypto")]
pub(crate) mod rustcrypto;

use alloc::string::String;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::platform::LocalBoxFuture;
pub(crate) use crate::validation::algorithm::VerificationAlgorithm;
use crate::validation::jwks::{Jwk, JwkSet, P256Coordinates, RsaComponents};
use crate::validation::jwt::{TokenError, UnverifiedToken};

/// A verification key's numbers, decoded from a [`Jwk`] and checked ([`check_key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKeyNumbers {
    /// An RSA key (RS256, PS256).
    Rsa(RsaComponents),
    /// A P-256 point (ES256); whether it lies on the curve is the backend's check.
    P256(P256Coordinates),
}

/// Verifies JWS signatures with public keys from the issuer's key set.
pub trait JwsVerifier {
    /// Verifies `signature` over `signing_input` (RFC 7515 §5.2 steps 8–9) with `key` and
    /// `algorithm`. `algorithm` comes from configuration, never from the token.
    ///
    /// # Errors
    /// - [`Error::InvalidToken`] with [`TokenError::BadSignature`] when the signature does not
    ///   verify (including a signature whose length is not the key's modulus length, or not 64
    ///   bytes for ES256);
    /// - [`Error::InvalidToken`] with [`TokenError::UnusableKey`] (or
    ///   [`TokenError::UnsupportedCurve`]) when `key` cannot verify `algorithm` (see
    ///   [`check_key`]), including a P-256 point that is not on the curve;
    /// - [`Error::Platform`] when the backend itself fails (e.g. no `crypto.subtle`).
    fn verify<'a>(
        &'a self,
        algorithm: VerificationAlgorithm,
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
    algorithm: VerificationAlgorithm,
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

/// The length of an ES256 signature in bytes: `R || S`, 32 bytes each (RFC 7518 §3.4).
pub const ES256_SIGNATURE_BYTES: usize = 64;

/// The checks every backend makes before verifying: `key` [`Jwk::supports`] `algorithm`, its
/// numbers are well-formed ([`Jwk::rsa_components`] in range, [`Jwk::p256_coordinates`] 32
/// bytes each), and `signature` has the algorithm's length: the modulus length for RSA (RFC
/// 8017 §8.1.2 step 1, §8.2.2 step 1), [`ES256_SIGNATURE_BYTES`] for ES256 (RFC 7518 §3.4).
///
/// # Errors
/// [`TokenError::UnsupportedCurve`] for an EC key on another curve when ES256 is configured,
/// [`TokenError::UnusableKey`] for any other unfit key, then [`TokenError::BadSignature`] for
/// the length.
pub fn check_key(
    algorithm: VerificationAlgorithm,
    key: &Jwk,
    signature: &[u8],
) -> Result<PublicKeyNumbers, TokenError> {
    if !key.supports(algorithm) {
        if algorithm == VerificationAlgorithm::Es256 && key.kty == "EC" {
            key.p256_coordinates()?;
        }
        return Err(TokenError::UnusableKey);
    }
    match algorithm {
        VerificationAlgorithm::Rs256 | VerificationAlgorithm::Ps256 => {
            let components = key.rsa_components()?;
            if signature.len() != components.modulus_len() {
                return Err(TokenError::BadSignature);
            }
            Ok(PublicKeyNumbers::Rsa(components))
        }
        VerificationAlgorithm::Es256 => {
            let point = key.p256_coordinates()?;
            if signature.len() != ES256_SIGNATURE_BYTES {
                return Err(TokenError::BadSignature);
            }
            Ok(PublicKeyNumbers::P256(point))
        }
    }
}

#[cfg(all(test, feature = "rustcrypto"))]
pub(crate) mod tests;
