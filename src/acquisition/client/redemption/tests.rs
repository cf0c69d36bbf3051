//! A session's refresh-token redemptions through its coordinator, both ends in memory: one
//! redemption per refresh token whatever the number of isolates, a redeemed refresh token never
//! presented again, the record sealed, and every failure of the coordinator degrading to the
//! isolate's own redemption.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use alloc::format;
use alloc::string::String;

use futures::executor::block_on;

use super::*;
use crate::credentials::credential::{ClientCredential, SecretMethod};
use crate::protocol::authority::Authority;
use crate::secret::ClientSecret;
use crate::testing::{token_cache_keys, InMemoryCoordinator, MapStore, ReplayPlatform, NOW};

const ENTRA: &str = "https://login.microsoftonline.com/contoso.onmicrosoft.com";
const SESSION: &str = "edge-token/v1/session/c2Vzc2lvbi1vbmU";

fn client() -> ConfidentialClient {
    let credential = ClientCredential::Secret {
        secret: ClientSecret::new("secret"),
        method: SecretMethod::Post,
    };
    ConfidentialClient::new(
        Authority::parse(ENTRA, None).unwrap(),
        "web-app",
        credential,
    )
    .unwrap()
    .with_token_cache_key(&token_cache_keys())
}

fn scopes(text: &str) -> Scopes {
    Scopes::parse(text).unwrap()
}

fn mail() -> Scopes {
    scopes("https://graph.microsoft.com/Mail.Read openid profile offline_access")
}

/// A refresh response: access token `at`, rotated refresh token `rt`, one hour.
fn refreshed(at: &str, rt: &str) -> String {
    format!(
        r#"{{"token_type":"Bearer","access_token":"{at}","refresh_token":"{rt}","expires_in":3599,"scope":"https://graph.microsoft.com/Mail.Read"}}"#
    )
}

const INVALID_GRANT: &str = r#"{"error":"invalid_grant","error_description":"AADSTS70008: The refresh token has expired or is invalid."}"#;

fn session(generation: u64, force: bool) -> SessionRedemption<'static> {
    SessionRedemption {
        key: SESSION,
        generation,
        expires_at: NOW + 24 * 3600,
        force,
    }
}

/// The `refresh_token` each request presented.
fn presented(env: &ReplayPlatform) -> Vec<String> {
    env.requests
        .borrow()
        .iter()
        .map(|request| {
            url::form_urlencoded::parse(&request.body)
                .find(|(name, _)| name == "refresh_token")
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default()
        })
        .collect()
}

fn redeem(
    isolate: &ConfidentialClient,
    redemption: SessionRedemption<'_>,
    refresh_token: &str,
    scopes: &Scopes,
    platform: &Platform<'_>,
) -> Result<RedeemedRefreshToken, Error> {
    block_on(isolate.redeem_refresh_token(
        &redemption,
        &RefreshToken::new(refresh_token),
        scopes,
        None,
        platform,
    ))
}

fn refresh_token_of(redeemed: &RedeemedRefreshToken) -> &str {
    redeemed
        .tokens
        .response
        .refresh_token
        .as_ref()
        .map(RefreshToken::expose_secret)
        .unwrap_or_default()
}

#[test]
fn two_isolates_redeeming_one_refresh_token_cause_one_redemption() {
    let env = ReplayPlatform::new(&[(200, &refreshed("at-1", "rt-2"))]);
    let coordinator = InMemoryCoordinator::new(&env, client());
    let (first, second) = (client(), client());
    let (kv_a, kv_b) = (MapStore::default(), MapStore::default());
    // Both isolates' session records hold rt-1 (generation 0) and both force a refresh.
    let a = redeem(
        &first,
        session(0, true),
        "rt-1",
        &mail(),
        &coordinator.platform(&kv_a),
    )
    .unwrap();
    let b = redeem(
        &second,
        session(0, true),
        "rt-1",
        &mail(),
        &coordinator.platform(&kv_b),
    )
    .unwrap();
    assert_eq!(presented(&env), ["rt-1"], "one redemption");
    assert_eq!(a, b, "the same result for both");
    assert_eq!((refresh_token_of(&b), b.generation), ("rt-2", 1));
    assert_eq!(b.tokens.response.access_token.expose_secret(), "at-1");
}

#[test]
fn a_caller_with_an_older_refresh_token_gets_a_redemption_of_the_current_one() {
    let env = ReplayPlatform::new(&[
        (200, &refreshed("at-1", "rt-2")),
        (200, &refreshed("at-2", "rt-3")),
    ]);
    let coordinator = InMemoryCoordinator::new(&env, client());
    let isolate = client();
    let kv = MapStore::default();
    let platform = coordinator.platform(&kv);
    redeem(&isolate, session(0, false), "rt-1", &mail(), &platform).unwrap();
    // Another isolate still reads rt-1 (generation 0) and wants other scopes: rt-2 is redeemed.
    let calendars = scopes("https://graph.microsoft.com/Calendars.Read openid offline_access");
    let other = redeem(&client(), session(0, false), "rt-1", &calendars, &platform).unwrap();
    assert_eq!(
        presented(&env),
        ["rt-1", "rt-2"],
        "rt-1 is never presented twice"
    );
    assert_eq!((refresh_token_of(&other), other.generation), ("rt-3", 2));
    // A forced refresh with the current refresh token redeems it.
    env.push(200, &refreshed("at-3", "rt-4"));
    let forced = redeem(&isolate, session(2, true), "rt-3", &mail(), &platform).unwrap();
    assert_eq!(presented(&env), ["rt-1", "rt-2", "rt-3"]);
    assert_eq!((refresh_token_of(&forced), forced.generation), ("rt-4", 3));
    // Without forcing, a fresh result for the scopes is served as is, with the current token.
    let held = redeem(&client(), session(1, false), "rt-2", &calendars, &platform).unwrap();
    assert_eq!(presented(&env).len(), 3);
    assert_eq!(held.tokens.response.access_token.expose_secret(), "at-2");
    assert_eq!((refresh_token_of(&held), held.generation), ("rt-4", 3));
}

#[test]
fn a_newer_refresh_token_is_adopted() {
    let env = ReplayPlatform::new(&[(200, &refreshed("at-1", "rt-2"))]);
    let coordinator = InMemoryCoordinator::new(&env, client());
    let kv = MapStore::default();
    let platform = coordinator.platform(&kv);
    redeem(&client(), session(0, false), "rt-1", &mail(), &platform).unwrap();
    // Redeemed in an isolate while the coordinator was unreachable: rt-9, generation 4.
    env.push(200, &refreshed("at-9", "rt-10"));
    let adopted = redeem(&client(), session(4, true), "rt-9", &mail(), &platform).unwrap();
    assert_eq!(presented(&env), ["rt-1", "rt-9"]);
    assert_eq!(
        (refresh_token_of(&adopted), adopted.generation),
        ("rt-10", 5)
    );
}

#[test]
fn a_refused_refresh_token_is_everyones_answer_without_another_request() {
    let env = ReplayPlatform::new(&[(400, INVALID_GRANT)]);
    let coordinator = InMemoryCoordinator::new(&env, client());
    let kv = MapStore::default();
    let platform = coordinator.platform(&kv);
    for _ in 0..3 {
        let error = redeem(&client(), session(0, false), "rt-1", &mail(), &platform).unwrap_err();
        assert_eq!(
            error.server_error().map(|e| e.error.as_str()),
            Some("invalid_grant")
        );
    }
    assert_eq!(presented(&env), ["rt-1"]);
}

/// Entra's answer when the user never consented to the requested scopes (AADSTS65001).
const CONSENT_REQUIRED: &str = r#"{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented.","error_codes":[65001],"suberror":"consent_required"}"#;

#[test]
fn a_refusal_for_the_requested_scopes_only_leaves_the_refresh_token_usable() {
    let env = ReplayPlatform::new(&[(400, CONSENT_REQUIRED)]);
    let coordinator = InMemoryCoordinator::new(&env, client());
    let kv = MapStore::default();
    let platform = coordinator.platform(&kv);
    let unconsented = scopes("api://webapi/access_as_user openid profile offline_access");
    let error = redeem(
        &client(),
        session(0, false),
        "rt-1",
        &unconsented,
        &platform,
    )
    .unwrap_err();
    assert_eq!(
        error.server_error().and_then(|e| e.suberror.as_deref()),
        Some("consent_required")
    );
    // The same refresh token still serves the consented scopes: the provider is asked.
    env.push(200, &refreshed("at-1", "rt-2"));
    let held = redeem(&client(), session(0, false), "rt-1", &mail(), &platform).unwrap();
    assert_eq!(held.tokens.response.access_token.expose_secret(), "at-1");
    assert_eq!(presented(&env), ["rt-1", "rt-1"]);
}

#[test]
fn the_record_is_sealed_and_bound_to_its_session() {
    let env = ReplayPlatform::new(&[(200, &refreshed("at-1", "rt-2"))]);
    let coordinator = InMemoryCoordinator::new(&env, client());
    let kv = MapStore::default();
    redeem(
        &client(),
        session(0, false),
        "rt-1",
        &mail(),
        &coordinator.platform(&kv),
    )
    .unwrap();
    let stored = coordinator
        .storage
        .0
        .borrow()
        .get(SESSION)
        .cloned()
        .unwrap();
    let text = String::from_utf8(stored.0.clone()).unwrap();
    assert!(!text.contains("rt-2") && !text.contains("at-1"), "sealed");
    assert_eq!(stored.1, 24 * 3600, "kept until the session ends");
    // Moved to another session's key, it does not open: that session's caller is adopted.
    let other = "edge-token/v1/session/b3RoZXItc2Vzc2lvbg";
    coordinator
        .storage
        .0
        .borrow_mut()
        .insert(other.into(), stored);
    env.push(200, &refreshed("at-x", "rt-y"));
    let moved = SessionRedemption {
        key: other,
        ..session(0, true)
    };
    redeem(
        &client(),
        moved,
        "rt-x",
        &mail(),
        &coordinator.platform(&kv),
    )
    .unwrap();
    assert_eq!(presented(&env), ["rt-1", "rt-x"]);
}

#[test]
fn without_a_reachable_coordinator_the_isolate_redeems_by_itself() {
    let env = ReplayPlatform::new(&[(200, &refreshed("at-1", "rt-2"))]);
    let coordinator = InMemoryCoordinator::new(&env, client());
    coordinator.down.set(true);
    let kv = MapStore::default();
    let local = redeem(
        &client(),
        session(3, false),
        "rt-1",
        &mail(),
        &coordinator.platform(&kv),
    )
    .unwrap();
    assert_eq!(presented(&env), ["rt-1"]);
    assert_eq!((refresh_token_of(&local), local.generation), ("rt-2", 4));

    // A coordinator without a token cache key never stores a refresh token: unavailable.
    let unsealed = ConfidentialClient::new(
        Authority::parse(ENTRA, None).unwrap(),
        "web-app",
        ClientCredential::Secret {
            secret: ClientSecret::new("secret"),
            method: SecretMethod::Post,
        },
    )
    .unwrap();
    let keyless = InMemoryCoordinator::new(&env, unsealed);
    env.push(200, &refreshed("at-3", "rt-3"));
    redeem(
        &client(),
        session(4, false),
        "rt-2",
        &mail(),
        &keyless.platform(&kv),
    )
    .unwrap();
    assert_eq!(presented(&env), ["rt-1", "rt-2"]);
    assert!(keyless.storage.0.borrow().is_empty());
}
