//! The protected resource's rule with replayed provider answers: bearer syntax before any IO,
//! then issuer, audience, time, signature, then the required scopes or roles. The web API's
//! and the daemon's tests run the same rule through their routes.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::config::ClientConfig;
use crate::testing::{MapSettings, MapStore, ReplayPlatform, NOW};
use crate::validation::verifier::rustcrypto::RustCryptoVerifier;
use crate::validation::verifier::tests::{public_jwk_json, sign_jws, KEY_PEM};
use crate::validation::TokenError;
use alloc::format;
use futures::executor::block_on;
use serde_json::Value;

/// The test provider's issuer.
pub(crate) const ISSUER: &str = "https://id.example.com";
/// Its discovery document.
pub(crate) const DISCOVERY: &str = r#"{"issuer":"https://id.example.com","authorization_endpoint":"https://id.example.com/authorize","token_endpoint":"https://id.example.com/token","jwks_uri":"https://id.example.com/jwks"}"#;

/// The provider's key set (`kid` `k1`).
pub(crate) fn jwks() -> String {
    json!({"keys": [public_jwk_json(KEY_PEM, "k1")]}).to_string()
}

/// A platform whose provider answers discovery, then its key set.
pub(crate) fn provider() -> ReplayPlatform {
    ReplayPlatform::new(&[(200, DISCOVERY), (200, &jwks())])
}

/// An access token signed by the provider's key, with `claims` over an app-only base (`iss`,
/// `sub` = `azp` = `caller`, `iat`, `exp` in an hour).
pub(crate) fn signed_token(claims: &Value) -> String {
    let mut all = json!({
        "iss": ISSUER, "sub": "caller", "azp": "caller", "iat": NOW, "exp": NOW + 3600,
    });
    if let (Some(all), Some(extra)) = (all.as_object_mut(), claims.as_object()) {
        all.extend(extra.clone());
    }
    sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}),
        &all,
    )
}

/// An app-only token for `aud` carrying `roles`.
pub(crate) fn app_token(aud: &str, roles: &[&str]) -> String {
    signed_token(&json!({"aud": aud, "roles": roles}))
}

fn client() -> ConfidentialClient {
    let settings = MapSettings::of(&[
        ("AUTHORITY", ISSUER),
        ("CLIENT_ID", "daemon"),
        ("CLIENT_SECRET", "pw"),
    ]);
    let config = ClientConfig::from_settings(&settings).unwrap();
    let signer = |_, _| async { Err(Error::Signing("no certificate here".into())) };
    block_on(config.into_client(signer)).unwrap()
}

fn roles_policy() -> AccessPolicy {
    AccessPolicy::new(
        vec!["api://daemon".into(), "daemon".into()],
        RequiredPermissions::new(Vec::new(), vec!["Daemon.Call".into()]),
        Vec::new(),
    )
    .unwrap()
}

/// The URLs of the requests `replay` has seen, in order.
pub(crate) fn urls(replay: &ReplayPlatform) -> Vec<String> {
    replay
        .requests
        .borrow()
        .iter()
        .map(|request| request.url.to_string())
        .collect()
}

/// What a first validation fetches: discovery, then the key set.
pub(crate) const DISCOVERY_AND_KEYS: [&str; 2] = [
    "https://id.example.com/.well-known/openid-configuration",
    "https://id.example.com/jwks",
];

/// A resource requiring the role `Daemon.Call` for `api://daemon`, and the app's own client.
struct Fixture {
    resource: ProtectedResource,
    client: ConfidentialClient,
}

impl Fixture {
    fn new() -> Self {
        Self {
            resource: ProtectedResource::new(roles_policy(), Box::new(RustCryptoVerifier::new())),
            client: client(),
        }
    }

    fn authenticate(
        &self,
        replay: &ReplayPlatform,
        authorization: Option<&str>,
    ) -> Result<Caller, Rejection> {
        let store = MapStore::default();
        block_on(
            self.resource
                .authenticate(&self.client, authorization, &replay.platform(&store)),
        )
    }

    /// The rejection of `token` sent as a bearer (panics if it passes).
    fn refuse(&self, replay: &ReplayPlatform, token: &str) -> Rejection {
        self.authenticate(replay, Some(&format!("Bearer {token}")))
            .unwrap_err()
    }
}

#[test]
fn a_policy_needs_an_audience_and_a_permission() {
    let roles = RequiredPermissions::new(Vec::new(), vec!["Daemon.Call".into()]);
    assert!(matches!(
        AccessPolicy::new(Vec::new(), roles.clone(), Vec::new()),
        Err(Error::Configuration(message)) if message.contains("audience")
    ));
    assert!(matches!(
        AccessPolicy::new(vec!["api://daemon".into()], RequiredPermissions::default(), Vec::new()),
        Err(Error::Configuration(message)) if message.contains("scope or role")
    ));
    assert_eq!(
        setting_list(Some("api://a, b  c".into())),
        ["api://a", "b", "c"]
    );
    assert!(setting_list(None).is_empty());
}

#[test]
fn missing_or_malformed_credentials_are_refused_before_any_request() {
    let fixture = Fixture::new();
    let replay = ReplayPlatform::new(&[]);
    let missing = fixture.authenticate(&replay, None).unwrap_err();
    assert_eq!(missing, Rejection::Credentials(CredentialsError::Missing));
    let response = missing.response();
    assert_eq!(response.status, 401);
    assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    for header in ["Basic dXNlcjpwdw==", "Bearer", "Bearer a b"] {
        let refused = fixture.authenticate(&replay, Some(header)).unwrap_err();
        assert!(matches!(refused, Rejection::Credentials(_)), "{header}");
        assert_eq!(refused.response().status, 401);
    }
    assert!(replay.requests.borrow().is_empty());
}

#[test]
fn a_token_with_a_required_role_passes_and_one_without_is_forbidden() {
    let fixture = Fixture::new();
    let replay = provider();
    let good = app_token("api://daemon", &["Other.Role", "Daemon.Call"]);
    let caller = fixture
        .authenticate(&replay, Some(&format!("Bearer {good}")))
        .unwrap();
    assert_eq!(caller.claims.roles, ["Other.Role", "Daemon.Call"]);
    assert_eq!(caller.token.expose_secret(), good);

    for token in [
        app_token("daemon", &["Reports.Read"]),
        app_token("daemon", &[]),
        // A delegated token whose scope is named like the role: roles only.
        signed_token(&json!({"aud": "api://daemon", "scp": "Daemon.Call"})),
    ] {
        let refused = fixture.refuse(&replay, &token);
        let response = refused.response();
        assert_eq!(response.status, 403);
        assert_eq!(
            response.header("www-authenticate"),
            Some(
                r#"Bearer error="insufficient_scope", error_description="the token lacks the required scope or role", scope="Daemon.Call""#
            )
        );
        assert!(!refused.to_string().contains(&token));
    }
    // Discovery and keys, once each: the keys are kept.
    assert_eq!(urls(&replay), DISCOVERY_AND_KEYS);
}

#[test]
fn issuer_audience_time_and_signature_are_each_enforced() {
    let fixture = Fixture::new();
    let replay = provider();
    let roles = json!(["Daemon.Call"]);
    let mut forged = app_token("api://daemon", &["Daemon.Call"]);
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    let cases = [
        signed_token(&json!({"aud": "api://other", "roles": roles})),
        signed_token(
            &json!({"aud": "api://daemon", "roles": roles, "iss": "https://evil.example.com"}),
        ),
        signed_token(&json!({"aud": "api://daemon", "roles": roles, "exp": NOW - 600})),
        signed_token(&json!({"aud": "api://daemon", "roles": roles, "nbf": NOW + 600})),
        forged,
    ];
    for token in cases {
        let refused = fixture.refuse(&replay, &token);
        assert!(matches!(refused, Rejection::InvalidToken(_)), "{refused:?}");
        let response = refused.response();
        assert_eq!(response.status, 401);
        assert!(response
            .header("www-authenticate")
            .unwrap()
            .starts_with(r#"Bearer error="invalid_token", error_description=""#));
        assert!(!String::from_utf8_lossy(&response.body).contains(&token));
    }
}

#[test]
fn unreachable_keys_are_the_providers_fault_not_the_callers() {
    let fixture = Fixture::new();
    let replay = ReplayPlatform::new(&[(200, DISCOVERY), (500, "down"), (500, "down")]);
    let token = app_token("api://daemon", &["Daemon.Call"]);
    let refused = fixture.refuse(&replay, &token);
    assert!(matches!(refused, Rejection::Unavailable(_)), "{refused:?}");
    assert_eq!(refused.response().status, 503);
}

#[test]
fn a_new_isolate_validates_with_the_stored_discovery_and_keys() {
    // Two isolates with the store tier on (TOKEN_CACHE_KEY) sharing one store.
    let isolate = || {
        let settings = MapSettings::of(&[
            ("AUTHORITY", ISSUER),
            ("CLIENT_ID", "daemon"),
            ("CLIENT_SECRET", "pw"),
            ("TOKEN_CACHE_KEY", crate::testing::TOKEN_CACHE_KEY),
        ]);
        let config = ClientConfig::from_settings(&settings).unwrap();
        let signer = |_, _| async { Err(Error::Signing("no certificate here".into())) };
        let client = block_on(config.into_client(signer)).unwrap();
        let resource = ProtectedResource::new(roles_policy(), Box::new(RustCryptoVerifier::new()));
        (client, resource)
    };
    let store = MapStore::default();
    let replay = provider();
    let token = format!("Bearer {}", app_token("api://daemon", &["Daemon.Call"]));
    let (client, resource) = isolate();
    block_on(resource.authenticate(&client, Some(&token), &replay.platform(&store))).unwrap();
    assert_eq!(urls(&replay), DISCOVERY_AND_KEYS);
    let (client, resource) = isolate();
    block_on(resource.authenticate(&client, Some(&token), &replay.platform(&store))).unwrap();
    assert_eq!(urls(&replay), DISCOVERY_AND_KEYS, "nothing fetched again");
}

/// The signature backend counting its verifications.
struct CountingVerifier {
    inner: RustCryptoVerifier,
    count: alloc::rc::Rc<core::cell::Cell<usize>>,
}

impl JwsVerifier for CountingVerifier {
    fn verify<'a>(
        &'a self,
        algorithm: VerificationAlgorithm,
        key: &'a crate::validation::Jwk,
        signing_input: &'a [u8],
        signature: &'a [u8],
    ) -> crate::platform::LocalBoxFuture<'a, Result<(), Error>> {
        self.count.set(self.count.get() + 1);
        self.inner.verify(algorithm, key, signing_input, signature)
    }
}

/// A fixture whose verifier counts, and the count.
fn counting_fixture() -> (Fixture, alloc::rc::Rc<core::cell::Cell<usize>>) {
    let count = alloc::rc::Rc::default();
    let verifier = CountingVerifier {
        inner: RustCryptoVerifier::new(),
        count: alloc::rc::Rc::clone(&count),
    };
    let fixture = Fixture {
        resource: ProtectedResource::new(roles_policy(), Box::new(verifier)),
        client: client(),
    };
    (fixture, count)
}

#[test]
fn the_same_token_again_is_not_verified_again_and_answers_the_same_caller() {
    let (fixture, verified) = counting_fixture();
    let replay = provider();
    let good = app_token("api://daemon", &["Daemon.Call"]);
    let header = format!("Bearer {good}");
    let first = fixture.authenticate(&replay, Some(&header)).unwrap();
    assert_eq!(verified.get(), 1);
    replay.now.set(NOW + 60);
    let again = fixture.authenticate(&replay, Some(&header)).unwrap();
    assert_eq!(verified.get(), 1, "held: no second verification");
    assert_eq!(again.claims, first.claims);
    assert_eq!(again.token.expose_secret(), first.token.expose_secret());
    assert_eq!(urls(&replay), DISCOVERY_AND_KEYS);
    assert!(!format!("{:?}", fixture.resource).contains(&good));
}

#[test]
fn a_tampered_token_after_a_good_one_is_refused() {
    let (fixture, verified) = counting_fixture();
    let replay = provider();
    let good = app_token("api://daemon", &["Daemon.Call"]);
    fixture
        .authenticate(&replay, Some(&format!("Bearer {good}")))
        .unwrap();
    let last = if good.ends_with('A') { "B" } else { "A" };
    let tampered = format!("{}{last}", &good[..good.len() - 1]);
    let refused = fixture.refuse(&replay, &tampered);
    assert!(
        matches!(
            refused,
            Rejection::InvalidToken(Error::InvalidToken(TokenError::BadSignature))
        ),
        "{refused:?}"
    );
    assert_eq!(verified.get(), 2, "the tampered token was verified");
    // Neither is a refusal kept: the good token still passes, from the table.
    fixture
        .authenticate(&replay, Some(&format!("Bearer {good}")))
        .unwrap();
    assert_eq!(verified.get(), 2);
}

#[test]
fn a_held_token_is_refused_once_expired_as_the_full_validation_refuses_it() {
    let (fixture, verified) = counting_fixture();
    let replay = provider();
    // Expired 250 s ago: accepted within the 300 s clock-skew allowance, for 50 s more.
    let token =
        signed_token(&json!({"aud": "api://daemon", "roles": ["Daemon.Call"], "exp": NOW - 250}));
    let header = format!("Bearer {token}");
    fixture.authenticate(&replay, Some(&header)).unwrap();
    replay.now.set(NOW + 49);
    fixture.authenticate(&replay, Some(&header)).unwrap();
    assert_eq!(verified.get(), 1);
    replay.now.set(NOW + 50);
    let refused = fixture.refuse(&replay, &token);
    assert_eq!(
        refused,
        Rejection::InvalidToken(Error::InvalidToken(TokenError::Expired))
    );
    assert_eq!(refused.response().status, 401);
}

#[test]
fn a_token_without_the_required_role_is_never_held() {
    let (fixture, verified) = counting_fixture();
    let replay = provider();
    let token = app_token("api://daemon", &["Reports.Read"]);
    for _ in 0..2 {
        assert!(matches!(
            fixture.refuse(&replay, &token),
            Rejection::InsufficientScope(_)
        ));
    }
    assert_eq!(verified.get(), 2, "verified each time");
}

#[test]
fn a_refetched_key_set_has_held_tokens_verified_again() {
    let (fixture, verified) = counting_fixture();
    let replay = provider();
    let header = |token: &str| format!("Bearer {token}");
    // The keys are fetched for a first caller; another's token is validated 200 s later.
    let first = app_token("api://daemon", &["Daemon.Call"]);
    fixture
        .authenticate(&replay, Some(&header(&first)))
        .unwrap();
    replay.now.set(NOW + 200);
    let held = signed_token(&json!({"aud": "daemon", "roles": ["Daemon.Call"], "sub": "c1"}));
    fixture.authenticate(&replay, Some(&header(&held))).unwrap();
    assert_eq!(verified.get(), 2);
    // At the end of the refetch cooldown a token names a new key: the set is fetched again
    // (the same key, under its new `kid` too).
    replay.now.set(NOW + 300);
    let rotated = json!({"keys": [
        public_jwk_json(KEY_PEM, "k1"), public_jwk_json(KEY_PEM, "k2"),
    ]});
    replay.push(200, &rotated.to_string());
    let new_kid = sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": "k2", "typ": "JWT"}),
        &json!({"iss": ISSUER, "sub": "c2", "azp": "c2", "aud": "api://daemon",
            "roles": ["Daemon.Call"], "iat": NOW, "exp": NOW + 3600}),
    );
    fixture
        .authenticate(&replay, Some(&header(&new_kid)))
        .unwrap();
    assert_eq!(urls(&replay).len(), 3, "the key set was fetched again");
    assert_eq!(verified.get(), 3);
    // The token held since before the refetch (100 s ago) is verified again, then held anew.
    fixture.authenticate(&replay, Some(&header(&held))).unwrap();
    assert_eq!(verified.get(), 4);
    fixture.authenticate(&replay, Some(&header(&held))).unwrap();
    assert_eq!(verified.get(), 4);
}
