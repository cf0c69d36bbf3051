//! ES256 (RFC 7518 §3.4) with the pure-Rust verifier: P-256 keys from a JWKS, 64-byte `R || S`
//! signatures, and the configured algorithm against the token's `alg`, through the ID token and
//! access token rules.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::secret::{AccessToken, IdToken};
use crate::validation::access_token::{validate_access_token, AccessTokenValidation};
use crate::validation::id_token::{validate_id_token, IdTokenValidation};
use crate::validation::jwt::IssuerRule;

const NOW: u64 = 1_795_000_000;
const ISSUER: &str = "https://id.example.com";
const CLIENT: &str = "webapp";

/// A key set as a provider signing with ES256 and RS256 publishes it.
fn keys() -> JwkSet {
    JwkSet::from_keys(vec![
        public_jwk(P256_KEY_PEM, "ec"),
        public_jwk(KEY_PEM, "rsa"),
    ])
}

fn es256_signature() -> Vec<u8> {
    signature(P256_KEY_PEM, VerificationAlgorithm::Es256, INPUT)
}

/// A JWK `kty` `EC` whose members are replaced by `members`.
fn ec_key_with(members: Value) -> Jwk {
    let mut key = public_jwk_json(P256_KEY_PEM, "ec");
    if let (Some(key), Some(members)) = (key.as_object_mut(), members.as_object()) {
        key.extend(members.clone());
    }
    serde_json::from_value(key).unwrap()
}

fn id_token(alg: VerificationAlgorithm, pem: &str, kid: &str) -> String {
    let claims = json!({"iss": ISSUER, "sub": "alice", "aud": CLIENT, "exp": NOW + 3600, "iat": NOW, "nonce": "n"});
    sign_jws(
        pem,
        alg,
        &json!({"alg": alg.name(), "kid": kid, "typ": "JWT"}),
        &claims,
    )
}

fn validate_id(token: &str, configured: VerificationAlgorithm) -> Result<(), Error> {
    let rules = IdTokenValidation::new(
        IssuerRule::Exact(ISSUER.into()),
        CLIENT,
        configured,
        "n",
        NOW,
    );
    block_on(validate_id_token(
        &IdToken::new(token),
        &rules,
        &keys(),
        &RustCryptoVerifier::new(),
    ))
    .map(|_| ())
}

#[test]
fn es256_signatures_verify() {
    let key = public_jwk(P256_KEY_PEM, "ec");
    let signature = es256_signature();
    assert_eq!(signature.len(), ES256_SIGNATURE_BYTES);
    assert_eq!(
        verify(VerificationAlgorithm::Es256, &key, INPUT, &signature),
        Ok(())
    );
    // `alg` naming ES256 on the key is fine.
    let named = ec_key_with(json!({"alg": "ES256"}));
    assert_eq!(
        verify(VerificationAlgorithm::Es256, &named, INPUT, &signature),
        Ok(())
    );
}

#[test]
fn a_high_s_signature_is_a_valid_jws_signature() {
    // RFC 7518 §3.4 does not ask for low S: (r, n - s) verifies as (r, s) does.
    let key = public_jwk(P256_KEY_PEM, "ec");
    let signature = p256::ecdsa::Signature::from_slice(&es256_signature()).unwrap();
    let (r, s) = signature.split_scalars();
    let mirrored = p256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
    assert_ne!(mirrored, signature);
    assert_eq!(
        verify(
            VerificationAlgorithm::Es256,
            &key,
            INPUT,
            &mirrored.to_bytes()
        ),
        Ok(())
    );
}

#[test]
fn wrong_es256_signatures_are_bad_signatures() {
    let bad = Err(Error::InvalidToken(TokenError::BadSignature));
    let key = public_jwk(P256_KEY_PEM, "ec");
    let good = es256_signature();
    let mut flipped = good.clone();
    flipped[10] ^= 0x01;
    let mut flipped_s = good.clone();
    flipped_s[50] ^= 0x01;
    let other = signature(OTHER_P256_KEY_PEM, VerificationAlgorithm::Es256, INPUT);
    let rs256 = signature(KEY_PEM, VerificationAlgorithm::Rs256, INPUT);
    let mut der_like = vec![0x30, 0x44, 0x02, 0x20];
    der_like.extend_from_slice(&good);
    for signature in [
        flipped,
        flipped_s,
        other,
        good[..63].to_vec(),
        [good.as_slice(), &[0]].concat(),
        Vec::new(),
        vec![0; 64],    // r = s = 0
        vec![0xFF; 64], // r, s >= n
        rs256,
        der_like,
    ] {
        assert_eq!(
            verify(VerificationAlgorithm::Es256, &key, INPUT, &signature),
            bad,
            "{} bytes",
            signature.len()
        );
    }
    assert_eq!(
        verify(
            VerificationAlgorithm::Es256,
            &key,
            b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1MiJ9",
            &good
        ),
        bad
    );
}

#[test]
fn unusable_ec_keys_are_typed_errors() {
    let unusable = Err(Error::InvalidToken(TokenError::UnusableKey));
    let signature = es256_signature();
    let good = public_jwk_json(P256_KEY_PEM, "ec");
    let x = URL_SAFE_NO_PAD.decode(good["x"].as_str().unwrap()).unwrap();
    let mut off_curve_y = URL_SAFE_NO_PAD.decode(good["y"].as_str().unwrap()).unwrap();
    off_curve_y[31] ^= 0x01;
    let short_x = URL_SAFE_NO_PAD.encode(&x[1..]);
    let long_x = URL_SAFE_NO_PAD.encode([&[0], x.as_slice()].concat());
    for key in [
        ec_key_with(json!({"y": URL_SAFE_NO_PAD.encode(&off_curve_y)})),
        ec_key_with(json!({"x": short_x})),
        ec_key_with(json!({"x": long_x})),
        ec_key_with(json!({"x": "%%%"})),
        ec_key_with(json!({"x": null})),
        ec_key_with(json!({"kty": "RSA"})),
        ec_key_with(json!({"alg": "ES384"})),
        ec_key_with(json!({"use": "enc"})),
        ec_key_with(json!({"key_ops": ["sign"]})),
        // The identity's zero coordinates are no point of the curve.
        ec_key_with(
            json!({"x": URL_SAFE_NO_PAD.encode([0; 32]), "y": URL_SAFE_NO_PAD.encode([0; 32])}),
        ),
    ] {
        assert_eq!(
            verify(VerificationAlgorithm::Es256, &key, INPUT, &signature),
            unusable,
            "{key:?}"
        );
    }
}

#[test]
fn keys_of_other_curves_are_refused_as_such() {
    let other_curve = Err(Error::InvalidToken(TokenError::UnsupportedCurve));
    let signature = es256_signature();
    let p384 = ec_key_with(json!({
        "crv": "P-384",
        "x": URL_SAFE_NO_PAD.encode([0x11; 48]),
        "y": URL_SAFE_NO_PAD.encode([0x22; 48]),
    }));
    let secp256k1 = ec_key_with(json!({"crv": "secp256k1"}));
    let no_curve = ec_key_with(json!({"crv": null}));
    for key in [&p384, &secp256k1, &no_curve] {
        assert_eq!(
            verify(VerificationAlgorithm::Es256, key, INPUT, &signature),
            other_curve,
            "{key:?}"
        );
    }
    let set = JwkSet::from_keys(vec![p384]);
    assert_eq!(
        set.find(Some("ec"), VerificationAlgorithm::Es256),
        Err(TokenError::UnsupportedCurve)
    );
    assert!(!set.has_usable_key());
}

#[test]
fn rsa_and_ec_keys_verify_only_their_own_algorithms() {
    let unusable = Err(Error::InvalidToken(TokenError::UnusableKey));
    let ec = public_jwk(P256_KEY_PEM, "ec");
    let rsa = public_jwk(KEY_PEM, "rsa");
    let es256 = es256_signature();
    for algorithm in [VerificationAlgorithm::Rs256, VerificationAlgorithm::Ps256] {
        let rsa_signature = signature(KEY_PEM, algorithm, INPUT);
        assert_eq!(verify(algorithm, &ec, INPUT, &rsa_signature), unusable);
        assert_eq!(verify(algorithm, &rsa, INPUT, &rsa_signature), Ok(()));
    }
    assert_eq!(
        verify(VerificationAlgorithm::Es256, &rsa, INPUT, &es256),
        unusable
    );
}

#[test]
fn issuer_keys_are_chosen_by_kid_and_key_type() {
    let set = keys();
    let ec = set.find(Some("ec"), VerificationAlgorithm::Es256).unwrap();
    assert_eq!(ec.kty, "EC");
    assert_eq!(
        set.find(Some("rsa"), VerificationAlgorithm::Es256),
        Err(TokenError::UnusableKey)
    );
    assert_eq!(
        set.find(Some("ec"), VerificationAlgorithm::Rs256),
        Err(TokenError::UnusableKey)
    );
    // Without a `kid`, the only key of the algorithm's type.
    assert_eq!(
        set.find(None, VerificationAlgorithm::Es256)
            .unwrap()
            .kid
            .as_deref(),
        Some("ec")
    );
    assert_eq!(
        set.find(None, VerificationAlgorithm::Ps256)
            .unwrap()
            .kid
            .as_deref(),
        Some("rsa")
    );
    assert!(JwkSet::from_keys(vec![public_jwk(P256_KEY_PEM, "ec")]).has_usable_key());
}

#[test]
fn an_es256_id_token_validates_when_es256_is_configured() {
    let token = id_token(VerificationAlgorithm::Es256, P256_KEY_PEM, "ec");
    assert_eq!(validate_id(&token, VerificationAlgorithm::Es256), Ok(()));
    let forged = id_token(VerificationAlgorithm::Es256, OTHER_P256_KEY_PEM, "ec");
    assert_eq!(
        validate_id(&forged, VerificationAlgorithm::Es256),
        Err(Error::InvalidToken(TokenError::BadSignature))
    );
}

#[test]
fn the_token_alg_must_be_the_configured_one() {
    let not_allowed = Err(Error::InvalidToken(TokenError::AlgorithmNotAllowed));
    let es256 = id_token(VerificationAlgorithm::Es256, P256_KEY_PEM, "ec");
    let rs256 = id_token(VerificationAlgorithm::Rs256, KEY_PEM, "rsa");
    assert_eq!(validate_id(&rs256, VerificationAlgorithm::Rs256), Ok(()));
    assert_eq!(
        validate_id(&rs256, VerificationAlgorithm::Es256),
        not_allowed
    );
    assert_eq!(
        validate_id(&es256, VerificationAlgorithm::Rs256),
        not_allowed
    );
    assert_eq!(
        validate_id(&es256, VerificationAlgorithm::Ps256),
        not_allowed
    );
    // An RSA signature under a header claiming ES256 with the RSA key's kid.
    let relabelled = sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "ES256", "kid": "rsa"}),
        &json!({"iss": ISSUER, "sub": "alice", "aud": CLIENT, "exp": NOW + 3600, "iat": NOW, "nonce": "n"}),
    );
    assert_eq!(
        validate_id(&relabelled, VerificationAlgorithm::Es256),
        Err(Error::InvalidToken(TokenError::UnusableKey))
    );
}

#[test]
fn an_es256_access_token_validates_when_es256_is_configured() {
    let claims = json!({"iss": ISSUER, "aud": "api://webapi", "sub": "alice", "scp": "access_as_user", "exp": NOW + 3600, "iat": NOW});
    let token = |alg: VerificationAlgorithm, pem: &str, kid: &str| {
        AccessToken::new(sign_jws(
            pem,
            alg,
            &json!({"alg": alg.name(), "kid": kid, "typ": "at+jwt"}),
            &claims,
        ))
    };
    let validate = |token: &AccessToken, configured| {
        let rules = AccessTokenValidation::new(
            vec![IssuerRule::Exact(ISSUER.into())],
            vec!["api://webapi".into()],
            configured,
            NOW,
        );
        block_on(validate_access_token(
            token,
            &rules,
            &keys(),
            &RustCryptoVerifier::new(),
        ))
        .map(|claims| claims.sub)
    };
    let es256 = token(VerificationAlgorithm::Es256, P256_KEY_PEM, "ec");
    assert_eq!(
        validate(&es256, VerificationAlgorithm::Es256),
        Ok("alice".into())
    );
    let not_allowed = Err(Error::InvalidToken(TokenError::AlgorithmNotAllowed));
    assert_eq!(validate(&es256, VerificationAlgorithm::Rs256), not_allowed);
    let rs256 = token(VerificationAlgorithm::Rs256, KEY_PEM, "rsa");
    assert_eq!(validate(&rs256, VerificationAlgorithm::Es256), not_allowed);
}

#[test]
fn algorithm_settings_parse_exact_names() {
    for (value, expected) in [
        ("RS256", VerificationAlgorithm::Rs256),
        ("PS256", VerificationAlgorithm::Ps256),
        ("ES256", VerificationAlgorithm::Es256),
    ] {
        assert_eq!(VerificationAlgorithm::parse("X_ALG", value), Ok(expected));
        assert_eq!(expected.name(), value);
    }
    for value in ["es256", "ES384", "ES256K", "HS256", "none", ""] {
        let error = VerificationAlgorithm::parse("X_ALG", value).unwrap_err();
        assert_eq!(
            error.to_string(),
            "configuration error: X_ALG must be RS256, PS256 or ES256"
        );
    }
}

#[test]
fn a_jwks_with_rsa_and_ec_keys_parses_and_keeps_what_can_verify() {
    use crate::platform::http::HttpResponse;
    let ec = public_jwk_json(P256_KEY_PEM, "ec");
    let mut padded = ec.clone();
    padded["kid"] = "padded".into();
    padded["x"] = format!("{}=", ec["x"].as_str().unwrap()).into();
    let mut encryption = ec.clone();
    encryption["kid"] = "enc".into();
    encryption["use"] = "enc".into();
    let p384 = json!({"kty": "EC", "crv": "P-384", "kid": "p384", "x": URL_SAFE_NO_PAD.encode([1; 48]), "y": URL_SAFE_NO_PAD.encode([2; 48])});
    let body = json!({"keys": [public_jwk_json(KEY_PEM, "rsa"), ec, padded, encryption, p384, {"kty": "EC", "crv": 7}]});
    let response = HttpResponse {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    };
    let set = JwkSet::parse(&response).unwrap();
    let kids: Vec<_> = set.keys().iter().filter_map(|k| k.kid.as_deref()).collect();
    assert_eq!(kids, ["rsa", "ec", "padded", "p384"]);
    assert!(set.has_usable_key());
    let padded = set
        .find(Some("padded"), VerificationAlgorithm::Es256)
        .unwrap();
    assert_eq!(padded.p256_coordinates(), set.keys()[1].p256_coordinates());
    assert_eq!(
        set.find(Some("enc"), VerificationAlgorithm::Es256),
        Err(TokenError::UnknownKey)
    );
    assert_eq!(
        set.find(Some("p384"), VerificationAlgorithm::Es256),
        Err(TokenError::UnsupportedCurve)
    );
    // Without a `kid`, two P-256 keys fit: no guess.
    assert_eq!(
        set.find(None, VerificationAlgorithm::Es256),
        Err(TokenError::UnknownKey)
    );
}
