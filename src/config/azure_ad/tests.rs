use super::*;
use crate::config::{ClientConfig, CredentialConfig};
use crate::credentials::certificate::tests::{CERT_PEM, KEY_PKCS8_PEM};
use crate::credentials::certificate::Certificate;
use crate::scenarios::daemon::DaemonConfig;
use crate::scenarios::webapi::WebApiConfig;
use crate::scenarios::webapp::WebAppConfig;
use alloc::string::ToString;
use alloc::vec;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const AES_PFX: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/azure_ad/daemon-aes256.pfx.b64"
));
const NO_PASSWORD_PFX: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/azure_ad/daemon-no-password.pfx.b64"
));
const CHAIN_PFX: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/azure_ad/daemon-with-chain.pfx.b64"
));
const LEGACY_PFX: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/azure_ad/daemon-legacy-3des.pfx.b64"
));
const CERT_ONLY_PFX: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/azure_ad/daemon-cert-only.pfx.b64"
));
const KEY_ONLY_PFX: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/azure_ad/key-only.pfx.b64"
));
const MISMATCH_PFX: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/azure_ad/key-not-of-certificate.pfx.b64"
));
const PFX_PASSWORD: &str = "edge-token-test";
const SENTINEL: &str = "s3ntinel-SECRET-value";
const COOKIE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

struct Map(BTreeMap<&'static str, String>);

type Pairs = &'static [(&'static str, &'static str)];

impl Settings for Map {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

fn flat(pairs: &[(&'static str, &str)]) -> Map {
    Map(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect())
}

fn with_json(json: &str, pairs: &[(&'static str, &str)]) -> Map {
    let mut map = flat(pairs);
    map.0.insert(AZURE_AD, json.to_string());
    map
}

fn error_of(settings: &Map) -> String {
    match AzureAdSettings::new(settings) {
        Err(Error::Configuration(message)) => message,
        Err(other) => panic!("expected a configuration error, got {other:?}"),
        Ok(layer) => panic!("expected an error, got {layer:?}"),
    }
}

fn secret_section(extra: &str) -> String {
    format!(
        r#"{{"Instance": "https://login.microsoftonline.com/", "TenantId": "contoso.onmicrosoft.com",
            "ClientId": "11111111-2222-3333-4444-555555555555",
            "ClientCredentials": [{{"SourceType": "ClientSecret", "ClientSecret": "{SENTINEL}"}}]{extra}}}"#
    )
}

fn pfx_section(value: &str, password: Option<&str>) -> String {
    let password = password
        .map(|p| format!(r#", "CertificatePassword": "{p}""#))
        .unwrap_or_default();
    format!(
        r#"{{"Instance": "https://login.microsoftonline.com/", "TenantId": "contoso.onmicrosoft.com",
            "ClientId": "daemon", "SendX5C": true,
            "ClientCredentials": [{{"SourceType": "Base64Encoded", "Base64EncodedValue": "{}"{password}}}]}}"#,
        value.trim()
    )
}

#[test]
fn a_web_app_section_maps_to_the_flat_settings() {
    let json = r#"{
      "AzureAd": {
        "Instance": "https://login.microsoftonline.com/",
        "Domain": "contoso.onmicrosoft.com",
        "TenantId": "aaaabbbb-0000-cccc-1111-dddd2222eeee",
        "ClientId": "11111111-2222-3333-4444-555555555555",
        "ClientCredentials": [
          { "SourceType": "KeyVault", "KeyVaultUrl": "https://x.vault.azure.net", "Skip": true },
          { "SourceType": "ClientSecret", "ClientSecret": "s3ntinel-SECRET-value" }
        ],
        "RedirectUri": "https://app.example.com/signin-oidc",
        "CallbackPath": "/signin-oidc",
        "SignedOutCallbackPath": "/signout-callback-oidc",
        "ClientCapabilities": [ "cp1" ],
        "ResponseMode": "form_post",
        "SaveTokens": true
      },
      "DownstreamApis": {
        "Graph": { "BaseUrl": "https://graph.microsoft.com/v1.0", "RelativePath": "/me", "Scopes": ["User.Read"] },
        "MyApi": { "BaseUrl": "https://api.example.com/", "Scopes": "api://my-api/access_as_user" }
      },
      "Logging": { "LogLevel": { "Default": "Information" } },
      "AllowedHosts": "*"
    }"#;
    let settings = with_json(
        json,
        &[
            ("COOKIE_KEY", COOKIE_KEY),
            ("DOWNSTREAM_API", "graph"),
            ("WEB_API", "MyApi"),
        ],
    );
    let layer = AzureAdSettings::new(&settings).unwrap();
    let expect = [
        (
            "AUTHORITY",
            "https://login.microsoftonline.com/aaaabbbb-0000-cccc-1111-dddd2222eeee",
        ),
        ("CLIENT_ID", "11111111-2222-3333-4444-555555555555"),
        ("CLIENT_SECRET", SENTINEL),
        ("REDIRECT_URI", "https://app.example.com/signin-oidc"),
        (
            "POST_LOGOUT_REDIRECT_URI",
            "https://app.example.com/signout-callback-oidc",
        ),
        ("CLIENT_CAPABILITIES", "cp1"),
        ("RESPONSE_MODE", "form_post"),
        ("DOWNSTREAM_URL", "https://graph.microsoft.com/v1.0/me"),
        ("DOWNSTREAM_SCOPES", "User.Read"),
        ("WEB_API_URL", "https://api.example.com/"),
        ("WEB_API_SCOPES", "api://my-api/access_as_user"),
        ("COOKIE_KEY", COOKIE_KEY),
    ];
    for (name, value) in expect {
        assert_eq!(layer.get(name).as_deref(), Some(value), "{name}");
    }
    let config = WebAppConfig::from_settings(&layer).unwrap();
    assert!(matches!(
        config.client.credential,
        CredentialConfig::Secret { .. }
    ));
    assert_eq!(config.client.capabilities, vec!["cp1"]);
    assert!(config.web_api.is_some());
    let debug = format!("{layer:?} {:?}", AzureAdSection::parse(json).unwrap());
    assert!(!debug.contains(SENTINEL), "{debug}");
}

#[test]
fn a_web_api_section_maps_with_microsoft_identity_web_defaults() {
    let json = r#"{
        "instance": "https://login.microsoftonline.com", "tenantid": "contoso.onmicrosoft.com",
        "clientid": "webapi", "Scopes": "access_as_user",
        "CallbackPath": "/signin-oidc", "AllowWebApiToBeAuthorizedByACL": "false",
        "ClientCertificates": [{ "SourceType": "Pem", "CertificatePem": "CERT", "PrivateKeyPem": "KEY" }],
        "DownstreamApis": { "Graph": { "BaseUrl": "https://graph.microsoft.com/v1.0/me", "Scopes": ["https://graph.microsoft.com/User.Read"] } }
    }"#
    .replace("CERT", &CERT_PEM.replace('\n', "\\n"))
    .replace("KEY", &KEY_PKCS8_PEM.replace('\n', "\\n"));
    let settings = with_json(&json, &[]);
    let layer = AzureAdSettings::new(&settings).unwrap();
    assert_eq!(
        layer.get("API_AUDIENCE").as_deref(),
        Some("webapi api://webapi")
    );
    assert_eq!(
        layer.get("API_REQUIRED_SCOPE").as_deref(),
        Some("access_as_user")
    );
    assert_eq!(layer.get("REDIRECT_URI"), None);
    let config = WebApiConfig::from_settings(&layer).unwrap();
    assert_eq!(config.audiences, vec!["webapi", "api://webapi"]);
    assert_eq!(
        config.downstream.base_url.as_str(),
        "https://graph.microsoft.com/v1.0/me"
    );
    // A flat API_AUDIENCE replaces MIW's default without contradiction.
    let settings = with_json(&json, &[("API_AUDIENCE", "api://other")]);
    let layer = AzureAdSettings::new(&settings).unwrap();
    assert_eq!(layer.get("API_AUDIENCE").as_deref(), Some("api://other"));
}

#[test]
fn a_daemon_section_with_a_pfx_gives_a_working_certificate_credential() {
    let json = format!(
        r#"{{"AzureAd": {}, "DownstreamApi": {{"BaseUrl": "https://graph.microsoft.com/v1.0/users", "Scopes": "https://graph.microsoft.com/.default", "RequestAppToken": true}}}}"#,
        pfx_section(AES_PFX, Some(PFX_PASSWORD))
    );
    let settings = with_json(
        &json,
        &[
            ("DAEMON_API_AUDIENCE", "api://daemon"),
            ("DAEMON_CALLER_ROLES", "Daemon.Call"),
        ],
    );
    let layer = AzureAdSettings::new(&settings).unwrap();
    assert_eq!(layer.get("API_DOWNSTREAM_URL"), None);
    let config = DaemonConfig::from_settings(&layer).unwrap();
    let CredentialConfig::Certificate {
        certificate,
        send_x5c,
        ..
    } = config.client.credential
    else {
        panic!("expected a certificate credential");
    };
    assert!(send_x5c);
    let expected = Certificate::chain_from_pem("C", CERT_PEM).unwrap();
    assert_eq!(certificate.chain(), expected.as_slice());
    let key = certificate.key();
    let pem_key =
        crate::credentials::certificate::PrivateKey::from_pem("K", KEY_PKCS8_PEM).unwrap();
    assert_eq!(key.pkcs8_der(), pem_key.pkcs8_der());
    assert_eq!(
        config.downstream.base_url.as_str(),
        "https://graph.microsoft.com/v1.0/users"
    );
}

#[test]
fn every_pfx_shape_is_read_or_refused_clearly() {
    for (pfx, password) in [(NO_PASSWORD_PFX, None), (NO_PASSWORD_PFX, Some(""))] {
        let settings = with_json(&pfx_section(pfx, password), &[]);
        let layer = AzureAdSettings::new(&settings).unwrap();
        assert!(ClientConfig::from_settings(&layer).is_ok());
    }
    // The key's certificate comes first whatever the file's order.
    let settings = with_json(&pfx_section(CHAIN_PFX, Some(PFX_PASSWORD)), &[]);
    let config = ClientConfig::from_settings(&AzureAdSettings::new(&settings).unwrap()).unwrap();
    let CredentialConfig::Certificate { certificate, .. } = config.credential else {
        panic!("expected a certificate credential");
    };
    assert_eq!(certificate.chain().len(), 2);
    assert!(certificate.key().matches(&certificate.chain()[0]));

    for (pfx, password, expected) in [
        (AES_PFX, Some("wrong-password"), "wrong CertificatePassword"),
        (AES_PFX, None, "wrong CertificatePassword"),
        (LEGACY_PFX, Some(PFX_PASSWORD), "legacy PKCS#12 encryption"),
        (CERT_ONLY_PFX, Some(PFX_PASSWORD), "holds no private key"),
        (KEY_ONLY_PFX, Some(PFX_PASSWORD), "holds no certificate"),
        (
            MISMATCH_PFX,
            Some(PFX_PASSWORD),
            "matches none of its certificates",
        ),
        ("not*base64", None, "is not base64"),
        ("aGVsbG8gd29ybGQ=", None, "is not a PKCS#12 (PFX) file"),
    ] {
        let settings = with_json(&pfx_section(pfx, password), &[]);
        let message = match AzureAdSettings::new(&settings) {
            Err(Error::Configuration(message)) => message,
            other => panic!("{expected}: {other:?}"),
        };
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(!message.contains("wrong-password") && !message.contains(PFX_PASSWORD));
    }
}

#[test]
fn each_source_type_maps_to_its_flat_credential() {
    let assertion = r#"{"Instance": "https://login.microsoftonline.com", "TenantId": "t", "ClientId": "c",
        "ClientCredentials": [{"SourceType": "signedassertion", "SignedAssertion": " eyJ.a.b "}]}"#;
    let layer_settings = with_json(assertion, &[]);
    let layer = AzureAdSettings::new(&layer_settings).unwrap();
    assert_eq!(layer.get("CLIENT_ASSERTION").as_deref(), Some("eyJ.a.b"));
    let legacy_secret = r#"{"Instance": "https://login.microsoftonline.com", "TenantId": "t",
        "ClientId": "c", "ClientSecret": "legacy"}"#;
    let settings = with_json(legacy_secret, &[]);
    let layer = AzureAdSettings::new(&settings).unwrap();
    assert_eq!(layer.get("CLIENT_SECRET").as_deref(), Some("legacy"));
    let section = AzureAdSection::parse(&pfx_section(AES_PFX, Some(PFX_PASSWORD))).unwrap();
    assert!(matches!(
        section.credential,
        Some(CredentialDescription::Base64Encoded {
            password: Some(_),
            ..
        })
    ));
    assert!(!format!("{section:?}").contains(PFX_PASSWORD));
}

#[test]
fn authorities_follow_microsoft_identity_web() {
    let authority = |json: &str| {
        let settings = with_json(json, &[("CLIENT_ID", "c")]);
        AzureAdSettings::new(&settings).map(|layer| layer.get("AUTHORITY"))
    };
    assert_eq!(
        authority(
            r#"{"Authority": "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/"}"#
        )
        .unwrap()
        .as_deref(),
        Some("https://login.microsoftonline.com/contoso.onmicrosoft.com")
    );
    assert_eq!(
        authority(
            r#"{"Instance": "https://contoso.b2clogin.com/", "Domain": "contoso.onmicrosoft.com",
                "TenantId": "t", "SignUpSignInPolicyId": "B2C_1_susi"}"#
        )
        .unwrap()
        .as_deref(),
        Some("https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_susi")
    );
    let settings = with_json(
        r#"{"Instance": "https://contoso.b2clogin.com", "Domain": "contoso.onmicrosoft.com",
            "SignUpSignInPolicyId": "B2C_1_susi", "ClientId": "c", "AzureRegion": "westus2"}"#,
        &[],
    );
    let layer = AzureAdSettings::new(&settings).unwrap();
    assert_eq!(layer.get("AUTHORITY_KIND").as_deref(), Some("b2c"));
    assert_eq!(layer.get("AZURE_REGION").as_deref(), Some("westus2"));
    assert!(authority(
        r#"{"Authority": "https://login.microsoftonline.com/a", "Instance": "https://login.microsoftonline.com", "TenantId": "a"}"#
    )
    .is_ok());
    for (json, expected) in [
        (
            r#"{"Instance": "https://login.microsoftonline.com"}"#,
            "TenantId` is missing",
        ),
        (r#"{"TenantId": "t"}"#, "Instance` is missing"),
        (r#"{"ClientId": "c"}"#, "defines no authority"),
        (
            r#"{"Authority": "https://login.microsoftonline.com/a", "Instance": "https://login.microsoftonline.com", "TenantId": "b"}"#,
            "different authorities",
        ),
        (
            r#"{"Instance": "https://contoso.b2clogin.com", "SignUpSignInPolicyId": "p"}"#,
            "Domain` is missing",
        ),
    ] {
        let message = error_of(&with_json(json, &[("CLIENT_ID", "c")]));
        assert!(message.contains(expected), "{expected}: {message}");
    }
    let message = error_of(&with_json(
        r#"{"Instance": "https://login.microsoftonline.com", "TenantId": "t"}"#,
        &[],
    ));
    assert!(message.contains("ClientId` is missing"), "{message}");
}

#[test]
fn bad_sections_name_the_key_never_the_value() {
    let cases: &[(String, Pairs, &str)] = &[
        (
            String::from("{\"ClientId\": "),
            &[],
            "not valid JSON (line 1",
        ),
        (String::from("[1]"), &[], "`AzureAd` must be a JSON object"),
        (
            secret_section(r#", "Bogus": 1"#),
            &[],
            "`AzureAd:Bogus` is not a setting",
        ),
        (secret_section(r#", "clientID": "x""#), &[], "appears twice"),
        (
            secret_section(r#", "SendX5C": "sometimes""#),
            &[],
            "must be true or false",
        ),
        (
            secret_section(r#", "ClientSecret": "second""#),
            &[],
            "defines 2 client credentials",
        ),
        (
            secret_section(r#", "AllowWebApiToBeAuthorizedByACL": true"#),
            &[],
            "only false",
        ),
        (
            secret_section(r#", "TokenDecryptionCredentials": [{}]"#),
            &[],
            "encrypted tokens",
        ),
        (
            secret_section(
                r#", "ClientCertificates": [{"SourceType": "KeyVault", "KeyVaultUrl": "u"}]"#,
            ),
            &[],
            "`KeyVault` is not supported at the edge",
        ),
        (
            secret_section("").replace(
                "\"ClientSecret\", \"ClientSecret\"",
                "\"Magic\", \"ClientSecret\"",
            ),
            &[],
            "`Magic` is unknown",
        ),
        (
            secret_section("").replace("\"ClientSecret\": \"s3n", "\"Secret\": \"s3n"),
            &[],
            "ClientSecret` is missing",
        ),
        (
            secret_section(""),
            &[("CLIENT_ID", "0ther-value")],
            "setting CLIENT_ID disagree",
        ),
        (
            secret_section(""),
            &[("CLIENT_SECRET", "0ther-value")],
            "setting CLIENT_SECRET disagree",
        ),
        (
            secret_section(""),
            &[("CLIENT_ASSERTION", "eyJ.a.b")],
            "both configure the client credential",
        ),
        (
            secret_section(r#", "CallbackPath": "/signin-oidc""#),
            &[("REDIRECT_URI", "https://app.example.com/auth/callback")],
            "CallbackPath is not the path",
        ),
        (
            secret_section(r#", "DownstreamApis": {"A": {"BaseUrl": "https://a.example"}}"#),
            &[("WEB_API", "B")],
            "WEB_API names a downstream API",
        ),
        (
            secret_section(
                r#", "DownstreamApis": {"A": {"BaseUrl": "https://a.example", "RequestAppToken": true}}"#,
            ),
            &[("API_DOWNSTREAM_API", "A")],
            "RequestAppToken true",
        ),
        (
            secret_section(r#", "DownstreamApis": {"A": {"Scopes": ["s"]}}"#),
            &[],
            "`AzureAd:DownstreamApis:A:BaseUrl` is missing",
        ),
    ];
    for (json, pairs, expected) in cases {
        let message = error_of(&with_json(json, pairs));
        assert!(
            message.starts_with(AZURE_AD)
                || message.contains(AZURE_AD)
                || message.contains("AzureAd"),
            "{message}"
        );
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(
            !message.contains(SENTINEL) && !message.contains("0ther-value"),
            "{message}"
        );
    }
}

#[test]
fn agreeing_settings_and_no_section_pass_through() {
    let settings = with_json(
        &secret_section(r#", "ClientCapabilities": ["cp1", "cp2"]"#),
        &[
            (
                "AUTHORITY",
                "https://login.microsoftonline.com/contoso.onmicrosoft.com/",
            ),
            ("CLIENT_CAPABILITIES", "cp2,cp1"),
            ("HTTP_TIMEOUT_MS", "500"),
        ],
    );
    let layer = AzureAdSettings::new(&settings).unwrap();
    assert_eq!(layer.get("HTTP_TIMEOUT_MS").as_deref(), Some("500"));
    let plain = flat(&[("CLIENT_ID", "c")]);
    let layer = AzureAdSettings::new(&plain).unwrap();
    assert_eq!(layer.get("CLIENT_ID").as_deref(), Some("c"));
    assert_eq!(layer.get("API_AUDIENCE"), None);
}
