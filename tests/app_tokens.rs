//! App-only tokens (client credentials with a client secret) through the public API, as an
//! adapter drives them: a generic OIDC issuer on a loopback host (discovery, then the token
//! request), the memory cache, and the recorded Entra failures: `invalid_client`, an HTML
//! outage page and a `429` with `Retry-After`.

mod common;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::collections::BTreeMap;

use common::{access_token_of, fixture, form, Env, ENTRA, ENTRA_TOKEN_ENDPOINT, NOW, SECRET};
use edge_token::credentials::SecretMethod;
use edge_token::error::ResponseProblem;
use edge_token::platform::http::Method;
use edge_token::platform::NoStore;
use edge_token::secret::ClientSecret;
use edge_token::{
    Authority, ClientCredential, ConfidentialClient, Error, Scopes, TokenOptions, TokenSource,
};
use futures::executor::block_on;

const SUCCESS: &str = fixture!("entra/client_credentials_success.json");
const ISSUER: &str = "http://127.0.0.1:9400";
const DISCOVERY: &str =
    r#"{"issuer":"http://127.0.0.1:9400","token_endpoint":"http://127.0.0.1:9400/oauth2/token"}"#;

fn client(authority: &str, method: SecretMethod) -> ConfidentialClient {
    let credential = ClientCredential::Secret {
        secret: ClientSecret::new(SECRET),
        method,
    };
    ConfidentialClient::new(
        Authority::parse(authority, None).unwrap(),
        "client-1",
        credential,
    )
    .unwrap()
}

fn graph() -> Scopes {
    Scopes::parse("https://graph.microsoft.com/.default").unwrap()
}

#[test]
fn a_generic_issuer_is_discovered_then_sent_the_client_credentials_grant() {
    let env = Env::default();
    env.transport.push_json(200, DISCOVERY);
    env.transport.push_json(200, SUCCESS);
    let client = client(ISSUER, SecretMethod::Post);

    let token =
        block_on(client.acquire_token_for_client(&graph(), &env.platform(&NoStore))).unwrap();
    assert_eq!(token.source, TokenSource::Provider);
    assert_eq!(
        token.expires_on,
        NOW + 3599,
        "`expires_in` is a string on Entra"
    );
    assert_eq!(
        token.authorization(),
        format!("Bearer {}", access_token_of(SUCCESS))
    );
    assert!(!format!("{token:?}").contains(&access_token_of(SUCCESS)));

    let requests = env.transport.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, Method::Get);
    assert_eq!(
        requests[0].url.as_str(),
        "http://127.0.0.1:9400/.well-known/openid-configuration"
    );
    let post = &requests[1];
    assert_eq!(post.method, Method::Post);
    assert_eq!(post.url.as_str(), "http://127.0.0.1:9400/oauth2/token");
    assert_eq!(
        post.header("Content-Type"),
        Some("application/x-www-form-urlencoded;charset=utf-8")
    );
    assert_eq!(post.header("authorization"), None);
    let body = form(&post.body);
    let expected = [
        ("client_id", "client-1"),
        ("client_secret", SECRET),
        ("grant_type", "client_credentials"),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let expected: BTreeMap<String, String> = expected
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    assert_eq!(body, expected, "exactly these parameters");
    assert!(
        !format!("{post:?}").contains(SECRET),
        "request Debug shows no body"
    );
}

#[test]
fn a_cached_token_is_served_from_memory_until_a_forced_refresh() {
    let env = Env::default();
    env.transport.push_json(200, DISCOVERY);
    env.transport.push_json(200, SUCCESS);
    let client = client(ISSUER, SecretMethod::Post);
    let platform = env.platform(&NoStore);
    let first = block_on(client.acquire_token_for_client(&graph(), &platform)).unwrap();

    env.clock.set_elapsed(600);
    let second = block_on(client.acquire_token_for_client(&graph(), &platform)).unwrap();
    assert_eq!(second.source, TokenSource::Memory);
    assert_eq!(second.source.as_str(), "memory");
    assert_eq!(
        (second.access_token, second.expires_on),
        (first.access_token.clone(), first.expires_on)
    );
    assert!(
        !second.refresh_due,
        "Entra's refresh_in (1799 s) is still ahead"
    );
    assert_eq!(env.transport.sent(), 2, "no request for a cached token");

    // A forced refresh asks the provider again, without a second discovery.
    env.transport.push_json(200, SUCCESS);
    let forced = TokenOptions::force_refresh();
    let third =
        block_on(client.acquire_token_for_client_with(&graph(), &forced, &platform)).unwrap();
    assert_eq!(third.source, TokenSource::Provider);
    assert_eq!(third.expires_on, NOW + 600 + 3599);
    assert_eq!(env.transport.sent(), 3);
    assert_eq!(
        env.transport.last().url.as_str(),
        "http://127.0.0.1:9400/oauth2/token"
    );
}

#[test]
fn client_secret_basic_puts_the_credentials_in_the_authorization_header() {
    let env = Env::default();
    env.transport.push_json(200, SUCCESS);
    let client = client(ENTRA, SecretMethod::Basic);
    block_on(client.acquire_token_for_client(&graph(), &env.platform(&NoStore))).unwrap();
    let request = env.transport.last();
    assert_eq!(
        request.url.as_str(),
        ENTRA_TOKEN_ENDPOINT,
        "no discovery on Entra"
    );
    // base64("client-1:s3ntinel-SECRET-value")
    assert_eq!(
        request.header("authorization"),
        Some("Basic Y2xpZW50LTE6czNudGluZWwtU0VDUkVULXZhbHVl")
    );
    let body = form(&request.body);
    assert!(!body.contains_key("client_id") && !body.contains_key("client_secret"));
    assert_eq!(body["grant_type"], "client_credentials");
}

#[test]
fn entra_invalid_client_is_a_server_error_with_its_aadsts_code_and_never_the_secret() {
    let env = Env::default();
    env.transport
        .push_json(401, fixture!("entra/invalid_client_secret.json"));
    let client = client(ENTRA, SecretMethod::Post);
    let error =
        block_on(client.acquire_token_for_client(&graph(), &env.platform(&NoStore))).unwrap_err();

    let server = error.server_error().expect("an OAuth error response");
    assert_eq!(
        (server.status, server.error.as_str()),
        (401, "invalid_client")
    );
    assert_eq!(server.error_codes, [7000215]);
    let description = server.error_description.as_deref().unwrap();
    assert!(description.starts_with("AADSTS7000215:"), "{description}");
    assert_eq!(
        server.correlation_id.as_deref(),
        Some("6f0e9d8c-7b6a-4958-8374-65a4b3c2d1e0")
    );
    assert!(!error.is_retryable(), "a refused credential is not retried");
    assert_eq!(env.transport.sent(), 1);

    // The secret was sent, and appears in no rendering of the error or the client.
    assert_eq!(form(&env.transport.last().body)["client_secret"], SECRET);
    let rendered = format!("{error} {error:?} {error:#?} {client:?}");
    assert!(rendered.contains("7000215"), "{rendered}");
    assert!(!rendered.contains(SECRET), "{rendered}");
}

#[test]
fn an_html_outage_page_is_a_typed_retryable_error() {
    let env = Env::default();
    let outage = fixture!("entra/service_unavailable.html");
    // A 5xx is retried once.
    for _ in 0..2 {
        env.transport
            .push_with(503, &[("content-type", "text/html")], outage);
    }
    let client = client(ENTRA, SecretMethod::Post);
    let error =
        block_on(client.acquire_token_for_client(&graph(), &env.platform(&NoStore))).unwrap_err();
    let Error::InvalidResponse(invalid) = &error else {
        panic!("expected an invalid response, got {error:?}");
    };
    assert_eq!(
        (invalid.status, &invalid.problem),
        (503, &ResponseProblem::Html)
    );
    assert!(error.is_retryable());
    assert!(error.server_error().is_none());
    assert_eq!(env.transport.sent(), 2);
}

#[test]
fn a_429_with_retry_after_throttles_the_same_request_without_sending_it() {
    let env = Env::default();
    env.transport.push_with(
        429,
        &[("content-type", "application/json"), ("Retry-After", "30")],
        fixture!("entra/throttled_429.json"),
    );
    let client = client(ENTRA, SecretMethod::Post);
    let platform = env.platform(&NoStore);

    let first = block_on(client.acquire_token_for_client(&graph(), &platform)).unwrap_err();
    let server = first.server_error().expect("the provider's answer");
    assert_eq!(
        (server.status, server.error_codes.as_slice()),
        (429, &[50196][..])
    );
    assert_eq!(env.transport.sent(), 1);

    env.clock.set_elapsed(10);
    let throttled = block_on(client.acquire_token_for_client(&graph(), &platform));
    assert_eq!(
        throttled,
        Err(Error::Throttled {
            retry_after_secs: 20
        })
    );
    assert!(throttled.unwrap_err().is_retryable());
    assert_eq!(env.transport.sent(), 1, "a throttled request is not sent");

    // Once the window has passed, the same request goes out again.
    env.clock.set_elapsed(30);
    env.transport.push_json(200, SUCCESS);
    let token = block_on(client.acquire_token_for_client(&graph(), &platform)).unwrap();
    assert_eq!(token.source, TokenSource::Provider);
    assert_eq!(env.transport.sent(), 2);
}
