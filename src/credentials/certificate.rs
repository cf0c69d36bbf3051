//! Certificates and private keys from PEM, for certificate credentials.
//!
//! A certificate credential (Microsoft identity platform "certificate credentials", RFC 7523) is
//! an X.509 certificate registered with the provider plus its private key. The provider finds
//! the registered certificate by thumbprint: `x5t#S256` (SHA-256 of the DER certificate) or the
//! legacy `x5t` (SHA-1), both base64url without padding (RFC 7515 §4.1.7–4.1.8). `x5c` carries
//! the chain as standard base64 DER, leaf first (RFC 7515 §4.1.6).
//!
//! Keys are RSA (Entra requires at least 2048 bits), from PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
//! (`BEGIN RSA PRIVATE KEY`) PEM, normalised to PKCS#8 DER for the signer backends (WebCrypto
//! imports `pkcs8`). All decoding is done by RustCrypto's `der`, `pkcs1` and `pkcs8` (with
//! `spki`). A certificate is read only as far as edge-token needs it: its DER (thumbprints,
//! `x5c`) and its SubjectPublicKeyInfo (the key check), through a `der`-derived view of RFC 5280
//! §4.1 that takes the other fields as they are (`AnyRef`): the provider validates the
//! certificate it has registered, and a full X.509 decode (names, times, extensions) would only
//! add code.
//!
//! Everything here but the [`PrivateKey`] type needs the feature `certificate`: without it, no
//! key is decoded (the signer backends' signature still names the type).

use alloc::vec::Vec;
use core::fmt;

use zeroize::Zeroizing;

#[cfg(feature = "certificate")]
mod decode;
#[cfg(all(test, feature = "certificate"))]
pub(crate) use decode::tests;
#[cfg(feature = "certificate")]
pub use decode::{Certificate, ClientCertificate};

/// An RSA private key, held as PKCS#8 DER. `Debug` redacts it; the bytes are zeroized on drop.
///
/// Made only by `PrivateKey::from_pem` and `PrivateKey::from_pkcs8_der` (feature
/// `certificate`); without that feature the type exists for the signer backends' signature
/// (`FnOnce(PrivateKey, JwsAlgorithm)`), and no value of it is ever made.
#[derive(Clone)]
pub struct PrivateKey {
    pkcs8_der: Zeroizing<Vec<u8>>,
    #[cfg(feature = "certificate")]
    public: decode::RsaPublic,
}

impl PrivateKey {
    /// The key as PKCS#8 DER. A secret: hand it only to a signer backend.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8_der
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey([redacted])")
    }
}
