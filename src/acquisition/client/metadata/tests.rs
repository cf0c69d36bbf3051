//! The discovery document through the shared store (`crate::acquisition::documents`): a new
//! client (isolate) on the same store fetches nothing; stale, planted or moved copies are
//! misses, fetched and overwritten; without a cache key the store is untouched.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::acquisition::client::tests::client;
use crate::credentials::credential::{ClientCredential, SecretMethod};
use crate::seal::Purpose;
use crate::secret::ClientSecret;
use crate::testing::{token_cache_keys, MapStore, ReplayPlatform, NOW};
use futures::executor::block_on;

const ISSUER: &str = "https://id.example.com";
const DISCOVERY: &str = r#"{"issuer":"https://id.example.com","authorization_endpoint":"https://id.example.com/authorize","token_endpoint":"https://id.example.com/token","jwks_uri":"https://id.example.com/jwks"}"#;

fn storage_key() -> String {
    document_storage_key(
        &Url::parse("https://id.example.com/.well-known/openid-configuration").unwrap(),
    )
}

fn metadata(
    client: &ConfidentialClient,
    store: &MapStore,
    replay: &ReplayPlatform,
) -> ProviderMetadata {
    block_on(client.metadata(&replay.platform(store))).expect("metadata")
}

fn stored(store: &MapStore, now: u64) -> StoredDiscovery {
    let (value, _) = store
        .0
        .borrow()
        .get(&storage_key())
        .cloned()
        .expect("stored");
    token_cache_keys()
        .sealer(Purpose::ProviderDocument)
        .open(
            core::str::from_utf8(&value).unwrap(),
            storage_key().as_bytes(),
            now,
            usize::MAX,
        )
        .expect("sealed for its key")
}

#[test]
fn a_new_client_on_the_same_store_does_not_fetch_discovery() {
    let store = MapStore::default();
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
    let first = metadata(&client(ISSUER), &store, &replay);
    assert_eq!(replay.requests.borrow().len(), 1);
    let (value, ttl) = store.0.borrow().get(&storage_key()).cloned().unwrap();
    assert_eq!(ttl, DISCOVERY_MAX_AGE_SECS);
    let text = String::from_utf8(value).unwrap();
    assert!(!text.contains("token_endpoint"), "sealed: {text}");
    assert_eq!(stored(&store, NOW).fetched_at, NOW);

    replay.now.set(NOW + DISCOVERY_MAX_AGE_SECS - 1);
    let second = metadata(&client(ISSUER), &store, &replay);
    assert_eq!(second, first);
    assert_eq!(replay.requests.borrow().len(), 1, "served from the store");
}

#[test]
fn a_stale_stored_document_is_fetched_again_and_overwritten() {
    let store = MapStore::default();
    let replay = ReplayPlatform::new(&[(200, DISCOVERY), (200, DISCOVERY)]);
    metadata(&client(ISSUER), &store, &replay);
    let later = NOW + DISCOVERY_MAX_AGE_SECS;
    replay.now.set(later);
    metadata(&client(ISSUER), &store, &replay);
    assert_eq!(replay.requests.borrow().len(), 2, "stale: fetched again");
    assert_eq!(stored(&store, later).fetched_at, later);
}

#[test]
fn a_planted_or_moved_document_is_a_miss_and_is_overwritten() {
    // An attacker's document sending token requests elsewhere.
    let evil = StoredDiscovery {
        fetched_at: NOW,
        document: DISCOVERY.replace("https://id.example.com/token", "https://evil.example/token"),
    };
    let entropy = ReplayPlatform::new(&[]);
    let plain = serde_json::to_vec(&evil).unwrap();
    let other_key = crate::seal::RootKeys::parse(
        "TOKEN_CACHE_KEY",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
    )
    .unwrap()
    .sealer(Purpose::ProviderDocument)
    .seal(&evil, NOW + 3600, storage_key().as_bytes(), &entropy)
    .unwrap()
    .into_bytes();
    let moved = token_cache_keys()
        .sealer(Purpose::ProviderDocument)
        .seal(&evil, NOW + 3600, b"edge-token/v1/doc/elsewhere", &entropy)
        .unwrap()
        .into_bytes();
    let token_purpose = token_cache_keys()
        .sealer(Purpose::TokenCache)
        .seal(&evil, NOW + 3600, storage_key().as_bytes(), &entropy)
        .unwrap()
        .into_bytes();
    for planted in [plain, other_key, moved, token_purpose] {
        let store = MapStore::default();
        store
            .0
            .borrow_mut()
            .insert(storage_key(), (planted.clone(), 3600));
        let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
        let found = metadata(&client(ISSUER), &store, &replay);
        assert_eq!(
            found.token_endpoint.as_str(),
            "https://id.example.com/token"
        );
        assert_eq!(replay.requests.borrow().len(), 1, "a miss: fetched");
        assert_ne!(store.0.borrow().get(&storage_key()).unwrap().0, planted);
        assert_eq!(stored(&store, NOW).fetched_at, NOW, "overwritten");
    }
}

#[test]
fn a_stored_document_is_validated_again() {
    // Sealed with the right key (say, written by a client of another issuer under a colliding
    // key): its issuer is not this client's, so it is a miss.
    let store = MapStore::default();
    let other = StoredDiscovery {
        fetched_at: NOW,
        document: DISCOVERY.replace(
            r#""issuer":"https://id.example.com""#,
            r#""issuer":"https://other.example""#,
        ),
    };
    let sealed = token_cache_keys()
        .sealer(Purpose::ProviderDocument)
        .seal(
            &other,
            NOW + 3600,
            storage_key().as_bytes(),
            &ReplayPlatform::new(&[]),
        )
        .unwrap()
        .into_bytes();
    store.0.borrow_mut().insert(storage_key(), (sealed, 3600));
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
    assert_eq!(metadata(&client(ISSUER), &store, &replay).issuer, ISSUER);
    assert_eq!(replay.requests.borrow().len(), 1);
}

#[test]
fn without_a_cache_key_the_store_is_neither_read_nor_written() {
    let store = MapStore::default();
    let replay = ReplayPlatform::new(&[(200, DISCOVERY), (200, DISCOVERY)]);
    metadata(&client(ISSUER), &store, &replay);
    let before = store.0.borrow().clone();
    let plain = || {
        ConfidentialClient::new(
            Authority::parse(ISSUER, None).unwrap(),
            "client-1",
            ClientCredential::Secret {
                secret: ClientSecret::new("secret"),
                method: SecretMethod::Post,
            },
        )
        .unwrap()
    };
    metadata(&plain(), &store, &replay);
    assert_eq!(replay.requests.borrow().len(), 2, "not read: fetched");
    assert_eq!(*store.0.borrow(), before, "not written");
    let empty = MapStore::default();
    replay.push(200, DISCOVERY);
    metadata(&plain(), &empty, &replay);
    assert!(empty.0.borrow().is_empty());
}
