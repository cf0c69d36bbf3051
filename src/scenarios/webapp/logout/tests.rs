//! Front-Channel and Back-Channel Logout with a replayed provider: sessions signed in through
//! the real callback (ID tokens with `sid` and `sub`), then ended by a logout that names their
//! `sid` or only their `sub`, others left alone; refused requests end nothing. The real
//! provider and browser run the same paths end to end in `testbed/e2e/logout.test.mjs`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::platform::{LocalBoxFuture, TokenStore};
use crate::scenarios::webapp::TRANSACTION_COOKIE_PREFIX;
use crate::testing::{CountingEntropy, MapStore, ReplayPlatform, NOW};
use crate::validation::logout_token::BACKCHANNEL_LOGOUT_EVENT;
use crate::validation::verifier::tests::{public_jwk_json, sign_jws, KEY_PEM, OTHER_KEY_PEM};
use crate::validation::VerificationAlgorithm;
use futures::executor::block_on;

use crate::scenarios::webapp::tests::{app as app_with, get, param, DISCOVERY, ISSUER};

fn app() -> WebApp {
    app_with(&[])
}

/// The provider: its discovery document first; each sign-in queues its own answers.
fn provider() -> ReplayPlatform {
    ReplayPlatform::new(&[(200, DISCOVERY)])
}

/// The replayed provider's platform over `store`, with entropy that never repeats (session
/// ids, transaction ids and seals must differ between sign-ins).
fn on<'a>(
    replay: &'a ReplayPlatform,
    store: &'a MapStore,
    entropy: &'a CountingEntropy,
) -> Platform<'a> {
    Platform {
        entropy,
        ..replay.platform(store)
    }
}

/// Signs `sub` in through sign_in + callback with an ID token naming `sid` (or none); returns
/// the session cookie.
fn sign_in_as(
    app: &WebApp,
    replay: &ReplayPlatform,
    platform: &Platform<'_>,
    sub: &str,
    sid: Option<&str>,
) -> (String, String) {
    let done = callback_as(app, replay, platform, sub, sid);
    assert_eq!(done.status, 302, "{:?}", done.page);
    let session = done
        .cookies
        .iter()
        .find(|c| c.name == SESSION_COOKIE)
        .unwrap();
    (session.name.clone(), session.value.clone())
}

/// The callback's answer to a sign-in of `sub` in provider session `sid` (see sign_in_as).
fn callback_as(
    app: &WebApp,
    replay: &ReplayPlatform,
    platform: &Platform<'_>,
    sub: &str,
    sid: Option<&str>,
) -> WebResponse {
    let start = block_on(app.sign_in(&get(&[("returnTo", "/")], &[]), platform));
    let location = start.header("location").unwrap().to_string();
    let tx = start
        .cookies
        .iter()
        .find(|c| c.name.starts_with(TRANSACTION_COOKIE_PREFIX))
        .map(|c| (c.name.clone(), c.value.clone()))
        .unwrap();
    let mut claims = json!({
        "iss": ISSUER, "sub": sub, "aud": "webapp", "exp": NOW + 3600, "iat": NOW,
        "nonce": param(&location, "nonce"), "name": sub
    });
    if let Some(sid) = sid {
        claims["sid"] = json!(sid);
    }
    let id_token = sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": "k1"}),
        &claims,
    );
    let tokens = json!({"token_type": "Bearer", "access_token": "at", "expires_in": 3600, "id_token": id_token});
    replay.push(200, &tokens.to_string());
    let keys_fetched = replay
        .requests
        .borrow()
        .iter()
        .any(|r| r.url.path() == "/jwks");
    if !keys_fetched {
        replay.push(
            200,
            &json!({"keys": [public_jwk_json(KEY_PEM, "k1")]}).to_string(),
        );
    }
    let callback = get(
        &[("code", "c0de"), ("state", &param(&location, "state"))],
        &[tx],
    );
    block_on(app.callback(&callback, platform))
}

fn me_status(app: &WebApp, platform: &Platform<'_>, cookie: &(String, String)) -> u16 {
    block_on(app.me(&get(&[], core::slice::from_ref(cookie)), platform)).status
}

fn setup() -> (WebApp, ReplayPlatform, MapStore, CountingEntropy) {
    (
        app(),
        provider(),
        MapStore::default(),
        CountingEntropy::default(),
    )
}

fn logout_claims() -> Value {
    json!({
        "iss": ISSUER, "aud": "webapp", "iat": NOW, "exp": NOW + 120, "jti": "jti-1",
        "sid": "sid-A", "sub": "alice", "events": {BACKCHANNEL_LOGOUT_EVENT: {}}
    })
}

fn logout_token(claims: &Value) -> String {
    sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": "k1", "typ": "logout+jwt"}),
        claims,
    )
}

fn post_logout(token: &str) -> WebRequest {
    WebRequest {
        is_post: true,
        form: alloc::vec![(LOGOUT_TOKEN_FIELD.to_string(), token.to_string())],
        ..WebRequest::default()
    }
}

fn without(mut claims: Value, member: &str) -> Value {
    claims.as_object_mut().unwrap().remove(member);
    claims
}

/// Four sessions: two of alice in provider session A (two browsers), one of alice in
/// provider session B, and bob in session C. Returns their cookies in that order.
fn four_sessions(
    app: &WebApp,
    replay: &ReplayPlatform,
    platform: &Platform<'_>,
) -> [(String, String); 4] {
    [
        sign_in_as(app, replay, platform, "alice", Some("sid-A")),
        sign_in_as(app, replay, platform, "alice", Some("sid-A")),
        sign_in_as(app, replay, platform, "alice", Some("sid-B")),
        sign_in_as(app, replay, platform, "bob", Some("sid-C")),
    ]
}

#[test]
fn a_back_channel_logout_by_sid_ends_every_session_of_that_sid_only() {
    let (app, replay, store, entropy) = setup();
    let platform = on(&replay, &store, &entropy);
    let [a1, a2, b, c] = four_sessions(&app, &replay, &platform);
    let done =
        block_on(app.back_channel_logout(&post_logout(&logout_token(&logout_claims())), &platform));
    assert_eq!(done.status, 200, "{}", String::from_utf8_lossy(&done.body));
    assert_eq!(done.header("cache-control"), Some("no-store"));
    assert_eq!(me_status(&app, &platform, &a1), 401);
    assert_eq!(me_status(&app, &platform, &a2), 401);
    assert_eq!(
        me_status(&app, &platform, &b),
        200,
        "alice's other provider session"
    );
    assert_eq!(me_status(&app, &platform, &c), 200);
}

#[test]
fn a_back_channel_logout_with_only_sub_ends_every_session_of_that_sub() {
    let (app, replay, store, entropy) = setup();
    let platform = on(&replay, &store, &entropy);
    let [a1, a2, b, c] = four_sessions(&app, &replay, &platform);
    let token = logout_token(&without(logout_claims(), "sid"));
    let done = block_on(app.back_channel_logout(&post_logout(&token), &platform));
    assert_eq!(done.status, 200);
    for cookie in [&a1, &a2, &b] {
        assert_eq!(me_status(&app, &platform, cookie), 401);
    }
    assert_eq!(me_status(&app, &platform, &c), 200, "bob stays signed in");
}

#[test]
fn a_replayed_logout_token_is_refused() {
    let (app, replay, store, entropy) = setup();
    let platform = on(&replay, &store, &entropy);
    sign_in_as(&app, &replay, &platform, "alice", Some("sid-A"));
    let request = post_logout(&logout_token(&logout_claims()));
    assert_eq!(
        block_on(app.back_channel_logout(&request, &platform)).status,
        200
    );
    // alice signs in again in that provider session; the same token must not end it.
    let again = sign_in_as(&app, &replay, &platform, "alice", Some("sid-A"));
    let replayed = block_on(app.back_channel_logout(&request, &platform));
    assert_eq!(replayed.status, 400);
    assert_eq!(replayed.body, br#"{"error":"invalid_request"}"#);
    assert_eq!(replayed.header("cache-control"), Some("no-store"));
    assert_eq!(me_status(&app, &platform, &again), 200);
    // The jti is remembered as a hash, until the token could no longer be accepted.
    let stored = store.0.borrow();
    let (key, (_, ttl)) = stored
        .iter()
        .find(|(key, _)| key.starts_with("edge-token/v1/logout-jti/"))
        .unwrap();
    assert!(!key.contains("jti-1"));
    assert_eq!(*ttl, 120 + 300);
}

#[test]
fn refused_logout_tokens_answer_invalid_request_and_end_nothing() {
    let (app, replay, store, entropy) = setup();
    let platform = on(&replay, &store, &entropy);
    let alice = sign_in_as(&app, &replay, &platform, "alice", Some("sid-A"));
    let bad_claims = [
        ("iss", json!("https://evil.example.com")),
        ("aud", json!("other-app")),
        ("exp", json!(NOW - 301)),
        (
            "events",
            json!({"http://schemas.openid.net/event/other": {}}),
        ),
        ("nonce", json!("n")),
    ];
    let mut tokens: Vec<String> = bad_claims
        .iter()
        .map(|(name, value)| {
            let mut claims = logout_claims();
            claims[*name] = value.clone();
            logout_token(&claims)
        })
        .collect();
    tokens.push(logout_token(&without(logout_claims(), "events")));
    tokens.push(logout_token(&without(logout_claims(), "jti")));
    tokens.push(logout_token(&without(
        without(logout_claims(), "sid"),
        "sub",
    )));
    tokens.push(sign_jws(
        OTHER_KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": "k1"}),
        &logout_claims(),
    ));
    tokens.push("not-a-jwt".into());
    for token in &tokens {
        let refused = block_on(app.back_channel_logout(&post_logout(token), &platform));
        assert_eq!(refused.status, 400);
        assert_eq!(refused.body, br#"{"error":"invalid_request"}"#);
        assert_eq!(me_status(&app, &platform, &alice), 200);
    }
    // No token, two tokens, or a GET.
    let valid = logout_token(&logout_claims());
    let mut two = post_logout(&valid);
    two.form.push((LOGOUT_TOKEN_FIELD.into(), valid.clone()));
    let mut get = post_logout(&valid);
    get.is_post = false;
    for request in [
        WebRequest {
            is_post: true,
            ..WebRequest::default()
        },
        two,
        get,
    ] {
        assert_eq!(
            block_on(app.back_channel_logout(&request, &platform)).status,
            400
        );
    }
    assert_eq!(me_status(&app, &platform, &alice), 200);
}

#[test]
fn a_front_channel_logout_ends_the_sessions_of_its_sid_and_its_own_cookie() {
    let (app, replay, store, entropy) = setup();
    let platform = on(&replay, &store, &entropy);
    let [a1, a2, b, c] = four_sessions(&app, &replay, &platform);
    // The iframe carries a1's cookie (the browser that signed out) and the sid.
    let done = block_on(app.front_channel_logout(
        &get(
            &[("iss", ISSUER), ("sid", "sid-A")],
            core::slice::from_ref(&a1),
        ),
        &platform,
    ));
    assert_eq!(done.status, 200);
    assert_eq!(done.header("cache-control"), Some("no-store"));
    assert!(done.body.len() < 64);
    let cleared = done
        .cookies
        .iter()
        .find(|c| c.name == SESSION_COOKIE)
        .unwrap();
    assert_eq!(cleared.max_age, Some(0));
    assert_eq!(me_status(&app, &platform, &a1), 401);
    assert_eq!(me_status(&app, &platform, &a2), 401);
    assert_eq!(me_status(&app, &platform, &b), 200);
    assert_eq!(me_status(&app, &platform, &c), 200);
}

#[test]
fn a_front_channel_logout_leaves_a_cookie_of_another_provider_session_alone() {
    let (app, replay, store, entropy) = setup();
    let platform = on(&replay, &store, &entropy);
    let [a1, _, b, _] = four_sessions(&app, &replay, &platform);
    let done = block_on(app.front_channel_logout(
        &get(
            &[("iss", ISSUER), ("sid", "sid-B")],
            core::slice::from_ref(&a1),
        ),
        &platform,
    ));
    assert_eq!(done.status, 200);
    assert!(done.cookies.is_empty());
    assert_eq!(me_status(&app, &platform, &a1), 200);
    assert_eq!(me_status(&app, &platform, &b), 401);
}

#[test]
fn a_front_channel_logout_without_the_exact_issuer_or_a_sid_ends_nothing() {
    let (app, replay, store, entropy) = setup();
    let platform = on(&replay, &store, &entropy);
    let alice = sign_in_as(&app, &replay, &platform, "alice", Some("sid-A"));
    let cases: [&[(&str, &str)]; 6] = [
        &[("sid", "sid-A")],
        &[("iss", ISSUER)],
        &[("iss", "https://id.example.com/"), ("sid", "sid-A")],
        &[("iss", "https://evil.example.com"), ("sid", "sid-A")],
        &[("iss", ISSUER), ("sid", "")],
        &[("iss", ISSUER), ("sid", "sid-A"), ("sid", "sid-B")],
    ];
    for query in cases {
        let refused = block_on(
            app.front_channel_logout(&get(query, core::slice::from_ref(&alice)), &platform),
        );
        assert_eq!(refused.status, 400, "{query:?}");
        assert!(refused.cookies.is_empty());
        assert_eq!(me_status(&app, &platform, &alice), 200);
    }
}

#[test]
fn sign_out_removes_the_session_from_the_index_and_a_session_without_sid_is_ended_by_sub() {
    let (app, replay, store, entropy) = setup();
    let platform = on(&replay, &store, &entropy);
    let alice = sign_in_as(&app, &replay, &platform, "alice", Some("sid-A"));
    let signed_out = block_on(app.sign_out(&get(&[], core::slice::from_ref(&alice)), &platform));
    assert_eq!(signed_out.status, 302);
    let index_records = || {
        store
            .0
            .borrow()
            .keys()
            .filter(|key| key.starts_with("edge-token/v1/session-index/"))
            .count()
    };
    assert_eq!(index_records(), 0, "both of its index records are gone");
    let no_sid = sign_in_as(&app, &replay, &platform, "alice", None);
    assert_eq!(index_records(), 1, "indexed by sub only");
    let token = logout_token(&without(logout_claims(), "sid"));
    assert_eq!(
        block_on(app.back_channel_logout(&post_logout(&token), &platform)).status,
        200
    );
    assert_eq!(me_status(&app, &platform, &no_sid), 401);
}

#[test]
fn issuer_templates_match_a_front_channel_iss_with_an_allowed_tenant() {
    let template = |allowed: Option<Vec<String>>| IssuerRule::EntraTemplate {
        template: "https://login.microsoftonline.com/{tenantid}/v2.0".into(),
        allowed_tenants: allowed,
    };
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let iss = alloc::format!("https://login.microsoftonline.com/{tenant}/v2.0");
    assert!(issuer_matches(&template(None), &iss));
    assert!(issuer_matches(
        &template(Some(alloc::vec![tenant.into()])),
        &iss
    ));
    assert!(!issuer_matches(
        &template(Some(alloc::vec!["other".into()])),
        &iss
    ));
    assert!(!issuer_matches(
        &template(None),
        "https://login.microsoftonline.com/a/b/v2.0"
    ));
    assert!(!issuer_matches(
        &template(None),
        "https://evil.example.com/x/v2.0"
    ));
    assert!(issuer_matches(&IssuerRule::Exact(ISSUER.into()), ISSUER));
    assert!(!issuer_matches(
        &IssuerRule::Exact(ISSUER.into()),
        "https://ID.example.com"
    ));
}

/// A store whose session index cannot be written.
#[derive(Default)]
struct IndexUnwritable(MapStore);

impl TokenStore for IndexUnwritable {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        self.0.get(key)
    }
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        if key.starts_with("edge-token/v1/session-index/") {
            return Box::pin(core::future::ready(Err(Error::Cache("down".into()))));
        }
        self.0.put(key, value, ttl_secs)
    }
    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        self.0.delete(key)
    }
}

#[test]
fn a_session_that_cannot_be_indexed_is_not_started() {
    let (app, replay, entropy) = (app(), provider(), CountingEntropy::default());
    let store = IndexUnwritable::default();
    let platform = Platform {
        entropy: &entropy,
        ..replay.platform(&store)
    };
    let refused = callback_as(&app, &replay, &platform, "alice", Some("sid-A"));
    assert_eq!(refused.status, 400);
    assert!(refused.cookies.iter().all(|c| c.name != SESSION_COOKIE));
    let records = store.0 .0.borrow();
    assert!(
        records
            .keys()
            .all(|key| !key.starts_with("edge-token/v1/session/")),
        "no session record is left behind"
    );
}
