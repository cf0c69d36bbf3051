use super::*;
use crate::testing::CountingEntropy;
use alloc::collections::BTreeMap;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const ISSUER: &str = "https://login.microsoftonline.com/tid/v2.0";

fn transaction(mode: ResponseMode) -> Transaction {
    let scopes = Scopes::parse("api://downstream/user.read").unwrap();
    Transaction::begin(
        ISSUER,
        false,
        Some(&scopes),
        "/me".into(),
        mode,
        1_000,
        &CountingEntropy::default(),
    )
    .unwrap()
}

fn params(url: &Url) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    for (name, value) in url.query_pairs() {
        assert!(
            params.insert(name.to_string(), value.to_string()).is_none(),
            "{name} twice"
        );
    }
    params
}

#[test]
fn the_authorization_url_carries_every_required_parameter() {
    let tx = transaction(ResponseMode::Query);
    let endpoint =
        Url::parse("https://login.microsoftonline.com/tid/oauth2/v2.0/authorize").unwrap();
    let redirect = Url::parse("https://app.example.com/auth/callback").unwrap();
    let options = SignInOptions {
        login_hint: Some("alice@example.com".into()),
        domain_hint: Some("example.com".into()),
        prompt: Some("select_account".into()),
        claims: Some(r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#.into()),
    };
    let url = tx.authorization_url(&endpoint, "client-1", &redirect, &options, true);
    assert_eq!(url.path(), "/tid/oauth2/v2.0/authorize");
    let p = params(&url);
    assert_eq!(p["client_id"], "client-1");
    assert_eq!(p["response_type"], "code");
    assert_eq!(p["redirect_uri"], "https://app.example.com/auth/callback");
    assert_eq!(
        p["scope"],
        "api://downstream/user.read offline_access openid profile"
    );
    assert_eq!(p["state"], tx.state);
    assert_eq!(p["nonce"], tx.nonce);
    assert_eq!(p["code_challenge"], tx.code_verifier.challenge());
    assert_eq!(p["code_challenge_method"], "S256");
    assert_eq!(p["response_mode"], "query");
    assert_eq!(p["login_hint"], "alice@example.com");
    assert_eq!(p["domain_hint"], "example.com");
    assert_eq!(p["prompt"], "select_account");
    assert_eq!(p["claims"], options.claims.clone().unwrap());
    assert_eq!(p["client_info"], "1");
    assert!(!url.as_str().contains(tx.code_verifier.expose_secret()));
}

#[test]
fn optional_parameters_are_left_out_and_form_post_is_named() {
    let tx = transaction(ResponseMode::FormPost);
    let endpoint = Url::parse("http://127.0.0.1:9400/auth").unwrap();
    let redirect = Url::parse("http://127.0.0.1:8787/auth/callback").unwrap();
    let p = params(&tx.authorization_url(
        &endpoint,
        "webapp",
        &redirect,
        &SignInOptions::default(),
        false,
    ));
    assert_eq!(p["response_mode"], "form_post");
    for absent in [
        "login_hint",
        "domain_hint",
        "prompt",
        "claims",
        "client_info",
    ] {
        assert!(!p.contains_key(absent), "{absent}");
    }
}

#[test]
fn state_nonce_and_verifier_are_independent_and_256_bit() {
    let tx = transaction(ResponseMode::Query);
    assert_eq!(tx.state.len(), 43);
    assert_eq!(tx.nonce.len(), 43);
    assert_eq!(tx.code_verifier.expose_secret().len(), 43);
    assert_ne!(tx.state, tx.nonce);
    assert_ne!(tx.nonce, tx.code_verifier.expose_secret());
    assert_eq!(tx.expires_at(), 1_600);
    assert_eq!(tx.id(), transaction_id(&tx.state));
    assert_eq!(tx.id().len(), 16);
    let debug = alloc::format!("{tx:?}");
    assert!(!debug.contains(&tx.state) && !debug.contains(&tx.nonce));
    assert!(!debug.contains(tx.code_verifier.expose_secret()));
}

#[test]
fn the_response_is_checked_against_the_transaction() {
    let tx = transaction(ResponseMode::Query);
    let ok =
        AuthorizationResponse::parse([("code", "c0de"), ("state", tx.state.as_str())]).unwrap();
    assert_eq!(tx.check_response(ok).unwrap(), "c0de");

    let with_iss = AuthorizationResponse::parse([
        ("code", "c"),
        ("state", tx.state.as_str()),
        ("iss", ISSUER),
    ])
    .unwrap();
    assert!(tx.check_response(with_iss).is_ok());

    let other_iss = AuthorizationResponse::parse([
        ("code", "c"),
        ("state", tx.state.as_str()),
        ("iss", "https://evil.test"),
    ])
    .unwrap();
    assert_eq!(
        tx.check_response(other_iss),
        Err(CallbackError::IssuerMismatch)
    );

    let wrong_state = AuthorizationResponse::parse([("code", "c"), ("state", "forged")]).unwrap();
    assert_eq!(
        tx.check_response(wrong_state),
        Err(CallbackError::StateMismatch)
    );

    let denied = AuthorizationResponse::parse([
        ("error", "access_denied"),
        ("error_description", "<script>alert(1)</script>"),
        ("state", tx.state.as_str()),
    ])
    .unwrap();
    assert_eq!(
        tx.check_response(denied),
        Err(CallbackError::Provider("access_denied".into()))
    );

    let stateless_error = AuthorizationResponse::parse([("error", "invalid_request")]).unwrap();
    assert_eq!(
        tx.check_response(stateless_error),
        Err(CallbackError::StateMismatch)
    );
}

#[test]
fn malformed_responses_are_refused() {
    assert_eq!(
        AuthorizationResponse::parse([]),
        Err(CallbackError::Malformed)
    );
    assert_eq!(
        AuthorizationResponse::parse([("code", "c")]),
        Err(CallbackError::Malformed)
    );
    assert_eq!(
        AuthorizationResponse::parse([("code", ""), ("state", "s")]),
        Err(CallbackError::Malformed)
    );
    assert_eq!(
        AuthorizationResponse::parse([("code", "a"), ("state", "s"), ("code", "b")]),
        Err(CallbackError::Malformed)
    );
    let code = AuthorizationResponse::parse([("code", "SECRETCODE"), ("state", "s")]).unwrap();
    assert!(!alloc::format!("{code:?}").contains("SECRETCODE"));
}

#[test]
fn the_transaction_survives_serialization() {
    let tx = transaction(ResponseMode::FormPost);
    let json = serde_json::to_string(&tx).unwrap();
    let back: Transaction = serde_json::from_str(&json).unwrap();
    assert_eq!(back, tx);
    assert!(ResponseMode::parse("RESPONSE_MODE", "fragment").is_err());
}

#[test]
fn iss_is_required_when_the_issuer_advertises_it() {
    let code = |iss: Option<&str>, tx: &Transaction| {
        let mut params = vec![("code", "c"), ("state", tx.state.as_str())];
        if let Some(iss) = iss {
            params.push(("iss", iss));
        }
        AuthorizationResponse::parse(params).unwrap()
    };
    let mut tx = transaction(ResponseMode::Query);
    // Not advertised: `iss` may be absent, and must match when present.
    assert_eq!(tx.check_response(code(None, &tx)), Ok("c".into()));
    assert_eq!(
        tx.check_response(code(Some("https://evil.example"), &tx)),
        Err(CallbackError::IssuerMismatch)
    );
    // Advertised (RFC 9207 §2.4): a response without `iss` is refused.
    tx.iss_required = true;
    assert_eq!(
        tx.check_response(code(None, &tx)),
        Err(CallbackError::IssuerMismatch)
    );
    assert_eq!(tx.check_response(code(Some(ISSUER), &tx)), Ok("c".into()));
}

#[test]
fn a_provider_error_in_the_callback_is_bounded_like_a_token_endpoints() {
    let long = "e".repeat(65);
    let huge = "x".repeat(100_000);
    for error in [long.as_str(), "a\"b", "a\\b", "a\nb", "é", huge.as_str()] {
        assert_eq!(
            AuthorizationResponse::parse([("error", error), ("state", "s")]),
            Err(CallbackError::Malformed),
            "{}",
            error.len()
        );
    }
    let parsed = AuthorizationResponse::parse([
        ("error", "access_denied"),
        ("error_description", huge.as_str()),
        ("state", "s"),
    ])
    .unwrap();
    let AuthorizationResponse::Error {
        error,
        error_description,
        ..
    } = parsed
    else {
        panic!("an error response");
    };
    assert_eq!(error, "access_denied");
    assert!(error_description.unwrap().len() <= 1024);
}
