//! What a web API reads and writes about bearer tokens, through the public API: the
//! `Authorization: Bearer` credentials it receives (RFC 6750 §2.1), the `WWW-Authenticate`
//! challenges it sends or receives from a downstream API (RFC 6750 §3, Entra claims
//! challenges), and the typed errors of decoding a received token that is not a compact JWS.

mod common;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use common::{access_token_of, base64url, fixture};
use edge_token::protocol::{bearer_token, BearerChallenge, BearerErrorCode, CredentialsError};
use edge_token::validation::{TokenError, UnverifiedToken};
use edge_token::Error;

/// The longest token accepted, 16 KiB (`TokenError::TooLarge` reports it).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// A compact JWS of `header` and `payload` (JSON text) with `signature` bytes.
fn jws(header: &str, payload: &str, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        base64url(header.as_bytes()),
        base64url(payload.as_bytes()),
        base64url(signature)
    )
}

#[test]
fn bearer_credentials_are_taken_as_rfc_6750_writes_them() {
    let token = access_token_of(fixture!("entra/client_credentials_success.json"));
    for header in [
        format!("Bearer {token}"),
        format!("bearer {token}"),
        format!("BEARER   {token}"),
        format!("  Bearer {token}  "),
    ] {
        let parsed = bearer_token(Some(&header)).expect(&header);
        assert_eq!(parsed.expose_secret(), token);
        assert!(!format!("{parsed:?} {parsed}").contains(&token), "redacted");
    }
    let b64token = bearer_token(Some("Bearer mF_9.B5f-4.1JqM+/x~==")).unwrap();
    assert_eq!(b64token.expose_secret(), "mF_9.B5f-4.1JqM+/x~==");
    let longest = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES));
    assert!(bearer_token(Some(&longest)).is_ok());
}

#[test]
fn other_credentials_are_refused_without_echoing_them() {
    assert_eq!(bearer_token(None), Err(CredentialsError::Missing));
    for header in [
        "",
        "Bearer",
        "Bearer   ",
        "Basic dXNlcjpwYXNzd29yZA==",
        "Bearertoken",
        "Bearer two tokens",
        "Bearer tok\"en",
        "Bearer ==",
        "Bearer tök",
    ] {
        let error = bearer_token(Some(header)).unwrap_err();
        assert_eq!(error, CredentialsError::Malformed, "{header:?}");
        assert!(!error.to_string().contains("dXNlcjpwYXNz"));
    }
    let huge = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
    assert_eq!(bearer_token(Some(&huge)), Err(CredentialsError::TooLarge));
}

#[test]
fn a_challenge_renders_its_members_in_order_and_reads_back() {
    assert_eq!(BearerChallenge::default().to_header_value(), "Bearer");
    let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
    let mut challenge =
        BearerChallenge::error(BearerErrorCode::InvalidToken, "the token has \"expired\"");
    challenge.realm = Some("api://webapi".into());
    challenge.scope = Some("api://webapi/access_as_user".into());
    challenge.claims = Some(claims.into());
    let rendered = challenge.to_header_value();
    assert_eq!(
        rendered,
        "Bearer realm=\"api://webapi\", error=\"invalid_token\", \
         error_description=\"the token has expired\", scope=\"api://webapi/access_as_user\", \
         claims=\"eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19\""
    );
    // Quotes cannot appear in `error_description` (RFC 6750 §3): they are dropped, the rest
    // reads back as written.
    let parsed = BearerChallenge::from_header_value(&rendered).unwrap();
    challenge.error_description = Some("the token has expired".into());
    assert_eq!(parsed, challenge);
    assert_eq!(
        parsed.error.map(BearerErrorCode::as_str),
        Some("invalid_token")
    );
}

#[test]
fn entra_claims_challenges_are_read_from_www_authenticate() {
    // Microsoft identity platform "claims challenges" (continuous access evaluation).
    let header = "Bearer realm=\"\", \
        authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", \
        error=\"insufficient_claims\", \
        claims=\"eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0=\"";
    let challenge = BearerChallenge::from_header_value(header).unwrap();
    assert_eq!(challenge.realm.as_deref(), Some(""));
    assert_eq!(challenge.error, Some(BearerErrorCode::InsufficientClaims));
    assert_eq!(
        challenge.authorization_uri.as_deref(),
        Some("https://login.microsoftonline.com/common/oauth2/authorize")
    );
    assert_eq!(
        challenge.claims.as_deref(),
        Some(r#"{"access_token":{"nbf":{"essential":true, "value":"1604106651"}}}"#)
    );

    // The Bearer challenge among others; unknown codes and claims that are not base64 JSON
    // are dropped; no Bearer challenge, or a broken field value, is none.
    let mixed = "Basic realm=\"legacy\", Bearer error=\"insufficient_scope\", scope=\"a b\"";
    let bearer = BearerChallenge::from_header_value(mixed).unwrap();
    assert_eq!(bearer.error, Some(BearerErrorCode::InsufficientScope));
    assert_eq!(bearer.scope.as_deref(), Some("a b"));
    let odd = "Bearer error=\"some_new_code\", claims=\"bm90IGpzb24=\"";
    let odd = BearerChallenge::from_header_value(odd).unwrap();
    assert_eq!((odd.error, odd.claims), (None, None));
    assert_eq!(
        BearerChallenge::from_header_value("Basic realm=\"x\""),
        None
    );
    assert_eq!(
        BearerChallenge::from_header_value("Bearer error=\"open"),
        None
    );
}

#[test]
fn a_received_token_is_decoded_but_not_trusted() {
    let token = access_token_of(fixture!("entra/client_credentials_success.json"));
    let parsed = UnverifiedToken::parse(&token).unwrap();
    assert_eq!(parsed.header().alg, "RS256");
    assert_eq!(parsed.header().typ.as_deref(), Some("JWT"));
    assert_eq!(parsed.header().kid, None);
    assert_eq!(parsed.claims()["aud"], "https://graph.microsoft.com");
    assert_eq!(parsed.signature(), b"signature");
    let (signing_input, _) = token.rsplit_once('.').unwrap();
    assert_eq!(parsed.signing_input(), signing_input.as_bytes());
    assert!(
        !format!("{parsed:?}").contains(&token),
        "Debug never shows the token"
    );

    // An unsigned token decodes (the algorithm check refuses it later).
    let unsigned = jws(r#"{"alg":"none"}"#, r#"{"sub":"x"}"#, b"");
    assert_eq!(
        UnverifiedToken::parse(&unsigned).unwrap().header().alg,
        "none"
    );
}

#[test]
fn a_token_that_is_not_a_compact_jws_is_a_typed_error() {
    let header = r#"{"alg":"RS256"}"#;
    let payload = r#"{"aud":"api://webapi"}"#;
    let good = jws(header, payload, b"sig");
    let malformed = [
        String::new(),
        "not-a-token".into(),
        "a.b".into(),
        format!("{good}.extra"),
        good.replacen('.', ".!", 1),
        format!("{good}="),
        jws(header, "[1]", b"sig"),
        jws("\"RS256\"", payload, b"sig"),
        jws(r#"{"typ":"JWT"}"#, payload, b"sig"),
        jws(r#"{"alg":null}"#, payload, b"sig"),
        jws(r#"{"alg":"RS256","kid":7}"#, payload, b"sig"),
        jws(r#"{"alg":"RS256","crit":["exp"]}"#, payload, b"sig"),
    ];
    for token in &malformed {
        assert_eq!(
            UnverifiedToken::parse(token),
            Err(TokenError::Malformed),
            "{token:?}"
        );
    }
    let huge = jws(
        header,
        &format!(r#"{{"pad":"{}"}}"#, "a".repeat(MAX_TOKEN_BYTES)),
        b"",
    );
    let too_large = UnverifiedToken::parse(&huge).unwrap_err();
    assert_eq!(
        too_large,
        TokenError::TooLarge {
            limit: MAX_TOKEN_BYTES
        }
    );
    // As the one error type: an invalid token, never retried.
    let error = Error::from(too_large);
    assert!(matches!(
        error,
        Error::InvalidToken(TokenError::TooLarge { .. })
    ));
    assert!(!error.is_retryable());
    assert_eq!(
        error.to_string(),
        "invalid token: token longer than 16384 bytes"
    );
}
