//! Pure-Rust verifier: the `rsa` crate's PKCS#1 v1.5 and PSS verifying keys with SHA-256.
//!
//! Works on every target and needs no randomness (verification uses the public key only). The
//! timing advisory on `rsa` 0.9 (RUSTSEC-2023-0071) concerns private-key operations, not this.

use alloc::boxed::Box;

use rsa::signature::Verifier as _;
use rsa::{pkcs1v15, pss, BigUint, RsaPublicKey};
use sha2::Sha256;

use super::{check_rsa_key, JwsAlgorithm, JwsVerifier};
use crate::error::Error;
use crate::platform::LocalBoxFuture;
use crate::validation::jwks::{Jwk, MAX_RSA_MODULUS_BITS};
use crate::validation::jwt::TokenError;

/// Verifies RS256 and PS256 signatures in pure Rust. Stateless: keys are rebuilt from the JWK
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
        algorithm: JwsAlgorithm,
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
    algorithm: JwsAlgorithm,
    key: &Jwk,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), TokenError> {
    let components = check_rsa_key(algorithm, key, signature)?;
    let public = RsaPublicKey::new_with_max_size(
        BigUint::from_bytes_be(&components.n),
        BigUint::from_bytes_be(&components.e),
        MAX_RSA_MODULUS_BITS,
    )
    .map_err(|_| TokenError::UnusableKey)?;
    let verified = match algorithm {
        JwsAlgorithm::Rs256 => {
            let signature =
                pkcs1v15::Signature::try_from(signature).map_err(|_| TokenError::BadSignature)?;
            pkcs1v15::VerifyingKey::<Sha256>::new(public).verify(signing_input, &signature)
        }
        JwsAlgorithm::Ps256 => {
            let signature =
                pss::Signature::try_from(signature).map_err(|_| TokenError::BadSignature)?;
            pss::VerifyingKey::<Sha256>::new(public).verify(signing_input, &signature)
        }
    };
    verified.map_err(|_| TokenError::BadSignature)
}
