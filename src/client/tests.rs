//! The client's decisions (memory, store, provider, single-flight, serve-stale) with the
//! recorded Entra responses of `tests/fixtures/entra/` replayed in order. The local provider
//! covers the happy paths end to end (`testbed/e2e/daemon.test.mjs`); these cover what it cannot
//! produce: Entra's `refresh_in`, HTML outages, a failing store.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::cache::{NoStore, TokenStore};
use crate::credential::SecretMethod;
use crate::platform::LocalBoxFuture;
use crate::secret::ClientSecret;
use crate::testing::MapStore;
use crate::testing::{ReplayPlatform, NOW};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use futures::executor::block_on;

const SUCCESS: &str = include_str!("../../tests/fixtures/entra/client_credentials_success.json");
const INVALID_CLIENT: &str = include_str!("../../tests/fixtures/entra/invalid_client_secret.json");
const OUTAGE: &str = include_str!("../../tests/fixtures/entra/service_unavailable.html");

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

fn client(authority: &str) -> ConfidentialClient {
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
}

const ENTRA: &str = "https://login.microsoftonline.com/contoso.onmicrosoft.com";

fn scopes() -> Scopes {
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
fn when_refresh_is_due_a_retryable_outage_serves_the_cached_token() {
    let env = ReplayPlatform::new(&[(200, SUCCESS), (503, OUTAGE), (401, INVALID_CLIENT)]);
    let client = client(ENTRA);
    let first =
        block_on(client.acquire_token_for_client(&scopes(), &env.platform(&NoStore))).unwrap();

    env.now.set(NOW + 1799); // Entra's refresh_in: refresh is due
    let during_outage =
        block_on(client.acquire_token_for_client(&scopes(), &env.platform(&NoStore))).unwrap();
    assert_eq!(
        during_outage.source,
        TokenSource::CachedAfterProviderFailure
    );
    assert_eq!(during_outage.access_token, first.access_token);

    // A refusal is not an outage: it is reported, not papered over.
    let refused =
        block_on(client.acquire_token_for_client(&scopes(), &env.platform(&NoStore))).unwrap_err();
    assert_eq!(refused.server_error().unwrap().error_codes, [7000215]);
    assert_eq!(env.requests.borrow().len(), 3);
}

#[test]
fn an_expired_token_is_not_served_during_an_outage() {
    let env = ReplayPlatform::new(&[(200, SUCCESS), (503, OUTAGE)]);
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
