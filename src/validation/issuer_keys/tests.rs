#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::platform::NoStore;
use crate::testing::{ReplayPlatform, NOW};
use crate::validation::jwks::{JWKS_MAX_AGE_SECS, JWKS_REFETCH_COOLDOWN_SECS};
use crate::validation::verifier::tests::{public_jwk_json, KEY_PEM};
use alloc::string::{String, ToString};
use futures::executor::block_on;
use serde_json::json;

const JWKS_URI: &str = "https://id.example.com/jwks";

fn good_set() -> String {
    json!({ "keys": [public_jwk_json(KEY_PEM, "k1")] }).to_string()
}

/// Validates "a token" with whatever keys `keys` holds: Ok(whether the set can verify).
fn usable(keys: &IssuerKeys, replay: &ReplayPlatform) -> Result<bool, Error> {
    let uri = Url::parse(JWKS_URI).unwrap();
    let platform = replay.platform(&NoStore);
    block_on(keys.validate_with(
        &uri,
        &platform,
        |set| async move { Ok(set.has_usable_key()) },
    ))
}

#[test]
fn an_empty_refetch_keeps_the_last_good_key_set() {
    let replay = ReplayPlatform::new(&[(200, &good_set())]);
    let keys = IssuerKeys::default();
    assert_eq!(usable(&keys, &replay), Ok(true));
    assert_eq!(replay.requests.borrow().len(), 1);

    // A day later the set is stale; the issuer answers an empty set once.
    replay.now.set(NOW + JWKS_MAX_AGE_SECS);
    replay.push(200, r#"{"keys":[]}"#);
    assert_eq!(
        usable(&keys, &replay),
        Ok(true),
        "the last good set is kept"
    );
    assert_eq!(replay.requests.borrow().len(), 2);

    // Not asked again within the cooldown; asked again after it, and a good answer replaces.
    replay
        .now
        .set(NOW + JWKS_MAX_AGE_SECS + JWKS_REFETCH_COOLDOWN_SECS - 1);
    assert_eq!(usable(&keys, &replay), Ok(true));
    assert_eq!(
        replay.requests.borrow().len(),
        2,
        "no fetch within the cooldown"
    );
    replay
        .now
        .set(NOW + JWKS_MAX_AGE_SECS + JWKS_REFETCH_COOLDOWN_SECS);
    replay.push(200, &good_set());
    assert_eq!(usable(&keys, &replay), Ok(true));
    assert_eq!(replay.requests.borrow().len(), 3);
}

#[test]
fn a_set_of_unusable_keys_never_replaces_a_usable_one() {
    let replay = ReplayPlatform::new(&[(200, &good_set())]);
    let keys = IssuerKeys::default();
    assert_eq!(usable(&keys, &replay), Ok(true));
    replay.now.set(NOW + JWKS_MAX_AGE_SECS);
    // Only an encryption key, and a signature key without its modulus.
    replay.push(
        200,
        &json!({"keys": [
            {"kty": "RSA", "use": "enc", "kid": "e", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "use": "sig", "kid": "s", "e": "AQAB"},
        ]})
        .to_string(),
    );
    assert_eq!(usable(&keys, &replay), Ok(true));
}

#[test]
fn a_first_set_without_usable_keys_is_what_there_is() {
    // Nothing better is known: the set is used (and tokens fail with a typed error later).
    let replay = ReplayPlatform::new(&[(200, r#"{"keys":[]}"#)]);
    let keys = IssuerKeys::default();
    assert_eq!(usable(&keys, &replay), Ok(false));
}
