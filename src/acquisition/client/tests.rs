//! The client's decisions (memory, store, provider, single-flight, serve-stale) with the
//! recorded Entra responses of `tests/fixtures/entra/` replayed in order. The local provider
//! covers the happy paths end to end (`testbed/e2e/daemon.test.mjs`); these cover what it cannot
//! produce: Entra's `refresh_in`, HTML outages, a failing store.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::acquisition::throttle::SERVER_ERROR_THROTTLE_SECS;
use crate::credentials::credential::SecretMethod;
use crate::platform::LocalBoxFuture;
use crate::platform::{NoStore, TokenStore};
use crate::protocol::authority::Region;
use crate::secret::ClientSecret;
use crate::testing::MapStore;
use crate::testing::{ReplayPlatform, NOW};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use futures::executor::block_on;
use url::Url;

pub(super) use crate::testing::ENTRA_SUCCESS as SUCCESS;
use crate::testing::{ENTRA_INVALID_CLIENT as INVALID_CLIENT, ENTRA_OUTAGE as OUTAGE};

struct BrokenStore;

impl TokenStore for BrokenStore {
    fn get<'a>(&'a self, _key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        Box::pin(core::future::ready(Err(Error::Cache(
            "KV get: unavailable".into(),
        ))))
    }
    fn put<'a>(
        &'a self,
        _key: &'a str,
        _value: Vec<u8>,
        _ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(core::future::ready(Err(Error::Cache(
            "KV put: unavailable".into(),
        ))))
    }
    fn delete<'a>(&'a self, _key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(core::future::ready(Err(Error::Cache(
            "KV delete: unavailable".into(),
        ))))
    }
}

/// A client with a secret and the store tier on ([`crate::testing::TOKEN_CACHE_KEY`]).
pub(super) fn client(authority: &str) -> ConfidentialClient {
    let credential = ClientCredential::Secret {
        secret: ClientSecret::new("secret"),
        method: SecretMethod::Post,
    };
    ConfidentialClient::new(
        Authority::parse(authority, None).unwrap(),
        "client-1",
        credential,
    )
    .unwrap()
    .with_token_cache_key(&crate::testing::token_cache_keys())
}

pub(super) const ENTRA: &str = "https://login.microsoftonline.com/contoso.onmicrosoft.com";

pub(super) fn scopes() -> Scopes {
    Scopes::parse("https://graph.microsoft.com/.default").unwrap()
}

#[test]
fn memory_then_store_then_provider() {
    let env = ReplayPlatform::new(&[(200, SUCCESS)]);
    let store = MapStore::default();
    let client = client(ENTRA);
    let first =
        block_on(client.acquire_token_for_client(&scopes(), &env.platform(&store))).unwrap();
    assert_eq!(first.source, TokenSource::Provider);
    assert_eq!(first.expires_on, NOW + 3599);
    let request = &env.requests.borrow()[0];
    assert_eq!(
        request.url.as_str(),
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    assert_eq!(
        request.header("client-request-id"),
        Some("42424242-4242-4242-8242-424242424242")
    );
    let (_, ttl) = store.0.borrow().values().next().cloned().unwrap();
    assert_eq!(ttl, 3599, "the store keeps it for its remaining life");

    let second =
        block_on(client.acquire_token_for_client(&scopes(), &env.platform(&store))).unwrap();
    assert_eq!(
        (second.source, second.access_token),
        (TokenSource::Memory, first.access_token.clone())
    );

    // Another isolate (a new client) finds it in the store.
    let other =
        block_on(self::client(ENTRA).acquire_token_for_client(&scopes(), &env.platform(&store)))
            .unwrap();
    assert_eq!(
        (other.source, other.access_token),
        (TokenSource::Store, first.access_token)
    );
    assert_eq!(env.requests.borrow().len(), 1);
}

#[test]
fn a_failing_store_never_fails_acquisition() {
    let env = ReplayPlatform::new(&[(200, SUCCESS)]);
    let token =
        block_on(client(ENTRA).acquire_token_for_client(&scopes(), &env.platform(&BrokenStore)))
            .unwrap();
    assert_eq!(token.source, TokenSource::Provider);
}

#[test]
fn when_refresh_is_due_the_token_is_served_and_a_background_refresh_survives_an_outage() {
    let env = ReplayPlatform::new(&[
        (200, SUCCESS),
        (503, OUTAGE),
        (503, OUTAGE),
        (401, INVALID_CLIENT),
    ]);
    let client = client(ENTRA);
    let first =
        block_on(client.acquire_token_for_client(&scopes(), &env.platform(&NoStore))).unwrap();
    assert!(!first.refresh_due);

    // Entra's refresh_in is 1799 s; the random advance here is 0x4242 % 60 = 42 s.
    env.now.set(NOW + 1756);
    let early =
        block_on(client.acquire_token_for_client(&scopes(), &env.platform(&NoStore))).unwrap();
    assert!(!early.refresh_due);
    env.now.set(NOW + 1757);
    let due =
        block_on(client.acquire_token_for_client(&scopes(), &env.platform(&NoStore))).unwrap();
    assert_eq!((due.source, due.refresh_due), (TokenSource::Memory, true));
    assert!(env.requests.borrow().len() == 1, "served without waiting");

    // The background refresh meets an outage (retried once): the cached token stays.
    env.now.set(NOW + 1799);
    let during_outage =
        block_on(client.refresh_token_for_client(&scopes(), &env.platform(&NoStore))).unwrap();
    assert_eq!(
        during_outage.source,
        TokenSource::CachedAfterProviderFailure
    );
    assert_eq!(during_outage.access_token, first.access_token);
    // The server failed twice: the request is left alone for a minute (MSAL's short
    // throttle), the cached token still served.
    env.now.set(NOW + 1799 + SERVER_ERROR_THROTTLE_SECS - 1);
    let throttled =
        block_on(client.refresh_token_for_client(&scopes(), &env.platform(&NoStore))).unwrap();
    assert_eq!(throttled.source, TokenSource::CachedAfterProviderFailure);
    assert_eq!(
        env.requests.borrow().len(),
        3,
        "nothing sent while throttled"
    );

    // A refusal is not an outage: it is reported, not papered over, and not retried.
    env.now.set(NOW + 1799 + SERVER_ERROR_THROTTLE_SECS);
    let refused =
        block_on(client.refresh_token_for_client(&scopes(), &env.platform(&NoStore))).unwrap_err();
    assert_eq!(refused.server_error().unwrap().error_codes, [7000215]);
    assert_eq!(env.requests.borrow().len(), 4);
}

const THROTTLED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/entra/throttled_429.json"
));

#[test]
fn a_429_throttles_the_same_request_until_retry_after() {
    let env = ReplayPlatform::new(&[]);
    env.push_response(429, &[("Retry-After", "30")], THROTTLED);
    let client = client(ENTRA);
    let platform = env.platform(&NoStore);
    let first = block_on(client.acquire_token_for_client(&scopes(), &platform)).unwrap_err();
    assert_eq!(first.server_error().map(|s| s.status), Some(429));
    // Identical requests fail fast, without a request, for 30 s.
    for elapsed in [0, 29] {
        env.now.set(NOW + elapsed);
        let throttled = block_on(client.acquire_token_for_client(&scopes(), &platform));
        assert_eq!(
            throttled,
            Err(Error::Throttled {
                retry_after_secs: 30 - elapsed
            })
        );
    }
    assert_eq!(env.requests.borrow().len(), 1);
    // Another request (other scopes) is not throttled; after the window, the same one goes out.
    env.push(200, SUCCESS);
    let other = Scopes::parse("api://other/.default").unwrap();
    block_on(client.acquire_token_for_client(&other, &platform)).unwrap();
    env.now.set(NOW + 30);
    env.push(200, SUCCESS);
    block_on(client.acquire_token_for_client(&scopes(), &platform)).unwrap();
    assert_eq!(env.requests.borrow().len(), 3);
}

#[test]
fn while_throttled_a_valid_cached_token_is_served() {
    let env = ReplayPlatform::new(&[(200, SUCCESS)]);
    env.push_response(
        429,
        &[("retry-after", "Wed, 18 Nov 2026 12:13:20 GMT")],
        THROTTLED,
    );
    let client = client(ENTRA);
    let platform = env.platform(&NoStore);
    let first = block_on(client.acquire_token_for_client(&scopes(), &platform)).unwrap();
    // Inside the 300 s early-expiry margin, still unexpired.
    env.now.set(NOW + 3400);
    for _ in 0..3 {
        let served = block_on(client.acquire_token_for_client(&scopes(), &platform)).unwrap();
        assert_eq!(served.source, TokenSource::CachedAfterProviderFailure);
        assert_eq!(served.access_token, first.access_token);
    }
    // One 429, then the throttle: no more requests.
    assert_eq!(env.requests.borrow().len(), 2);
}

#[test]
fn a_5xx_or_transport_failure_is_retried_once_but_a_code_or_refresh_token_never() {
    let env = ReplayPlatform::new(&[(503, OUTAGE), (200, SUCCESS)]);
    let client = client(ENTRA);
    let platform = env.platform(&NoStore);
    let token = block_on(client.acquire_token_for_client(&scopes(), &platform)).unwrap();
    assert_eq!(token.source, TokenSource::Provider);
    assert_eq!(env.requests.borrow().len(), 2);

    env.push(503, OUTAGE);
    let verifier =
        crate::protocol::pkce::PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
            .unwrap();
    let redirect = Url::parse("https://app.example.com/auth/callback").unwrap();
    let redeemed =
        block_on(client.redeem_authorization_code("c", &redirect, &verifier, &scopes(), &platform));
    assert!(redeemed.is_err());
    assert_eq!(
        env.requests.borrow().len(),
        3,
        "a code is single-use: no retry"
    );

    // A refresh token may have been rotated by the lost answer: resending it is a reuse.
    env.push(503, OUTAGE);
    let refresh_token = crate::secret::RefreshToken::new("rt-1");
    let refreshed =
        block_on(client.acquire_token_by_refresh_token(&refresh_token, &scopes(), None, &platform));
    assert!(refreshed.is_err());
    assert_eq!(
        env.requests.borrow().len(),
        4,
        "a refresh token redemption is never retried"
    );
}

#[test]
fn the_provider_date_corrects_the_clock_for_expiry() {
    // The provider's clock is 10 minutes ahead of this one.
    let env = ReplayPlatform::new(&[]);
    env.push_response(200, &[("Date", "Wed, 18 Nov 2026 11:16:40 GMT")], SUCCESS);
    env.push_response(200, &[("Date", "Wed, 18 Nov 2026 11:16:40 GMT")], SUCCESS);
    let client = client(ENTRA);
    let platform = env.platform(&NoStore);
    block_on(client.acquire_token_for_client(&scopes(), &platform)).unwrap();
    assert_eq!(client.clock_offset.secs(), 600);
    let again = block_on(client.acquire_token_for_client_with(
        &scopes(),
        &TokenOptions::force_refresh(),
        &platform,
    ))
    .unwrap();
    assert_eq!(
        again.expires_on,
        NOW + 600 + 3599,
        "lifetimes count in the provider's time"
    );
}

#[test]
fn an_expired_token_is_not_served_during_an_outage() {
    let env = ReplayPlatform::new(&[(200, SUCCESS), (503, OUTAGE), (503, OUTAGE)]);
    let client = client(ENTRA);
    block_on(client.acquire_token_for_client(&scopes(), &env.platform(&NoStore))).unwrap();
    env.now.set(NOW + 3599);
    let err =
        block_on(client.acquire_token_for_client(&scopes(), &env.platform(&NoStore))).unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[test]
fn multi_tenant_aliases_are_refused_before_any_request() {
    let env = ReplayPlatform::new(&[]);
    let err = block_on(
        client("https://login.microsoftonline.com/organizations")
            .acquire_token_for_client(&scopes(), &env.platform(&NoStore)),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Configuration(_)));
    assert!(env.requests.borrow().is_empty());
}

#[test]
fn an_oidc_issuer_is_discovered_once() {
    let discovery = r#"{"issuer":"https://id.example.com","token_endpoint":"https://id.example.com/oauth/token"}"#;
    let short = r#"{"access_token":"a","token_type":"Bearer","expires_in":60}"#;
    let env = ReplayPlatform::new(&[(200, discovery), (200, short), (200, short)]);
    let client = client("https://id.example.com");
    for _ in 0..2 {
        let token =
            block_on(client.acquire_token_for_client(&scopes(), &env.platform(&NoStore))).unwrap();
        assert_eq!(
            token.source,
            TokenSource::Provider,
            "a 60 s token is used but never cached"
        );
    }
    let urls: Vec<String> = env
        .requests
        .borrow()
        .iter()
        .map(|r| r.url.to_string())
        .collect();
    assert_eq!(
        urls,
        [
            "https://id.example.com/.well-known/openid-configuration",
            "https://id.example.com/oauth/token",
            "https://id.example.com/oauth/token"
        ]
    );
}

#[test]
fn a_region_sends_only_client_credentials_to_the_regional_endpoint() {
    let region = Region::parse("AZURE_REGION", "westus2").unwrap();
    let client = client(ENTRA).with_region(region).unwrap();
    let env = ReplayPlatform::new(&[(200, SUCCESS)]);
    block_on(client.acquire_token_for_client(&scopes(), &env.platform(&NoStore))).unwrap();
    assert_eq!(
        env.requests.borrow()[0].url.as_str(),
        "https://westus2.login.microsoft.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    // Other grants keep the global endpoint.
    env.push(200, SUCCESS);
    let refresh_token = crate::secret::RefreshToken::new("rt");
    block_on(client.acquire_token_by_refresh_token(
        &refresh_token,
        &scopes(),
        None,
        &env.platform(&NoStore),
    ))
    .unwrap();
    assert_eq!(
        env.requests.borrow()[1].url.as_str(),
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    // No regional endpoints for a generic issuer.
    let region = Region::parse("AZURE_REGION", "westus2").unwrap();
    assert!(self::client("https://id.example.com")
        .with_region(region)
        .is_err());
}

#[test]
fn an_unknown_entra_host_is_validated_once_by_instance_discovery() {
    let discovery = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/entra/instance_discovery_invalid_instance.json"
    ));
    let env = ReplayPlatform::new(&[]);
    env.push_response(
        400,
        &[("content-type", "application/json; charset=utf-8")],
        discovery,
    );
    let credential = ClientCredential::Secret {
        secret: ClientSecret::new("secret"),
        method: SecretMethod::Post,
    };
    let authority = Authority::parse(
        "https://login.contoso-identity.example/contoso.onmicrosoft.com",
        Some(crate::protocol::authority::AuthorityKind::Entra),
    )
    .unwrap();
    let client = ConfidentialClient::new(authority, "client-1", credential).unwrap();
    let refused = block_on(client.acquire_token_for_client(&scopes(), &env.platform(&NoStore)));
    assert!(
        matches!(refused, Err(Error::Configuration(_))),
        "{refused:?}"
    );
    assert!(env.requests.borrow()[0].url.as_str().starts_with(
        "https://login.microsoftonline.com/common/discovery/instance?api-version=1.1"
    ));
    // Known clouds need no validation request.
    let env = ReplayPlatform::new(&[(200, SUCCESS)]);
    block_on(self::client(ENTRA).acquire_token_for_client(&scopes(), &env.platform(&NoStore)))
        .unwrap();
    assert_eq!(env.requests.borrow().len(), 1);
}

#[test]
fn a_stored_token_due_for_refresh_is_served_and_refreshed_ahead() {
    // One isolate cached the token in the store; another (e.g. a Fastly instance) reads it later.
    let env = ReplayPlatform::new(&[(200, SUCCESS)]);
    let store = MapStore::default();
    block_on(client(ENTRA).acquire_token_for_client(&scopes(), &env.platform(&store))).unwrap();
    env.now.set(NOW + 1799); // past Entra's refresh_in
    let other = client(ENTRA);
    let served =
        block_on(other.acquire_token_for_client(&scopes(), &env.platform(&store))).unwrap();
    assert_eq!(
        (served.source, served.refresh_due),
        (TokenSource::Store, true)
    );
    assert_eq!(env.requests.borrow().len(), 1, "served without waiting");
    // The refresh ahead asks the provider (the stored token is not fresh) and stores the result.
    env.push(200, SUCCESS);
    let refreshed =
        block_on(other.refresh_token_for_client(&scopes(), &env.platform(&store))).unwrap();
    assert_eq!(refreshed.source, TokenSource::Provider);
    assert_eq!(env.requests.borrow().len(), 2);
    let again =
        block_on(client(ENTRA).acquire_token_for_client(&scopes(), &env.platform(&store))).unwrap();
    assert_eq!(
        (again.source, again.refresh_due),
        (TokenSource::Store, false)
    );
}

#[test]
fn a_dead_refresh_token_is_not_sent_again_for_two_minutes_but_a_rotated_one_is() {
    let env = ReplayPlatform::new(&[]);
    let client = client(ENTRA);
    let platform = env.platform(&NoStore);
    env.push(
        400,
        r#"{"error":"invalid_grant","error_codes":[70008],"correlation_id":"c1"}"#,
    );
    let dead = crate::secret::RefreshToken::new("rt-dead");
    let redeem =
        |token| block_on(client.acquire_token_by_refresh_token(token, &scopes(), None, &platform));
    let first = redeem(&dead).unwrap_err();
    assert_eq!(first.server_error().unwrap().error, "invalid_grant");
    // The same answer, from memory (MSAL's UI-required throttle: the caller still sees
    // invalid_grant and sends its user to sign in).
    env.now
        .set(NOW + crate::acquisition::throttle::UI_REQUIRED_THROTTLE_SECS - 1);
    assert_eq!(redeem(&dead).unwrap_err(), first);
    assert_eq!(
        env.requests.borrow().len(),
        1,
        "the dead token is not sent again"
    );
    // Another refresh token (rotated by another request) is another request.
    env.push(200, SUCCESS);
    let rotated = crate::secret::RefreshToken::new("rt-rotated");
    redeem(&rotated).unwrap();
    // After the window the dead one may be tried again.
    env.now
        .set(NOW + crate::acquisition::throttle::UI_REQUIRED_THROTTLE_SECS);
    env.push(400, r#"{"error":"invalid_grant"}"#);
    assert!(redeem(&dead).is_err());
    assert_eq!(env.requests.borrow().len(), 3);
}

#[test]
fn a_server_error_on_a_refresh_token_throttles_that_token_for_a_minute() {
    let env = ReplayPlatform::new(&[(503, OUTAGE)]);
    let client = client(ENTRA);
    let platform = env.platform(&NoStore);
    let token = crate::secret::RefreshToken::new("rt");
    let redeem =
        || block_on(client.acquire_token_by_refresh_token(&token, &scopes(), None, &platform));
    assert!(redeem().is_err());
    assert!(matches!(
        redeem(),
        Err(Error::Throttled {
            retry_after_secs: SERVER_ERROR_THROTTLE_SECS
        })
    ));
    assert_eq!(env.requests.borrow().len(), 1);
}
