//! Who the application is and how it proves it: client credentials (RFC 6749 §2.3.1 secrets,
//! RFC 7523 §2.2 signed assertions from an X.509 certificate, federated assertions), and the
//! [`JwsSigner`] abstraction that signs assertions (WebCrypto on Workers, pure Rust elsewhere).
//!
//! Certificate credentials ([`CertificateCredential`], [`ClientCertificate`], [`Certificate`],
//! the PEM/DER decoding of [`PrivateKey`]) need the feature `certificate`. [`PrivateKey`] itself
//! and the signer abstraction are always there, so that adapters pass the same signer backend to
//! the scenarios' `build` with or without it; without it no key is ever made, and the backend is
//! never called.

#[cfg(feature = "certificate")]
pub(crate) mod assertion;
#[cfg(feature = "certificate")]
pub(crate) mod assertion_cache;
pub(crate) mod certificate;
pub(crate) mod credential;
pub(crate) mod signer;

#[cfg(feature = "certificate")]
pub use assertion::CertificateCredential;
pub use certificate::PrivateKey;
#[cfg(feature = "certificate")]
pub use certificate::{Certificate, ClientCertificate};
pub use credential::{
    AssertionCallback, AssertionRequest, AssertionSource, ClientCredential, SecretMethod,
};
#[cfg(feature = "rustcrypto")]
pub use signer::rustcrypto::{rustcrypto_signer, RustCryptoSigner};
pub use signer::{JwsAlgorithm, JwsSigner};
