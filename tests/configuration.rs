//! Configuration through the public API, as adapters read it: flat settings and
//! Microsoft.Identity.Web's `AzureAd` section (the `AZURE_AD` setting) from a
//! `BTreeMap<String, String>`, the client they describe on the wire, and errors that name the
//! setting but never its value. PFX certificates: `certificates.rs`.

mod common;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use common::{config_error, config_of, fixture, form, settings, Env, ENTRA, SECRET};
use edge_token::config::{AzureAdSettings, ClientConfig, CredentialConfig};
use edge_token::credentials::{rustcrypto_signer, SecretMethod};
use edge_token::platform::NoStore;
use edge_token::{Authority, Scopes, Settings};
use futures::executor::block_on;

#[test]
fn flat_settings_describe_a_client_that_sends_them_on_the_wire() {
    let flat = settings(&[
        ("AUTHORITY", ENTRA),
        ("CLIENT_ID", " client-1 "),
        ("CLIENT_SECRET", SECRET),
        ("CLIENT_AUTH_METHOD", "client_secret_basic"),
        ("CLIENT_CAPABILITIES", "cp1"),
        ("AZURE_REGION", "westus2"),
    ]);
    let config = config_of(&flat).unwrap();
    assert_eq!(config.authority, Authority::parse(ENTRA, None).unwrap());
    assert_eq!(config.client_id, "client-1");
    assert!(matches!(
        config.credential,
        CredentialConfig::Secret {
            method: SecretMethod::Basic,
            ..
        }
    ));
    assert_eq!(config.capabilities, ["cp1"]);
    assert!(!format!("{config:?}").contains(SECRET));

    let client = block_on(config.into_client(rustcrypto_signer)).unwrap();
    let env = Env::default();
    env.transport
        .push_json(200, fixture!("entra/client_credentials_success.json"));
    let scopes = Scopes::parse("https://graph.microsoft.com/.default").unwrap();
    block_on(client.acquire_token_for_client(&scopes, &env.platform(&NoStore))).unwrap();
    let request = env.transport.last();
    assert_eq!(
        request.url.as_str(),
        "https://westus2.login.microsoft.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    assert!(request
        .header("authorization")
        .unwrap()
        .starts_with("Basic "));
    let claims: serde_json::Value = serde_json::from_str(&form(&request.body)["claims"]).unwrap();
    assert_eq!(
        claims["access_token"]["xms_cc"]["values"],
        serde_json::json!(["cp1"])
    );
}

#[test]
fn the_azure_ad_section_answers_the_flat_names() {
    let section = format!(
        r#"{{"AzureAd": {{"Instance": "https://login.microsoftonline.com/",
            "TenantId": "contoso.onmicrosoft.com", "ClientId": "11111111-2222-3333-4444-555555555555",
            "ClientCredentials": [
                {{"SourceType": "KeyVault", "KeyVaultUrl": "https://x.vault.azure.net", "Skip": true}},
                {{"SourceType": "ClientSecret", "ClientSecret": "{SECRET}"}}]}},
          "Logging": {{"LogLevel": {{"Default": "Information"}}}}, "AllowedHosts": "*"}}"#
    );
    let flat = settings(&[("AZURE_AD", &section), ("LOG_LEVEL", "debug")]);
    let layer = AzureAdSettings::new(&flat).unwrap();
    let client_id = "11111111-2222-3333-4444-555555555555";
    // `LOG_LEVEL` is not in the section: flat names pass through.
    let expected = [
        ("AUTHORITY", ENTRA),
        ("CLIENT_ID", client_id),
        ("CLIENT_SECRET", SECRET),
        ("LOG_LEVEL", "debug"),
    ];
    for (name, value) in expected {
        assert_eq!(layer.get(name).as_deref(), Some(value), "{name}");
    }
    assert!(!format!("{layer:?}").contains(SECRET));

    let config = ClientConfig::from_settings(&layer).unwrap();
    assert_eq!(config.authority, Authority::parse(ENTRA, None).unwrap());
    assert!(matches!(
        config.credential,
        CredentialConfig::Secret {
            method: SecretMethod::Post,
            ..
        }
    ));
}

/// What the message names, the settings set, the settings removed.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);

#[test]
fn errors_name_the_setting_and_never_its_value() {
    const VALUE: &str = "0ther-s3ntinel";
    let base = [
        ("AUTHORITY", ENTRA),
        ("CLIENT_ID", "c"),
        ("CLIENT_SECRET", SECRET),
    ];
    let azure_ad = format!(
        r#"{{"Instance": "https://login.microsoftonline.com", "TenantId": "t", "ClientId": "c",
            "ClientSecret": "{SECRET}", "Bogus": "{VALUE}"}}"#
    );
    let agreeing = azure_ad.replace(&format!(r#", "Bogus": "{VALUE}""#), "");
    let all = ["AUTHORITY", "CLIENT_ID", "CLIENT_SECRET"];
    let cases: &[Case] = &[
        ("CLIENT_ID", &[], &["CLIENT_ID"]),
        ("exactly one credential", &[], &["CLIENT_SECRET"]),
        (
            "exactly one credential",
            &[("CLIENT_ASSERTION", VALUE)],
            &[],
        ),
        ("CLIENT_AUTH_METHOD", &[("CLIENT_AUTH_METHOD", VALUE)], &[]),
        (
            "AUTHORITY",
            &[("AUTHORITY", "http://login.example.com/t")],
            &[],
        ),
        ("AZURE_REGION", &[("AZURE_REGION", "west us!")], &[]),
        (
            "CLIENT_PRIVATE_KEY",
            &[("CLIENT_CERTIFICATE", VALUE)],
            &["CLIENT_SECRET"],
        ),
        (
            "CLIENT_CERTIFICATE",
            &[("CLIENT_PRIVATE_KEY", VALUE)],
            &["CLIENT_SECRET"],
        ),
        ("AzureAd:Bogus", &[("AZURE_AD", azure_ad.as_str())], &all),
        ("AZURE_AD", &[("AZURE_AD", r#"{"ClientSecret": "#)], &all),
        // The section's secret and the flat one disagree: neither value is shown.
        (
            "CLIENT_SECRET",
            &[("AZURE_AD", agreeing.as_str()), ("CLIENT_SECRET", VALUE)],
            &all,
        ),
    ];
    for (expected, set, removed) in cases {
        let mut flat = settings(&base);
        flat.retain(|name, _| !removed.contains(&name.as_str()));
        flat.extend(settings(set));
        // `Display` and `Debug` show this message and nothing else.
        let message = config_error(&flat);
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(
            !message.contains(SECRET) && !message.contains(VALUE),
            "{message}"
        );
    }
}
