//! Compact JWS parsing and the shared claim rules. Signatures are not involved here: tokens are
//! assembled from JSON (see `src/id_token/tests.rs` for signed tokens).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use serde_json::json;

const NOW: u64 = 1_795_000_000;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

fn claims(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("test claims must be an object"),
    }
}

#[test]
fn parses_header_claims_signing_input_and_signature() {
    let jws = token(
        &json!({"alg": "RS256", "kid": "k1", "typ": "JWT", "x5t": "ignored"}),
        &json!({"sub": "u1", "exp": NOW}),
        &[1, 2, 3],
    );
    let parsed = UnverifiedToken::parse(&jws).unwrap();
    assert_eq!(
        parsed.header(),
        &JoseHeader {
            alg: "RS256".into(),
            kid: Some("k1".into()),
            typ: Some("JWT".into()),
        }
    );
    assert_eq!(parsed.claims()["sub"], "u1");
    let (input, _) = jws.rsplit_once('.').unwrap();
    assert_eq!(parsed.signing_input(), input.as_bytes());
    assert_eq!(parsed.signature(), &[1, 2, 3]);
}

#[test]
fn an_empty_signature_parses_and_kid_and_typ_are_optional() {
    let jws = token(&json!({"alg": "none"}), &json!({}), &[]);
    assert!(jws.ends_with('.'));
    let parsed = UnverifiedToken::parse(&jws).unwrap();
    assert_eq!(parsed.header().alg, "none");
    assert_eq!(
        (
            parsed.header().kid.as_deref(),
            parsed.header().typ.as_deref()
        ),
        (None, None)
    );
    assert!(parsed.signature().is_empty());
}

#[test]
fn malformed_tokens_are_refused() {
    let header = b64(br#"{"alg":"RS256"}"#);
    let payload = b64(br#"{"sub":"u1"}"#);
    let cases = [
        String::new(),
        format!("{header}.{payload}"),
        format!("{header}.{payload}.AQ.AQ"),
        format!("{header}.{payload}.AQ.AQ.AQ"),
        format!("{header}.{payload}!.AQ"),
        format!("{header}.{payload}.A+/A"),
        format!("{header}=.{payload}.AQ"),
        format!("{header}.{payload}.AQ=="),
        format!("{}.{payload}.AQ", b64(b"[1,2]")),
        format!("{header}.{}.AQ", b64(b"\"text\"")),
        format!("{header}.{}.AQ", b64(b"{not json")),
        format!("{}.{payload}.AQ", b64(br#"{"typ":"JWT"}"#)),
        format!("{}.{payload}.AQ", b64(br#"{"alg":256}"#)),
        format!("{}.{payload}.AQ", b64(br#"{"alg":"RS256","kid":7}"#)),
        format!("{}.{payload}.AQ", b64(br#"{"alg":"RS256","typ":null}"#)),
        format!("{}.{payload}.AQ", b64(br#"{"alg":"RS256","crit":["exp"]}"#)),
    ];
    for case in cases {
        assert_eq!(
            UnverifiedToken::parse(&case),
            Err(TokenError::Malformed),
            "{case}"
        );
    }
}

#[test]
fn oversize_tokens_are_refused_before_decoding() {
    let big = "a".repeat(MAX_TOKEN_BYTES - 100);
    let jws = token(&json!({"alg": "RS256"}), &json!({ "pad": big }), &[1]);
    assert!(jws.len() > MAX_TOKEN_BYTES);
    assert_eq!(
        UnverifiedToken::parse(&jws),
        Err(TokenError::TooLarge {
            limit: MAX_TOKEN_BYTES
        })
    );
    let junk = "!".repeat(MAX_TOKEN_BYTES + 1);
    assert_eq!(
        UnverifiedToken::parse(&junk),
        Err(TokenError::TooLarge {
            limit: MAX_TOKEN_BYTES
        })
    );
}

#[test]
fn debug_never_shows_the_token() {
    let jws = token(&json!({"alg": "RS256"}), &json!({"sub": "u1"}), &[0xAB; 64]);
    let parsed = UnverifiedToken::parse(&jws).unwrap();
    let debug = format!("{parsed:?}");
    for part in jws.split('.') {
        assert!(!debug.contains(part), "{debug}");
    }
    assert!(debug.contains("signature_len: 64"));
}

#[test]
fn time_rules_with_leeway() {
    let check = |value: Value, leeway| check_times(&claims(value), NOW, leeway, true);
    let ok = check(json!({"exp": NOW + 1, "iat": NOW, "nbf": NOW}), 0).unwrap();
    assert_eq!((ok.exp, ok.iat, ok.nbf), (NOW + 1, Some(NOW), Some(NOW)));

    // exp: valid while now < exp + leeway.
    assert_eq!(
        check(json!({"exp": NOW, "iat": NOW}), 0),
        Err(TokenError::Expired)
    );
    assert!(check(json!({"exp": NOW - 299, "iat": NOW - 900}), 300).is_ok());
    assert_eq!(
        check(json!({"exp": NOW - 300, "iat": NOW - 900}), 300),
        Err(TokenError::Expired)
    );
    // nbf and iat: at most now + leeway.
    assert!(check(
        json!({"exp": NOW + 600, "iat": NOW + 300, "nbf": NOW + 300}),
        300
    )
    .is_ok());
    assert_eq!(
        check(json!({"exp": NOW + 600, "iat": NOW, "nbf": NOW + 301}), 300),
        Err(TokenError::NotYetValid)
    );
    assert_eq!(
        check(json!({"exp": NOW + 600, "iat": NOW + 301}), 300),
        Err(TokenError::IssuedInFuture)
    );
}

#[test]
fn leeway_is_clamped_to_the_maximum() {
    let expired_long_ago = claims(json!({"exp": NOW - 3600, "iat": NOW - 7200}));
    assert_eq!(
        check_times(&expired_long_ago, NOW, 86_400, true),
        Err(TokenError::Expired)
    );
    let far_future = claims(json!({"exp": NOW + 7200, "iat": NOW + MAX_LEEWAY_SECS + 1}));
    assert_eq!(
        check_times(&far_future, NOW, u64::MAX, true),
        Err(TokenError::IssuedInFuture)
    );
    // No overflow at the ends of the range.
    let forever = claims(json!({"exp": u64::MAX, "iat": 0}));
    assert!(check_times(&forever, u64::MAX - 1, u64::MAX, true).is_ok());
}

#[test]
fn time_claims_must_be_numeric_dates() {
    let check = |value: Value, require_iat| check_times(&claims(value), NOW, 0, require_iat);
    assert_eq!(
        check(json!({"iat": NOW}), true),
        Err(TokenError::MissingClaim("exp"))
    );
    assert_eq!(
        check(json!({"exp": NOW + 60}), true),
        Err(TokenError::MissingClaim("iat"))
    );
    assert!(check(json!({"exp": NOW + 60}), false).is_ok());
    for bad in [json!("1795000060"), json!(-1), json!(null), json!(true)] {
        assert_eq!(
            check(json!({"exp": bad, "iat": NOW}), true),
            Err(TokenError::MissingClaim("exp"))
        );
        assert_eq!(
            check(json!({"exp": NOW + 60, "iat": NOW, "nbf": bad}), true),
            Err(TokenError::MissingClaim("nbf"))
        );
    }
    let fractional = check(
        json!({"exp": 1_795_000_060.75, "iat": 1_795_000_000.5}),
        true,
    );
    assert_eq!(
        fractional.map(|t| (t.exp, t.iat)),
        Ok((NOW + 60, Some(NOW)))
    );
}

#[test]
fn audiences_are_a_string_or_an_array_of_strings() {
    assert_eq!(
        audiences(&claims(json!({"aud": "a"}))),
        Ok(vec!["a".to_string()])
    );
    assert_eq!(
        audiences(&claims(json!({"aud": ["a", "b"]}))),
        Ok(vec!["a".to_string(), "b".to_string()])
    );
    for bad in [
        json!({}),
        json!({"aud": []}),
        json!({"aud": ""}),
        json!({"aud": ["a", 1]}),
        json!({"aud": 1}),
    ] {
        assert_eq!(
            audiences(&claims(bad.clone())),
            Err(TokenError::MissingClaim("aud")),
            "{bad}"
        );
    }
}

#[test]
fn string_claims() {
    let map = claims(json!({"a": "x", "b": "", "c": 3}));
    assert_eq!(optional_string(&map, "a"), Ok(Some("x")));
    assert_eq!(optional_string(&map, "z"), Ok(None));
    assert_eq!(
        optional_string(&map, "c"),
        Err(TokenError::MissingClaim("c"))
    );
    assert_eq!(required_string(&map, "a"), Ok("x"));
    assert_eq!(
        required_string(&map, "b"),
        Err(TokenError::MissingClaim("b"))
    );
    assert_eq!(
        required_string(&map, "z"),
        Err(TokenError::MissingClaim("z"))
    );
}

const TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn entra(allowed: Option<Vec<&str>>) -> IssuerRule {
    IssuerRule::EntraTemplate {
        template: TEMPLATE.into(),
        allowed_tenants: allowed.map(|list| list.into_iter().map(String::from).collect()),
    }
}

#[test]
fn exact_issuer_compares_character_for_character() {
    let rule = IssuerRule::Exact("https://id.example.com".into());
    assert_eq!(
        rule.check(&claims(json!({"iss": "https://id.example.com"}))),
        Ok(())
    );
    for other in [
        "https://id.example.com/",
        "https://ID.example.com",
        "https://evil.example.com",
    ] {
        assert_eq!(
            rule.check(&claims(json!({ "iss": other }))),
            Err(Error::InvalidToken(TokenError::Issuer)),
            "{other}"
        );
    }
    assert_eq!(
        rule.check(&claims(json!({}))),
        Err(Error::InvalidToken(TokenError::MissingClaim("iss")))
    );
}

#[test]
fn entra_template_substitutes_the_tenant() {
    let iss = format!("https://login.microsoftonline.com/{TENANT}/v2.0");
    let good = claims(json!({"iss": iss, "tid": TENANT}));
    assert_eq!(entra(None).check(&good), Ok(()));
    assert_eq!(entra(Some(vec![])).check(&good), Ok(()));
    assert_eq!(entra(Some(vec!["other", TENANT])).check(&good), Ok(()));
    assert_eq!(
        entra(Some(vec!["other"])).check(&good),
        Err(Error::InvalidToken(TokenError::TenantNotAllowed))
    );
    // tid and iss must agree: a token from tenant A cannot claim tenant B's issuer.
    let mismatched = claims(json!({"iss": iss, "tid": "9188040d-6c67-4c5b-b112-36a304b66dad"}));
    assert_eq!(
        entra(None).check(&mismatched),
        Err(Error::InvalidToken(TokenError::Issuer))
    );
    assert_eq!(
        entra(None).check(&claims(json!({ "iss": iss }))),
        Err(Error::InvalidToken(TokenError::MissingClaim("tid")))
    );
    // A tid is an id (a GUID), never text that could rebuild the template or a path.
    for tid in ["{tenantid}", "a/b", "x y"] {
        let iss = TEMPLATE.replace(TENANT_PLACEHOLDER, tid);
        assert_eq!(
            entra(None).check(&claims(json!({"iss": iss, "tid": tid}))),
            Err(Error::InvalidToken(TokenError::Issuer)),
            "{tid}"
        );
    }
}

#[test]
fn a_template_without_placeholder_is_a_configuration_error() {
    let rule = IssuerRule::EntraTemplate {
        template: "https://login.microsoftonline.com/common/v2.0".into(),
        allowed_tenants: None,
    };
    let token =
        claims(json!({"iss": "https://login.microsoftonline.com/common/v2.0", "tid": TENANT}));
    assert!(matches!(rule.check(&token), Err(Error::Configuration(_))));
}

#[test]
fn token_errors_display_without_token_content() {
    assert_eq!(
        format!("{}", Error::from(TokenError::MissingClaim("exp"))),
        "invalid token: `exp` is missing or has the wrong type"
    );
    assert_eq!(
        format!("{}", TokenError::TooLarge { limit: 16384 }),
        "token longer than 16384 bytes"
    );
}

/// A compact token from raw JSON texts (which `json!` could not hold: they repeat a name).
fn raw_token(header: &str, claims: &str) -> String {
    format!(
        "{}.{}.{}",
        b64(header.as_bytes()),
        b64(claims.as_bytes()),
        b64(b"sig")
    )
}

#[test]
fn duplicate_header_members_are_refused() {
    let claims = r#"{"sub":"s","exp":1}"#;
    assert!(UnverifiedToken::parse(&raw_token(r#"{"alg":"RS256","kid":"k"}"#, claims)).is_ok());
    for header in [
        // Last-wins would read `none`, first-wins `RS256`: the parsers must not be able to differ.
        r#"{"alg":"RS256","alg":"none"}"#,
        r#"{"alg":"none","kid":"k","alg":"RS256"}"#,
        r#"{"alg":"RS256","kid":"a","kid":"b"}"#,
        r#"{"alg":"RS256","typ":"JWT","typ":"at+jwt"}"#,
        // The same name once escaped: names are compared after decoding.
        r#"{"alg":"RS256","\u0061lg":"none"}"#,
        // Nested objects are strict too.
        r#"{"alg":"RS256","jwk":{"kty":"RSA","kty":"oct"}}"#,
    ] {
        assert_eq!(
            UnverifiedToken::parse(&raw_token(header, claims)),
            Err(TokenError::Malformed),
            "{header}"
        );
    }
}

#[test]
fn duplicate_claims_are_refused() {
    let header = r#"{"alg":"RS256"}"#;
    assert!(UnverifiedToken::parse(&raw_token(header, r#"{"sub":"a","exp":1}"#)).is_ok());
    for claims in [
        r#"{"sub":"victim","exp":1,"sub":"attacker"}"#,
        r#"{"aud":"api://a","aud":["api://b"],"exp":1}"#,
        r#"{"exp":1,"exp":99999999999}"#,
        r#"{"sub":"a","\u0073ub":"b"}"#,
        r#"{"sub":"a","cnf":{"jkt":"x","jkt":"y"}}"#,
        r#"{"sub":"a","xms":[{"v":1,"v":2}]}"#,
    ] {
        assert_eq!(
            UnverifiedToken::parse(&raw_token(header, claims)),
            Err(TokenError::Malformed),
            "{claims}"
        );
    }
    // The same name in two different objects is no duplicate.
    let parsed = UnverifiedToken::parse(&raw_token(
        header,
        r#"{"sub":"a","act":{"sub":"b","act":{"sub":"c"}}}"#,
    ))
    .unwrap();
    assert_eq!(parsed.claims()["sub"], "a");
}
