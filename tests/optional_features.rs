//! The features `certificate` and `azure-ad`: with them, `CLIENT_CERTIFICATE` +
//! `CLIENT_PRIVATE_KEY` (flat or as `AZURE_AD`'s `Pem` credential) configure a certificate
//! credential and `AZURE_AD` is read; without them, the same settings are a configuration error
//! naming the feature, never silently ignored, while a secret still works. Self-contained (no
//! `common`, no signer), so that it also builds without the default features:
//!
//!   cargo test -p edge-token --test optional_features
//!   cargo test -p edge-token --no-default-features --features std --test optional_features
//!   cargo test -p edge-token --no-default-features --features std,azure-ad --test optional_features
//!   cargo test -p edge-token --no-default-features --features std,certificate --test optional_features

use std::collections::BTreeMap;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use edge_token::config::{AzureAdSettings, ClientConfig, CredentialConfig};
use edge_token::Error;

const CERT_PEM: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testbed/credentials/daemon-cert.pem"
));
const KEY_PEM: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testbed/credentials/daemon-key.pem"
));
const AUTHORITY: &str = "https://login.microsoftonline.com/contoso.onmicrosoft.com";

fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut all: BTreeMap<String, String> = [("AUTHORITY", AUTHORITY), ("CLIENT_ID", "daemon")]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    all.extend(
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string())),
    );
    all
}

fn read(pairs: &[(&str, &str)]) -> Result<ClientConfig, Error> {
    let flat = settings(pairs);
    ClientConfig::from_settings(&AzureAdSettings::new(&flat)?)
}

/// `AZURE_AD` with the edge-token `Pem` credential.
#[cfg(any(not(feature = "certificate"), feature = "azure-ad"))]
fn pem_section() -> String {
    serde_json::json!({
        "Instance": "https://login.microsoftonline.com/",
        "TenantId": "contoso.onmicrosoft.com",
        "ClientId": "daemon",
        "ClientCredentials": [{
            "SourceType": "Pem", "CertificatePem": CERT_PEM, "PrivateKeyPem": KEY_PEM
        }]
    })
    .to_string()
}

#[test]
fn a_client_secret_needs_no_certificate_support() {
    let config = read(&[("CLIENT_SECRET", "s")]).unwrap();
    assert!(matches!(config.credential, CredentialConfig::Secret { .. }));
}

#[test]
fn two_credentials_are_refused_whatever_the_features() {
    let Err(Error::Configuration(message)) = read(&[
        ("CLIENT_SECRET", "s"),
        ("CLIENT_CERTIFICATE", CERT_PEM),
        ("CLIENT_PRIVATE_KEY", KEY_PEM),
    ]) else {
        panic!("two credentials accepted");
    };
    assert!(
        message.starts_with("set exactly one credential"),
        "{message}"
    );
}

#[cfg(feature = "certificate")]
#[test]
fn with_the_feature_pem_settings_configure_a_certificate() {
    let flat = read(&[
        ("CLIENT_CERTIFICATE", CERT_PEM),
        ("CLIENT_PRIVATE_KEY", KEY_PEM),
    ])
    .unwrap();
    assert!(matches!(
        flat.credential,
        CredentialConfig::Certificate { .. }
    ));
    #[cfg(feature = "azure-ad")]
    {
        let section = pem_section();
        let json = read(&[("AZURE_AD", &section)]).unwrap();
        assert!(matches!(
            json.credential,
            CredentialConfig::Certificate { .. }
        ));
    }
}

#[cfg(not(feature = "certificate"))]
#[test]
fn without_the_feature_certificate_settings_are_an_error_naming_it() {
    use edge_token::config::CERTIFICATE_FEATURE_MISSING;

    let section = pem_section();
    let azure_ad = [("AZURE_AD", section.as_str())];
    let mut cases: Vec<&[(&str, &str)]> = vec![
        &[
            ("CLIENT_CERTIFICATE", CERT_PEM),
            ("CLIENT_PRIVATE_KEY", KEY_PEM),
        ],
        &[("CLIENT_CERTIFICATE", CERT_PEM)],
        &[("CLIENT_PRIVATE_KEY", KEY_PEM)],
    ];
    if cfg!(feature = "azure-ad") {
        cases.push(&azure_ad);
    }
    for pairs in cases {
        match read(pairs) {
            Err(Error::Configuration(message)) => {
                assert_eq!(message, CERTIFICATE_FEATURE_MISSING);
                assert!(message.contains("`certificate` feature"), "{message}");
                assert!(!message.contains("BEGIN"), "no setting value in {message}");
            }
            other => panic!("{pairs:?}: expected the missing feature, got {other:?}"),
        }
    }
}

#[cfg(feature = "azure-ad")]
#[test]
fn with_the_feature_azure_ad_is_read() {
    let section = serde_json::json!({
        "Instance": "https://login.microsoftonline.com/", "TenantId": "contoso.onmicrosoft.com",
        "ClientId": "daemon",
        "ClientCredentials": [{ "SourceType": "ClientSecret", "ClientSecret": "s" }]
    })
    .to_string();
    let config = read(&[("AZURE_AD", &section)]).unwrap();
    assert!(matches!(config.credential, CredentialConfig::Secret { .. }));
}

#[cfg(not(feature = "azure-ad"))]
#[test]
fn without_the_feature_azure_ad_is_an_error_naming_it() {
    use edge_token::config::AZURE_AD_FEATURE_MISSING;

    let flat = settings(&[
        ("AZURE_AD", r#"{"ClientId": "daemon"}"#),
        ("CLIENT_SECRET", "s"),
    ]);
    match AzureAdSettings::new(&flat) {
        Err(Error::Configuration(message)) => {
            assert_eq!(message, AZURE_AD_FEATURE_MISSING);
            assert!(message.contains("`azure-ad` feature"), "{message}");
        }
        other => panic!("expected the missing feature, got {other:?}"),
    }
    // The flat settings alone pass through.
    let config = read(&[("CLIENT_SECRET", "s")]).unwrap();
    assert_eq!(config.client_id, "daemon");
}
