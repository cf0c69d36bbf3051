//! The test bed's fixed keys and the helpers the WebCrypto tests share (tests only).

use alloc::vec::Vec;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use edge_token::credentials::{JwsAlgorithm, JwsSigner, PrivateKey, RustCryptoSigner};
use edge_token::validation::Jwk;
use p256::ecdsa::signature::Signer as _;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

macro_rules! credential {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testbed/credentials/",
            $file
        ))
    };
}

/// The test bed's daemon certificate.
pub(crate) const CERT_PEM: &str = credential!("daemon-cert.pem");
/// Its key, PKCS#8 ("the issuer's key" in verifier tests).
pub(crate) const KEY_PKCS8_PEM: &str = credential!("daemon-key.pem");
/// The same key, PKCS#1.
pub(crate) const KEY_PKCS1_PEM: &str = credential!("daemon-key-pkcs1.pem");
/// The issuer's key in verifier tests.
pub(crate) const KEY_PEM: &str = KEY_PKCS8_PEM;
/// Another RSA-2048 key: "an attacker's key".
pub(crate) const OTHER_KEY_PEM: &str = credential!("unrelated-key.pem");

/// An EC P-256 key (PKCS#8): "the issuer's key" in ES256 verifier tests.
pub(crate) const P256_KEY_PEM: &str = credential!("issuer-p256-key.pem");
/// Another P-256 key: "an attacker's key".
pub(crate) const OTHER_P256_KEY_PEM: &str = credential!("unrelated-p256-key.pem");

/// The public JWK of the PEM private key `pem` (RSA or P-256), as an issuer publishes it.
pub(crate) fn public_jwk_json(pem: &str, kid: &str) -> Value {
    let Ok(key) = RsaPrivateKey::from_pkcs8_pem(pem) else {
        let key = p256::SecretKey::from_pkcs8_pem(pem).unwrap();
        let point = p256::EncodedPoint::from(key.public_key());
        return json!({
            "kty": "EC",
            "crv": "P-256",
            "use": "sig",
            "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
            "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        });
    };
    json!({
        "kty": "RSA",
        "use": "sig",
        "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    })
}

pub(crate) fn public_jwk(pem: &str, kid: &str) -> Jwk {
    serde_json::from_value(public_jwk_json(pem, kid)).unwrap()
}

/// The raw signature of `input` with `pem`'s key, by the core's pure-Rust signer.
pub(crate) fn signature(pem: &str, algorithm: JwsAlgorithm, input: &[u8]) -> Vec<u8> {
    let key = PrivateKey::from_pem("TEST_KEY", pem).unwrap();
    let signer = RustCryptoSigner::new(&key, algorithm).unwrap();
    futures::executor::block_on(signer.sign(input)).unwrap()
}

/// The ES256 signature (`R || S`, 64 bytes) of `input` with the P-256 key `pem`, by `p256`.
pub(crate) fn es256_signature(pem: &str, input: &[u8]) -> Vec<u8> {
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(pem).unwrap();
    let signature: p256::ecdsa::Signature = key.sign(input);
    signature.to_bytes().to_vec()
}
