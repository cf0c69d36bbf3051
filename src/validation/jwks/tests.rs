//! Key set parsing, key lookup, RSA number checks and the refetch rules.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::error::InvalidResponse;
use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

const NOW: u64 = 1_795_000_000;

/// A 2048-bit modulus (top bit set); the numbers need not form a real key for these tests.
fn modulus() -> String {
    URL_SAFE_NO_PAD.encode([0xC5; 256])
}

fn rsa_key(kid: Option<&str>) -> Value {
    let mut key = json!({"kty": "RSA", "n": modulus(), "e": "AQAB"});
    if let Some(kid) = kid {
        key["kid"] = kid.into();
    }
    key
}

fn response(status: u16, content_type: &str, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("Content-Type".into(), content_type.into())],
        body: body.as_bytes().to_vec(),
    }
}

fn set(keys: Value) -> JwkSet {
    JwkSet::parse(&response(
        200,
        "application/json",
        &json!({ "keys": keys }).to_string(),
    ))
    .unwrap()
}

fn jwk(value: Value) -> Jwk {
    serde_json::from_value(value).unwrap()
}

#[test]
fn parses_an_entra_style_set_and_keeps_signature_keys_only() {
    let body = json!({"keys": [
        {"kty": "RSA", "use": "sig", "kid": "entra-1", "x5t": "entra-1", "n": modulus(), "e": "AQAB",
         "x5c": ["MIIC..."], "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0", "cloud_instance_name": "microsoftonline.com"},
        {"kty": "RSA", "use": "enc", "kid": "enc-1", "n": modulus(), "e": "AQAB"},
        {"kty": "RSA", "kid": "wrap-only", "key_ops": ["wrapKey"], "n": modulus(), "e": "AQAB"},
        {"kty": "EC", "use": "sig", "kid": "ec-1", "crv": "P-256", "x": "eA", "y": "eQ"},
        {"kty": "RSA", "kid": "no-use", "alg": "PS256", "n": modulus(), "e": "AQAB"},
        {"kid": "no-kty"},
        {"kty": "RSA", "kid": 5},
        "not a key"
    ]});
    let set = JwkSet::parse(&response(
        200,
        "application/json; charset=utf-8",
        &body.to_string(),
    ))
    .unwrap();
    let kids: Vec<_> = set
        .keys()
        .iter()
        .map(|k| k.kid.as_deref().unwrap())
        .collect();
    assert_eq!(kids, ["entra-1", "ec-1", "no-use"]);
    let entra = &set.keys()[0];
    assert_eq!(
        (
            entra.kty.as_str(),
            entra.key_use.as_deref(),
            entra.e.as_deref()
        ),
        ("RSA", Some("sig"), Some("AQAB"))
    );
    assert_eq!(set.keys()[1].crv.as_deref(), Some("P-256"));
}

#[test]
fn bad_responses_are_typed() {
    let problem = |r: HttpResponse| match JwkSet::parse(&r) {
        Err(Error::InvalidResponse(InvalidResponse { status, problem })) => (status, problem),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        problem(response(
            200,
            "text/html",
            "<html><body>Sign in</body></html>"
        )),
        (200, ResponseProblem::Html)
    );
    assert_eq!(
        problem(response(200, "application/json", "  <!DOCTYPE html>")),
        (200, ResponseProblem::Html)
    );
    assert_eq!(
        problem(response(200, "application/json", "keys")),
        (200, ResponseProblem::NotJson)
    );
    assert_eq!(
        problem(response(200, "application/json", "[]")),
        (200, ResponseProblem::NotAnObject)
    );
    assert_eq!(
        problem(response(200, "application/json", "{}")),
        (200, ResponseProblem::MissingField("keys"))
    );
    assert_eq!(
        problem(response(200, "application/json", r#"{"keys":{}}"#)),
        (
            200,
            ResponseProblem::InvalidField {
                field: "keys",
                reason: "is not an array"
            }
        )
    );
    assert_eq!(
        problem(response(503, "text/html", "<html>down</html>")),
        (503, ResponseProblem::UnexpectedStatus)
    );
    assert_eq!(
        problem(response(302, "text/html", "")),
        (302, ResponseProblem::UnexpectedRedirect)
    );
    // An empty set is valid; every lookup then misses.
    let empty = set(json!([]));
    assert_eq!(
        empty.find(Some("k"), VerificationAlgorithm::Rs256),
        Err(TokenError::UnknownKey)
    );
}

#[test]
fn the_request_is_a_json_get_on_a_secure_url() {
    let url = Url::parse("https://login.microsoftonline.com/common/discovery/v2.0/keys").unwrap();
    let request = JwkSet::request(&url).unwrap();
    assert_eq!(
        (request.method, &request.url),
        (crate::platform::http::Method::Get, &url)
    );
    assert_eq!(request.header("accept"), Some("application/json"));
    let plain = Url::parse("http://id.example.com/jwks").unwrap();
    assert!(matches!(
        JwkSet::request(&plain),
        Err(Error::Configuration(_))
    ));
    assert!(JwkSet::request(&Url::parse("http://127.0.0.1:9400/jwks").unwrap()).is_ok());
}

#[test]
fn keys_are_found_by_kid() {
    let set = set(json!([rsa_key(Some("a")), rsa_key(Some("b"))]));
    assert_eq!(
        set.find(Some("b"), VerificationAlgorithm::Rs256)
            .unwrap()
            .kid
            .as_deref(),
        Some("b")
    );
    assert_eq!(
        set.find(Some("c"), VerificationAlgorithm::Rs256),
        Err(TokenError::UnknownKey)
    );
    // Without a kid, two candidate keys are ambiguous.
    assert_eq!(
        set.find(None, VerificationAlgorithm::Rs256),
        Err(TokenError::UnknownKey)
    );
}

#[test]
fn without_kid_the_only_suitable_key_is_used() {
    let mut ec = json!({"kty": "EC", "crv": "P-256", "x": "eA", "y": "eQ"});
    let single = set(json!([rsa_key(None), ec.clone()]));
    assert_eq!(
        single.find(None, VerificationAlgorithm::Ps256).unwrap().kty,
        "RSA"
    );
    let mut rs256_only = rsa_key(Some("r"));
    rs256_only["alg"] = "RS256".into();
    ec["kid"] = "e".into();
    let set = set(json!([rs256_only, rsa_key(Some("p")), ec]));
    assert_eq!(
        set.find(None, VerificationAlgorithm::Ps256)
            .unwrap()
            .kid
            .as_deref(),
        Some("p")
    );
    assert_eq!(
        set.find(None, VerificationAlgorithm::Rs256),
        Err(TokenError::UnknownKey)
    );
}

#[test]
fn a_kid_whose_keys_cannot_verify_the_algorithm_is_unusable() {
    let mut rs256_only = rsa_key(Some("r"));
    rs256_only["alg"] = "RS256".into();
    let set =
        set(json!([rs256_only, {"kty": "EC", "kid": "e", "crv": "P-256", "x": "eA", "y": "eQ"}]));
    assert!(set.find(Some("r"), VerificationAlgorithm::Rs256).is_ok());
    assert_eq!(
        set.find(Some("r"), VerificationAlgorithm::Ps256),
        Err(TokenError::UnusableKey)
    );
    assert_eq!(
        set.find(Some("e"), VerificationAlgorithm::Rs256),
        Err(TokenError::UnusableKey)
    );
}

#[test]
fn rsa_numbers_are_decoded_and_range_checked() {
    let mut padded = vec![0u8];
    padded.extend([0xC5; 256]);
    let key = jwk(json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(&padded), "e": "AAEAAQ"}));
    let components = key.rsa_components().unwrap();
    assert_eq!(
        (components.modulus_len(), components.e.as_slice()),
        (256, &[1, 0, 1][..])
    );
    // Padding is tolerated in key members.
    let key = jwk(
        json!({"kty": "RSA", "n": format!("{}=", URL_SAFE_NO_PAD.encode([0xC5; 257])), "e": "AQAB"}),
    );
    assert_eq!(key.rsa_components().unwrap().modulus_len(), 257);

    let n_2047_bits = URL_SAFE_NO_PAD.encode([&[0x7F][..], &[0xFF; 255]].concat());
    let n_8200_bits = URL_SAFE_NO_PAD.encode([0xFF; 1025]);
    let cases = [
        json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xC5; 128]), "e": "AQAB"}),
        json!({"kty": "RSA", "n": n_2047_bits, "e": "AQAB"}),
        json!({"kty": "RSA", "n": n_8200_bits, "e": "AQAB"}),
        json!({"kty": "RSA", "n": "not*base64", "e": "AQAB"}),
        json!({"kty": "RSA", "e": "AQAB"}),
        json!({"kty": "RSA", "n": modulus()}),
        json!({"kty": "RSA", "n": modulus(), "e": "AQ"}),
        json!({"kty": "RSA", "n": modulus(), "e": "AAA"}),
        json!({"kty": "RSA", "n": modulus(), "e": "AQAA"}),
        json!({"kty": "RSA", "n": modulus(), "e": "AQAAAAE"}),
        json!({"kty": "EC", "n": modulus(), "e": "AQAB"}),
    ];
    for case in cases {
        assert_eq!(
            jwk(case.clone()).rsa_components(),
            Err(TokenError::UnusableKey),
            "{case}"
        );
    }
}

#[test]
fn supports_follows_use_key_ops_and_alg() {
    let base = rsa_key(Some("k"));
    let with = |member: &str, value: Value| {
        let mut key = base.clone();
        key[member] = value;
        jwk(key)
    };
    assert!(jwk(base.clone()).supports(VerificationAlgorithm::Rs256));
    assert!(with("use", "sig".into()).supports(VerificationAlgorithm::Ps256));
    assert!(!with("use", "enc".into()).supports(VerificationAlgorithm::Ps256));
    assert!(with("key_ops", json!(["verify"])).supports(VerificationAlgorithm::Rs256));
    assert!(!with("key_ops", json!(["encrypt"])).supports(VerificationAlgorithm::Rs256));
    assert!(with("alg", "PS256".into()).supports(VerificationAlgorithm::Ps256));
    assert!(!with("alg", "PS256".into()).supports(VerificationAlgorithm::Rs256));
    assert!(!with("kty", "oct".into()).supports(VerificationAlgorithm::Rs256));
}

#[test]
fn refetch_for_an_unknown_kid_at_most_once_per_cooldown() {
    let mut cache = JwksCache::new(set(json!([rsa_key(Some("a"))])), NOW);
    assert!(!cache.needs_refetch_for_unknown_kid(NOW));
    assert!(!cache.needs_refetch_for_unknown_kid(NOW + JWKS_REFETCH_COOLDOWN_SECS - 1));
    assert!(cache.needs_refetch_for_unknown_kid(NOW + JWKS_REFETCH_COOLDOWN_SECS));

    // A failed attempt starts a new cooldown too.
    let attempt = NOW + 1000;
    cache.record_refetch_attempt(attempt);
    assert!(!cache.needs_refetch_for_unknown_kid(attempt + 10));
    assert!(cache.needs_refetch_for_unknown_kid(attempt + JWKS_REFETCH_COOLDOWN_SECS));

    // A successful one replaces the set and its fetch time.
    cache.replace(set(json!([rsa_key(Some("b"))])), attempt + 2);
    assert_eq!(cache.fetched_at(), attempt + 2);
    assert!(cache
        .keys()
        .find(Some("b"), VerificationAlgorithm::Rs256)
        .is_ok());
    assert!(!cache.needs_refetch_for_unknown_kid(attempt + 2 + JWKS_REFETCH_COOLDOWN_SECS - 1));

    // A clock that went backwards never allows a refetch storm.
    assert!(!cache.needs_refetch_for_unknown_kid(NOW - 10_000));
}

#[test]
fn a_set_is_stale_after_its_max_age() {
    let cache = JwksCache::new(JwkSet::default(), NOW);
    assert!(!cache.is_stale(NOW));
    assert!(!cache.is_stale(NOW + JWKS_MAX_AGE_SECS - 1));
    assert!(cache.is_stale(NOW + JWKS_MAX_AGE_SECS));
    assert!(!cache.is_stale(NOW - 60));
}

#[test]
fn the_cache_round_trips_through_json() {
    let mut cache = JwksCache::new(set(json!([rsa_key(Some("a"))])), NOW);
    cache.record_refetch_attempt(NOW + 400);
    let json = serde_json::to_string(&cache).unwrap();
    assert!(json.contains(r#""fetched_at":1795000000"#), "{json}");
    assert!(
        !json.contains("null"),
        "absent members are left out: {json}"
    );
    let back: JwksCache = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cache);
    assert!(!back.needs_refetch_for_unknown_kid(NOW + 600));
}
