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

#[test]
fn the_der_is_the_pem_bytes_and_an_x509_decoder_reads_the_same_key() {
    let cert = &Certificate::chain_from_pem("CLIENT_CERTIFICATE", CERT_PEM).unwrap()[0];
    let (label, der) = der::pem::decode_vec(CERT_PEM.trim().as_bytes()).unwrap();
    assert_eq!((label, cert.der()), ("CERTIFICATE", der.as_slice()));
    assert_eq!(Certificate::from_der("D", &der).unwrap(), *cert);
    // x509-cert decodes the whole certificate: its RSA key is the one the view found.
    let full = x509_cert::Certificate::from_der(&der).unwrap();
    let spki = full.tbs_certificate.subject_public_key_info;
    let rsa = pkcs1::RsaPublicKey::from_der(spki.subject_public_key.raw_bytes()).unwrap();
    let public = cert.rsa_public_key.as_ref().unwrap();
    assert_eq!(public.modulus, rsa.modulus.as_bytes());
    assert_eq!(public.exponent, rsa.public_exponent.as_bytes());
    assert!(PrivateKey::from_pem("K", KEY_PKCS8_PEM)
        .unwrap()
        .matches(cert));
}

#[test]
fn anything_but_whole_certificates_is_refused() {
    let (_, der) = der::pem::decode_vec(CERT_PEM.trim().as_bytes()).unwrap();
    let mut trailing = der.clone();
    trailing.push(0);
    let truncated = &der[..der.len() - 1];
    for bad in [trailing.as_slice(), truncated, &der[4..], b"\x30\x00"] {
        assert!(
            matches!(Certificate::from_der("D", bad), Err(Error::Configuration(ref m)) if m == "D is not a DER X.509 certificate")
        );
    }
    for bad in [
        alloc::format!("{CERT_PEM}\ngarbage"),
        alloc::format!("{CERT_PEM}\n{KEY_PKCS8_PEM}"),
        CERT_PEM.replace("CERTIFICATE", "PUBLIC KEY"),
        CERT_PEM.replace("-----END CERTIFICATE-----", ""),
    ] {
        assert!(
            matches!(
                Certificate::chain_from_pem("CLIENT_CERTIFICATE", &bad),
                Err(Error::Configuration(ref m)) if m == "CLIENT_CERTIFICATE is not a PEM X.509 certificate"
            ),
            "{bad}"
        );
    }
    // Text before the first block is a preamble RFC 7468 §5.2 allows (openssl writes one).
    let preamble = alloc::format!("subject=CN = daemon\n{CERT_PEM}");
    assert_eq!(
        Certificate::chain_from_pem("CLIENT_CERTIFICATE", &preamble)
            .unwrap()
            .len(),
        1
    );
}
