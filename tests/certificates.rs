//! Certificate credentials through the public API: Microsoft.Identity.Web's `Base64Encoded`
//! PKCS#12 (PFX) credential from the fixtures becomes a client (`ClientConfig::into_client` with
//! the pure-Rust signer) whose client assertions (RFC 7523) verify with the PFX key; unusable
//! PFX files are refused naming the key, never the password.

mod common;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use common::{config_error, config_of, fixture, form, settings, Env, ENTRA_TOKEN_ENDPOINT, NOW};
use edge_token::config::CredentialConfig;
use edge_token::credentials::{rustcrypto_signer, JwsAlgorithm};
use edge_token::platform::NoStore;
use edge_token::validation::{
    Jwk, JwsVerifier, RustCryptoVerifier, UnverifiedToken, VerificationAlgorithm,
};
use edge_token::Scopes;
use futures::executor::block_on;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;

const AES_PFX: &str = fixture!("azure_ad/daemon-aes256.pfx.b64");
const PFX_PASSWORD: &str = "edge-token-test";

/// An `AzureAd` section with `pfx` (base64) as its `Base64Encoded` credential.
fn pfx_section(pfx: &str, password: &str) -> String {
    format!(
        r#"{{"AzureAd": {{"Instance": "https://login.microsoftonline.com/",
            "TenantId": "contoso.onmicrosoft.com", "ClientId": "daemon", "SendX5C": true,
            "ClientCredentials": [{{"SourceType": "Base64Encoded",
                "Base64EncodedValue": "{}", "CertificatePassword": "{password}"}}]}}}}"#,
        pfx.trim()
    )
}

#[test]
fn a_base64_pfx_credential_builds_a_certificate_client_that_signs_its_assertions() {
    let section = pfx_section(AES_PFX, PFX_PASSWORD);
    let flat = settings(&[("AZURE_AD", &section)]);
    let config = config_of(&flat).unwrap();
    let rendered = format!("{config:?}");
    let pfx_start = &AES_PFX[..40];
    assert!(!rendered.contains(PFX_PASSWORD) && !rendered.contains(pfx_start));
    let CredentialConfig::Certificate {
        certificate,
        algorithm,
        send_x5c,
    } = &config.credential
    else {
        panic!(
            "expected a certificate credential, got {:?}",
            config.credential
        );
    };
    assert_eq!(
        (certificate.chain().len(), *algorithm, *send_x5c),
        (1, JwsAlgorithm::Ps256, true)
    );
    let key = certificate.key();
    assert!(key.matches(&certificate.chain()[0]));
    // The public half of the PFX key, as a JWK, to check the assertion's signature.
    let public = rsa::RsaPrivateKey::from_pkcs8_der(key.pkcs8_der())
        .unwrap()
        .to_public_key();
    let jwk: Jwk = serde_json::from_value(serde_json::json!({
        "kty": "RSA",
        "n": common::base64url(&public.n().to_bytes_be()),
        "e": common::base64url(&public.e().to_bytes_be()),
    }))
    .unwrap();

    let client = block_on(config.into_client(rustcrypto_signer)).unwrap();
    let env = Env::default();
    env.transport
        .push_json(200, fixture!("entra/client_credentials_success.json"));
    let scopes = Scopes::parse("https://graph.microsoft.com/.default").unwrap();
    block_on(client.acquire_token_for_client(&scopes, &env.platform(&NoStore))).unwrap();

    let body = form(&env.transport.last().body);
    assert_eq!(
        body["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert!(!body.contains_key("client_secret"));
    let assertion = UnverifiedToken::parse(&body["client_assertion"]).unwrap();
    assert_eq!(assertion.header().alg, "PS256");
    assert_eq!(assertion.header().typ.as_deref(), Some("JWT"));
    let claims = assertion.claims();
    assert_eq!(claims["aud"], ENTRA_TOKEN_ENDPOINT);
    assert_eq!(claims["iss"], "daemon");
    assert_eq!(claims["sub"], "daemon");
    assert_eq!(claims["nbf"], NOW);
    assert_eq!(claims["exp"], NOW + 600);
    assert!(claims["jti"].as_str().is_some_and(|jti| jti.len() == 36));
    let (input, signature) = (assertion.signing_input(), assertion.signature());
    let verified =
        block_on(RustCryptoVerifier.verify(VerificationAlgorithm::Ps256, &jwk, input, signature));
    verified.expect("signed with the PFX key");
}

#[test]
fn an_unusable_pfx_is_refused_naming_the_key_never_the_password() {
    for (pfx, password, expected) in [
        (AES_PFX, "wr0ng-password", "wrong CertificatePassword"),
        (
            fixture!("azure_ad/daemon-cert-only.pfx.b64"),
            PFX_PASSWORD,
            "holds no private key",
        ),
        (
            fixture!("azure_ad/key-only.pfx.b64"),
            PFX_PASSWORD,
            "holds no certificate",
        ),
        (
            fixture!("azure_ad/key-not-of-certificate.pfx.b64"),
            PFX_PASSWORD,
            "matches none of its certificates",
        ),
    ] {
        let message = config_error(&settings(&[("AZURE_AD", &pfx_section(pfx, password))]));
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(!message.contains(password), "{message}");
    }
}
