//! The downstream helper's decisions with replayed API answers: the base-URL rule, claims
//! challenges, invalid tokens, and no loops.

use super::*;
use crate::protocol::bearer::BearerChallenge;
use crate::secret::AccessToken;
use crate::testing::ReplayPlatform;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use futures::executor::block_on;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const CLAIMS: &str = r#"{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}"#;

fn api(base: &str) -> DownstreamApi {
    DownstreamApi::new(
        "graph",
        Url::parse(base).unwrap(),
        Scopes::parse("https://graph.microsoft.com/User.Read").unwrap(),
        false,
    )
    .unwrap()
}

fn covered(base: &str, url: &str) -> bool {
    api(base).covers(&Url::parse(url).unwrap())
}

#[test]
fn only_urls_under_the_base_url_are_covered() {
    let base = "https://graph.microsoft.com/v1.0";
    assert!(covered(base, "https://graph.microsoft.com/v1.0"));
    assert!(covered(base, "https://graph.microsoft.com/v1.0/"));
    assert!(covered(
        base,
        "https://graph.microsoft.com/v1.0/me?$select=id"
    ));
    assert!(covered(base, "https://GRAPH.microsoft.com:443/v1.0/me"));
    assert!(covered(
        "https://graph.microsoft.com/v1.0/",
        "https://graph.microsoft.com/v1.0/me"
    ));
    assert!(covered(
        "https://graph.microsoft.com",
        "https://graph.microsoft.com/anything"
    ));
    for outside in [
        "https://graph.microsoft.com/v1.0x/me",
        "https://graph.microsoft.com/beta/me",
        "https://graph.microsoft.com/",
        "http://graph.microsoft.com/v1.0/me",
        "https://graph.microsoft.com:8443/v1.0/me",
        "https://graph.microsoft.com.evil.example/v1.0/me",
        "https://evil.example/v1.0/me",
        "https://user:pw@graph.microsoft.com/v1.0/me",
        // `..` is resolved by the URL parser before the check.
        "https://graph.microsoft.com/v1.0/../beta/me",
    ] {
        assert!(!covered(base, outside), "{outside}");
    }
    assert!(covered(
        "http://127.0.0.1:9500/api",
        "http://127.0.0.1:9500/api/profile"
    ));
    assert!(!covered(
        "http://127.0.0.1:9500/api",
        "http://127.0.0.1:9501/api/profile"
    ));
}

#[test]
fn plain_http_off_loopback_is_refused() {
    let refused = DownstreamApi::new(
        "api",
        Url::parse("http://api.example.com/").unwrap(),
        Scopes::parse("api://x/.default").unwrap(),
        true,
    );
    assert!(matches!(refused, Err(Error::Configuration(_))));
}

/// A token source that hands out `token-1`, `token-2`, … and records the options it got.
struct Tokens(RefCell<Vec<TokenOptions>>);

impl Tokens {
    fn new() -> Self {
        Self(RefCell::default())
    }

    async fn acquire(&self, options: TokenOptions) -> Result<AcquiredToken, &'static str> {
        let mut calls = self.0.borrow_mut();
        calls.push(options);
        Ok(AcquiredToken {
            access_token: AccessToken::new(alloc::format!("token-{}", calls.len())),
            expires_on: 0,
            source: if calls.len() == 1 {
                TokenSource::Memory
            } else {
                TokenSource::Provider
            },
            refresh_due: false,
            refresh_on: None,
        })
    }
}

fn call(
    replay: &ReplayPlatform,
    tokens: &Tokens,
    url: &str,
) -> Result<DownstreamAnswer, DownstreamError<&'static str>> {
    let api = api("https://graph.microsoft.com/v1.0");
    let mut request = HttpRequest::get_json(Url::parse(url).unwrap());
    request
        .headers
        .push(("authorization".into(), "Bearer stale".into()));
    block_on(call_api(&api, request, |o| tokens.acquire(o), replay))
}

fn authorizations(replay: &ReplayPlatform) -> Vec<String> {
    replay
        .requests
        .borrow()
        .iter()
        .map(|r| {
            assert_eq!(
                r.headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case("authorization"))
                    .count(),
                1
            );
            r.header("authorization").unwrap().to_string()
        })
        .collect()
}

fn cae_challenge() -> String {
    BearerChallenge {
        claims: Some(CLAIMS.into()),
        realm: Some(String::new()),
        ..BearerChallenge::error(BearerErrorCode::InsufficientClaims, "claims needed")
    }
    .to_header_value()
}

#[test]
fn a_plain_answer_uses_the_cached_token_once() {
    let replay = ReplayPlatform::new(&[(200, r#"{"id":"me"}"#)]);
    let tokens = Tokens::new();
    let answer = call(&replay, &tokens, "https://graph.microsoft.com/v1.0/me").unwrap();
    assert_eq!(answer.response.status, 200);
    assert_eq!(answer.token_source, TokenSource::Memory);
    assert_eq!(answer.retried, None);
    assert_eq!(authorizations(&replay), vec!["Bearer token-1"]);
    assert_eq!(*tokens.0.borrow(), vec![TokenOptions::default()]);
}

#[test]
fn a_claims_challenge_gets_a_token_with_those_claims_and_one_retry() {
    let replay = ReplayPlatform::new(&[]);
    replay.push_response(401, &[("WWW-Authenticate", &cae_challenge())], "");
    replay.push(200, r#"{"id":"me"}"#);
    let tokens = Tokens::new();
    let answer = call(&replay, &tokens, "https://graph.microsoft.com/v1.0/me").unwrap();
    assert_eq!(answer.response.status, 200);
    assert_eq!(answer.retried, Some(Retry::ClaimsChallenge));
    assert_eq!(answer.token_source, TokenSource::Provider);
    assert_eq!(
        authorizations(&replay),
        vec!["Bearer token-1", "Bearer token-2"]
    );
    assert_eq!(
        *tokens.0.borrow(),
        vec![TokenOptions::default(), TokenOptions::with_claims(CLAIMS)]
    );
}

#[test]
fn invalid_token_evicts_and_retries_once() {
    let replay = ReplayPlatform::new(&[]);
    let invalid = [("www-authenticate", r#"Bearer error="invalid_token""#)];
    replay.push_response(401, &invalid, "");
    replay.push(200, "{}");
    let tokens = Tokens::new();
    let answer = call(&replay, &tokens, "https://graph.microsoft.com/v1.0/me").unwrap();
    assert_eq!(answer.retried, Some(Retry::InvalidToken));
    assert_eq!(
        *tokens.0.borrow(),
        vec![TokenOptions::default(), TokenOptions::force_refresh()]
    );
}

#[test]
fn a_second_refusal_is_the_answer_with_no_loop() {
    let replay = ReplayPlatform::new(&[]);
    replay.push_response(401, &[("www-authenticate", &cae_challenge())], "");
    replay.push_response(401, &[("www-authenticate", &cae_challenge())], "again");
    let tokens = Tokens::new();
    let answer = call(&replay, &tokens, "https://graph.microsoft.com/v1.0/me").unwrap();
    assert_eq!(answer.response.status, 401);
    assert_eq!(answer.response.body, b"again");
    assert_eq!(replay.requests.borrow().len(), 2);
    assert_eq!(tokens.0.borrow().len(), 2);
}

#[test]
fn other_refusals_and_redirects_are_answers_without_retry() {
    for (status, headers) in [
        (401, vec![]),
        (401, vec![("www-authenticate", "Basic realm=\"x\"")]),
        (
            401,
            vec![("www-authenticate", "Bearer error=\"insufficient_claims\"")],
        ),
        (
            403,
            vec![("www-authenticate", "Bearer error=\"insufficient_scope\"")],
        ),
        (302, vec![("location", "https://evil.example/steal")]),
        (500, vec![]),
    ] {
        let replay = ReplayPlatform::new(&[]);
        replay.push_response(status, &headers, "");
        let tokens = Tokens::new();
        let answer = call(&replay, &tokens, "https://graph.microsoft.com/v1.0/me").unwrap();
        assert_eq!(answer.response.status, status);
        assert_eq!(answer.retried, None);
        assert_eq!(replay.requests.borrow().len(), 1, "{status} {headers:?}");
    }
}

#[test]
fn urls_outside_the_base_get_no_token_and_no_request() {
    let replay = ReplayPlatform::new(&[]);
    let tokens = Tokens::new();
    let refused = call(&replay, &tokens, "https://evil.example/v1.0/me");
    assert!(matches!(refused, Err(DownstreamError::OutsideBaseUrl)));
    assert!(replay.requests.borrow().is_empty());
    assert!(tokens.0.borrow().is_empty());
}
