//! Entra ID specifics through the public API: endpoints derived without discovery and MSAL's
//! request headers, authority validation, the shared store between isolates
//! (`ExpiringStore` over `MemoryKv`), proactive refresh from Entra's `refresh_in`, and claims:
//! `interaction_required` on behalf of a user, a downstream claims challenge answered with the
//! client capabilities.

mod common;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use common::{access_token_of, fixture, form, Env, ENTRA, ENTRA_TOKEN_ENDPOINT, SECRET};
use edge_token::acquisition::{ExpiringStore, MemoryKv};
use edge_token::credentials::SecretMethod;
use edge_token::platform::NoStore;
use edge_token::protocol::{BearerChallenge, CAPABILITY_CP1};
use edge_token::secret::{AccessToken, ClientSecret};
use edge_token::{
    Authority, AuthorityKind, ClientCredential, ConfidentialClient, Error, Scopes, TokenOptions,
    TokenSource,
};
use futures::executor::block_on;
use serde_json::{json, Value};

fn client(authority: Authority) -> ConfidentialClient {
    let credential = ClientCredential::Secret {
        secret: ClientSecret::new(SECRET),
        method: SecretMethod::Post,
    };
    // The shared store tier is on only with a cache key: entries are sealed.
    let keys = edge_token::seal::RootKeys::parse(
        "TOKEN_CACHE_KEY",
        "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8",
    )
    .unwrap();
    ConfidentialClient::new(authority, "client-1", credential)
        .unwrap()
        .with_token_cache_key(&keys)
}

fn entra_client() -> ConfidentialClient {
    client(Authority::parse(ENTRA, None).unwrap())
}

fn graph() -> Scopes {
    Scopes::parse("https://graph.microsoft.com/.default").unwrap()
}

const SUCCESS: &str = fixture!("entra/client_credentials_success.json");

#[test]
fn a_known_cloud_needs_no_discovery_and_requests_carry_msal_headers() {
    let env = Env::default();
    env.transport.push_json(200, SUCCESS);
    block_on(entra_client().acquire_token_for_client(&graph(), &env.platform(&NoStore))).unwrap();
    let requests = env.transport.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.url.as_str(), ENTRA_TOKEN_ENDPOINT);
    let request_id = request.header("client-request-id").unwrap();
    assert_eq!(
        (request_id.len(), &request_id[14..15]),
        (36, "4"),
        "a v4 UUID"
    );
    assert_eq!(request.header("return-client-request-id"), Some("true"));
    assert_eq!(request.header("x-client-SKU"), Some("edge-token"));
    assert_eq!(
        request.header("x-ms-lib-capability"),
        Some("retry-after, h429")
    );
    assert_eq!(request.header("accept"), Some("application/json"));
}

#[test]
fn app_tokens_need_a_tenant_and_an_unknown_host_must_pass_instance_discovery() {
    let env = Env::default();
    let organizations = Authority::parse("https://login.microsoftonline.com/organizations", None);
    let refused = block_on(
        client(organizations.unwrap()).acquire_token_for_client(&graph(), &env.platform(&NoStore)),
    );
    assert!(matches!(&refused, Err(Error::Configuration(m)) if m.contains("AUTHORITY")));
    assert_eq!(env.transport.sent(), 0, "refused before any request");

    // A host outside the known clouds is checked once with MSAL's instance discovery.
    let unknown = Authority::parse(
        "https://login.contoso-identity.example/contoso.onmicrosoft.com",
        Some(AuthorityKind::Entra),
    );
    let client = client(unknown.unwrap());
    env.transport.push_json(
        400,
        fixture!("entra/instance_discovery_invalid_instance.json"),
    );
    let refused = block_on(client.acquire_token_for_client(&graph(), &env.platform(&NoStore)));
    assert!(
        matches!(refused, Err(Error::Configuration(_))),
        "{refused:?}"
    );
    assert_eq!(
        env.transport.sent(),
        1,
        "no token request to an unknown instance"
    );
    assert!(env.transport.last().url.as_str().starts_with(
        "https://login.microsoftonline.com/common/discovery/instance?api-version=1.1"
    ));
}

#[test]
fn another_isolate_finds_the_token_in_the_shared_store_until_it_expires() {
    let env = Env::default();
    let store = ExpiringStore::new(MemoryKv::default(), &env.clock);
    env.transport.push_json(200, SUCCESS);
    let first =
        block_on(entra_client().acquire_token_for_client(&graph(), &env.platform(&store))).unwrap();
    assert_eq!(first.source, TokenSource::Provider);
    assert_eq!(store.host().len(), 1);

    // A new client is a new isolate: empty memory, same store.
    env.clock.set_elapsed(60);
    let other =
        block_on(entra_client().acquire_token_for_client(&graph(), &env.platform(&store))).unwrap();
    assert_eq!(
        (other.source, &other.access_token),
        (TokenSource::Store, &first.access_token)
    );
    assert_eq!(env.transport.sent(), 1);

    // Past its expiry the stored entry is a miss.
    env.clock.set_elapsed(3600);
    env.transport.push_json(200, SUCCESS);
    let later =
        block_on(entra_client().acquire_token_for_client(&graph(), &env.platform(&store))).unwrap();
    assert_eq!(later.source, TokenSource::Provider);
    assert_eq!(env.transport.sent(), 2);
}

#[test]
fn entra_refresh_in_flags_a_refresh_that_runs_ahead_of_expiry() {
    let env = Env::default();
    let client = entra_client();
    let platform = env.platform(&NoStore);
    env.transport.push_json(200, SUCCESS);
    let first = block_on(client.acquire_token_for_client(&graph(), &platform)).unwrap();

    // `refresh_in` is 1799 s, advanced by at most a minute of jitter.
    env.clock.set_elapsed(1700);
    let early = block_on(client.acquire_token_for_client(&graph(), &platform)).unwrap();
    assert!(!early.refresh_due);
    env.clock.set_elapsed(1800);
    let due = block_on(client.acquire_token_for_client(&graph(), &platform)).unwrap();
    assert_eq!((due.source, due.refresh_due), (TokenSource::Memory, true));
    assert_eq!(
        due.access_token, first.access_token,
        "served without waiting"
    );
    assert_eq!(env.transport.sent(), 1);

    // The adapter runs the refresh in the background; later callers get the new token.
    let renewed = SUCCESS.replace(&access_token_of(SUCCESS), "renewed.token.value");
    env.transport.push_json(200, &renewed);
    let refreshed = block_on(client.refresh_token_for_client(&graph(), &platform)).unwrap();
    assert_eq!(refreshed.source, TokenSource::Provider);
    let after = block_on(client.acquire_token_for_client(&graph(), &platform)).unwrap();
    assert_eq!(after.source, TokenSource::Memory);
    assert_eq!(after.authorization(), "Bearer renewed.token.value");
    assert!(!after.refresh_due);
    assert_eq!(env.transport.sent(), 2);
}

#[test]
fn on_behalf_of_a_user_who_must_interact_returns_the_claims_to_send_back() {
    let env = Env::default();
    env.transport
        .push_json(400, fixture!("entra/interaction_required_claims.json"));
    let incoming = AccessToken::new("eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ1c2VyIn0.c2ln");
    let error = block_on(entra_client().acquire_token_on_behalf_of(
        &incoming,
        &graph(),
        &TokenOptions::default(),
        &env.platform(&NoStore),
    ))
    .unwrap_err();

    let server = error.server_error().expect("an OAuth error response");
    assert_eq!(server.error, "interaction_required");
    assert_eq!(server.suberror.as_deref(), Some("basic_action"));
    assert_eq!(server.error_codes, [50076]);
    let claims: Value = serde_json::from_str(server.claims.as_deref().unwrap()).unwrap();
    assert_eq!(claims["access_token"]["capolids"]["essential"], true);
    assert!(!error.is_retryable());

    let body = form(&env.transport.last().body);
    assert_eq!(
        body["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    assert_eq!(body["requested_token_use"], "on_behalf_of");
    assert_eq!(body["assertion"], incoming.expose_secret());
    assert!(!format!("{error:?}").contains(incoming.expose_secret()));
}

#[test]
fn a_downstream_claims_challenge_is_answered_with_the_client_capabilities() {
    let env = Env::default();
    let client = entra_client().with_capabilities(vec![CAPABILITY_CP1.to_string()]);
    let platform = env.platform(&NoStore);
    env.transport.push_json(200, SUCCESS);
    block_on(client.acquire_token_for_client(&graph(), &platform)).unwrap();
    let sent: Value = serde_json::from_str(&form(&env.transport.last().body)["claims"]).unwrap();
    assert_eq!(
        sent,
        json!({"access_token": {"xms_cc": {"values": ["cp1"]}}})
    );

    // The downstream API refuses the token with a claims challenge (continuous access
    // evaluation): the cached token is skipped and the challenge merged into the request.
    let www_authenticate = "Bearer realm=\"\", error=\"insufficient_claims\", \
        claims=\"eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0=\"";
    let challenge = BearerChallenge::from_header_value(www_authenticate).unwrap();
    let options = TokenOptions::with_claims(challenge.claims.unwrap());
    env.transport.push_json(200, SUCCESS);
    let token =
        block_on(client.acquire_token_for_client_with(&graph(), &options, &platform)).unwrap();
    assert_eq!(token.source, TokenSource::Provider);
    let sent: Value = serde_json::from_str(&form(&env.transport.last().body)["claims"]).unwrap();
    let expected = json!({"access_token": {
        "xms_cc": {"values": ["cp1"]},
        "nbf": {"essential": true, "value": "1604106651"}
    }});
    assert_eq!(sent, expected);

    // A challenge that is not a JSON object is refused before any request.
    let bad = TokenOptions::with_claims("not json");
    let refused = block_on(client.acquire_token_for_client_with(&graph(), &bad, &platform));
    assert!(
        matches!(refused, Err(Error::Configuration(_))),
        "{refused:?}"
    );
    assert_eq!(env.transport.sent(), 2);
}
