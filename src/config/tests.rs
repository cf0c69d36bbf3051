use super::*;
use crate::certificate::tests::{CERT_PEM, KEY_PKCS1_PEM, KEY_PKCS8_PEM};
use alloc::collections::BTreeMap;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

struct Map(BTreeMap<&'static str, String>);

impl Settings for Map {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

fn settings(pairs: &[(&'static str, &str)]) -> Map {
    let mut map = BTreeMap::from([
        ("AUTHORITY", String::from("http://127.0.0.1:9400")),
        ("CLIENT_ID", String::from("daemon")),
    ]);
    for (name, value) in pairs {
        map.insert(name, String::from(*value));
    }
    Map(map)
}

fn config_error(pairs: &[(&'static str, &str)]) -> String {
    match ClientConfig::from_settings(&settings(pairs)) {
        Err(Error::Configuration(message)) => message,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn each_credential_kind_is_recognised() {
    let secret = ClientConfig::from_settings(&settings(&[
        ("CLIENT_SECRET", "s"),
        ("CLIENT_AUTH_METHOD", "client_secret_basic"),
    ]))
    .unwrap();
    assert!(matches!(
        secret.credential,
        CredentialConfig::Secret {
            method: SecretMethod::Basic,
            ..
        }
    ));
    assert!(matches!(secret.authority, Authority::Oidc(_)));

    let cert = ClientConfig::from_settings(&settings(&[
        ("CLIENT_CERTIFICATE", CERT_PEM),
        ("CLIENT_PRIVATE_KEY", KEY_PKCS1_PEM),
    ]))
    .unwrap();
    assert!(matches!(
        cert.credential,
        CredentialConfig::Certificate {
            algorithm: JwsAlgorithm::Ps256,
            send_x5c: false,
            ..
        }
    ));
    let rs = ClientConfig::from_settings(&settings(&[
        ("CLIENT_CERTIFICATE", CERT_PEM),
        ("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM),
        ("CLIENT_ASSERTION_ALG", "RS256"),
        ("CLIENT_SEND_X5C", "true"),
    ]))
    .unwrap();
    assert!(matches!(
        rs.credential,
        CredentialConfig::Certificate {
            algorithm: JwsAlgorithm::Rs256,
            send_x5c: true,
            ..
        }
    ));

    let fic =
        ClientConfig::from_settings(&settings(&[("CLIENT_ASSERTION", " eyJ.a.b \n")])).unwrap();
    let CredentialConfig::Assertion(assertion) = fic.credential else {
        panic!("assertion")
    };
    assert_eq!(assertion.expose_secret(), "eyJ.a.b");
}

#[test]
fn errors_name_the_setting_and_never_the_value() {
    let cases: &[(&[(&'static str, &str)], &str)] = &[
        (&[], "set exactly one credential"),
        (
            &[
                ("CLIENT_SECRET", "SENTINEL"),
                ("CLIENT_ASSERTION", "SENTINEL"),
            ],
            "set exactly one credential",
        ),
        (
            &[("CLIENT_CERTIFICATE", CERT_PEM)],
            "missing setting CLIENT_PRIVATE_KEY",
        ),
        (
            &[("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM)],
            "missing setting CLIENT_CERTIFICATE",
        ),
        (
            &[
                ("CLIENT_CERTIFICATE", "SENTINEL"),
                ("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM),
            ],
            "CLIENT_CERTIFICATE is not a PEM",
        ),
        (
            &[
                ("CLIENT_CERTIFICATE", CERT_PEM),
                ("CLIENT_PRIVATE_KEY", "SENTINEL"),
            ],
            "CLIENT_PRIVATE_KEY is not a PEM",
        ),
        (
            &[
                ("CLIENT_SECRET", "SENTINEL"),
                ("CLIENT_AUTH_METHOD", "SENTINEL"),
            ],
            "CLIENT_AUTH_METHOD must be",
        ),
        (
            &[
                ("CLIENT_SECRET", "SENTINEL"),
                ("AUTHORITY_KIND", "SENTINEL"),
            ],
            "AUTHORITY_KIND must be",
        ),
        (
            &[
                ("CLIENT_SECRET", "SENTINEL"),
                ("AUTHORITY", "http://SENTINEL.example"),
            ],
            "AUTHORITY must use https",
        ),
        (
            &[("CLIENT_SECRET", "SENTINEL"), ("CLIENT_ID", "  ")],
            "missing setting CLIENT_ID",
        ),
    ];
    for (pairs, expected) in cases {
        let message = config_error(pairs);
        assert!(
            message.starts_with(expected),
            "{message:?} should start with {expected:?}"
        );
        assert!(!message.contains("SENTINEL"), "{message}");
    }
    let unrelated = include_str!("../../testbed/credentials/unrelated-key.pem");
    let message = config_error(&[
        ("CLIENT_CERTIFICATE", CERT_PEM),
        ("CLIENT_PRIVATE_KEY", unrelated),
    ]);
    assert_eq!(
        message,
        "CLIENT_PRIVATE_KEY is not the key of CLIENT_CERTIFICATE"
    );
}

#[test]
fn debug_of_a_config_redacts_the_credential() {
    let config =
        ClientConfig::from_settings(&settings(&[("CLIENT_SECRET", "SENTINEL-secret")])).unwrap();
    assert!(!alloc::format!("{config:?}").contains("SENTINEL"));
    let config = ClientConfig::from_settings(&settings(&[
        ("CLIENT_CERTIFICATE", CERT_PEM),
        ("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM),
    ]))
    .unwrap();
    let debug = alloc::format!("{config:?}");
    assert!(
        !debug.contains("MII") && debug.contains("redacted"),
        "{debug}"
    );
}
