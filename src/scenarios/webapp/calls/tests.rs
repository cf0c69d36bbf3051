//! Calls as the user with a replayed provider: silent acquisition with the refresh token
//! (rotation, a refresh response's ID token, a refresh token rotated by another request),
//! incremental consent for the web API's scopes and claims challenges, none of them looping.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use crate::scenarios::webapp::tests::*;
use crate::scenarios::webapp::*;
use crate::testing::{MapStore, ReplayPlatform, NOW};
use crate::validation::verifier::tests::{sign_jws, KEY_PEM};
use futures::executor::block_on;

#[test]
fn refresh_rotates_and_interaction_required_redirects_with_the_claims() {
    let (app, replay, store, session) = signed_in_session(&[]);
    let platform = replay.platform(&store);

    // Fresh token: no refresh.
    replay.push(200, r#"{"sub":"alice"}"#);
    let answer =
        block_on(app.call_downstream(&get(&[], core::slice::from_ref(&session)), &platform));
    assert_eq!(
        (answer.status, answer.header("x-edge-token-source")),
        (200, Some("store"))
    );

    // Past the early-expiry margin: the refresh token is redeemed and the rotated one kept.
    replay.now.set(NOW + 3400);
    replay.push(200, &token_response(None, "at-2", Some("rt-2"), 3600));
    replay.push(200, r#"{"sub":"alice"}"#);
    let answer =
        block_on(app.call_downstream(&get(&[], core::slice::from_ref(&session)), &platform));
    assert_eq!(
        (answer.status, answer.header("x-edge-token-source")),
        (200, Some("provider"))
    );
    let refresh = String::from_utf8(replay.requests.borrow()[4].body.clone()).unwrap();
    assert!(refresh.contains("grant_type=refresh_token&client_id=webapp&refresh_token=rt-1&scope=api%3A%2F%2Fdownstream%2F.default+offline_access+openid+profile"), "{refresh}");
    let authorization = replay.requests.borrow()[5]
        .header("authorization")
        .map(str::to_string);
    assert_eq!(authorization.as_deref(), Some("Bearer at-2"));
    let id = SessionId::parse(&session.1).unwrap();
    let stored = block_on(app.session_store(&platform).load(&id, NOW + 3400))
        .unwrap()
        .unwrap();
    assert_eq!(
        stored
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_string()),
        Some("rt-2".into())
    );
    assert_eq!(stored.refresh_generation, 1, "one redemption since sign-in");

    // The provider wants the user back, with a claims challenge.
    replay.now.set(NOW + 3400 + 3400);
    replay.push(400, r#"{"error":"invalid_grant","suberror":"bad_token","claims":"{\"access_token\":{\"nbf\":{\"essential\":true}}}"}"#);
    let answer = block_on(app.call_downstream(&get(&[], &[session]), &platform));
    assert_eq!(answer.status, 302);
    let location = answer.header("location").unwrap();
    assert!(location.starts_with("https://id.example.com/authorize?"));
    assert_eq!(
        param(location, "claims"),
        r#"{"access_token":{"nbf":{"essential":true}}}"#
    );
    let refresh = String::from_utf8(replay.requests.borrow()[6].body.clone()).unwrap();
    assert!(refresh.contains("refresh_token=rt-2"));
}

#[test]
fn the_web_api_token_comes_from_the_refresh_token_and_claims_challenges_end_without_a_loop() {
    let (app, replay, store, session) = signed_in_with_web_api();
    let platform = replay.platform(&store);
    let request = get(&[], core::slice::from_ref(&session));

    // Incremental consent: no token for the web API yet, so the refresh token is redeemed.
    replay.push(200, &token_response(None, "api-1", Some("rt-2"), 3600));
    replay.push(200, r#"{"ok":true}"#);
    let answer = block_on(app.call_web_api(&request, &platform));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-edge-token-source"), Some("provider"));
    let refresh = String::from_utf8(replay.requests.borrow()[3].body.clone()).unwrap();
    assert!(
        refresh
            .contains("&scope=api%3A%2F%2Fwebapi%2Faccess_as_user+offline_access+openid+profile"),
        "{refresh}"
    );
    assert_eq!(
        replay.requests.borrow()[4].url.as_str(),
        "https://webapi.example.com/api/profile"
    );

    // The web API relays a claims challenge: one refresh with the claims, one retry, then the
    // page hears about it (no redirect loop through the authorization endpoint).
    let claims = r#"{"access_token":{"capolids":{"essential":true,"values":["c1"]}}}"#;
    let challenge = crate::protocol::bearer::BearerChallenge {
        claims: Some(claims.into()),
        ..crate::protocol::bearer::BearerChallenge::error(
            crate::protocol::bearer::BearerErrorCode::InsufficientClaims,
            "",
        )
    }
    .to_header_value();
    replay.push_response(401, &[("www-authenticate", &challenge)], "");
    replay.push(200, &token_response(None, "api-2", Some("rt-3"), 3600));
    replay.push_response(401, &[("www-authenticate", &challenge)], "");
    let answer = block_on(app.call_web_api(&request, &platform));
    assert_eq!(answer.status, 401);
    let body: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(body["error"], "interaction_required");
    assert_eq!(body["claims"], claims);
    let requests = replay.requests.borrow();
    assert_eq!(requests.len(), 8);
    let refresh = String::from_utf8(requests[6].body.clone()).unwrap();
    assert!(
        refresh.contains("refresh_token=rt-2") && refresh.contains("&claims=%7B%22access_token")
    );
    assert_eq!(requests[7].header("authorization"), Some("Bearer api-2"));
    drop(requests);

    // Without WEB_API_URL the route is a configuration error.
    let plain = self::app(&[]);
    let answer = block_on(plain.call_web_api(&request, &platform));
    assert_eq!(answer.status, 500);
}

/// Entra's refusal of a refresh for scopes the user never consented to (AADSTS65001).
const CONSENT_REQUIRED: &str = r#"{"error":"invalid_grant","error_description":"AADSTS65001: not consented","error_codes":[65001],"suberror":"consent_required"}"#;

/// The web app with a web API (`/me/api`), its replayed provider (discovery answered) and
/// store, and the session cookie of a user signed in.
fn signed_in_with_web_api() -> (WebApp, ReplayPlatform, MapStore, (String, String)) {
    signed_in_session(&[
        ("WEB_API_URL", "https://webapi.example.com/api/profile"),
        ("WEB_API_SCOPES", "api://webapi/access_as_user"),
    ])
}

#[test]
fn incremental_consent_asks_for_the_failing_apis_scopes_once_and_never_loops() {
    let (app, replay, store, session) = signed_in_with_web_api();
    // Fresh randomness for the re-authorization (the replay's own repeats itself).
    let entropy = crate::testing::CountingEntropy::default();
    let platform = Platform {
        entropy: &entropy,
        ..replay.platform(&store)
    };
    let first = get(&[], &[session]);

    // The refresh token cannot get the web API's scopes: the user is sent to the provider for
    // exactly those (with the OIDC scopes), not the sign-in's, and comes back to /me/api.
    replay.push(400, CONSENT_REQUIRED);
    let challenge = block_on(app.call_web_api(&first, &platform));
    assert_eq!(challenge.status, 302);
    let location = challenge.header("location").unwrap().to_string();
    assert_eq!(
        param(&location, "scope"),
        "api://webapi/access_as_user offline_access openid profile"
    );
    assert_eq!(param(&location, "login_hint"), "");
    let tx_cookie = cookie_pair(&challenge, TRANSACTION_COOKIE_PREFIX);

    // The consent's code: its access token is the web API's (short-lived here, so the next call
    // must use the refresh token again).
    replay.push(
        200,
        &token_response(
            Some(&id_token(&param(&location, "nonce"))),
            "api-1",
            Some("rt-2"),
            60,
        ),
    );
    let callback = get(
        &[("code", "c0de-2"), ("state", &param(&location, "state"))],
        core::slice::from_ref(&tx_cookie),
    );
    let consented = block_on(app.callback(&callback, &platform));
    assert_eq!(consented.status, 302, "{:?}", consented.page);
    assert_eq!(consented.header("location"), Some("/me/api"));
    let redemption = String::from_utf8(replay.requests.borrow().last().unwrap().body.clone());
    assert!(redemption
        .unwrap()
        .contains("scope=api%3A%2F%2Fwebapi%2Faccess_as_user+offline_access+openid+profile"));
    let second = get(&[], &[cookie_pair(&consented, SESSION_COOKIE)]);

    // The provider still refuses those scopes after the trip: 403, no second redirect.
    let before = replay.requests.borrow().len();
    replay.push(400, CONSENT_REQUIRED);
    let denied = block_on(app.call_web_api(&second, &platform));
    assert_eq!(denied.status, 403);
    assert!(matches!(denied.page, Some(Page::AccessDenied { .. })));
    assert!(denied.cookies.is_empty(), "no new sign-in began");
    assert_eq!(replay.requests.borrow().len(), before + 1);

    // The downstream API's scopes still go the usual way (a redirect, not a 403).
    replay.push(400, CONSENT_REQUIRED);
    let other = block_on(app.call_downstream(&second, &platform));
    assert_eq!(other.status, 302);
}

#[test]
fn a_declined_consent_ends_on_a_403_page_without_another_trip() {
    let (app, replay, store, session) = signed_in_with_web_api();
    // Fresh randomness for the re-authorization (the replay's own repeats itself).
    let entropy = crate::testing::CountingEntropy::default();
    let platform = Platform {
        entropy: &entropy,
        ..replay.platform(&store)
    };
    replay.push(400, CONSENT_REQUIRED);
    let challenge = block_on(app.call_web_api(&get(&[], &[session]), &platform));
    let location = challenge.header("location").unwrap().to_string();
    let tx_cookie = cookie_pair(&challenge, TRANSACTION_COOKIE_PREFIX);
    let before = replay.requests.borrow().len();
    let declined = block_on(app.callback(
        &get(
            &[
                ("error", "access_denied"),
                ("state", &param(&location, "state")),
            ],
            core::slice::from_ref(&tx_cookie),
        ),
        &platform,
    ));
    assert_eq!(declined.status, 403);
    assert!(matches!(declined.page, Some(Page::AccessDenied { .. })));
    assert_eq!(
        declined.cookies[0].max_age,
        Some(0),
        "transaction cookie cleared"
    );
    assert!(declined.header("location").is_none());
    assert_eq!(replay.requests.borrow().len(), before, "no token request");

    // A declined first sign-in stays a sign-in failure (400).
    let (start, location) = start_sign_in(&app, &platform, &[]);
    let failed = block_on(app.callback(
        &get(
            &[
                ("error", "access_denied"),
                ("state", &param(&location, "state")),
            ],
            &[cookie_pair(&start, TRANSACTION_COOKIE_PREFIX)],
        ),
        &platform,
    ));
    assert_eq!(failed.status, 400);
}

/// An ID token as a refresh response carries it (OIDC Core §12.2: no nonce), for `sub`.
fn refreshed_id_token(sub: &str, name: &str) -> String {
    let claims = json!({"iss": ISSUER, "sub": sub, "aud": "webapp", "exp": NOW + 7200,
        "iat": NOW + 3400, "name": name});
    sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": "k1"}),
        &claims,
    )
}

#[test]
fn the_id_token_of_a_refresh_response_must_name_the_same_user() {
    let (app, replay, store, session) = signed_in_session(&[]);
    let id = SessionId::parse(&session.1).unwrap();
    let platform = replay.platform(&store);
    replay.now.set(NOW + 3400);

    // Another user in the refresh answer: its access token is not used, the session unchanged.
    let mallory = refreshed_id_token("mallory", "Mallory");
    replay.push(
        200,
        &token_response(Some(&mallory), "at-m", Some("rt-m"), 3600),
    );
    let answer =
        block_on(app.call_downstream(&get(&[], core::slice::from_ref(&session)), &platform));
    assert_ne!(answer.status, 200, "{answer:?}");
    assert!(replay
        .requests
        .borrow()
        .iter()
        .all(|request| request.header("authorization") != Some("Bearer at-m")));
    let stored = block_on(app.session_store(&platform).load(&id, NOW + 3400))
        .unwrap()
        .unwrap();
    assert_eq!(stored.claims["sub"], "alice");
    assert_eq!(
        stored
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_string()),
        Some("rt-1".into()),
        "the other user's refresh token is not kept"
    );

    // The same user, without a nonce (§12.2): accepted, and the session's claims updated.
    let alice = refreshed_id_token("alice", "Alice Renamed");
    replay.push(
        200,
        &token_response(Some(&alice), "at-2", Some("rt-2"), 3600),
    );
    replay.push(200, r#"{"sub":"alice"}"#);
    let answer =
        block_on(app.call_downstream(&get(&[], core::slice::from_ref(&session)), &platform));
    assert_eq!(answer.status, 200, "{answer:?}");
    let stored = block_on(app.session_store(&platform).load(&id, NOW + 3400))
        .unwrap()
        .unwrap();
    assert_eq!(stored.claims["name"], "Alice Renamed");
}

/// A store in which "another isolate" rewrites one entry after it has been read `reads` times.
struct RotatedElsewhere {
    inner: MapStore,
    key: String,
    rewritten: Vec<u8>,
    reads: core::cell::Cell<usize>,
}

impl crate::platform::TokenStore for RotatedElsewhere {
    fn get<'a>(
        &'a self,
        key: &'a str,
    ) -> crate::platform::LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        let value = Ok(self
            .inner
            .0
            .borrow()
            .get(key)
            .map(|(bytes, _)| bytes.clone()));
        if key == self.key && self.reads.get() > 0 {
            self.reads.set(self.reads.get() - 1);
            if self.reads.get() == 0 {
                let mut entries = self.inner.0.borrow_mut();
                if let Some(entry) = entries.get_mut(key) {
                    entry.0 = self.rewritten.clone();
                }
            }
        }
        Box::pin(core::future::ready(value))
    }
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl_secs: u64,
    ) -> crate::platform::LocalBoxFuture<'a, Result<(), Error>> {
        self.inner.put(key, value, ttl_secs)
    }
    fn delete<'a>(
        &'a self,
        key: &'a str,
    ) -> crate::platform::LocalBoxFuture<'a, Result<(), Error>> {
        self.inner.delete(key)
    }
}

#[test]
fn an_invalid_grant_rereads_the_session_once_for_a_refresh_token_rotated_elsewhere() {
    let (app, replay, store, session) = signed_in_session(&[]);
    let id = SessionId::parse(&session.1).unwrap();

    // What another isolate's refresh left in the store: the rotated refresh token rt-2.
    let mut rotated = block_on(app.session_store(&replay.platform(&store)).load(&id, NOW))
        .unwrap()
        .unwrap();
    rotated.refresh_token = Some(crate::secret::RefreshToken::new("rt-2"));
    let elsewhere = MapStore::default();
    block_on(
        app.session_store(&replay.platform(&elsewhere))
            .save(&id, &rotated, NOW, &replay),
    )
    .unwrap();
    let (key, rewritten) = {
        let entries = elsewhere.0.borrow();
        let (key, (bytes, _)) = entries.iter().next().unwrap();
        (key.clone(), bytes.clone())
    };
    // This request reads the session twice (its cookie, then before refreshing) with rt-1.
    let store = RotatedElsewhere {
        inner: store,
        key,
        rewritten,
        reads: core::cell::Cell::new(2),
    };
    let platform = replay.platform(&store);
    replay.now.set(NOW + 3400);
    replay.push(400, r#"{"error":"invalid_grant","error_description":"AADSTS70000: refresh token already redeemed"}"#);
    replay.push(200, &token_response(None, "at-2", Some("rt-3"), 3600));
    replay.push(200, r#"{"sub":"alice"}"#);
    let answer =
        block_on(app.call_downstream(&get(&[], core::slice::from_ref(&session)), &platform));
    assert_eq!(answer.status, 200, "{answer:?}");
    let refreshes: Vec<String> = replay
        .requests
        .borrow()
        .iter()
        .filter(|request| request.url.path() == "/token")
        .map(|request| String::from_utf8(request.body.clone()).unwrap())
        .filter(|body| body.contains("grant_type=refresh_token"))
        .collect();
    assert_eq!(refreshes.len(), 2, "one reread, one more redemption");
    assert!(refreshes[0].contains("refresh_token=rt-1"));
    assert!(refreshes[1].contains("refresh_token=rt-2"));
}
