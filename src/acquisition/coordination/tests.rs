//! Coordination between isolates and their coordinator, both ends in memory: one provider
//! request per key for every isolate, throttles and refusals shared, and every failure of the
//! coordinator degrading to the isolate's own request.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use futures::executor::block_on;

use super::*;
use crate::acquisition::client::{ConfidentialClient, TokenSource};
use crate::credentials::credential::{ClientCredential, SecretMethod};
use crate::protocol::authority::Authority;
use crate::protocol::scope::Scopes;
use crate::secret::ClientSecret;
use crate::testing::{
    token_cache_keys, InMemoryCoordinator, MapStore, ReplayPlatform,
    ENTRA_INVALID_CLIENT as INVALID_CLIENT, ENTRA_OUTAGE as OUTAGE, ENTRA_SUCCESS as SUCCESS, NOW,
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

#[test]
fn isolates_share_the_coordinators_one_request() {
    let env = ReplayPlatform::new(&[(200, SUCCESS)]);
    let coordinator = InMemoryCoordinator::new(&env, client("client-1"));
    let (kv, first, second) = (MapStore::default(), client("client-1"), client("client-1"));
    let a =
        block_on(first.acquire_token_for_client(&scopes(), &coordinator.platform(&kv))).unwrap();
    // Another isolate, empty KV (another location): the coordinator answers from its memory.
    let b = block_on(
        second.acquire_token_for_client(&scopes(), &coordinator.platform(&MapStore::default())),
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
    let again =
        block_on(first.acquire_token_for_client(&scopes(), &coordinator.platform(&kv))).unwrap();
    assert_eq!(again.source, TokenSource::Memory);
    assert_eq!(coordinator.served.get(), 2);
}

#[test]
fn a_refresh_ahead_happens_once_for_the_deployment() {
    let env = ReplayPlatform::new(&[(200, SUCCESS), (200, SUCCESS)]);
    let coordinator = InMemoryCoordinator::new(&env, client("client-1"));
    let isolates = [client("client-1"), client("client-1")];
    for isolate in &isolates {
        block_on(
            isolate
                .acquire_token_for_client(&scopes(), &coordinator.platform(&MapStore::default())),
        )
        .unwrap();
    }
    env.now.set(NOW + 1799); // Entra's refresh_in
    for isolate in &isolates {
        let refreshed = block_on(
            isolate
                .refresh_token_for_client(&scopes(), &coordinator.platform(&MapStore::default())),
        )
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
    let coordinator = InMemoryCoordinator::new(&env, client("client-1"));
    for _ in 0..2 {
        let error = block_on(
            client("client-1")
                .acquire_token_for_client(&scopes(), &coordinator.platform(&MapStore::default())),
        )
        .unwrap_err();
        assert!(
            matches!(error, Error::Server(_) | Error::Throttled { .. }),
            "{error:?}"
        );
    }
    let throttled = block_on(
        client("client-1")
            .acquire_token_for_client(&scopes(), &coordinator.platform(&MapStore::default())),
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
    let coordinator = InMemoryCoordinator::new(&env, client("client-1"));
    let refused = block_on(
        client("client-1")
            .acquire_token_for_client(&scopes(), &coordinator.platform(&MapStore::default())),
    )
    .unwrap_err();
    assert_eq!(refused.server_error().unwrap().error, "invalid_client");
    assert_eq!(refused.server_error().unwrap().error_codes, [7000215]);
    assert_eq!(env.requests.borrow().len(), 1);
}

#[test]
fn an_unreachable_coordinator_or_another_clients_is_bypassed() {
    let env = ReplayPlatform::new(&[(200, SUCCESS), (200, SUCCESS)]);
    let down = InMemoryCoordinator::new(&env, client("client-1"));
    down.down.set(true);
    let token = block_on(
        client("client-1")
            .acquire_token_for_client(&scopes(), &down.platform(&MapStore::default())),
    )
    .unwrap();
    assert_eq!(
        token.source,
        TokenSource::Provider,
        "the isolate asked itself"
    );

    // A coordinator configured for another client never hands out its own token.
    let other = InMemoryCoordinator::new(&env, client("client-2"));
    let token = block_on(
        client("client-1")
            .acquire_token_for_client(&scopes(), &other.platform(&MapStore::default())),
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
    let coordinator = InMemoryCoordinator::new(&env, client("client-1"));
    let error = block_on(
        client("client-1")
            .acquire_token_for_client(&scopes(), &coordinator.platform(&MapStore::default())),
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
            .acquire_token_for_client(&scopes(), &coordinator.platform(&MapStore::default())),
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

#[test]
fn isolates_share_one_on_behalf_of_request_per_incoming_token() {
    use crate::acquisition::client::TokenOptions;
    use crate::secret::AccessToken;
    let env = ReplayPlatform::new(&[(200, SUCCESS), (200, SUCCESS)]);
    let coordinator = InMemoryCoordinator::new(&env, client("client-1"));
    let alice = AccessToken::new("eyJ.alice.sig");
    let options = TokenOptions::default();
    let obo = |isolate: &ConfidentialClient, assertion: &AccessToken| {
        block_on(isolate.acquire_token_on_behalf_of(
            assertion,
            &scopes(),
            &options,
            &coordinator.platform(&MapStore::default()),
        ))
    };
    let a = obo(&client("client-1"), &alice).unwrap();
    let b = obo(&client("client-1"), &alice).unwrap();
    assert_eq!(
        (a.source, b.source),
        (TokenSource::Provider, TokenSource::Coordinator)
    );
    assert_eq!(env.requests.borrow().len(), 1, "one on-behalf-of request");
    let body = String::from_utf8(env.requests.borrow()[0].body.clone()).unwrap();
    assert!(
        body.contains("requested_token_use=on_behalf_of")
            && body.contains("assertion=eyJ.alice.sig")
    );
    // Another user's token is another key: its own request.
    obo(&client("client-1"), &AccessToken::new("eyJ.bob.sig")).unwrap();
    assert_eq!(env.requests.borrow().len(), 2);
    // A claims challenge stays in the isolate.
    env.push(200, SUCCESS);
    let served = coordinator.served.get();
    block_on(client("client-1").acquire_token_on_behalf_of(
        &alice,
        &scopes(),
        &TokenOptions::with_claims(r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#),
        &coordinator.platform(&MapStore::default()),
    ))
    .unwrap();
    assert_eq!(coordinator.served.get(), served);
}
