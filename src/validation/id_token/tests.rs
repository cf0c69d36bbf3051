//! ID token validation end to end with real signatures: every OIDC Core §3.1.3.7 rule refused
//! on its own, the order of the checks, and Entra's multi-tenant issuers. Tokens are signed with
//! the test bed's fixed RSA keys (see `src/verifier/tests.rs`).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::platform::LocalBoxFuture;
use crate::validation::jwks::Jwk;
use crate::validation::jwt::MAX_TOKEN_BYTES;
use crate::validation::verifier::rustcrypto::RustCryptoVerifier;
use crate::validation::verifier::tests::{encode, public_jwk, sign_jws, KEY_PEM, OTHER_KEY_PEM};
use alloc::format;
use alloc::vec;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use core::cell::Cell;
use futures::executor::block_on;
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{Algorithm as _, AlgorithmSignature as _};
use serde_json::json;

const NOW: u64 = 1_795_000_000;
const ISSUER: &str = "https://id.example.com";
const CLIENT: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
const NONCE: &str = "n-0S6_WzA2Mj";
const KID: &str = "issuer-key-1";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OID: &str = "00000000-0000-0000-66f3-3332eca7ea81";
const TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";

/// Counts verifications, so tests can show a refused token never reached the signature check.
#[derive(Default)]
struct CountingVerifier {
    inner: RustCryptoVerifier,
    calls: Cell<usize>,
}

impl JwsVerifier for CountingVerifier {
    fn verify<'a>(
        &'a self,
        algorithm: VerificationAlgorithm,
        key: &'a Jwk,
        signing_input: &'a [u8],
        signature: &'a [u8],
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        self.calls.set(self.calls.get() + 1);
        self.inner.verify(algorithm, key, signing_input, signature)
    }
}

fn keys() -> JwkSet {
    JwkSet::from_keys(vec![
        public_jwk(KEY_PEM, KID),
        public_jwk(OTHER_KEY_PEM, "unrelated"),
    ])
}

fn claims() -> Value {
    json!({
        "iss": ISSUER, "sub": "248289761001", "aud": CLIENT, "exp": NOW + 3600, "iat": NOW,
        "nonce": NONCE, "name": "Jane Doe", "email": "janedoe@example.com", "groups": ["admins"]
    })
}

fn entra_claims() -> Value {
    json!({
        "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"), "tid": TENANT,
        "oid": OID, "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "aud": CLIENT,
        "exp": NOW + 3600, "iat": NOW, "nbf": NOW, "nonce": NONCE, "ver": "2.0",
        "preferred_username": "abeli@microsoft.com", "name": "Abe Lincoln"
    })
}

fn header(alg: &str) -> Value {
    json!({"alg": alg, "kid": KID, "typ": "JWT"})
}

fn signed(claims: &Value) -> String {
    sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &header("RS256"),
        claims,
    )
}

fn with(mut claims: Value, member: &str, value: Value) -> Value {
    claims[member] = value;
    claims
}

fn without(mut claims: Value, member: &str) -> Value {
    claims.as_object_mut().unwrap().remove(member);
    claims
}

fn rules() -> IdTokenValidation {
    IdTokenValidation::new(
        IssuerRule::Exact(ISSUER.into()),
        CLIENT,
        VerificationAlgorithm::Rs256,
        NONCE,
        NOW,
    )
}

fn entra_rules(allowed_tenants: Option<Vec<String>>) -> IdTokenValidation {
    let issuer = IssuerRule::EntraTemplate {
        template: TEMPLATE.into(),
        allowed_tenants,
    };
    IdTokenValidation::new(issuer, CLIENT, VerificationAlgorithm::Rs256, NONCE, NOW)
}

fn validate_with(
    token: &str,
    rules: &IdTokenValidation,
    verifier: &dyn JwsVerifier,
) -> Result<IdTokenClaims, Error> {
    block_on(validate_id_token(
        &IdToken::new(token),
        rules,
        &keys(),
        verifier,
    ))
}

fn validate(token: &str, rules: &IdTokenValidation) -> Result<IdTokenClaims, Error> {
    validate_with(token, rules, &RustCryptoVerifier::new())
}

/// The refusal of `token`, checking that the error never quotes the token.
fn refusal(token: &str, rules: &IdTokenValidation) -> TokenError {
    match validate(token, rules) {
        Err(Error::InvalidToken(problem)) => {
            let shown = format!("{:?} {}", problem, Error::InvalidToken(problem));
            for part in token.split('.').filter(|p| p.len() > 8) {
                assert!(!shown.contains(part));
            }
            problem
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_good_token_is_accepted_with_its_claims() {
    let claims = validate(&signed(&claims()), &rules()).unwrap();
    assert_eq!(
        (
            claims.iss.as_str(),
            claims.sub.as_str(),
            claims.aud.as_slice()
        ),
        (ISSUER, "248289761001", &[CLIENT.to_string()][..])
    );
    assert_eq!((claims.exp, claims.iat), (NOW + 3600, NOW));
    assert_eq!(claims.nonce.as_deref(), Some(NONCE));
    assert_eq!(claims.name.as_deref(), Some("Jane Doe"));
    assert_eq!(claims.email.as_deref(), Some("janedoe@example.com"));
    assert_eq!((claims.tid.as_deref(), claims.oid.as_deref()), (None, None));
    assert_eq!(claims.all["groups"], json!(["admins"]));
    assert_eq!(
        claims.user_id(),
        UserId::Subject {
            iss: ISSUER.into(),
            sub: "248289761001".into()
        }
    );
    assert_eq!(
        claims.user_id().canonical(),
        r#"["oidc","https://id.example.com","248289761001"]"#
    );
    // Serializable for a session or a /me endpoint, and back.
    let json = serde_json::to_string(&claims).unwrap();
    assert_eq!(
        serde_json::from_str::<IdTokenClaims>(&json).unwrap(),
        claims
    );
}

#[test]
fn ps256_tokens_validate_when_ps256_is_configured() {
    let token = sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Ps256,
        &header("PS256"),
        &claims(),
    );
    let mut rules = rules();
    rules.algorithm = VerificationAlgorithm::Ps256;
    assert!(validate(&token, &rules).is_ok());
    // ...and not when RS256 is.
    assert_eq!(
        refusal(&token, &self::rules()),
        TokenError::AlgorithmNotAllowed
    );
}

#[test]
fn entra_tokens_identify_users_by_tenant_and_object_id() {
    let claims = validate(&signed(&entra_claims()), &entra_rules(None)).unwrap();
    assert_eq!(
        claims.user_id(),
        UserId::Entra {
            tid: TENANT.into(),
            oid: OID.into()
        }
    );
    assert_eq!(
        claims.user_id().canonical(),
        format!(r#"["entra","{TENANT}","{OID}"]"#)
    );
    assert_eq!(
        claims.preferred_username.as_deref(),
        Some("abeli@microsoft.com")
    );
    // A single-tenant app configures the exact issuer instead.
    let exact = IdTokenValidation::new(
        IssuerRule::Exact(format!("https://login.microsoftonline.com/{TENANT}/v2.0")),
        CLIENT,
        VerificationAlgorithm::Rs256,
        NONCE,
        NOW,
    );
    assert!(validate(&signed(&entra_claims()), &exact).is_ok());
}

#[test]
fn multi_tenant_issuers_substitute_the_tenant_and_honour_the_allow_list() {
    let token = signed(&entra_claims());
    assert!(validate(&token, &entra_rules(Some(vec![TENANT.into()]))).is_ok());
    assert!(validate(&token, &entra_rules(Some(vec![]))).is_ok());
    assert_eq!(
        refusal(
            &token,
            &entra_rules(Some(vec!["9188040d-6c67-4c5b-b112-36a304b66dad".into()]))
        ),
        TokenError::TenantNotAllowed
    );
    let no_tid = signed(&without(entra_claims(), "tid"));
    assert_eq!(
        refusal(&no_tid, &entra_rules(None)),
        TokenError::MissingClaim("tid")
    );
    let other_tenant = signed(&with(
        entra_claims(),
        "tid",
        "9188040d-6c67-4c5b-b112-36a304b66dad".into(),
    ));
    assert_eq!(
        refusal(&other_tenant, &entra_rules(None)),
        TokenError::Issuer
    );
}

#[test]
fn unsigned_tokens_are_refused() {
    for alg in ["none", "None", "NONE"] {
        let token = format!("{}.{}.", encode(&header(alg)), encode(&claims()));
        assert_eq!(
            refusal(&token, &rules()),
            TokenError::AlgorithmNotAllowed,
            "{alg}"
        );
    }
}

#[test]
fn hmac_tokens_keyed_with_the_public_key_are_refused_unverified() {
    // The classic key-confusion attack: HS256 with the issuer's public key as the HMAC secret.
    let public = serde_json::to_vec(&public_jwk(KEY_PEM, KID)).unwrap();
    let input = format!("{}.{}", encode(&header("HS256")), encode(&claims()));
    let mac = Hs256.sign(&Hs256Key::new(&public), input.as_bytes());
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.as_bytes()));
    let verifier = CountingVerifier::default();
    assert_eq!(
        validate_with(&token, &rules(), &verifier),
        Err(Error::InvalidToken(TokenError::AlgorithmNotAllowed))
    );
    assert_eq!(verifier.calls.get(), 0, "never handed to a verifier");
    let mut ps256 = rules();
    ps256.algorithm = VerificationAlgorithm::Ps256;
    assert_eq!(refusal(&token, &ps256), TokenError::AlgorithmNotAllowed);
}

#[test]
fn a_flipped_signature_byte_is_a_bad_signature() {
    let token = signed(&claims());
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[0] ^= 0x80;
    let flipped = format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes));
    assert_eq!(refusal(&flipped, &rules()), TokenError::BadSignature);
}

#[test]
fn a_token_signed_by_another_key_under_the_issuers_kid_is_a_bad_signature() {
    let forged = sign_jws(
        OTHER_KEY_PEM,
        VerificationAlgorithm::Rs256,
        &header("RS256"),
        &claims(),
    );
    assert_eq!(refusal(&forged, &rules()), TokenError::BadSignature);
}

#[test]
fn a_modified_payload_is_a_bad_signature() {
    let token = signed(&claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let evil = encode(&with(claims(), "sub", "admin".into()));
    parts[1] = &evil;
    assert_eq!(
        refusal(&parts.join("."), &rules()),
        TokenError::BadSignature
    );
}

#[test]
fn an_unknown_kid_is_reported_distinctly_and_never_verified() {
    let token = sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": "rotated-in"}),
        &claims(),
    );
    let verifier = CountingVerifier::default();
    let err = validate_with(&token, &rules(), &verifier).unwrap_err();
    assert!(matches!(err, Error::InvalidToken(TokenError::UnknownKey)));
    assert_eq!(verifier.calls.get(), 0);
}

#[test]
fn without_kid_the_single_suitable_key_is_used() {
    let token = sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256"}),
        &claims(),
    );
    let single = JwkSet::from_keys(vec![public_jwk(KEY_PEM, KID)]);
    let result = block_on(validate_id_token(
        &IdToken::new(token.as_str()),
        &rules(),
        &single,
        &RustCryptoVerifier::new(),
    ));
    assert!(result.is_ok(), "{result:?}");
    // Two keys: ambiguous.
    assert_eq!(refusal(&token, &rules()), TokenError::UnknownKey);
}

#[test]
fn each_claim_rule_is_refused_on_its_own() {
    let cases = [
        (
            with(claims(), "iss", "https://evil.example.com".into()),
            TokenError::Issuer,
        ),
        (
            with(claims(), "iss", "https://id.example.com/".into()),
            TokenError::Issuer,
        ),
        (without(claims(), "iss"), TokenError::MissingClaim("iss")),
        (
            with(claims(), "aud", "someone-else".into()),
            TokenError::Audience,
        ),
        (
            with(claims(), "aud", json!([CLIENT, "untrusted-api"])),
            TokenError::Audience,
        ),
        (without(claims(), "aud"), TokenError::MissingClaim("aud")),
        (
            with(claims(), "azp", "someone-else".into()),
            TokenError::AuthorizedParty,
        ),
        (
            with(claims(), "exp", (NOW - 301).into()),
            TokenError::Expired,
        ),
        (without(claims(), "exp"), TokenError::MissingClaim("exp")),
        (
            with(claims(), "iat", (NOW + 301).into()),
            TokenError::IssuedInFuture,
        ),
        (without(claims(), "iat"), TokenError::MissingClaim("iat")),
        (
            with(claims(), "nbf", (NOW + 301).into()),
            TokenError::NotYetValid,
        ),
        (
            with(claims(), "nonce", "another-nonce".into()),
            TokenError::Nonce,
        ),
        (without(claims(), "nonce"), TokenError::Nonce),
        (with(claims(), "nonce", 7.into()), TokenError::Nonce),
        (without(claims(), "sub"), TokenError::MissingClaim("sub")),
        (
            with(claims(), "oid", json!({"not": "a string"})),
            TokenError::MissingClaim("oid"),
        ),
    ];
    for (claims, expected) in cases {
        assert_eq!(refusal(&signed(&claims), &rules()), expected, "{claims}");
    }
}

#[test]
fn accepted_variations_of_the_claims() {
    let accepted = [
        with(claims(), "aud", json!([CLIENT])),
        with(claims(), "azp", CLIENT.into()),
        with(claims(), "exp", (NOW - 299).into()),
        with(claims(), "iat", (NOW + 299).into()),
        with(claims(), "nbf", (NOW + 299).into()),
    ];
    for claims in accepted {
        assert!(validate(&signed(&claims), &rules()).is_ok(), "{claims}");
    }
    let mut trusting = rules();
    trusting.trusted_audiences = vec!["trusted-api".into()];
    let two = with(claims(), "aud", json!(["trusted-api", CLIENT]));
    assert_eq!(validate(&signed(&two), &trusting).unwrap().aud.len(), 2);
    let three = with(
        claims(),
        "aud",
        json!(["trusted-api", CLIENT, "untrusted-api"]),
    );
    assert_eq!(refusal(&signed(&three), &trusting), TokenError::Audience);
    let only_trusted = with(claims(), "aud", json!(["trusted-api"]));
    assert_eq!(
        refusal(&signed(&only_trusted), &trusting),
        TokenError::Audience
    );
}

#[test]
fn the_leeway_is_configurable_down_to_zero() {
    let mut strict = rules();
    strict.leeway_secs = 0;
    let just_expired = with(claims(), "exp", NOW.into());
    assert_eq!(
        refusal(&signed(&just_expired), &strict),
        TokenError::Expired
    );
    let mut lax = rules();
    lax.leeway_secs = 3600;
    let expired_long_ago = with(claims(), "exp", (NOW - 600).into());
    assert_eq!(
        refusal(&signed(&expired_long_ago), &lax),
        TokenError::Expired
    );
}

#[test]
fn checks_run_in_order_key_then_signature_then_claims() {
    let expired = with(claims(), "exp", (NOW - 3600).into());
    // A forged and expired token is a bad signature: claims of an unverified token are not read.
    let forged = sign_jws(
        OTHER_KEY_PEM,
        VerificationAlgorithm::Rs256,
        &header("RS256"),
        &expired,
    );
    assert_eq!(refusal(&forged, &rules()), TokenError::BadSignature);
    let unknown = sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": "x"}),
        &expired,
    );
    assert_eq!(refusal(&unknown, &rules()), TokenError::UnknownKey);
    let wrong_alg = format!(
        "{}.{}.",
        encode(&json!({"alg": "none", "kid": "x"})),
        encode(&expired)
    );
    assert_eq!(
        refusal(&wrong_alg, &rules()),
        TokenError::AlgorithmNotAllowed
    );
}

#[test]
fn malformed_tokens_are_refused() {
    let token = signed(&claims());
    let mut parts = token.split('.');
    let (header, payload, signature) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let cases = [
        format!("{header}.{payload}"),
        format!("{header}.{payload}.{signature}.{signature}"),
        format!("{header}.{payload}*.{signature}"),
        format!("{header}.{payload}.{signature}="),
        format!(
            "{header}.{}.{signature}",
            encode(&json!(["not", "an", "object"]))
        ),
        format!("{}.{payload}.{signature}", encode(&json!("RS256"))),
        String::from("not a token"),
    ];
    for case in cases {
        assert_eq!(refusal(&case, &rules()), TokenError::Malformed, "{case}");
    }
    let padding = "x".repeat(MAX_TOKEN_BYTES);
    let oversize = signed(&with(claims(), "padding", padding.into()));
    assert_eq!(
        refusal(&oversize, &rules()),
        TokenError::TooLarge {
            limit: MAX_TOKEN_BYTES
        }
    );
}

#[test]
fn empty_expectations_are_configuration_errors() {
    let token = signed(&claims());
    let mut no_nonce = rules();
    no_nonce.nonce = String::new();
    assert!(matches!(
        validate(&token, &no_nonce),
        Err(Error::Configuration(_))
    ));
    let mut no_client = rules();
    no_client.client_id = String::new();
    assert!(matches!(
        validate(&token, &no_client),
        Err(Error::Configuration(_))
    ));
}

fn signed_with_typ(claims: &Value, typ: Option<&str>) -> String {
    let mut header = json!({"alg": "RS256", "kid": KID});
    if let Some(typ) = typ {
        header["typ"] = typ.into();
    }
    sign_jws(KEY_PEM, VerificationAlgorithm::Rs256, &header, claims)
}

#[test]
fn typed_access_tokens_are_not_id_tokens() {
    // An RFC 9068 access token for the client, with the nonce: everything else would pass.
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/At+Jwt",
        "logout+jwt",
        "application/dpop+jwt",
    ] {
        let token = signed_with_typ(&claims(), Some(typ));
        assert_eq!(refusal(&token, &rules()), TokenError::TokenType, "{typ}");
    }
    for typ in [None, Some("JWT"), Some("jwt")] {
        let token = signed_with_typ(&claims(), typ);
        assert!(validate(&token, &rules()).is_ok(), "{typ:?}");
    }
}

#[test]
fn an_id_token_issued_too_long_ago_is_refused() {
    // Still unexpired (a long-lived token), but issued a week ago.
    let week_old = with(
        with(claims(), "iat", (NOW - 7 * 86_400).into()),
        "exp",
        (NOW + 3600).into(),
    );
    assert_eq!(
        refusal(&signed(&week_old), &rules()),
        TokenError::IssuedTooLongAgo
    );
    // The bound is MAX_ID_TOKEN_AGE_SECS plus the leeway, to the second.
    let oldest = NOW - MAX_ID_TOKEN_AGE_SECS - DEFAULT_LEEWAY_SECS;
    let at_bound = with(claims(), "iat", oldest.into());
    assert!(validate(&signed(&at_bound), &rules()).is_ok());
    let past_bound = with(claims(), "iat", (oldest - 1).into());
    assert_eq!(
        refusal(&signed(&past_bound), &rules()),
        TokenError::IssuedTooLongAgo
    );
    let mut strict = rules();
    strict.leeway_secs = 0;
    let hour_and_a_second = with(claims(), "iat", (NOW - 3601).into());
    assert_eq!(
        refusal(&signed(&hour_and_a_second), &strict),
        TokenError::IssuedTooLongAgo
    );
    // A clock before the bound (a test clock near the epoch) does not underflow.
    let mut early = rules();
    early.now = 10;
    let near_epoch = json!({
        "iss": ISSUER, "sub": "s", "aud": CLIENT, "exp": 3600, "iat": 0, "nonce": NONCE
    });
    assert!(validate(&signed(&near_epoch), &early).is_ok());
}

#[test]
fn at_hash_is_the_left_half_of_the_sha256_of_the_access_token() {
    // OIDC Core Appendix A.3 (RS256): this access token has this `at_hash`.
    let access_token = AccessToken::new("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y");
    assert!(at_hash_matches(
        "77QmUPtjPfzWtF2AnpK9RQ",
        &access_token,
        VerificationAlgorithm::Rs256
    ));
    assert!(at_hash_matches(
        "77QmUPtjPfzWtF2AnpK9RQ",
        &access_token,
        VerificationAlgorithm::Ps256
    ));
    assert!(!at_hash_matches(
        "77QmUPtjPfzWtF2AnpK9RQ==",
        &access_token,
        VerificationAlgorithm::Rs256
    ));
    assert!(!at_hash_matches(
        "77QmUPtjPfzWtF2AnpK9Rg",
        &access_token,
        VerificationAlgorithm::Rs256
    ));
}

#[test]
fn a_wrong_at_hash_is_refused_when_the_access_token_is_known() {
    let access_token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
    let mut knowing = rules();
    knowing.access_token = Some(AccessToken::new(access_token));
    let good = with(claims(), "at_hash", "77QmUPtjPfzWtF2AnpK9RQ".into());
    assert!(validate(&signed(&good), &knowing).is_ok());
    // Without `at_hash` there is nothing to check (OIDC Core §3.1.3.8: code flow).
    assert!(validate(&signed(&claims()), &knowing).is_ok());
    let other_token = URL_SAFE_NO_PAD.encode(&Sha256::digest(b"another access token")[..16]);
    for wrong in [other_token.as_str(), "", "77QmUPtjPfzWtF2AnpK9RQ=="] {
        let token = signed(&with(claims(), "at_hash", wrong.into()));
        assert_eq!(
            refusal(&token, &knowing),
            TokenError::AccessTokenHash,
            "{wrong}"
        );
    }
    let not_a_string = signed(&with(claims(), "at_hash", 7.into()));
    assert_eq!(
        refusal(&not_a_string, &knowing),
        TokenError::MissingClaim("at_hash")
    );
    // The hash of another access token: refused with it, accepted when no access token is
    // given (nothing to compare with).
    let another = signed(&with(claims(), "at_hash", other_token.as_str().into()));
    assert!(validate(&another, &rules()).is_ok());
}

#[test]
fn string_claims_are_bounded() {
    let long = |n: usize| "a".repeat(n);
    let sub_255 = with(claims(), "sub", long(255).into());
    assert_eq!(
        validate(&signed(&sub_255), &rules()).unwrap().sub.len(),
        255
    );
    let refused = [
        (with(claims(), "sub", long(256).into()), "sub"),
        (with(claims(), "sub", long(10 * 1024).into()), "sub"),
        (with(claims(), "sub", "usér".into()), "sub"),
        (with(claims(), "sub", "user\n2".into()), "sub"),
        (with(claims(), "iss", long(2049).into()), "iss"),
        (with(claims(), "aud", json!([CLIENT, long(2049)])), "aud"),
        (with(claims(), "azp", long(257).into()), "azp"),
        (with(claims(), "nonce", long(257).into()), "nonce"),
        (with(claims(), "at_hash", long(257).into()), "at_hash"),
        (with(claims(), "tid", long(257).into()), "tid"),
        (with(claims(), "oid", long(257).into()), "oid"),
        (with(claims(), "name", long(1025).into()), "name"),
        (
            with(claims(), "preferred_username", long(1025).into()),
            "preferred_username",
        ),
        (with(claims(), "email", long(1025).into()), "email"),
    ];
    for (claims, name) in refused {
        assert_eq!(
            refusal(&signed(&claims), &rules()),
            TokenError::ClaimValue(name),
            "{name}"
        );
    }
    // At their bounds, display claims pass (Unicode is fine outside `sub`).
    let at_bounds = with(
        with(claims(), "name", "é".repeat(512).into()),
        "email",
        long(1024).into(),
    );
    assert!(validate(&signed(&at_bounds), &rules()).is_ok());
}
