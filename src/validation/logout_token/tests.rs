//! Logout token validation with real signatures: a valid token accepted (with and without
//! `exp`, `typ` `logout+jwt` or `JWT`), and every Back-Channel Logout 1.0 §2.6 rule refused on
//! its own. Tokens are signed with the test bed's fixed RSA keys (see `src/verifier/tests.rs`).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::validation::verifier::rustcrypto::RustCryptoVerifier;
use crate::validation::verifier::tests::{public_jwk, sign_jws, KEY_PEM, OTHER_KEY_PEM};
use alloc::format;
use alloc::vec;
use futures::executor::block_on;
use serde_json::json;

const NOW: u64 = 1_795_000_000;
const ISSUER: &str = "https://id.example.com";
const CLIENT: &str = "webapp";
const KID: &str = "issuer-key-1";

fn keys() -> JwkSet {
    JwkSet::from_keys(vec![public_jwk(KEY_PEM, KID)])
}

fn claims() -> Value {
    json!({
        "iss": ISSUER, "sub": "alice", "aud": CLIENT, "iat": NOW - 5, "exp": NOW + 120,
        "jti": "bWJq", "sid": "08a5019c-17e1-4977-8f42-65a12843ea02",
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}}
    })
}

fn signed_with(typ: Option<&str>, claims: &Value) -> String {
    let mut header = json!({"alg": "RS256", "kid": KID});
    if let Some(typ) = typ {
        header["typ"] = json!(typ);
    }
    sign_jws(KEY_PEM, VerificationAlgorithm::Rs256, &header, claims)
}

fn signed(claims: &Value) -> String {
    signed_with(Some("logout+jwt"), claims)
}

fn with(mut claims: Value, member: &str, value: Value) -> Value {
    claims[member] = value;
    claims
}

fn without(mut claims: Value, member: &str) -> Value {
    claims.as_object_mut().unwrap().remove(member);
    claims
}

fn rules() -> LogoutTokenValidation {
    LogoutTokenValidation::new(
        IssuerRule::Exact(ISSUER.into()),
        CLIENT,
        VerificationAlgorithm::Rs256,
        NOW,
    )
}

fn validate(token: &str) -> Result<LogoutTokenClaims, Error> {
    block_on(validate_logout_token(
        &LogoutToken::new(token),
        &rules(),
        &keys(),
        &RustCryptoVerifier::new(),
    ))
}

/// The refusal of `token`, checking that the error never quotes the token or its claims.
fn refusal(token: &str) -> TokenError {
    match validate(token) {
        Err(Error::InvalidToken(problem)) => {
            let shown = format!("{:?} {}", problem, Error::InvalidToken(problem));
            for part in token.split('.').filter(|p| p.len() > 8) {
                assert!(!shown.contains(part));
            }
            assert!(!shown.contains("alice") && !shown.contains("08a5019c"));
            problem
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_valid_logout_token_is_accepted_with_its_sid_sub_and_jti() {
    let accepted = validate(&signed(&claims())).unwrap();
    assert_eq!(accepted.iss, ISSUER);
    assert_eq!(accepted.sub.as_deref(), Some("alice"));
    assert_eq!(
        accepted.sid.as_deref(),
        Some("08a5019c-17e1-4977-8f42-65a12843ea02")
    );
    assert_eq!(accepted.jti, "bWJq");
    assert_eq!(accepted.iat, NOW - 5);
    assert_eq!(accepted.exp, Some(NOW + 120));
    // exp + leeway is sooner than iat + an hour + leeway.
    assert_eq!(accepted.accept_until, NOW + 120 + DEFAULT_LEEWAY_SECS);
}

#[test]
fn typ_logout_jwt_plain_jwt_or_none_are_accepted_other_explicit_types_are_not() {
    for typ in [
        None,
        Some("JWT"),
        Some("logout+jwt"),
        Some("application/logout+JWT"),
    ] {
        assert!(validate(&signed_with(typ, &claims())).is_ok(), "{typ:?}");
    }
    for typ in ["at+jwt", "application/at+jwt", "secevent+jwt"] {
        assert_eq!(
            refusal(&signed_with(Some(typ), &claims())),
            TokenError::TokenType,
            "{typ}"
        );
    }
}

#[test]
fn a_token_without_exp_is_accepted_for_an_hour_after_iat() {
    let token = signed(&without(claims(), "exp"));
    let accepted = validate(&token).unwrap();
    assert_eq!(accepted.exp, None);
    assert_eq!(
        accepted.accept_until,
        NOW - 5 + MAX_LOGOUT_TOKEN_AGE_SECS + DEFAULT_LEEWAY_SECS
    );
    let old = with(
        without(claims(), "exp"),
        "iat",
        json!(NOW - MAX_LOGOUT_TOKEN_AGE_SECS - DEFAULT_LEEWAY_SECS),
    );
    assert_eq!(refusal(&signed(&old)), TokenError::IssuedTooLongAgo);
}

#[test]
fn sub_only_and_sid_only_tokens_are_accepted() {
    let sub_only = validate(&signed(&without(claims(), "sid"))).unwrap();
    assert_eq!(
        (sub_only.sid, sub_only.sub.as_deref()),
        (None, Some("alice"))
    );
    let sid_only = validate(&signed(&without(claims(), "sub"))).unwrap();
    assert!(sid_only.sid.is_some() && sid_only.sub.is_none());
}

#[test]
fn a_wrong_issuer_is_refused() {
    let token = signed(&with(claims(), "iss", json!("https://id.example.com/")));
    assert_eq!(refusal(&token), TokenError::Issuer);
    assert_eq!(
        refusal(&signed(&without(claims(), "iss"))),
        TokenError::MissingClaim("iss")
    );
}

#[test]
fn an_audience_without_the_client_is_refused() {
    for aud in [
        json!("other-app"),
        json!(["other-app"]),
        json!([CLIENT, "other-app"]),
    ] {
        assert_eq!(
            refusal(&signed(&with(claims(), "aud", aud.clone()))),
            TokenError::Audience,
            "{aud}"
        );
    }
    assert_eq!(
        refusal(&signed(&with(claims(), "azp", json!("other-app")))),
        TokenError::AuthorizedParty
    );
}

#[test]
fn a_bad_signature_another_key_or_another_algorithm_is_refused() {
    let token = signed(&claims());
    let (head, rest) = token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let tampered_claims =
        crate::validation::verifier::tests::encode(&with(claims(), "sub", json!("mallory")));
    let tampered = format!("{head}.{tampered_claims}.{signature}");
    assert_eq!(refusal(&tampered), TokenError::BadSignature);
    let foreign = sign_jws(
        OTHER_KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": KID, "typ": "logout+jwt"}),
        &claims(),
    );
    assert_eq!(refusal(&foreign), TokenError::BadSignature);
    let ps256 = sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Ps256,
        &json!({"alg": "PS256", "kid": KID}),
        &claims(),
    );
    assert_eq!(refusal(&ps256), TokenError::AlgorithmNotAllowed);
    let unsigned = format!(
        "{}.{}.",
        crate::validation::verifier::tests::encode(&json!({"alg": "none"})),
        crate::validation::verifier::tests::encode(&claims())
    );
    assert_eq!(refusal(&unsigned), TokenError::AlgorithmNotAllowed);
}

#[test]
fn a_missing_events_claim_or_another_event_is_refused() {
    let missing = TokenError::MissingClaim("events");
    assert_eq!(refusal(&signed(&without(claims(), "events"))), missing);
    for events in [
        json!({}),
        json!({"http://schemas.openid.net/event/other": {}}),
        json!({BACKCHANNEL_LOGOUT_EVENT: "yes"}),
        json!({BACKCHANNEL_LOGOUT_EVENT: null}),
        json!([BACKCHANNEL_LOGOUT_EVENT]),
        json!(BACKCHANNEL_LOGOUT_EVENT),
    ] {
        assert_eq!(
            refusal(&signed(&with(claims(), "events", events.clone()))),
            missing,
            "{events}"
        );
    }
}

#[test]
fn a_nonce_is_refused_so_an_id_token_never_passes_for_a_logout_token() {
    assert_eq!(
        refusal(&signed(&with(claims(), "nonce", json!("n-0S6")))),
        TokenError::Nonce
    );
}

#[test]
fn a_token_with_neither_sid_nor_sub_is_refused() {
    let neither = without(without(claims(), "sid"), "sub");
    assert_eq!(refusal(&signed(&neither)), TokenError::MissingClaim("sid"));
    let empty = with(with(claims(), "sid", json!("")), "sub", json!(""));
    assert_eq!(refusal(&signed(&empty)), TokenError::MissingClaim("sid"));
}

#[test]
fn a_missing_or_empty_jti_is_refused() {
    assert_eq!(
        refusal(&signed(&without(claims(), "jti"))),
        TokenError::MissingClaim("jti")
    );
    assert_eq!(
        refusal(&signed(&with(claims(), "jti", json!("")))),
        TokenError::MissingClaim("jti")
    );
    assert_eq!(
        refusal(&signed(&with(claims(), "jti", json!(42)))),
        TokenError::MissingClaim("jti")
    );
}

#[test]
fn an_expired_future_or_missing_iat_token_is_refused() {
    let expired = with(claims(), "exp", json!(NOW - DEFAULT_LEEWAY_SECS));
    assert_eq!(refusal(&signed(&expired)), TokenError::Expired);
    let future = with(claims(), "iat", json!(NOW + DEFAULT_LEEWAY_SECS + 1));
    assert_eq!(refusal(&signed(&future)), TokenError::IssuedInFuture);
    assert_eq!(
        refusal(&signed(&without(claims(), "iat"))),
        TokenError::MissingClaim("iat")
    );
    let not_yet = with(claims(), "nbf", json!(NOW + DEFAULT_LEEWAY_SECS + 1));
    assert_eq!(refusal(&signed(&not_yet)), TokenError::NotYetValid);
}

#[test]
fn overlong_sid_or_jti_are_refused() {
    let long = "x".repeat(MAX_ID_CLAIM_BYTES + 1);
    for name in ["sid", "jti"] {
        assert_eq!(
            refusal(&signed(&with(claims(), name, json!(long)))),
            TokenError::ClaimValue(if name == "sid" { "sid" } else { "jti" })
        );
    }
}

#[test]
fn an_empty_client_id_is_a_configuration_error() {
    let mut rules = rules();
    rules.client_id = String::new();
    let result = block_on(validate_logout_token(
        &LogoutToken::new(signed(&claims())),
        &rules,
        &keys(),
        &RustCryptoVerifier::new(),
    ));
    assert!(matches!(result, Err(Error::Configuration(_))));
}
