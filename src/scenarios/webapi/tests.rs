//! The web API's decisions with replayed provider and downstream answers: bearer validation
//! before any work, on-behalf-of per incoming token, claims challenges in both directions.
//! The real provider, downstream API and two Workers run the same paths end to end in
//! `testbed/e2e/webapi.test.mjs`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::scenarios::protected::tests::{provider, urls, DISCOVERY, ISSUER};
use crate::secret::AccessToken;
use crate::testing::{MapSettings, MapStore, ReplayPlatform, NOW};
use crate::validation::verifier::rustcrypto::RustCryptoVerifier;
use crate::validation::verifier::tests::{public_jwk_json, sign_jws, KEY_PEM, P256_KEY_PEM};
use crate::validation::verifier::VerificationAlgorithm;
use alloc::format;
use alloc::string::ToString;
use futures::executor::block_on;
use serde_json::{json, Value};

const CLAIMS: &str = r#"{"access_token":{"capolids":{"essential":true,"values":["c1"]}}}"#;

fn api(extra: &[(&'static str, &str)]) -> WebApi {
    let mut settings = MapSettings::of(&[
        ("AUTHORITY", ISSUER),
        ("CLIENT_ID", "webapi"),
        ("CLIENT_SECRET", "pw"),
        ("API_AUDIENCE", "api://webapi webapi"),
        ("API_REQUIRED_SCOPE", "access_as_user"),
        (
            "API_DOWNSTREAM_URL",
            "https://downstream.example.com/profile",
        ),
        ("API_DOWNSTREAM_SCOPES", "api://downstream/user.read"),
        ("CLIENT_CAPABILITIES", "cp1"),
    ]);
    for (name, value) in extra {
        settings.0.insert(name, value.to_string());
    }
    let config = WebApiConfig::from_settings(&settings).unwrap();
    let signer = |_, _| async { Err(Error::Signing("no certificate here".into())) };
    block_on(WebApi::build(
        config,
        signer,
        Box::new(RustCryptoVerifier::new()),
    ))
    .unwrap()
}

fn user_token(sub: &str, aud: &str, scp: &str) -> String {
    let claims = json!({
        "iss": ISSUER, "sub": sub, "aud": aud, "scp": scp, "azp": "webapp",
        "iat": NOW, "exp": NOW + 3600,
    });
    sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}),
        &claims,
    )
}

fn bearer(token: &str) -> WebRequest {
    WebRequest {
        authorization: Some(format!("Bearer {token}")),
        ..WebRequest::default()
    }
}

fn obo_token(access: &str) -> String {
    json!({"token_type": "Bearer", "access_token": access, "expires_in": 3600}).to_string()
}

fn body(response: &WebResponse) -> Value {
    serde_json::from_slice(&response.body).unwrap()
}

fn form(replay: &ReplayPlatform, index: usize) -> String {
    String::from_utf8(replay.requests.borrow()[index].body.clone()).unwrap()
}

#[test]
fn a_valid_caller_gets_the_downstream_answer_through_on_behalf_of_once() {
    let api = api(&[]);
    let replay = provider();
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let alice = user_token("alice", "api://webapi", "access_as_user");
    replay.push(200, &obo_token("obo-alice"));
    replay.push(200, r#"{"ok":true}"#);
    let first = block_on(api.profile(&bearer(&alice), &platform));
    assert_eq!(
        first.status,
        200,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    assert_eq!(first.body, br#"{"ok":true}"#);
    assert_eq!(first.header("x-edge-token-source"), Some("provider"));
    assert_eq!(
        urls(&replay),
        [
            "https://id.example.com/.well-known/openid-configuration",
            "https://id.example.com/jwks",
            "https://id.example.com/token",
            "https://downstream.example.com/profile",
        ]
    );
    let obo = form(&replay, 2);
    assert!(obo.starts_with(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&client_id=webapi"
    ));
    assert!(obo.contains(&format!(
        "&assertion={alice}&requested_token_use=on_behalf_of"
    )));
    assert!(obo.contains("&claims=%7B%22access_token%22%3A%7B%22xms_cc%22"));
    assert_eq!(
        replay.requests.borrow()[3].header("authorization"),
        Some("Bearer obo-alice")
    );

    // The same incoming token again: memory, no token request.
    replay.push(200, r#"{"ok":true}"#);
    let second = block_on(api.profile(&bearer(&alice), &platform));
    assert_eq!(second.header("x-edge-token-source"), Some("memory"));
    assert_eq!(replay.requests.borrow().len(), 5);

    // Another user: a token request of their own, never alice's token.
    let bob = user_token("bob", "webapi", "access_as_user");
    replay.push(200, &obo_token("obo-bob"));
    replay.push(200, r#"{"ok":true}"#);
    let third = block_on(api.profile(&bearer(&bob), &platform));
    assert_eq!(third.header("x-edge-token-source"), Some("provider"));
    assert!(form(&replay, 5).contains(&format!("&assertion={bob}&")));
    assert_eq!(
        replay.requests.borrow()[6].header("authorization"),
        Some("Bearer obo-bob")
    );
}

#[test]
fn malformed_or_missing_credentials_are_refused_before_any_request() {
    let api = api(&[]);
    let replay = ReplayPlatform::new(&[]);
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let missing = block_on(api.profile(&WebRequest::default(), &platform));
    assert_eq!(missing.status, 401);
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    assert_eq!(body(&missing)["error"], "missing_token");
    for header in ["Basic dXNlcjpwdw==", "Bearer", "Bearer a b", "Bearer ä"] {
        let request = WebRequest {
            authorization: Some(header.into()),
            ..WebRequest::default()
        };
        let refused = block_on(api.profile(&request, &platform));
        assert_eq!(refused.status, 401, "{header}");
        assert!(refused
            .header("www-authenticate")
            .unwrap()
            .starts_with(r#"Bearer error="invalid_token", error_description=""#));
    }
    assert!(replay.requests.borrow().is_empty());
}

#[test]
fn invalid_tokens_are_refused_before_on_behalf_of() {
    let api = api(&[]);
    let replay = provider();
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let cases = [
        (
            user_token("alice", "api://downstream", "user.read"),
            "`aud` is not the expected audience",
        ),
        ("not.a.jwt".to_string(), "not a well-formed compact JWS"),
    ];
    for (token, description) in cases {
        let refused = block_on(api.profile(&bearer(&token), &platform));
        assert_eq!(refused.status, 401);
        let challenge = refused.header("www-authenticate").unwrap();
        let parsed = BearerChallenge::from_header_value(challenge).unwrap();
        assert_eq!(parsed.error, Some(BearerErrorCode::InvalidToken));
        assert_eq!(parsed.error_description.as_deref(), Some(description));
    }
    let unscoped = user_token("alice", "api://webapi", "other.scope");
    let forbidden = block_on(api.profile(&bearer(&unscoped), &platform));
    assert_eq!(forbidden.status, 403);
    assert_eq!(
        forbidden.header("www-authenticate"),
        Some(
            r#"Bearer error="insufficient_scope", error_description="the token lacks the required scope or role", scope="access_as_user""#
        )
    );
    // Discovery and keys only: no token request, no downstream call.
    assert_eq!(replay.requests.borrow().len(), 2);
}

#[test]
fn interaction_required_carries_the_claims_challenge_to_the_caller() {
    let api = api(&[]);
    let replay = provider();
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let error = json!({
        "error": "interaction_required",
        "error_description": "AADSTS50079: Due to a configuration change made by your administrator...",
        "error_codes": [50079], "suberror": "basic_action", "claims": CLAIMS,
        "correlation_id": "c0ffee00-0000-0000-0000-000000000000",
    });
    replay.push(400, &error.to_string());
    let carol = user_token("carol", "api://webapi", "access_as_user");
    let answer = block_on(api.profile(&bearer(&carol), &platform));
    assert_eq!(answer.status, 401);
    let challenge =
        BearerChallenge::from_header_value(answer.header("www-authenticate").unwrap()).unwrap();
    assert_eq!(challenge.error, Some(BearerErrorCode::InsufficientClaims));
    assert_eq!(challenge.claims.as_deref(), Some(CLAIMS));
    let body = body(&answer);
    assert_eq!(body["error"], "interaction_required");
    assert_eq!(body["suberror"], "basic_action");
    assert_eq!(body["claims"], CLAIMS);
    assert!(!String::from_utf8_lossy(&answer.body).contains("AADSTS50079: Due"));

    // The provider refusing the incoming token itself: 401 invalid_token. (Another caller:
    // carol's identical request is now refused from memory for a while, MSAL's UI-required
    // throttle, without reaching the provider.)
    replay.push(400, r#"{"error":"invalid_grant","error_codes":[50013]}"#);
    let dave = user_token("dave", "api://webapi", "access_as_user");
    let refused = block_on(api.profile(&bearer(&dave), &platform));
    assert_eq!(refused.status, 401);
    assert!(refused
        .header("www-authenticate")
        .unwrap()
        .contains(r#"error="invalid_token""#));
}

#[test]
fn a_downstream_claims_challenge_gets_a_new_token_with_the_claims_and_one_retry() {
    let api = api(&[]);
    let replay = provider();
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let alice = user_token("alice", "api://webapi", "access_as_user");
    let challenge = BearerChallenge {
        claims: Some(r#"{"access_token":{"nbf":{"essential":true,"value":"1"}}}"#.into()),
        ..BearerChallenge::error(BearerErrorCode::InsufficientClaims, "")
    };
    replay.push(200, &obo_token("obo-1"));
    replay.push_response(
        401,
        &[("www-authenticate", &challenge.to_header_value())],
        "",
    );
    replay.push(200, &obo_token("obo-2"));
    replay.push(200, r#"{"ok":true}"#);
    let answer = block_on(api.profile(&bearer(&alice), &platform));
    assert_eq!(answer.status, 200);
    assert_eq!(replay.requests.borrow().len(), 6);
    let retry = form(&replay, 4);
    // Capabilities and the challenge, merged.
    let claims: String = form_urlencoded::parse(retry.as_bytes())
        .find(|(name, _)| name == "claims")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    let claims: Value = serde_json::from_str(&claims).unwrap();
    assert_eq!(
        claims,
        json!({"access_token": {"xms_cc": {"values": ["cp1"]}, "nbf": {"essential": true, "value": "1"}}})
    );
    assert_eq!(
        replay.requests.borrow()[5].header("authorization"),
        Some("Bearer obo-2")
    );
    // The new token replaced the refused one in the cache.
    replay.push(200, r#"{"ok":true}"#);
    let again = block_on(api.profile(&bearer(&alice), &platform));
    assert_eq!(again.header("x-edge-token-source"), Some("memory"));
    assert_eq!(
        replay.requests.borrow()[6].header("authorization"),
        Some("Bearer obo-2")
    );
}

#[test]
fn on_behalf_of_needs_a_tenant_and_a_permission_rule() {
    let api = api(&[(
        "AUTHORITY",
        "https://login.microsoftonline.com/organizations",
    )]);
    let replay = ReplayPlatform::new(&[]);
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let assertion = AccessToken::new("a.b.c");
    let scopes = crate::protocol::scope::Scopes::parse("api://downstream/.default").unwrap();
    let refused = block_on(api.client.acquire_token_on_behalf_of(
        &assertion,
        &scopes,
        &Default::default(),
        &platform,
    ));
    assert!(matches!(refused, Err(Error::Configuration(_))));
    assert!(replay.requests.borrow().is_empty());

    let mut settings = MapSettings::of(&[
        ("AUTHORITY", ISSUER),
        ("CLIENT_ID", "webapi"),
        ("CLIENT_SECRET", "pw"),
        ("API_AUDIENCE", "api://webapi"),
        (
            "API_DOWNSTREAM_URL",
            "https://downstream.example.com/profile",
        ),
        ("API_DOWNSTREAM_SCOPES", "api://downstream/user.read"),
    ]);
    assert!(matches!(
        WebApiConfig::from_settings(&settings),
        Err(Error::Configuration(message)) if message.contains("API_REQUIRED_SCOPE")
    ));
    settings
        .0
        .insert("API_REQUIRED_ROLES", "Profile.Read.All".into());
    assert!(WebApiConfig::from_settings(&settings).is_ok());
}

#[test]
fn an_app_only_caller_with_a_required_role_is_served_with_the_apis_own_app_token() {
    use crate::scenarios::protected::tests::app_token;
    let api = api(&[("API_REQUIRED_ROLES", "Profiles.Read.All")]);
    let replay = provider();
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let daemon = app_token("api://webapi", &["Profiles.Read.All"]);
    replay.push(200, &obo_token("app-token-of-webapi"));
    replay.push(200, r#"{"ok":true}"#);
    let first = block_on(api.profile(&bearer(&daemon), &platform));
    assert_eq!(
        first.status,
        200,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    let request = form(&replay, 2);
    assert!(
        request.starts_with("grant_type=client_credentials&client_id=webapi"),
        "{request}"
    );
    assert!(
        request.contains("&scope=api%3A%2F%2Fdownstream%2F.default"),
        "{request}"
    );
    assert!(
        !request.contains("assertion="),
        "no on-behalf-of for an app-only caller"
    );
    assert_eq!(
        replay.requests.borrow()[3].header("authorization"),
        Some("Bearer app-token-of-webapi")
    );
    // The app token is the API's, whoever the caller: cached, not per incoming token.
    let other = app_token("api://webapi", &["Profiles.Read.All"]);
    replay.push(200, r#"{"ok":true}"#);
    let again = block_on(api.profile(&bearer(&other), &platform));
    assert_eq!(again.status, 200);
    assert_eq!(again.header("x-edge-token-source"), Some("memory"));
    assert_eq!(replay.requests.borrow().len(), 5);

    // Without the role: refused before any token request.
    let stranger = app_token("api://webapi", &["Reports.Read"]);
    let refused = block_on(api.profile(&bearer(&stranger), &platform));
    assert_eq!(refused.status, 403);
    assert_eq!(replay.requests.borrow().len(), 5);
}

#[test]
fn app_only_callers_are_refused_when_no_app_scope_exists() {
    use crate::scenarios::protected::tests::app_token;
    // `API_DOWNSTREAM_SCOPES` naming no resource gives no `{resource}/.default`.
    let api = api(&[
        ("API_REQUIRED_ROLES", "Profiles.Read.All"),
        ("API_DOWNSTREAM_SCOPES", "profile.read"),
    ]);
    let replay = provider();
    let store = MapStore::default();
    let daemon = app_token("api://webapi", &["Profiles.Read.All"]);
    let refused = block_on(api.profile(&bearer(&daemon), &replay.platform(&store)));
    assert_eq!(refused.status, 403);
    assert!(refused
        .header("www-authenticate")
        .is_some_and(|challenge| challenge.contains("insufficient_scope")));
    assert_eq!(replay.requests.borrow().len(), 2, "discovery and keys only");
}

#[test]
fn es256_callers_are_accepted_only_when_access_token_signing_alg_is_es256() {
    // A provider signing with ES256 and publishing its P-256 key next to an RSA one.
    let keys =
        json!({"keys": [public_jwk_json(P256_KEY_PEM, "ec"), public_jwk_json(KEY_PEM, "k1")]});
    let provider = || ReplayPlatform::new(&[(200, DISCOVERY), (200, &keys.to_string())]);
    let claims = json!({
        "iss": ISSUER, "sub": "alice", "aud": "api://webapi", "scp": "access_as_user",
        "azp": "webapp", "iat": NOW, "exp": NOW + 3600,
    });
    let es256 = sign_jws(
        P256_KEY_PEM,
        VerificationAlgorithm::Es256,
        &json!({"alg": "ES256", "kid": "ec", "typ": "JWT"}),
        &claims,
    );
    let store = MapStore::default();

    let api_es256 = api(&[("ACCESS_TOKEN_SIGNING_ALG", "ES256")]);
    let replay = provider();
    replay.push(200, &obo_token("obo-alice"));
    replay.push(200, r#"{"ok":true}"#);
    let accepted = block_on(api_es256.profile(&bearer(&es256), &replay.platform(&store)));
    assert_eq!(
        accepted.status,
        200,
        "{}",
        String::from_utf8_lossy(&accepted.body)
    );
    assert!(form(&replay, 2).contains(&format!("&assertion={es256}&")));
    // An RS256 token from the same issuer is refused there, before on-behalf-of.
    let rs256 = user_token("alice", "api://webapi", "access_as_user");
    let refused = block_on(api_es256.profile(&bearer(&rs256), &replay.platform(&store)));
    assert_eq!(refused.status, 401);
    assert_eq!(
        body(&refused)["error_description"],
        "`alg` is not the configured algorithm"
    );
    assert_eq!(replay.requests.borrow().len(), 4);

    // The default (RS256) refuses the ES256 token.
    let api_rs256 = api(&[]);
    let replay = provider();
    let refused = block_on(api_rs256.profile(&bearer(&es256), &replay.platform(&store)));
    assert_eq!(refused.status, 401);
    assert_eq!(
        body(&refused)["error_description"],
        "`alg` is not the configured algorithm"
    );
    assert_eq!(replay.requests.borrow().len(), 2, "discovery and keys only");

    let error = WebApiConfig::from_settings(&MapSettings::of(&[
        ("AUTHORITY", ISSUER),
        ("CLIENT_ID", "webapi"),
        ("CLIENT_SECRET", "pw"),
        ("API_AUDIENCE", "api://webapi"),
        ("API_REQUIRED_SCOPE", "access_as_user"),
        (
            "API_DOWNSTREAM_URL",
            "https://downstream.example.com/profile",
        ),
        ("API_DOWNSTREAM_SCOPES", "api://downstream/user.read"),
        ("ACCESS_TOKEN_SIGNING_ALG", "HS256"),
    ]))
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "configuration error: ACCESS_TOKEN_SIGNING_ALG must be RS256, PS256 or ES256"
    );
}
