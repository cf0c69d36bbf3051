//! WebCrypto signer tests: run in real headless Chromium and in Node
//! (`wasm-pack test --headless --chrome` / `--node`). The assertions it signs
//! are verified with the certificate's public key by jwt-compact (pure Rust), so the two backends
//! check each other.

use super::*;
use crate::test_keys::{CERT_PEM, KEY_PKCS1_PEM, KEY_PKCS8_PEM};
use alloc::string::{String, ToString};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use der::Encode;
use edge_token::credentials::Certificate;
use edge_token::credentials::{CertificateCredential, ClientCertificate};
use jwt_compact::alg::Rsa;
use jwt_compact::{AlgorithmExt, Empty, UntrustedToken};
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;
use wasm_bindgen_test::wasm_bindgen_test;

const ENDPOINT: &str = "http://127.0.0.1:9400/token";

fn public_key() -> RsaPublicKey {
    let cert = x509_cert::Certificate::load_pem_chain(CERT_PEM.as_bytes())
        .unwrap()
        .remove(0);
    RsaPublicKey::from_public_key_der(
        &cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .unwrap(),
    )
    .unwrap()
}

async fn assertion(key_pem: &str, algorithm: JwsAlgorithm) -> String {
    let key = PrivateKey::from_pem("CLIENT_PRIVATE_KEY", key_pem).unwrap();
    let signer = WebCryptoSigner::import(&key, algorithm).await.unwrap();
    let chain = Certificate::chain_from_pem("CLIENT_CERTIFICATE", CERT_PEM).unwrap();
    let certificate = ClientCertificate::new(chain, key).unwrap();
    let credential = CertificateCredential::new(certificate, Box::new(signer), false);
    let signed = credential
        .sign_assertion(
            "daemon-cert",
            ENDPOINT,
            1_795_000_000,
            "6f0e9d8c-7b6a-4958-8374-65a4b3c2d1e0",
        )
        .await
        .unwrap();
    signed.expose_secret().to_string()
}

fn header(jws: &str) -> serde_json::Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jws.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap()
}

#[wasm_bindgen_test]
async fn ps256_assertions_verify_with_the_certificate() {
    let jws = assertion(KEY_PKCS8_PEM, JwsAlgorithm::Ps256).await;
    assert_eq!(header(&jws)["alg"], "PS256");
    assert!(header(&jws).get("x5t#S256").is_some());
    let token = UntrustedToken::new(&jws).unwrap();
    Rsa::ps256()
        .validator::<Empty>(&public_key())
        .validate(&token)
        .expect("WebCrypto PS256 verifies with the certificate");
}

#[wasm_bindgen_test]
async fn rs256_assertions_verify_with_the_certificate_and_match_the_rust_signer() {
    let jws = assertion(KEY_PKCS1_PEM, JwsAlgorithm::Rs256).await;
    assert_eq!(header(&jws)["alg"], "RS256");
    let token = UntrustedToken::new(&jws).unwrap();
    Rsa::rs256()
        .validator::<Empty>(&public_key())
        .validate(&token)
        .expect("WebCrypto RS256 verifies with the certificate");
    // PKCS#1 v1.5 is deterministic: WebCrypto and the pure-Rust backend produce the same bytes.
    let key = PrivateKey::from_pem("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM).unwrap();
    let rust = edge_token::credentials::RustCryptoSigner::new(&key, JwsAlgorithm::Rs256).unwrap();
    let (input, signature) = jws.rsplit_once('.').unwrap();
    let expected = rust.sign(input.as_bytes()).await.unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(signature).unwrap(), expected);
}

#[wasm_bindgen_test]
async fn the_imported_key_is_not_extractable() {
    let key = PrivateKey::from_pem("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM).unwrap();
    let signer = WebCryptoSigner::import(&key, JwsAlgorithm::Ps256)
        .await
        .unwrap();
    assert!(!signer.key.extractable());
    assert_eq!(
        alloc::format!("{signer:?}"),
        "WebCryptoSigner { algorithm: Ps256, .. }"
    );
}
