//! Pure-Rust verifier: the `rsa` crate's PKCS#1 v1.5 and PSS verifying keys with SHA-256, and
//! `p256`'s ECDSA verifying key (SHA-256) for ES256.
//!
//! Works on every target and needs no randomness (verification uses the public key only). The
//! timing advisory on `rsa` 0.9 (RUSTSEC-2023-0071) concerns private-key operations, not this.

use alloc::boxed::Box;

use rsa::signature::Verifier as _;
use rsa::{pkcs1v15, pss, BigUint, RsaPublicKey};
use sha2::Sha256;

use super::{check_key, JwsVerifier, PublicKeyNumbers, VerificationAlgorithm};
use crate::error::Error;
use crate::platform::LocalBoxFuture;
use crate::validation::jwks::{Jwk, P256Coordinates, RsaComponents, MAX_RSA_MODULUS_BITS};
use crate::validation::jwt::TokenError;

/// Verifies RS256, PS256 and ES256 signatures in pure Rust. Stateless: keys are rebuilt from the JWK
/// for each call (cheap next to the RSA operation).
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCryptoVerifier;

impl RustCryptoVerifier {
    /// The verifier.
    pub fn new() -> Self {
        Self
    }
}

impl JwsVerifier for RustCryptoVerifier {
    fn verify<'a>(
        &'a self,
        algorithm: VerificationAlgorithm,
        key: &'a Jwk,
        signing_input: &'a [u8],
        signature: &'a [u8],
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(core::future::ready(
            verify(algorithm, key, signing_input, signature).map_err(Error::InvalidToken),
        ))
    }
}

fn verify(
    algorithm: VerificationAlgorithm,
    key: &Jwk,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), TokenError> {
    match check_key(algorithm, key, signature)? {
        PublicKeyNumbers::Rsa(components) => {
            verify_rsa(algorithm, &components, signing_input, signature)
        }
        PublicKeyNumbers::P256(point) => verify_es256(&point, signing_input, signature),
    }
}

fn verify_rsa(
    algorithm: VerificationAlgorithm,
    components: &RsaComponents,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), TokenError> {
    let public = RsaPublicKey::new_with_max_size(
        BigUint::from_bytes_be(&components.n),
        BigUint::from_bytes_be(&components.e),
        MAX_RSA_MODULUS_BITS,
    )
    .map_err(|_| TokenError::UnusableKey)?;
    let verified = match algorithm {
        VerificationAlgorithm::Rs256 => {
            let signature =
                pkcs1v15::Signature::try_from(signature).map_err(|_| TokenError::BadSignature)?;
            pkcs1v15::VerifyingKey::<Sha256>::new(public).verify(signing_input, &signature)
        }
        VerificationAlgorithm::Ps256 => {
            let signature =
                pss::Signature::try_from(signature).map_err(|_| TokenError::BadSignature)?;
            pss::VerifyingKey::<Sha256>::new(public).verify(signing_input, &signature)
        }
        VerificationAlgorithm::Es256 => return Err(TokenError::UnusableKey),
    };
    verified.map_err(|_| TokenError::BadSignature)
}

/// ES256 (RFC 7518 §3.4): the point must lie on P-256 (SEC 1 §2.3.4, checked by `p256`), the
/// signature is `R || S` with both in `1..n`, and ECDSA verification hashes the signing input
/// with SHA-256. High-S signatures are valid JWS signatures and are accepted.
fn verify_es256(
    point: &P256Coordinates,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), TokenError> {
    let encoded =
        p256::EncodedPoint::from_affine_coordinates((&point.x).into(), (&point.y).into(), false);
    let key = p256::ecdsa::VerifyingKey::from_encoded_point(&encoded)
        .map_err(|_| TokenError::UnusableKey)?;
    let signature =
        p256::ecdsa::Signature::from_slice(signature).map_err(|_| TokenError::BadSignature)?;
    key.verify(signing_input, &signature)
        .map_err(|_| TokenError::BadSignature)
}
