//! The web app's decisions with a replayed provider: sign-in, callback (success, replay,
//! tampering, nonce), redirect URIs, sessions and their timeouts, sign-out; the helpers the
//! other web app tests share (calls and silent acquisition are in `calls/tests.rs`).
//! The real provider and browser run the same paths end to end in `testbed/e2e/webapp.test.mjs`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::config::Settings;
use crate::protocol::authorization::Transaction;
use crate::testing::{MapStore, ReplayPlatform, NOW};
use crate::validation::verifier::rustcrypto::RustCryptoVerifier;
use crate::validation::verifier::tests::{public_jwk_json, sign_jws, KEY_PEM};
use alloc::collections::BTreeMap;
use futures::executor::block_on;

pub(super) const ISSUER: &str = "https://id.example.com";
pub(super) const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
pub(super) const DISCOVERY: &str = r#"{"issuer":"https://id.example.com","authorization_endpoint":"https://id.example.com/authorize","token_endpoint":"https://id.example.com/token","jwks_uri":"https://id.example.com/jwks","end_session_endpoint":"https://id.example.com/logout"}"#;

struct Map(BTreeMap<&'static str, String>);
impl Settings for Map {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// The web app of these tests (client `webapp` of [`ISSUER`], a secret, one redirect URI), with
/// `extra` settings added or replaced.
pub(super) fn app(extra: &[(&'static str, &str)]) -> WebApp {
    let mut settings = BTreeMap::from([
        ("AUTHORITY", ISSUER.to_string()),
        ("CLIENT_ID", "webapp".to_string()),
        ("CLIENT_SECRET", "pw".to_string()),
        (
            "REDIRECT_URI",
            "https://app.example.com/auth/callback".to_string(),
        ),
        ("COOKIE_KEY", KEY.to_string()),
        (
            "POST_LOGOUT_REDIRECT_URI",
            "https://app.example.com/".to_string(),
        ),
        (
            "DOWNSTREAM_URL",
            "https://api.example.com/whoami".to_string(),
        ),
        ("DOWNSTREAM_SCOPES", "api://downstream/.default".to_string()),
    ]);
    for (name, value) in extra {
        settings.insert(name, value.to_string());
    }
    let config = WebAppConfig::from_settings(&Map(settings)).unwrap();
    let signer = |_, _| async { Err(Error::Signing("no certificate here".into())) };
    block_on(WebApp::build(
        config,
        signer,
        Box::new(RustCryptoVerifier::new()),
    ))
    .unwrap()
}

/// A `GET` with `query` and `cookies`.
pub(super) fn get(query: &[(&str, &str)], cookies: &[(String, String)]) -> WebRequest {
    WebRequest {
        query: query
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        cookies: cookies.to_vec(),
        ..WebRequest::default()
    }
}

/// The query parameter `name` of the URL `location` (empty when absent).
pub(super) fn param(location: &str, name: &str) -> String {
    let url = Url::parse(location).unwrap();
    let value = url
        .query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned());
    value.unwrap_or_default()
}

pub(super) fn cookie_pair(response: &WebResponse, prefix: &str) -> (String, String) {
    let cookie = response
        .cookies
        .iter()
        .find(|c| c.name.starts_with(prefix))
        .unwrap();
    (cookie.name.clone(), cookie.value.clone())
}

pub(super) fn id_token(nonce: &str) -> String {
    let claims = json!({"iss": ISSUER, "sub": "alice", "aud": "webapp", "exp": NOW + 3600, "iat": NOW, "nonce": nonce, "name": "Alice Example"});
    sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": "k1"}),
        &claims,
    )
}

pub(super) fn token_response(
    id_token: Option<&str>,
    access: &str,
    refresh: Option<&str>,
    expires_in: u64,
) -> String {
    let mut body =
        json!({"token_type": "Bearer", "access_token": access, "expires_in": expires_in});
    if let Some(id_token) = id_token {
        body["id_token"] = json!(id_token);
    }
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    body.to_string()
}

pub(super) fn jwks() -> String {
    json!({"keys": [public_jwk_json(KEY_PEM, "k1")]}).to_string()
}

/// Starts a sign-in with `query`; returns the response and its `Location`.
pub(super) fn start_sign_in(
    app: &WebApp,
    platform: &Platform<'_>,
    query: &[(&str, &str)],
) -> (WebResponse, String) {
    let start = block_on(app.sign_in(&get(query, &[]), platform));
    assert_eq!(start.status, 302);
    let location = start.header("location").unwrap().to_string();
    (start, location)
}

/// Queues the provider's answers to a code redemption: tokens with an ID token for `nonce`
/// (access token `at-1`, refresh token `rt-1`), then the key set.
pub(super) fn queue_redemption(replay: &ReplayPlatform, nonce: &str) {
    replay.push(
        200,
        &token_response(Some(&id_token(nonce)), "at-1", Some("rt-1"), 3600),
    );
    replay.push(200, &jwks());
}

/// Signs in through sign_in + callback; returns the callback request (to replay) and the
/// session cookie.
pub(super) fn signed_in(
    app: &WebApp,
    replay: &ReplayPlatform,
    store: &MapStore,
    return_to: &str,
) -> (WebRequest, WebResponse) {
    let platform = replay.platform(store);
    let (start, location) = start_sign_in(app, &platform, &[("returnTo", return_to)]);
    let tx_cookie = cookie_pair(&start, TRANSACTION_COOKIE_PREFIX);
    queue_redemption(replay, &param(&location, "nonce"));
    let callback = get(
        &[("code", "c0de"), ("state", &param(&location, "state"))],
        &[tx_cookie],
    );
    let done = block_on(app.callback(&callback, &platform));
    (callback, done)
}

/// A user signed in at `/` to the app of `settings`: the app, its replayed provider (discovery
/// answered) and store, and the session cookie.
pub(super) fn signed_in_session(
    settings: &[(&'static str, &str)],
) -> (WebApp, ReplayPlatform, MapStore, (String, String)) {
    let app = app(settings);
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
    let store = MapStore::default();
    let (_, done) = signed_in(&app, &replay, &store, "/");
    let session = cookie_pair(&done, SESSION_COOKIE);
    (app, replay, store, session)
}

#[test]
fn sign_in_redeems_the_code_once_and_starts_a_session() {
    let app = app(&[]);
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
    let store = MapStore::default();
    let (callback, done) = signed_in(&app, &replay, &store, "/me?x=1");
    assert_eq!(done.status, 302, "{}", String::from_utf8_lossy(&done.body));
    assert_eq!(done.header("location"), Some("/me?x=1"));
    let session = cookie_pair(&done, SESSION_COOKIE);
    let deleted = done
        .cookies
        .iter()
        .find(|c| c.name.starts_with(TRANSACTION_COOKIE_PREFIX))
        .unwrap();
    assert_eq!(deleted.max_age, Some(0));
    let requests = replay
        .requests
        .borrow()
        .iter()
        .map(|r| r.url.to_string())
        .collect::<Vec<_>>();
    assert_eq!(
        requests,
        [
            "https://id.example.com/.well-known/openid-configuration",
            "https://id.example.com/token",
            "https://id.example.com/jwks"
        ]
    );
    let token_request = String::from_utf8(replay.requests.borrow()[1].body.clone()).unwrap();
    assert!(
        token_request.contains("grant_type=authorization_code")
            && token_request.contains("code_verifier=")
    );

    let platform = replay.platform(&store);
    let me = block_on(app.me(&get(&[], core::slice::from_ref(&session)), &platform));
    assert_eq!(me.status, 200);
    let claims: Value = serde_json::from_slice(&me.body).unwrap();
    assert_eq!(claims["sub"], "alice");
    let home = block_on(app.home(&get(&[], &[session]), &platform));
    assert_eq!(
        home.page,
        Some(Page::SignedIn {
            name: "Alice Example".into()
        })
    );

    // The same callback again (the cookie replayed too): refused, no token request.
    let again = block_on(app.callback(&callback, &platform));
    assert_eq!(again.status, 400);
    assert!(matches!(again.page, Some(Page::SignInFailed { .. })));
    assert_eq!(replay.requests.borrow().len(), 3);
}

#[test]
fn missing_tampered_or_foreign_transactions_end_before_the_token_endpoint() {
    let app = app(&[]);
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let (start, location) = start_sign_in(&app, &platform, &[]);
    let state = param(&location, "state");
    let (name, value) = cookie_pair(&start, TRANSACTION_COOKIE_PREFIX);
    let mut tampered = value.clone().into_bytes();
    tampered[40] = if tampered[40] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let cases = [
        get(&[("code", "c"), ("state", &state)], &[]),
        get(
            &[("code", "c"), ("state", &state)],
            &[(name.clone(), tampered)],
        ),
        get(
            &[("code", "c"), ("state", "another-state")],
            &[(name.clone(), value.clone())],
        ),
        get(&[("code", "c")], &[(name.clone(), value.clone())]),
        get(
            &[
                ("error", "access_denied"),
                ("error_description", "<b>no</b>"),
                ("state", &state),
            ],
            &[(name, value)],
        ),
    ];
    for request in cases {
        let answer = block_on(app.callback(&request, &platform));
        assert_eq!(answer.status, 400, "{request:?}");
        let Some(Page::SignInFailed { reason }) = &answer.page else {
            panic!("not a sign-in failure page: {answer:?}");
        };
        assert!(
            !reason.contains("<b>no</b>"),
            "provider text is never shown"
        );
        assert!(answer.cookies.iter().all(|c| c.name != SESSION_COOKIE));
    }
    assert_eq!(replay.requests.borrow().len(), 1, "only discovery");
}

#[test]
fn an_id_token_for_another_nonce_starts_no_session() {
    let app = app(&[]);
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let (start, location) = start_sign_in(&app, &platform, &[]);
    queue_redemption(&replay, "another-nonce");
    let request = get(
        &[("code", "c"), ("state", &param(&location, "state"))],
        &[cookie_pair(&start, TRANSACTION_COOKIE_PREFIX)],
    );
    let answer = block_on(app.callback(&request, &platform));
    assert_eq!(answer.status, 400);
    assert!(
        matches!(&answer.page, Some(Page::SignInFailed { reason }) if reason.contains("ID token could not be validated"))
    );
    assert!(answer.cookies.iter().all(|c| c.name != SESSION_COOKIE));
}

#[test]
fn open_redirects_return_home_and_form_post_cookies_are_cross_site() {
    let app = app(&[("RESPONSE_MODE", "form_post")]);
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let query = [
        ("returnTo", "//evil.test"),
        ("prompt", "bogus"),
        ("login_hint", "alice"),
    ];
    let (start, location) = start_sign_in(&app, &platform, &query);
    assert_eq!(param(&location, "response_mode"), "form_post");
    assert_eq!(param(&location, "login_hint"), "alice");
    assert_eq!(param(&location, "prompt"), "");
    let cookie = start
        .cookies
        .iter()
        .find(|c| c.name.starts_with(TRANSACTION_COOKIE_PREFIX))
        .unwrap();
    assert_eq!(cookie.same_site, SameSite::None);
    assert!(
        cookie.value.len() < 1500,
        "transaction cookie is {} characters",
        cookie.value.len()
    );

    queue_redemption(&replay, &param(&location, "nonce"));
    let callback = WebRequest {
        is_post: true,
        form: vec![
            ("code".into(), "c".into()),
            ("state".into(), param(&location, "state")),
        ],
        cookies: vec![(cookie.name.clone(), cookie.value.clone())],
        ..WebRequest::default()
    };
    let done = block_on(app.callback(&callback, &platform));
    assert_eq!(done.header("location"), Some("/"));
}

#[test]
fn the_requests_origin_picks_the_redirect_uri_and_the_code_is_redeemed_with_it() {
    let app = app(&[(
        "REDIRECT_URI",
        "https://app.example.com/auth/callback https://app.workers.dev/auth/callback",
    )]);
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let at = |url: &str| get(&[], &[]).with_url(url);

    let start = block_on(app.sign_in(&at("https://app.workers.dev/auth/sign-in"), &platform));
    assert_eq!(start.status, 302);
    let location = start.header("location").unwrap().to_string();
    assert_eq!(
        param(&location, "redirect_uri"),
        "https://app.workers.dev/auth/callback"
    );
    queue_redemption(&replay, &param(&location, "nonce"));
    let callback = get(
        &[("code", "c0de"), ("state", &param(&location, "state"))],
        &[cookie_pair(&start, TRANSACTION_COOKIE_PREFIX)],
    )
    .with_url("https://app.workers.dev/auth/callback");
    let done = block_on(app.callback(&callback, &platform));
    assert_eq!(done.status, 302, "{:?}", done.page);
    let redemption = String::from_utf8(replay.requests.borrow()[1].body.clone()).unwrap();
    assert!(
        redemption.contains("redirect_uri=https%3A%2F%2Fapp.workers.dev%2Fauth%2Fcallback"),
        "{redemption}"
    );

    // An origin not in the list: a clear 400, no transaction, nothing asked of the provider.
    let before = replay.requests.borrow().len();
    let refused = block_on(app.sign_in(&at("https://preview.example.net/auth/sign-in"), &platform));
    assert_eq!(refused.status, 400);
    assert!(matches!(refused.page, Some(Page::SignInFailed { .. })));
    assert!(refused.cookies.is_empty());
    assert_eq!(replay.requests.borrow().len(), before);
}

#[test]
fn idle_sessions_end_active_ones_slide_and_none_outlives_its_absolute_timeout() {
    let app = app(&[
        ("SESSION_ABSOLUTE_TIMEOUT_SECS", "3600"),
        ("SESSION_IDLE_TIMEOUT_SECS", "600"),
    ]);
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
    let store = MapStore::default();
    let (_, done) = signed_in(&app, &replay, &store, "/");
    let cookie = done
        .cookies
        .iter()
        .find(|c| c.name == SESSION_COOKIE)
        .unwrap()
        .clone();
    assert_eq!(
        cookie.max_age,
        Some(600),
        "the cookie lasts the idle window"
    );
    let request = get(&[], &[(cookie.name.clone(), cookie.value.clone())]);
    let me_at = |at: u64| {
        replay.now.set(at);
        block_on(app.me(&request, &replay.platform(&store)))
    };
    let renewed = |response: &WebResponse| {
        response
            .cookies
            .iter()
            .find(|c| c.name == SESSION_COOKIE)
            .and_then(|c| c.max_age)
    };

    // Within the first half of the window nothing is written; past it the cookie slides.
    let early = me_at(NOW + 100);
    assert_eq!((early.status, renewed(&early)), (200, None));
    let late = me_at(NOW + 400);
    assert_eq!((late.status, renewed(&late)), (200, Some(600)));
    // Active every 400 s, the session lives on past its first idle window...
    for at in [800, 1200, 1600, 2000, 2400, 2800, 3200] {
        assert_eq!(me_at(NOW + at).status, 200, "at +{at}");
    }
    // ...the cookie never outlives the absolute end...
    let last = me_at(NOW + 3500);
    assert_eq!((last.status, renewed(&last)), (200, Some(100)));
    // ...and the absolute end holds however active the user is.
    assert_eq!(me_at(NOW + 3600).status, 401);

    // Idle: 600 s without a request ends the session; its cookie is deleted.
    // (Another store: the replay's fixed randomness would repeat the first sign-in's state.)
    replay.now.set(NOW);
    let store = MapStore::default();
    let (_, done) = signed_in(&app, &replay, &store, "/");
    let cookie = cookie_pair(&done, SESSION_COOKIE);
    let request = get(&[], &[cookie]);
    replay.now.set(NOW + 599);
    let alive = block_on(app.me(&request, &replay.platform(&store)));
    assert_eq!(alive.status, 200);
    replay.now.set(NOW + 599 + 600);
    let idle = block_on(app.me(&request, &replay.platform(&store)));
    assert_eq!(idle.status, 401);
    assert_eq!(renewed(&idle), Some(0), "the session cookie is deleted");
    replay.now.set(NOW + 599 + 601);
    let after = block_on(app.me(&request, &replay.platform(&store)));
    assert_eq!(after.status, 401, "the record is gone");
}

#[test]
fn sign_out_ends_the_session_here_and_at_the_provider() {
    let (app, replay, store, session) = signed_in_session(&[]);
    let platform = replay.platform(&store);
    let out = block_on(app.sign_out(&get(&[], core::slice::from_ref(&session)), &platform));
    let location = out.header("location").unwrap();
    assert!(location.starts_with("https://id.example.com/logout?"));
    assert_eq!(
        param(location, "post_logout_redirect_uri"),
        "https://app.example.com/"
    );
    assert_eq!(param(location, "client_id"), "webapp");
    assert!(!param(location, "id_token_hint").is_empty());
    assert_eq!(
        out.cookies,
        vec![SetCookie::delete(SESSION_COOKIE, SameSite::Lax)]
    );
    assert_eq!(
        block_on(app.me(&get(&[], &[session]), &platform)).status,
        401
    );
}

#[test]
fn the_cookie_key_and_redirect_uri_are_required() {
    let mut settings = BTreeMap::from([
        ("AUTHORITY", ISSUER.to_string()),
        ("CLIENT_ID", "webapp".to_string()),
        ("CLIENT_SECRET", "pw".to_string()),
        (
            "REDIRECT_URI",
            "https://app.example.com/auth/callback".to_string(),
        ),
        (
            "DOWNSTREAM_URL",
            "https://api.example.com/whoami".to_string(),
        ),
        ("DOWNSTREAM_SCOPES", "api://downstream/.default".to_string()),
    ]);
    let error = |settings: &BTreeMap<&'static str, String>| {
        WebAppConfig::from_settings(&Map(settings.clone()))
            .unwrap_err()
            .to_string()
    };
    assert!(error(&settings).contains("missing setting COOKIE_KEY"));
    settings.insert("COOKIE_KEY", "c2hvcnQ".into());
    assert!(error(&settings).contains("COOKIE_KEY must be base64url of 32 random bytes"));
    settings.insert("COOKIE_KEY", KEY.into());
    settings.remove("REDIRECT_URI");
    assert!(error(&settings).contains("missing setting REDIRECT_URI"));
    settings.insert(
        "REDIRECT_URI",
        "https://app.example.com/auth/callback".into(),
    );
    settings.insert("RESPONSE_MODE", "fragment".into());
    assert!(error(&settings).contains("RESPONSE_MODE must be query or form_post"));
    settings.remove("RESPONSE_MODE");
    let algorithm = |settings: &BTreeMap<&'static str, String>| {
        WebAppConfig::from_settings(&Map(settings.clone()))
            .unwrap()
            .id_token_algorithm
    };
    assert_eq!(algorithm(&settings), VerificationAlgorithm::Rs256);
    settings.insert("ID_TOKEN_SIGNING_ALG", "ES256".into());
    assert_eq!(algorithm(&settings), VerificationAlgorithm::Es256);
    settings.insert("ID_TOKEN_SIGNING_ALG", "ES512".into());
    assert!(error(&settings).contains("ID_TOKEN_SIGNING_ALG must be RS256, PS256 or ES256"));
}

/// The discovery document with `authorization_response_iss_parameter_supported: true`.
fn discovery_with_iss() -> String {
    let mut document: Value = serde_json::from_str(DISCOVERY).unwrap();
    document["authorization_response_iss_parameter_supported"] = json!(true);
    document.to_string()
}

#[test]
fn a_callback_without_iss_is_refused_when_the_issuer_advertises_it() {
    let app = app(&[]);
    let replay = ReplayPlatform::new(&[(200, &discovery_with_iss())]);
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let (start, location) = start_sign_in(&app, &platform, &[]);
    let tx_cookie = cookie_pair(&start, TRANSACTION_COOKIE_PREFIX);
    let state = param(&location, "state");
    let without_iss = get(
        &[("code", "c"), ("state", &state)],
        core::slice::from_ref(&tx_cookie),
    );
    let answer = block_on(app.callback(&without_iss, &platform));
    assert_eq!(answer.status, 400);
    assert!(matches!(answer.page, Some(Page::SignInFailed { .. })));
    assert_eq!(
        replay.requests.borrow().len(),
        1,
        "only discovery: no code redemption"
    );

    // With the right `iss`, the same sign-in completes.
    queue_redemption(&replay, &param(&location, "nonce"));
    let with_iss = get(
        &[
            ("code", "c"),
            ("state", &state),
            ("iss", "https://id.example.com"),
        ],
        &[tx_cookie],
    );
    let done = block_on(app.callback(&with_iss, &platform));
    assert_eq!(done.status, 302, "{done:?}");
}

#[test]
fn a_callback_in_another_response_mode_than_the_sign_in_is_refused() {
    for (mode, post) in [("query", true), ("form_post", false)] {
        let app = app(&[("RESPONSE_MODE", mode)]);
        let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
        let store = MapStore::default();
        let platform = replay.platform(&store);
        let (start, location) = start_sign_in(&app, &platform, &[]);
        let tx_cookie = cookie_pair(&start, TRANSACTION_COOKIE_PREFIX);
        let state = param(&location, "state");
        let params = [("code", "c"), ("state", state.as_str())];
        let mut request = get(&[], &[tx_cookie]);
        let pairs = params.iter().map(|(n, v)| (n.to_string(), v.to_string()));
        if post {
            request.is_post = true;
            request.form = pairs.collect();
        } else {
            request.query = pairs.collect();
        }
        let answer = block_on(app.callback(&request, &platform));
        assert_eq!(answer.status, 400, "{mode} sign-in answered by post={post}");
        assert_eq!(
            replay.requests.borrow().len(),
            1,
            "no code redemption for {mode}"
        );
    }
}

#[test]
fn the_return_to_of_a_transaction_is_checked_again_at_the_callback() {
    let app = app(&[]);
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let (_, location) = start_sign_in(&app, &platform, &[]);
    // A transaction sealed with the app's own key but an off-site destination (as a bug or an
    // older version could have written): refused before any code redemption.
    let mut transaction = Transaction::begin(
        "https://id.example.com",
        false,
        None,
        "//evil.example/".into(),
        ResponseMode::Query,
        platform.clock.now_unix_secs(),
        platform.entropy,
    )
    .unwrap();
    transaction.state = param(&location, "state");
    let name = format!("{TRANSACTION_COOKIE_PREFIX}{}", transaction.id());
    let sealed = app
        .transactions
        .seal(
            &transaction,
            transaction.expires_at(),
            name.as_bytes(),
            platform.entropy,
        )
        .unwrap();
    let request = get(
        &[("code", "c"), ("state", &transaction.state)],
        &[(name, sealed)],
    );
    let answer = block_on(app.callback(&request, &platform));
    assert_eq!(answer.status, 400);
    assert_eq!(replay.requests.borrow().len(), 1, "no code redemption");
}

#[test]
fn two_session_cookies_are_an_ambiguous_session_signed_out_and_cleared() {
    let app = app(&[]);
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
    let store = MapStore::default();
    let (_, victim) = signed_in(&app, &replay, &store, "/");
    assert_eq!(victim.status, 302, "{victim:?} {:?}", victim.page);
    let victim = cookie_pair(&victim, SESSION_COOKIE);
    // The attacker's own session, from a sign-in of theirs (another sign-in's store here: the
    // test's entropy repeats, so a second sign-in in one store would be a replayed one).
    // (The app has the provider's metadata and keys already: only the token answer is used.)
    let (_, attacker) = signed_in(&app, &ReplayPlatform::new(&[]), &MapStore::default(), "/");
    assert_eq!(attacker.status, 302, "{attacker:?} {:?}", attacker.page);
    let attacker = cookie_pair(&attacker, SESSION_COOKIE);
    let platform = replay.platform(&store);
    // Planted first, genuine second, and the reverse: neither session is used.
    for cookies in [
        [attacker.clone(), victim.clone()],
        [victim.clone(), attacker.clone()],
    ] {
        let me = block_on(app.me(&get(&[], &cookies), &platform));
        assert_eq!(me.status, 401, "an ambiguous session is no session");
        let cleared = me
            .cookies
            .iter()
            .find(|c| c.name == SESSION_COOKIE)
            .unwrap();
        assert_eq!(cleared.max_age, Some(0));
        let home = block_on(app.home(&get(&[], &cookies), &platform));
        assert_eq!(home.page, Some(Page::SignedOut));
        assert!(home.cookies.iter().any(|c| c.name == SESSION_COOKIE));
    }
    // One cookie alone still works.
    let me = block_on(app.me(&get(&[], &[victim]), &platform));
    assert_eq!(me.status, 200);
    assert!(me.cookies.is_empty());
}

#[test]
fn pending_sign_ins_are_bounded_and_the_oldest_is_expired_first() {
    let app = app(&[]);
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
    let store = MapStore::default();
    let mut cookies: Vec<(String, String)> = Vec::new();
    for second in 0..6u64 {
        replay.now.set(NOW + second);
        // Each sign-in needs its own state (the replay platform's entropy is constant).
        let entropy = crate::testing::CountingEntropy::starting_at(second * 1_000);
        let platform = Platform {
            entropy: &entropy,
            ..replay.platform(&store)
        };
        let start = block_on(app.sign_in(&get(&[], &cookies), &platform));
        assert_eq!(start.status, 302);
        for set in &start.cookies {
            cookies.retain(|(name, _)| name != &set.name);
            if set.max_age != Some(0) {
                cookies.push((set.name.clone(), set.value.clone()));
            }
        }
        let pending = cookies
            .iter()
            .filter(|(name, _)| name.starts_with(TRANSACTION_COOKIE_PREFIX))
            .count();
        assert!(
            pending <= MAX_PENDING_SIGN_INS,
            "{pending} pending after sign-in {second}"
        );
    }
    // The newest sign-ins remain: the last one started is among them.
    assert_eq!(cookies.len(), MAX_PENDING_SIGN_INS);
}

#[test]
fn an_id_token_whose_at_hash_is_not_the_access_tokens_starts_no_session() {
    let app = app(&[]);
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let (start, location) = start_sign_in(&app, &platform, &[]);
    let nonce = param(&location, "nonce");
    // `at_hash` of another access token than the `at-1` the token response carries.
    let claims = json!({"iss": ISSUER, "sub": "alice", "aud": "webapp", "exp": NOW + 3600,
        "iat": NOW, "nonce": nonce, "at_hash": "77QmUPtjPfzWtF2AnpK9RQ"});
    let id_token = sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": "k1"}),
        &claims,
    );
    replay.push(
        200,
        &token_response(Some(&id_token), "at-1", Some("rt-1"), 3600),
    );
    replay.push(200, &jwks());
    let request = get(
        &[("code", "c"), ("state", &param(&location, "state"))],
        &[cookie_pair(&start, TRANSACTION_COOKIE_PREFIX)],
    );
    let answer = block_on(app.callback(&request, &platform));
    assert_eq!(answer.status, 400);
    assert!(answer.cookies.iter().all(|c| c.name != SESSION_COOKIE));
}
