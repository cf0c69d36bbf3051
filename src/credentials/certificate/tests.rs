use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

pub(crate) const CERT_PEM: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testbed/credentials/daemon-cert.pem"
));
pub(crate) const OTHER_CERT_PEM: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testbed/credentials/other-cert.pem"
));
pub(crate) const KEY_PKCS8_PEM: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testbed/credentials/daemon-key.pem"
));
pub(crate) const KEY_PKCS1_PEM: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testbed/credentials/daemon-key-pkcs1.pem"
));

#[test]
fn thumbprints_match_openssl() {
    let cert = &Certificate::chain_from_pem("CLIENT_CERTIFICATE", CERT_PEM).unwrap()[0];
    // openssl x509 -in daemon-cert.pem -outform DER | openssl dgst -sha256 -binary | basenc --base64url
    assert_eq!(
        cert.thumbprint_sha256(),
        "C3laERVFbXjnNyNSQSfYFyoVNxrLywCzOOEtmmiOjIU"
    );
    assert_eq!(cert.thumbprint_sha1().len(), 27);
    let der = STANDARD.decode(cert.x5c_entry()).unwrap();
    assert_eq!(der, cert.der());
}

#[test]
fn a_chain_keeps_its_order() {
    let chain = Certificate::chain_from_pem(
        "CLIENT_CERTIFICATE",
        &alloc::format!("{CERT_PEM}\n{OTHER_CERT_PEM}"),
    )
    .unwrap();
    assert_eq!(chain.len(), 2);
    assert_ne!(chain[0].thumbprint_sha256(), chain[1].thumbprint_sha256());
}

#[test]
fn pkcs1_and_pkcs8_keys_decode_to_the_same_pkcs8() {
    let pkcs8 = PrivateKey::from_pem("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM).unwrap();
    let pkcs1 = PrivateKey::from_pem("CLIENT_PRIVATE_KEY", KEY_PKCS1_PEM).unwrap();
    assert_eq!(pkcs8.pkcs8_der(), pkcs1.pkcs8_der());
    let cert = &Certificate::chain_from_pem("CLIENT_CERTIFICATE", CERT_PEM).unwrap()[0];
    assert!(pkcs8.matches(cert) && pkcs1.matches(cert));
}

#[test]
fn bad_pem_is_a_configuration_error_without_key_material() {
    for bad in [
        "",
        "hello",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        CERT_PEM,
    ] {
        let err = PrivateKey::from_pem("CLIENT_PRIVATE_KEY", bad).unwrap_err();
        assert!(
            matches!(err, Error::Configuration(ref m) if m.starts_with("CLIENT_PRIVATE_KEY")),
            "{err:?}"
        );
    }
    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----";
    assert!(
        alloc::format!("{}", PrivateKey::from_pem("K", encrypted).unwrap_err())
            .contains("encrypted")
    );
    for bad in ["", "not pem", KEY_PKCS8_PEM] {
        assert!(
            matches!(
                Certificate::chain_from_pem("CLIENT_CERTIFICATE", bad),
                Err(Error::Configuration(_))
            ),
            "{bad}"
        );
    }
    let key = PrivateKey::from_pem("K", KEY_PKCS8_PEM).unwrap();
    assert_eq!(alloc::format!("{key:?}"), "PrivateKey([redacted])");
}
