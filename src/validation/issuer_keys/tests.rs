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
    block_on(keys.validate_with(&uri, None, &platform, |set| async move {
        Ok(set.has_usable_key())
    }))
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

// The shared store tier (`crate::acquisition::documents`).

use crate::acquisition::documents::document_storage_key;
use crate::seal::Purpose;
use crate::testing::{token_cache_keys, MapStore};
use crate::validation::jwks::JWKS_STORED_LIFETIME_SECS;

fn document_sealer() -> Sealer {
    token_cache_keys().sealer(Purpose::ProviderDocument)
}

fn storage_key() -> String {
    document_storage_key(&Url::parse(JWKS_URI).unwrap())
}

/// As [`usable`], through `store` with `sealer`.
fn usable_shared(
    keys: &IssuerKeys,
    sealer: Option<&Sealer>,
    store: &MapStore,
    replay: &ReplayPlatform,
) -> Result<bool, Error> {
    let uri = Url::parse(JWKS_URI).unwrap();
    let platform = replay.platform(store);
    block_on(
        keys.validate_with(&uri, sealer, &platform, |set| async move {
            Ok(set.has_usable_key())
        }),
    )
}

/// The stored set, opened (panics when absent or not sealed for this key).
fn stored_set(store: &MapStore, now: u64) -> JwksCache {
    let (value, _) = store
        .0
        .borrow()
        .get(&storage_key())
        .cloned()
        .expect("a stored set");
    document_sealer()
        .open(
            core::str::from_utf8(&value).unwrap(),
            storage_key().as_bytes(),
            now,
            usize::MAX,
        )
        .expect("sealed for its key")
}

#[test]
fn a_new_isolate_takes_the_key_set_from_the_store() {
    let sealer = document_sealer();
    let store = MapStore::default();
    let replay = ReplayPlatform::new(&[(200, &good_set())]);
    assert_eq!(
        usable_shared(&IssuerKeys::default(), Some(&sealer), &store, &replay),
        Ok(true)
    );
    assert_eq!(replay.requests.borrow().len(), 1);
    let (value, ttl) = store.0.borrow().get(&storage_key()).cloned().unwrap();
    assert_eq!(ttl, JWKS_STORED_LIFETIME_SECS);
    let text = String::from_utf8(value).unwrap();
    assert!(
        !text.contains("kty") && !text.contains("k1"),
        "sealed: {text}"
    );
    assert_eq!(stored_set(&store, NOW).fetched_at(), NOW);

    // A new isolate an hour later: no request.
    replay.now.set(NOW + 3600);
    assert_eq!(
        usable_shared(&IssuerKeys::default(), Some(&sealer), &store, &replay),
        Ok(true)
    );
    assert_eq!(replay.requests.borrow().len(), 1, "served from the store");
}

#[test]
fn a_stale_stored_set_is_fetched_again_and_overwritten() {
    let sealer = document_sealer();
    let store = MapStore::default();
    let replay = ReplayPlatform::new(&[(200, &good_set())]);
    assert_eq!(
        usable_shared(&IssuerKeys::default(), Some(&sealer), &store, &replay),
        Ok(true)
    );
    let later = NOW + JWKS_MAX_AGE_SECS;
    replay.now.set(later);
    replay.push(200, &good_set());
    assert_eq!(
        usable_shared(&IssuerKeys::default(), Some(&sealer), &store, &replay),
        Ok(true)
    );
    assert_eq!(replay.requests.borrow().len(), 2, "stale: fetched again");
    assert_eq!(stored_set(&store, later).fetched_at(), later);
}

#[test]
fn a_memory_copy_gone_stale_adopts_a_fresher_stored_set() {
    let sealer = document_sealer();
    let store = MapStore::default();
    let replay = ReplayPlatform::new(&[(200, &good_set()), (200, &good_set())]);
    let first = IssuerKeys::default();
    assert_eq!(
        usable_shared(&first, Some(&sealer), &store, &replay),
        Ok(true)
    );
    // Another isolate fetches a day later...
    replay.now.set(NOW + JWKS_MAX_AGE_SECS);
    assert_eq!(
        usable_shared(&IssuerKeys::default(), Some(&sealer), &store, &replay),
        Ok(true)
    );
    assert_eq!(replay.requests.borrow().len(), 2);
    // ...so the first one, whose copy is stale now, takes the stored one.
    assert_eq!(
        usable_shared(&first, Some(&sealer), &store, &replay),
        Ok(true)
    );
    assert_eq!(replay.requests.borrow().len(), 2);
}

#[test]
fn a_planted_or_moved_set_is_a_miss_and_is_overwritten() {
    let sealer = document_sealer();
    // Planted: the attacker's own key set, plain JSON, and one sealed with another key.
    let attacker_keys = crate::seal::RootKeys::parse(
        "TOKEN_CACHE_KEY",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
    )
    .unwrap()
    .sealer(Purpose::ProviderDocument);
    let planted_set = JwksCache::new(
        JwkSet::parse(&crate::platform::http::HttpResponse {
            status: 200,
            headers: alloc::vec::Vec::new(),
            body: good_set().into_bytes(),
        })
        .unwrap(),
        NOW,
    );
    let plain = serde_json::to_vec(&planted_set).unwrap();
    let forged = attacker_keys
        .seal(
            &planted_set,
            NOW + 3600,
            storage_key().as_bytes(),
            &replay_entropy(),
        )
        .unwrap()
        .into_bytes();
    // Moved: sealed by edge-token, but for another document's key.
    let moved = sealer
        .seal(
            &planted_set,
            NOW + 3600,
            b"edge-token/v1/doc/other",
            &replay_entropy(),
        )
        .unwrap()
        .into_bytes();
    // A token cache entry's sealer (another purpose) under this very key.
    let other_purpose = token_cache_keys()
        .sealer(Purpose::TokenCache)
        .seal(
            &planted_set,
            NOW + 3600,
            storage_key().as_bytes(),
            &replay_entropy(),
        )
        .unwrap()
        .into_bytes();
    for planted in [plain, forged, moved, other_purpose] {
        let store = MapStore::default();
        store
            .0
            .borrow_mut()
            .insert(storage_key(), (planted.clone(), 3600));
        let replay = ReplayPlatform::new(&[(200, &good_set())]);
        assert_eq!(
            usable_shared(&IssuerKeys::default(), Some(&sealer), &store, &replay),
            Ok(true)
        );
        assert_eq!(replay.requests.borrow().len(), 1, "a miss: fetched");
        let now_stored = store.0.borrow().get(&storage_key()).cloned().unwrap().0;
        assert_ne!(now_stored, planted, "overwritten");
        assert_eq!(stored_set(&store, NOW).fetched_at(), NOW);
    }
}

fn replay_entropy() -> ReplayPlatform {
    ReplayPlatform::new(&[])
}

#[test]
fn an_unusable_answer_never_replaces_the_stored_set() {
    let sealer = document_sealer();
    let store = MapStore::default();
    let replay = ReplayPlatform::new(&[(200, &good_set())]);
    assert_eq!(
        usable_shared(&IssuerKeys::default(), Some(&sealer), &store, &replay),
        Ok(true)
    );
    let before = store.0.borrow().get(&storage_key()).cloned().unwrap();
    // A new isolate finds the stored set stale; the issuer answers an empty set: the stale
    // stored set is the last good one, kept, and the store is not touched.
    replay.now.set(NOW + JWKS_MAX_AGE_SECS);
    replay.push(200, r#"{"keys":[]}"#);
    let isolate = IssuerKeys::default();
    assert_eq!(
        usable_shared(&isolate, Some(&sealer), &store, &replay),
        Ok(true)
    );
    assert_eq!(replay.requests.borrow().len(), 2);
    assert_eq!(
        store.0.borrow().get(&storage_key()).cloned().unwrap(),
        before
    );
    // Not asked again within the cooldown.
    assert_eq!(
        usable_shared(&isolate, Some(&sealer), &store, &replay),
        Ok(true)
    );
    assert_eq!(replay.requests.borrow().len(), 2);
}

#[test]
fn a_first_unusable_answer_is_not_stored() {
    let sealer = document_sealer();
    let store = MapStore::default();
    let replay = ReplayPlatform::new(&[(200, r#"{"keys":[]}"#)]);
    assert_eq!(
        usable_shared(&IssuerKeys::default(), Some(&sealer), &store, &replay),
        Ok(false)
    );
    assert!(store.0.borrow().is_empty());
}

#[test]
fn an_unknown_kid_refetch_goes_to_the_issuer_and_overwrites_the_stored_set() {
    let sealer = document_sealer();
    let store = MapStore::default();
    let replay = ReplayPlatform::new(&[(200, &good_set())]);
    assert_eq!(
        usable_shared(&IssuerKeys::default(), Some(&sealer), &store, &replay),
        Ok(true)
    );
    // A new isolate, past the cooldown, meets a token with an unknown kid.
    let later = NOW + JWKS_REFETCH_COOLDOWN_SECS;
    replay.now.set(later);
    replay.push(200, &good_set());
    let uri = Url::parse(JWKS_URI).unwrap();
    let platform = replay.platform(&store);
    let calls = core::cell::Cell::new(0);
    let result =
        block_on(
            IssuerKeys::default().validate_with(&uri, Some(&sealer), &platform, |_set| {
                calls.set(calls.get() + 1);
                let first = calls.get() == 1;
                async move {
                    if first {
                        Err(Error::InvalidToken(TokenError::UnknownKey))
                    } else {
                        Ok(())
                    }
                }
            }),
        );
    assert_eq!(result, Ok(()));
    assert_eq!(calls.get(), 2);
    assert_eq!(
        replay.requests.borrow().len(),
        2,
        "the stored set, then the issuer"
    );
    assert_eq!(stored_set(&store, later).fetched_at(), later);
}

#[test]
fn without_a_sealer_the_store_is_neither_read_nor_written() {
    let sealer = document_sealer();
    let store = MapStore::default();
    // A valid sealed set is there, yet without a sealer it is not read...
    let replay = ReplayPlatform::new(&[(200, &good_set())]);
    assert_eq!(
        usable_shared(&IssuerKeys::default(), Some(&sealer), &store, &replay),
        Ok(true)
    );
    let before = store.0.borrow().clone();
    replay.push(200, &good_set());
    assert_eq!(
        usable_shared(&IssuerKeys::default(), None, &store, &replay),
        Ok(true)
    );
    assert_eq!(
        replay.requests.borrow().len(),
        2,
        "fetched: the store is not read"
    );
    // ...nor written.
    assert_eq!(*store.0.borrow(), before);
    let empty = MapStore::default();
    replay.push(200, &good_set());
    assert_eq!(
        usable_shared(&IssuerKeys::default(), None, &empty, &replay),
        Ok(true)
    );
    assert!(empty.0.borrow().is_empty());
}
