//! Who the application is and how it proves it: client credentials (RFC 6749 §2.3.1 secrets,
//! RFC 7523 §2.2 signed assertions from an X.509 certificate, federated assertions), and the
//! [`JwsSigner`] abstraction that signs assertions (WebCrypto on Workers, pure Rust elsewhere).

pub(crate) mod assertion;
pub(crate) mod assertion_cache;
pub(crate) mod certificate;
pub(crate) mod credential;
pub(crate) mod signer;

pub use assertion::CertificateCredential;
pub use certificate::{Certificate, ClientCertificate, PrivateKey};
pub use credential::{
    AssertionCallback, AssertionRequest, AssertionSource, ClientCredential, SecretMethod,
};
#[cfg(feature = "rustcrypto")]
pub use signer::rustcrypto::{rustcrypto_signer, RustCryptoSigner};
pub use signer::{JwsAlgorithm, JwsSigner};
