use super::*;
use crate::credentials::certificate::tests::{CERT_PEM, KEY_PKCS1_PEM, KEY_PKCS8_PEM};
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
    let unrelated = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testbed/credentials/unrelated-key.pem"
    ));
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

#[test]
fn authority_kind_selects_the_microsoft_layout() {
    for (authority, kind, token) in [
        (
            "https://login.contoso.com/contosob2c.onmicrosoft.com/B2C_1_susi",
            "b2c",
            "https://login.contoso.com/contosob2c.onmicrosoft.com/B2C_1_susi/oauth2/v2.0/token",
        ),
        (
            "https://login.contoso.com/contoso.onmicrosoft.com",
            "ciam",
            "https://login.contoso.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
        ),
        (
            "https://sts.contoso.com/adfs",
            "adfs",
            "https://sts.contoso.com/adfs/oauth2/token",
        ),
        (
            "https://login.example.sovcloud/t",
            "entra",
            "https://login.example.sovcloud/t/oauth2/v2.0/token",
        ),
    ] {
        let config = ClientConfig::from_settings(&settings(&[
            ("AUTHORITY", authority),
            ("AUTHORITY_KIND", kind),
            ("CLIENT_SECRET", "s"),
        ]))
        .unwrap();
        let Authority::Entra(entra) = &config.authority else {
            panic!("{kind}: Microsoft authority expected")
        };
        assert_eq!(entra.token_endpoint().as_str(), token, "{kind}");
    }
    let oidc = ClientConfig::from_settings(&settings(&[
        ("AUTHORITY", "https://contoso.ciamlogin.com/"),
        ("AUTHORITY_KIND", "oidc"),
        ("CLIENT_SECRET", "s"),
    ]))
    .unwrap();
    assert!(matches!(oidc.authority, Authority::Oidc(_)));
    let message = config_error(&[("AUTHORITY_KIND", "aad"), ("CLIENT_SECRET", "s")]);
    assert_eq!(
        message,
        "AUTHORITY_KIND must be entra, b2c, ciam, adfs or oidc"
    );
}

#[test]
fn adfs_certificates_sign_rs256_and_refuse_ps256() {
    let adfs = |alg: Option<&'static str>| {
        let mut pairs = alloc::vec![
            ("AUTHORITY", "https://sts.contoso.com/adfs"),
            ("CLIENT_CERTIFICATE", CERT_PEM),
            ("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM),
        ];
        if let Some(alg) = alg {
            pairs.push(("CLIENT_ASSERTION_ALG", alg));
        }
        ClientConfig::from_settings(&settings(&pairs))
    };
    for alg in [None, Some("RS256")] {
        let config = adfs(alg).unwrap();
        assert!(
            matches!(
                config.credential,
                CredentialConfig::Certificate {
                    algorithm: JwsAlgorithm::Rs256,
                    ..
                }
            ),
            "{alg:?}"
        );
    }
    match adfs(Some("PS256")) {
        Err(Error::Configuration(message)) => {
            assert!(
                message.starts_with("CLIENT_ASSERTION_ALG must be RS256"),
                "{message}"
            );
        }
        other => panic!("PS256 accepted for AD FS: {other:?}"),
    }
    // Elsewhere the default stays PS256.
    let entra = ClientConfig::from_settings(&settings(&[
        (
            "AUTHORITY",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com",
        ),
        ("CLIENT_CERTIFICATE", CERT_PEM),
        ("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM),
    ]))
    .unwrap();
    assert!(matches!(
        entra.credential,
        CredentialConfig::Certificate {
            algorithm: JwsAlgorithm::Ps256,
            ..
        }
    ));
}

#[test]
fn es256_never_signs_client_assertions() {
    // ES256 is a verification algorithm only (ID and access tokens): Entra takes RS256 / PS256
    // certificate assertions, and edge-token signs nothing else.
    let error = ClientConfig::from_settings(&settings(&[
        (
            "AUTHORITY",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com",
        ),
        ("CLIENT_CERTIFICATE", CERT_PEM),
        ("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM),
        ("CLIENT_ASSERTION_ALG", "ES256"),
    ]))
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "configuration error: CLIENT_ASSERTION_ALG must be PS256 or RS256"
    );
}

#[test]
fn azure_region_is_optional_validated_and_entra_only() {
    let entra = Authority::parse("https://login.microsoftonline.com/contoso.com", None).unwrap();
    assert_eq!(azure_region(&settings(&[]), &entra), Ok(None));
    assert_eq!(
        azure_region(&settings(&[("AZURE_REGION", "  ")]), &entra),
        Ok(None)
    );
    let region = azure_region(&settings(&[("AZURE_REGION", "westus2")]), &entra)
        .unwrap()
        .unwrap();
    assert_eq!(
        entra.regional_token_endpoint(&region).unwrap().as_str(),
        "https://westus2.login.microsoft.com/contoso.com/oauth2/v2.0/token"
    );
    let b2c = Authority::parse("https://x.b2clogin.com/x.onmicrosoft.com/p", None).unwrap();
    for (value, authority) in [("SENTINEL.evil", &entra), ("westus2", &b2c)] {
        let Err(Error::Configuration(message)) =
            azure_region(&settings(&[("AZURE_REGION", value)]), authority)
        else {
            panic!("{value} accepted")
        };
        assert!(message.starts_with("AZURE_REGION"), "{message}");
        assert!(!message.contains("SENTINEL"), "{message}");
    }
}

#[test]
fn log_level_defaults_to_warn() {
    use log::LevelFilter;
    for (value, level) in [
        ("off", LevelFilter::Off),
        ("error", LevelFilter::Error),
        (" info ", LevelFilter::Info),
        ("debug", LevelFilter::Debug),
        ("warn", LevelFilter::Warn),
        ("verbose", LevelFilter::Warn),
    ] {
        assert_eq!(
            log_level(&settings(&[("LOG_LEVEL", value)])),
            level,
            "{value}"
        );
    }
    assert_eq!(log_level(&settings(&[])), LevelFilter::Warn);
}

#[test]
fn the_token_cache_key_comes_from_token_cache_key_else_cookie_key() {
    use crate::testing::TOKEN_CACHE_KEY;
    let read = |pairs: &[(&'static str, &str)]| {
        let mut all = alloc::vec![("CLIENT_SECRET", "s")];
        all.extend_from_slice(pairs);
        ClientConfig::from_settings(&settings(&all))
            .unwrap()
            .token_cache_key
            .is_some()
    };
    assert!(!read(&[]), "no key: memory only");
    assert!(read(&[("TOKEN_CACHE_KEY", TOKEN_CACHE_KEY)]));
    assert!(read(&[("COOKIE_KEY", TOKEN_CACHE_KEY)]));
    // TOKEN_CACHE_KEY wins, so a bad one is reported even with a good COOKIE_KEY.
    let message = config_error(&[
        ("CLIENT_SECRET", "s"),
        ("TOKEN_CACHE_KEY", "c2hvcnQ"),
        ("COOKIE_KEY", TOKEN_CACHE_KEY),
    ]);
    assert!(
        message.starts_with("TOKEN_CACHE_KEY must be base64url"),
        "{message}"
    );
    assert!(!message.contains("c2hvcnQ"));
    let message = config_error(&[("CLIENT_SECRET", "s"), ("COOKIE_KEY", "c2hvcnQ")]);
    assert!(
        message.starts_with("COOKIE_KEY must be base64url"),
        "{message}"
    );
}
