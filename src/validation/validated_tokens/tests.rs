//! The validated-token table on its own, with tokens validated for real: a hit, a one-byte
//! change, `exp` / `nbf` / permissions checked again on a hit, the maximum age, the key set and
//! the rules it was filled under, and the bound.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::testing::NOW;
use crate::validation::access_token::validate_access_token;
use crate::validation::jwks::JwkSet;
use crate::validation::jwt::IssuerRule;
use crate::validation::verifier::rustcrypto::RustCryptoVerifier;
use crate::validation::verifier::tests::{public_jwk, sign_jws, KEY_PEM};
use crate::validation::VerificationAlgorithm;
use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use futures::executor::block_on;
use serde_json::{json, Value};

const ISSUER: &str = "https://id.example.com";

fn jwks_uri() -> Url {
    Url::parse("https://id.example.com/jwks").unwrap()
}

/// The resource's rules at `now`.
fn rules(now: u64) -> AccessTokenValidation {
    AccessTokenValidation::new(
        vec![IssuerRule::Exact(ISSUER.into())],
        vec!["api://daemon".into()],
        VerificationAlgorithm::Rs256,
        now,
    )
}

fn role(name: &str) -> RequiredPermissions {
    RequiredPermissions::new(Vec::new(), vec![name.to_string()])
}

/// An app token with the role `Daemon.Call` and `extra` claims, signed by the issuer.
fn token(extra: &Value) -> AccessToken {
    let mut claims = json!({
        "iss": ISSUER, "aud": "api://daemon", "sub": "caller", "azp": "caller",
        "roles": ["Daemon.Call"], "iat": NOW, "exp": NOW + 3600,
    });
    if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
        claims.extend(extra.clone());
    }
    AccessToken::new(sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}),
        &claims,
    ))
}

/// The claims of `token`, validated in full under `rules`.
fn validate(token: &AccessToken, rules: &AccessTokenValidation) -> AccessTokenClaims {
    let keys = JwkSet::from_keys(vec![public_jwk(KEY_PEM, "k1")]);
    block_on(validate_access_token(
        token,
        rules,
        &keys,
        &RustCryptoVerifier::new(),
    ))
    .expect("a valid token")
}

/// A table filled under the first key set at `NOW`, and what one caller sends.
struct Fixture {
    table: ValidatedTokens,
    uri: Url,
}

impl Fixture {
    fn new() -> Self {
        Self::with(ValidatedTokens::default())
    }

    fn with(table: ValidatedTokens) -> Self {
        Self {
            table,
            uri: jwks_uri(),
        }
    }

    /// Validates `token` under `rules` and keeps it, verified with key set `key_set`.
    fn store(&self, token: &AccessToken, rules: &AccessTokenValidation, key_set: u64) {
        let claims = validate(token, rules);
        self.table.put(
            TokenDigest::of(token),
            &claims,
            &self.grounds(rules, key_set),
        );
    }

    fn grounds<'a>(&'a self, rules: &'a AccessTokenValidation, key_set: u64) -> Grounds<'a> {
        Grounds {
            rules,
            jwks_uri: &self.uri,
            key_set: KeySetGeneration::numbered(key_set),
        }
    }

    /// The lookup of `token` at `now` with key set 1, requiring `Daemon.Call`.
    fn get(
        &self,
        token: &AccessToken,
        now: u64,
    ) -> Option<Result<AccessTokenClaims, InsufficientScope>> {
        self.get_under(token, &rules(now), 1)
    }

    fn get_under(
        &self,
        token: &AccessToken,
        rules: &AccessTokenValidation,
        key_set: u64,
    ) -> Option<Result<AccessTokenClaims, InsufficientScope>> {
        self.table.get(
            &TokenDigest::of(token),
            &self.grounds(rules, key_set),
            &role("Daemon.Call"),
        )
    }
}

#[test]
fn a_held_token_answers_the_claims_of_its_full_validation() {
    let fixture = Fixture::new();
    let caller = token(&json!({}));
    assert!(fixture.get(&caller, NOW).is_none(), "nothing held yet");
    fixture.store(&caller, &rules(NOW), 1);
    let held = fixture.get(&caller, NOW + 10).unwrap().unwrap();
    assert_eq!(held, validate(&caller, &rules(NOW)));
    assert_eq!(fixture.table.len(), 1);
    // The Debug form names no digest and no claim.
    let debug = format!("{:?} {:?}", fixture.table, TokenDigest::of(&caller));
    assert_eq!(
        debug,
        "ValidatedTokens { entries: 1, capacity: 1024 } TokenDigest(..)"
    );
}

#[test]
fn a_token_differing_in_one_byte_misses() {
    let fixture = Fixture::new();
    let caller = token(&json!({}));
    fixture.store(&caller, &rules(NOW), 1);
    let text = caller.expose_secret();
    // The last byte of the signature, then the first byte of the header.
    let last = if text.ends_with('A') { "B" } else { "A" };
    let tampered = [
        format!("{}{last}", &text[..text.len() - 1]),
        format!("f{}", &text[1..]),
        format!("{text}A"),
        text[..text.len() - 1].to_string(),
    ];
    for tampered in tampered {
        assert!(fixture.get(&AccessToken::new(tampered), NOW).is_none());
    }
    assert!(fixture.get(&caller, NOW).is_some());
}

#[test]
fn a_hit_checks_exp_again_with_the_same_leeway_and_drops_the_expired_entry() {
    // Expired 200 s ago: valid within the 300 s leeway at NOW, not 100 s later.
    let fixture = Fixture::new();
    let caller = token(&json!({"iat": NOW - 3600, "exp": NOW - 200}));
    fixture.store(&caller, &rules(NOW), 1);
    assert!(fixture.get(&caller, NOW + 99).is_some());
    assert!(fixture.get(&caller, NOW + 100).is_none());
    assert_eq!(fixture.table.len(), 0, "dropped");
    assert!(fixture.get(&caller, NOW + 99).is_none(), "gone for good");

    // Without leeway, the second `exp` is the first second refused.
    let strict = |now| AccessTokenValidation {
        leeway_secs: 0,
        ..rules(now)
    };
    let short = token(&json!({"exp": NOW + 60}));
    fixture.store(&short, &strict(NOW), 1);
    assert!(fixture.get_under(&short, &strict(NOW + 59), 1).is_some());
    assert!(fixture.get_under(&short, &strict(NOW + 60), 1).is_none());
}

#[test]
fn a_hit_checks_nbf_and_iat_again_when_the_clock_goes_back() {
    let fixture = Fixture::new();
    let strict = |now| AccessTokenValidation {
        leeway_secs: 0,
        ..rules(now)
    };
    let caller = token(&json!({"nbf": NOW}));
    fixture.store(&caller, &strict(NOW), 1);
    assert!(fixture.get_under(&caller, &strict(NOW), 1).is_some());
    assert!(fixture.get_under(&caller, &strict(NOW - 1), 1).is_none());
    assert_eq!(fixture.table.len(), 0);
}

#[test]
fn a_hit_checks_the_required_permissions_again() {
    let fixture = Fixture::new();
    let caller = token(&json!({}));
    fixture.store(&caller, &rules(NOW), 1);
    let refused = fixture
        .table
        .get(
            &TokenDigest::of(&caller),
            &fixture.grounds(&rules(NOW), 1),
            &role("Reports.Read"),
        )
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.required, ["Reports.Read"]);
    // The entry stays: another route's requirement may pass.
    assert!(fixture.get(&caller, NOW).unwrap().is_ok());
}

#[test]
fn an_entry_answers_for_five_minutes_after_its_validation() {
    let fixture = Fixture::new();
    let caller = token(&json!({}));
    fixture.store(&caller, &rules(NOW), 1);
    assert!(fixture
        .get(&caller, NOW + VALIDATED_TOKEN_MAX_AGE_SECS - 1)
        .is_some());
    assert!(fixture
        .get(&caller, NOW + VALIDATED_TOKEN_MAX_AGE_SECS)
        .is_none());
    assert_eq!(fixture.table.len(), 0);
    // Validated again, it answers for another five minutes.
    let later = NOW + VALIDATED_TOKEN_MAX_AGE_SECS;
    fixture.store(&caller, &rules(later), 1);
    assert!(fixture
        .get(&caller, later + VALIDATED_TOKEN_MAX_AGE_SECS - 1)
        .is_some());
}

#[test]
fn another_key_set_misses_and_empties_the_table_at_the_next_store() {
    let fixture = Fixture::new();
    let caller = token(&json!({}));
    let other = token(&json!({"sub": "other", "azp": "other"}));
    fixture.store(&caller, &rules(NOW), 1);
    assert!(fixture.get_under(&caller, &rules(NOW), 2).is_none());
    fixture.store(&other, &rules(NOW), 2);
    assert_eq!(fixture.table.len(), 1, "the first key set's entry is gone");
    assert!(fixture.get_under(&caller, &rules(NOW), 2).is_none());
    assert!(fixture.get_under(&other, &rules(NOW), 2).is_some());
    assert!(
        fixture.get_under(&other, &rules(NOW), 1).is_none(),
        "never back"
    );
}

#[test]
fn other_rules_or_another_jwks_uri_miss() {
    let fixture = Fixture::new();
    let caller = token(&json!({"aud": ["api://daemon", "api://other"]}));
    fixture.store(&caller, &rules(NOW), 1);
    let other_audience = AccessTokenValidation {
        audiences: vec!["api://other".into()],
        ..rules(NOW)
    };
    let other_issuer = AccessTokenValidation {
        issuers: vec![IssuerRule::Exact("https://other.example.com".into())],
        ..rules(NOW)
    };
    let more_leeway = AccessTokenValidation {
        leeway_secs: 60,
        ..rules(NOW)
    };
    for other in [other_audience, other_issuer, more_leeway] {
        assert!(fixture.get_under(&caller, &other, 1).is_none(), "{other:?}");
    }
    let elsewhere = Url::parse("https://id.example.com/other-jwks").unwrap();
    let grounds = Grounds {
        rules: &rules(NOW),
        jwks_uri: &elsewhere,
        key_set: KeySetGeneration::numbered(1),
    };
    assert!(fixture
        .table
        .get(&TokenDigest::of(&caller), &grounds, &role("Daemon.Call"))
        .is_none());
    assert!(fixture.get(&caller, NOW).is_some(), "still held");
}

#[test]
fn a_full_table_drops_what_cannot_answer_first_then_the_oldest() {
    let fixture = Fixture::with(ValidatedTokens::with_capacity(10));
    let callers: Vec<AccessToken> = (0..12)
        .map(|n| token(&json!({"sub": format!("caller-{n}")})))
        .collect();
    // The first one expires 60 s from now (leeway 0): it is what goes first.
    let strict = |now| AccessTokenValidation {
        leeway_secs: 0,
        ..rules(now)
    };
    let short = token(&json!({"sub": "short", "exp": NOW + 60}));
    fixture.store(&short, &strict(NOW), 1);
    for caller in &callers[..9] {
        fixture.store(caller, &strict(NOW), 1);
    }
    assert_eq!(fixture.table.len(), 10);
    // A minute later the table is full: the expired entry makes room, no other goes.
    fixture.store(&callers[9], &strict(NOW + 60), 1);
    assert_eq!(fixture.table.len(), 10);
    for caller in &callers[..10] {
        assert!(fixture.get_under(caller, &strict(NOW + 60), 1).is_some());
    }
    // Full of current entries: the oldest tenth goes.
    fixture.store(&callers[10], &strict(NOW + 60), 1);
    assert_eq!(fixture.table.len(), 10);
    assert!(fixture
        .get_under(&callers[0], &strict(NOW + 60), 1)
        .is_none());
    for caller in &callers[1..11] {
        assert!(fixture.get_under(caller, &strict(NOW + 60), 1).is_some());
    }
    // Storing a held token again does not count twice.
    fixture.store(&callers[10], &strict(NOW + 60), 1);
    assert_eq!(fixture.table.len(), 10);

    let off = Fixture::with(ValidatedTokens::with_capacity(0));
    off.store(&callers[11], &rules(NOW), 1);
    assert_eq!(off.table.len(), 0);
    assert!(off.get(&callers[11], NOW).is_none());
}

#[test]
fn the_table_holds_no_token_text() {
    let fixture = Fixture::new();
    let caller = token(&json!({}));
    fixture.store(&caller, &rules(NOW), 1);
    let table = fixture.table.table.borrow();
    let entry = table.iter().next().unwrap();
    assert_eq!(
        entry.digest.0,
        <[u8; 32]>::from(Sha256::digest(caller.expose_secret()))
    );
    assert!(!format!("{:?}", entry.claims).contains(caller.expose_secret()));
}
