use super::*;
use crate::credentials::certificate::tests::{
    CERT_PEM, KEY_PKCS1_PEM, KEY_PKCS8_PEM, OTHER_CERT_PEM,
};
use crate::credentials::certificate::PrivateKey;
use crate::credentials::signer::rustcrypto::RustCryptoSigner;
use alloc::boxed::Box;
use alloc::string::ToString;
use der::{Decode, Encode};
use jwt_compact::alg::Rsa;
use jwt_compact::{AlgorithmExt, Empty, UntrustedToken};
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const ENDPOINT: &str =
    "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
const JTI: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const NOW: u64 = 1_795_000_000;

fn credential(algorithm: JwsAlgorithm, key_pem: &str, send_x5c: bool) -> CertificateCredential {
    let chain = Certificate::chain_from_pem("CLIENT_CERTIFICATE", CERT_PEM).unwrap();
    let key = PrivateKey::from_pem("CLIENT_PRIVATE_KEY", key_pem).unwrap();
    let signer = RustCryptoSigner::new(&key, algorithm).unwrap();
    let certificate = ClientCertificate::new(chain, key).unwrap();
    CertificateCredential::new(certificate, Box::new(signer), send_x5c)
}

fn public_key(cert_pem: &str) -> RsaPublicKey {
    let cert = x509_cert::Certificate::load_pem_chain(cert_pem.as_bytes())
        .unwrap()
        .remove(0);
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    RsaPublicKey::from_public_key_der(&spki).unwrap()
}

fn part(jws: &str, index: usize) -> Value {
    let segment = jws.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

fn sign(credential: &CertificateCredential) -> String {
    let assertion =
        futures::executor::block_on(credential.sign_assertion("client-123", ENDPOINT, NOW, JTI))
            .unwrap();
    assertion.expose_secret().to_string()
}

#[test]
fn ps256_assertion_has_entra_header_and_claims_and_verifies_with_the_certificate() {
    let jws = sign(&credential(JwsAlgorithm::Ps256, KEY_PKCS8_PEM, false));
    assert_eq!(
        part(&jws, 0),
        json!({"alg": "PS256", "typ": "JWT", "x5t#S256": "C3laERVFbXjnNyNSQSfYFyoVNxrLywCzOOEtmmiOjIU"})
    );
    assert_eq!(
        part(&jws, 1),
        json!({"aud": ENDPOINT, "iss": "client-123", "sub": "client-123", "jti": JTI, "nbf": NOW, "iat": NOW, "exp": NOW + 600})
    );
    let token = UntrustedToken::new(&jws).unwrap();
    Rsa::ps256()
        .validator::<Empty>(&public_key(CERT_PEM))
        .validate(&token)
        .expect("PS256 signature verifies");
    assert!(
        Rsa::rs256()
            .validator::<Empty>(&public_key(CERT_PEM))
            .validate(&token)
            .is_err(),
        "alg is bound"
    );
}

#[test]
fn rs256_assertion_uses_the_sha1_thumbprint_and_verifies() {
    let cred = credential(JwsAlgorithm::Rs256, KEY_PKCS1_PEM, false);
    let jws = sign(&cred);
    let header = part(&jws, 0);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["x5t"], cred.certificate().thumbprint_sha1().as_str());
    assert!(header.get("x5t#S256").is_none());
    let token = UntrustedToken::new(&jws).unwrap();
    Rsa::rs256()
        .validator::<Empty>(&public_key(CERT_PEM))
        .validate(&token)
        .expect("RS256 signature verifies");
    // RS256 (PKCS#1 v1.5) is deterministic: the same input gives the same assertion.
    assert_eq!(jws, sign(&cred));
}

#[test]
fn x5c_carries_the_chain_as_standard_base64_der() {
    let jws = sign(&credential(JwsAlgorithm::Ps256, KEY_PKCS8_PEM, true));
    let x5c = part(&jws, 0)["x5c"].as_array().unwrap().clone();
    assert_eq!(x5c.len(), 1);
    let der = base64::engine::general_purpose::STANDARD
        .decode(x5c[0].as_str().unwrap())
        .unwrap();
    assert!(x509_cert::Certificate::from_der(&der).is_ok());
}

#[test]
fn a_tampered_assertion_does_not_verify() {
    let jws = sign(&credential(JwsAlgorithm::Ps256, KEY_PKCS8_PEM, false));
    let (input, signature) = jws.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[10] ^= 1;
    let tampered = alloc::format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes));
    let token = UntrustedToken::new(&tampered).unwrap();
    assert!(Rsa::ps256()
        .validator::<Empty>(&public_key(CERT_PEM))
        .validate(&token)
        .is_err());
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused_up_front() {
    let key = PrivateKey::from_pem("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM).unwrap();
    // Same key, other certificate: matches (a second certificate for the same key).
    let other = Certificate::chain_from_pem("C", OTHER_CERT_PEM).unwrap();
    assert!(ClientCertificate::new(other, key.clone()).is_ok());
    let err = ClientCertificate::new(alloc::vec![], key).unwrap_err();
    assert_eq!(
        err,
        Error::configuration("CLIENT_CERTIFICATE holds no certificate")
    );
    let unrelated = PrivateKey::from_pem(
        "CLIENT_PRIVATE_KEY",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testbed/credentials/unrelated-key.pem"
        )),
    )
    .unwrap();
    let chain = Certificate::chain_from_pem("C", CERT_PEM).unwrap();
    let err = ClientCertificate::new(chain, unrelated).unwrap_err();
    assert_eq!(
        err,
        Error::configuration("CLIENT_PRIVATE_KEY is not the key of CLIENT_CERTIFICATE")
    );
}
