//! Pure-Rust signer: jwt-compact's RSA algorithms over the `rsa` crate.
//!
//! Works on every target. PSS salts and RSA blinding come from the platform RNG through
//! `getrandom` (jwt-compact uses `OsRng`), which is why this backend is a feature outside the
//! no_std core. The key is loaded once, with its CRT values precomputed (`rsa` does it when
//! loading PKCS#8); each signature is blinded.
//!
//! Speed (RSA-2048, CPU time per signature, measured 2026-12 on x86-64): `rsa` with 64-bit
//! digits (feature `u64_digit`) signs in ~1.5 ms natively (4.4 ms with 32-bit digits); in wasm
//! ~2.2 ms when the module may use the wide-arithmetic instructions (`scripts/build-apps.sh`
//! builds the Fastly and Spin apps so), ~10 ms without them. Certificate credentials reuse an
//! assertion per token endpoint for 300 s (`CertificateCredential::assertion`), so most token
//! requests sign nothing.
//!
//! `rsa` 0.9 has a timing side channel advisory (RUSTSEC-2023-0071, the Marvin attack: its
//! private-key operations are not constant-time; no 0.9 release fixes it, `rsa` 0.10 does).
//! Here the key only signs the client's own assertions, blinded; prefer WebCrypto where the
//! platform has it.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use jwt_compact::alg::Rsa;
use jwt_compact::{Algorithm, AlgorithmSignature};
use rsa::pkcs8::DecodePrivateKey;
use rsa::RsaPrivateKey;

use super::{JwsAlgorithm, JwsSigner};
use crate::credentials::certificate::PrivateKey;
use crate::error::Error;
use crate::platform::LocalBoxFuture;

/// Signs with an in-memory RSA key.
pub struct RustCryptoSigner {
    key: RsaPrivateKey,
    algorithm: JwsAlgorithm,
}

impl RustCryptoSigner {
    /// Prepares `key` for `algorithm`.
    ///
    /// # Errors
    /// [`Error::Signing`] when the key cannot be loaded by `rsa`.
    pub fn new(key: &PrivateKey, algorithm: JwsAlgorithm) -> Result<Self, Error> {
        let key = RsaPrivateKey::from_pkcs8_der(key.pkcs8_der())
            .map_err(|_| Error::Signing("the RSA key cannot be loaded".into()))?;
        Ok(Self { key, algorithm })
    }
}

impl JwsSigner for RustCryptoSigner {
    fn algorithm(&self) -> JwsAlgorithm {
        self.algorithm
    }

    fn sign<'a>(&'a self, signing_input: &'a [u8]) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        let rsa = match self.algorithm {
            JwsAlgorithm::Ps256 => Rsa::ps256(),
            JwsAlgorithm::Rs256 => Rsa::rs256(),
        };
        let signature = rsa.sign(&self.key, signing_input).as_bytes().into_owned();
        Box::pin(core::future::ready(Ok(signature)))
    }
}

impl fmt::Debug for RustCryptoSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RustCryptoSigner")
            .field("algorithm", &self.algorithm)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// The pure-Rust signer as a signer backend factory, for runtimes without WebCrypto (Fastly,
/// Spin): pass it to [`crate::scenarios::daemon::Daemon::build`] or
/// [`crate::config::ClientConfig::into_client`].
///
/// # Errors
/// [`Error::Signing`] when the key does not suit `algorithm`.
pub async fn rustcrypto_signer(
    key: PrivateKey,
    algorithm: JwsAlgorithm,
) -> Result<Box<dyn JwsSigner>, Error> {
    Ok(Box::new(RustCryptoSigner::new(&key, algorithm)?))
}
