//! Coordination between isolates and their coordinator, both ends in memory: one provider
//! request per key for every isolate, throttles and refusals shared, and every failure of the
//! coordinator degrading to the isolate's own request.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::Cell;

use futures::executor::block_on;

use super::*;
use crate::acquisition::client::{ConfidentialClient, TokenSource};
use crate::credentials::credential::{ClientCredential, SecretMethod};
use crate::platform::Platform;
use crate::protocol::authority::Authority;
use crate::secret::ClientSecret;
use crate::testing::{
    token_cache_keys, MapStore, ReplayPlatform, ENTRA_INVALID_CLIENT as INVALID_CLIENT,
    ENTRA_OUTAGE as OUTAGE, ENTRA_SUCCESS as SUCCESS, NOW,
};

const ENTRA: &str = "https://login.microsoftonline.com/contoso.onmicrosoft.com";

fn client(client_id: &str) -> ConfidentialClient {
    let credential = ClientCredential::Secret {
        secret: ClientSecret::new("secret"),
        method: SecretMethod::Post,
    };
    ConfidentialClient::new(
        Authority::parse(ENTRA, None).unwrap(),
        client_id,
        credential,
    )
    .unwrap()
    .with_token_cache_key(&token_cache_keys())
}

fn scopes() -> Scopes {
    Scopes::parse("https://graph.microsoft.com/.default").unwrap()
}

/// The coordinator: its own client and durable storage, on the shared test transport.
struct InMemory<'a> {
    client: ConfidentialClient,
    storage: MapStore,
    env: &'a ReplayPlatform,
    /// How many exchanges it served.
    served: Cell<usize>,
    /// When set, it is unreachable.
    down: Cell<bool>,
}

impl<'a> InMemory<'a> {
    fn new(env: &'a ReplayPlatform, client_id: &str) -> Self {
        Self {
            client: client(client_id),
            storage: MapStore::default(),
            env,
            served: Cell::new(0),
            down: Cell::new(false),
        }
    }
}

impl Coordinator for InMemory<'_> {
    fn exchange<'a>(
        &'a self,
        key: &'a str,
        request: Vec<u8>,
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            assert!(
                key.starts_with("edge-token/v1/"),
                "addressed by the hashed key"
            );
            if self.down.get() {
                return Err(Error::Platform("Network connection lost".into()));
            }
            self.served.set(self.served.get() + 1);
            let platform = self.env.platform(&self.storage);
            Ok(self
                .client
                .serve_coordinated(&request, &platform)
                .await
                .answer)
        })
    }
}

fn with<'a>(
    env: &'a ReplayPlatform,
    store: &'a MapStore,
    coordinator: &'a dyn Coordinator,
) -> Platform<'a> {
    Platform {
        coordinator: Some(coordinator),
        ..env.platform(store)
    }
}

#[test]
fn isolates_share_the_coordinators_one_request() {
    let env = ReplayPlatform::new(&[(200, SUCCESS)]);
    let coordinator = InMemory::new(&env, "client-1");
    let (kv, first, second) = (MapStore::default(), client("client-1"), client("client-1"));
    let a = block_on(first.acquire_token_for_client(&scopes(), &with(&env, &kv, &coordinator)))
        .unwrap();
    // Another isolate, empty KV (another location): the coordinator answers from its memory.
    let b = block_on(
        second.acquire_token_for_client(&scopes(), &with(&env, &MapStore::default(), &coordinator)),
    )
    .unwrap();
    // The first answer came from the coordinator's one provider request, the second from
    // what the coordinator held.
    assert_eq!(
        (a.source, b.source),
        (TokenSource::Provider, TokenSource::Coordinator)
    );
    assert_eq!(a.access_token, b.access_token);
    assert_eq!(a.expires_on, NOW + 3599);
    assert_eq!(
        env.requests.borrow().len(),
        1,
        "one provider request for the deployment"
    );
    // The coordinator keeps it sealed in its storage; the first isolate's KV got it too (a fresh
    // request's answer), its memory serves the next call.
    assert_eq!(coordinator.storage.0.borrow().len(), 1);
    assert_eq!(kv.0.borrow().len(), 1);
    let again = block_on(first.acquire_token_for_client(&scopes(), &with(&env, &kv, &coordinator)))
        .unwrap();
    assert_eq!(again.source, TokenSource::Memory);
    assert_eq!(coordinator.served.get(), 2);
}

#[test]
fn a_refresh_ahead_happens_once_for_the_deployment() {
    let env = ReplayPlatform::new(&[(200, SUCCESS), (200, SUCCESS)]);
    let coordinator = InMemory::new(&env, "client-1");
    let isolates = [client("client-1"), client("client-1")];
    for isolate in &isolates {
        block_on(
            isolate.acquire_token_for_client(
                &scopes(),
                &with(&env, &MapStore::default(), &coordinator),
            ),
        )
        .unwrap();
    }
    env.now.set(NOW + 1799); // Entra's refresh_in
    for isolate in &isolates {
        let refreshed =
            block_on(isolate.refresh_token_for_client(
                &scopes(),
                &with(&env, &MapStore::default(), &coordinator),
            ))
            .unwrap();
        assert_ne!(
            refreshed.source,
            TokenSource::Memory,
            "through the coordinator"
        );
        assert!(!refreshed.refresh_due);
    }
    assert_eq!(
        env.requests.borrow().len(),
        2,
        "the first token and one refresh"
    );
}

#[test]
fn a_throttle_or_a_refusal_at_the_coordinator_is_every_isolates_answer() {
    let env = ReplayPlatform::new(&[]);
    env.push_response(
        429,
        &[("Retry-After", "30")],
        r#"{"error":"temporarily_unavailable"}"#,
    );
    let coordinator = InMemory::new(&env, "client-1");
    for _ in 0..2 {
        let error =
            block_on(client("client-1").acquire_token_for_client(
                &scopes(),
                &with(&env, &MapStore::default(), &coordinator),
            ))
            .unwrap_err();
        assert!(
            matches!(error, Error::Server(_) | Error::Throttled { .. }),
            "{error:?}"
        );
    }
    let throttled = block_on(
        client("client-1")
            .acquire_token_for_client(&scopes(), &with(&env, &MapStore::default(), &coordinator)),
    )
    .unwrap_err();
    assert_eq!(
        throttled,
        Error::Throttled {
            retry_after_secs: 30
        }
    );
    assert_eq!(
        env.requests.borrow().len(),
        1,
        "no isolate asked the provider itself"
    );

    let env = ReplayPlatform::new(&[(401, INVALID_CLIENT)]);
    let coordinator = InMemory::new(&env, "client-1");
    let refused = block_on(
        client("client-1")
            .acquire_token_for_client(&scopes(), &with(&env, &MapStore::default(), &coordinator)),
    )
    .unwrap_err();
    assert_eq!(refused.server_error().unwrap().error, "invalid_client");
    assert_eq!(refused.server_error().unwrap().error_codes, [7000215]);
    assert_eq!(env.requests.borrow().len(), 1);
}

#[test]
fn an_unreachable_coordinator_or_another_clients_is_bypassed() {
    let env = ReplayPlatform::new(&[(200, SUCCESS), (200, SUCCESS)]);
    let down = InMemory::new(&env, "client-1");
    down.down.set(true);
    let token = block_on(
        client("client-1")
            .acquire_token_for_client(&scopes(), &with(&env, &MapStore::default(), &down)),
    )
    .unwrap();
    assert_eq!(
        token.source,
        TokenSource::Provider,
        "the isolate asked itself"
    );

    // A coordinator configured for another client never hands out its own token.
    let other = InMemory::new(&env, "client-2");
    let token = block_on(
        client("client-1")
            .acquire_token_for_client(&scopes(), &with(&env, &MapStore::default(), &other)),
    )
    .unwrap();
    assert_eq!(token.source, TokenSource::Provider);
    assert_eq!(other.served.get(), 1);
    assert!(other.storage.0.borrow().is_empty());
    assert_eq!(env.requests.borrow().len(), 2);
}

#[test]
fn messages_of_another_version_or_shape_are_refused() {
    for bad in [
        &b""[..],
        b"{}",
        br#"{"v":2,"answer":{"token":{"token":{"access_token":"x","expires_on":1},"source":"memory"}}}"#,
        br#"{"v":1,"answer":{"bogus":{}}}"#,
        br#"{"v":1,"token":{"token":{"access_token":"x","expires_on":1},"source":"memory"}}"#,
    ] {
        assert!(CoordinatedAnswer::from_json(bad).is_err());
    }
    let long = alloc::vec![b' '; MAX_COORDINATION_MESSAGE_LEN + 1];
    assert!(CoordinatedAnswer::from_json(&long).is_err());
    assert!(CoordinatedRequest::from_json(br#"{"v":2,"key":"k","scopes":"s"}"#).is_err());
    let answer = CoordinatedAnswer::Throttled {
        retry_after_secs: 5,
    };
    assert_eq!(
        CoordinatedAnswer::from_json(&answer.to_json()).unwrap(),
        answer
    );
}

#[test]
fn an_outage_seen_by_the_coordinator_is_not_asked_again_by_each_isolate() {
    // The coordinator's request and its one retry meet an HTML 503 page.
    let env = ReplayPlatform::new(&[(503, OUTAGE), (503, OUTAGE)]);
    let coordinator = InMemory::new(&env, "client-1");
    let error = block_on(
        client("client-1")
            .acquire_token_for_client(&scopes(), &with(&env, &MapStore::default(), &coordinator)),
    )
    .unwrap_err();
    let Error::InvalidResponse(invalid) = &error else {
        panic!("expected the coordinator's invalid response, got {error:?}");
    };
    assert_eq!(invalid.status, 503);
    assert!(error.is_retryable());
    assert_eq!(
        env.requests.borrow().len(),
        2,
        "the isolate did not ask again"
    );
    // The coordinator now rests the request (60 s): the next isolate is told so at once.
    let throttled = block_on(
        client("client-1")
            .acquire_token_for_client(&scopes(), &with(&env, &MapStore::default(), &coordinator)),
    )
    .unwrap_err();
    assert!(
        matches!(throttled, Error::Throttled { .. }),
        "{throttled:?}"
    );
    assert_eq!(env.requests.borrow().len(), 2);
}

#[test]
fn an_isolate_waits_out_the_coordinators_own_retry() {
    // Two attempts of 10 s, the retry delay (1 s + up to 0.25 s) and 2 s of margin.
    assert_eq!(
        coordinator_time_limit(core::time::Duration::from_secs(10)),
        core::time::Duration::from_millis(23_250)
    );
}
