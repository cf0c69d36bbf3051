//! The shared store tier: entries sealed and bound to their key, anything else a miss that is
//! overwritten, and no store traffic at all without a cache key (issue: the KV token cache was
//! plain JSON, and a planted or moved entry was served).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use alloc::string::String;
use alloc::vec::Vec;

use futures::executor::block_on;

use crate::acquisition::cache::CacheKey;
use crate::acquisition::client::tests::{client, scopes, ENTRA, SUCCESS};
use crate::acquisition::client::{ConfidentialClient, TokenSource};
use crate::credentials::credential::{ClientCredential, SecretMethod};
use crate::protocol::authority::Authority;
use crate::protocol::scope::Scopes;
use crate::seal::RootKeys;
use crate::secret::ClientSecret;
use crate::testing::{MapStore, ReplayPlatform, NOW, TOKEN_CACHE_KEY};

const OTHER_KEY: &str = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8";

fn storage_key(scopes: &Scopes) -> String {
    let authority = Authority::parse(ENTRA, None).unwrap();
    CacheKey::app_token(&authority, "client-1", scopes)
        .storage_key()
        .to_string()
}

fn stored(store: &MapStore, key: &str) -> Option<Vec<u8>> {
    store.0.borrow().get(key).map(|(value, _)| value.clone())
}

fn plain_client() -> ConfidentialClient {
    let credential = ClientCredential::Secret {
        secret: ClientSecret::new("secret"),
        method: SecretMethod::Post,
    };
    ConfidentialClient::new(
        Authority::parse(ENTRA, None).unwrap(),
        "client-1",
        credential,
    )
    .unwrap()
}

fn keyed_client(keys: &str) -> ConfidentialClient {
    plain_client().with_token_cache_key(&RootKeys::parse("TOKEN_CACHE_KEY", keys).unwrap())
}

/// The stored entry of `scopes()`, the token it seals, and the store.
fn cached_once(env: &ReplayPlatform) -> (MapStore, String) {
    let store = MapStore::default();
    let token =
        block_on(client(ENTRA).acquire_token_for_client(&scopes(), &env.platform(&store))).unwrap();
    (store, String::from(token.access_token.expose_secret()))
}

#[test]
fn the_store_holds_a_sealed_entry_that_another_isolate_opens() {
    let env = ReplayPlatform::new(&[(200, SUCCESS)]);
    let (store, token) = cached_once(&env);
    let value = stored(&store, &storage_key(&scopes())).expect("stored");
    let text = String::from_utf8(value).unwrap();
    for secret in [token.as_str(), &token[..40], "access_token", "expires_on"] {
        assert!(!text.contains(secret), "the stored value shows {secret:?}");
    }
    let other =
        block_on(client(ENTRA).acquire_token_for_client(&scopes(), &env.platform(&store))).unwrap();
    assert_eq!(other.source, TokenSource::Store);
    assert_eq!(other.access_token.expose_secret(), token);
    assert_eq!(env.requests.borrow().len(), 1);
}

#[test]
fn a_planted_plain_entry_is_a_miss_and_is_overwritten() {
    let env = ReplayPlatform::new(&[(200, SUCCESS)]);
    let store = MapStore::default();
    let key = storage_key(&scopes());
    let planted = alloc::format!(
        r#"{{"access_token":"planted-by-an-attacker","expires_on":{}}}"#,
        NOW + 3600
    );
    store
        .0
        .borrow_mut()
        .insert(key.clone(), (planted.clone().into_bytes(), 3600));
    let token =
        block_on(client(ENTRA).acquire_token_for_client(&scopes(), &env.platform(&store))).unwrap();
    assert_eq!(token.source, TokenSource::Provider);
    assert_ne!(token.access_token.expose_secret(), "planted-by-an-attacker");
    assert_ne!(
        stored(&store, &key),
        Some(planted.into_bytes()),
        "overwritten"
    );
    let other =
        block_on(client(ENTRA).acquire_token_for_client(&scopes(), &env.platform(&store))).unwrap();
    assert_eq!(other.source, TokenSource::Store, "the new entry opens");
}

#[test]
fn an_entry_moved_under_another_key_is_a_miss() {
    let env = ReplayPlatform::new(&[(200, SUCCESS), (200, SUCCESS)]);
    let (store, _) = cached_once(&env);
    let other_scopes = Scopes::parse("api://payroll/.default").unwrap();
    let moved = stored(&store, &storage_key(&scopes())).unwrap();
    store
        .0
        .borrow_mut()
        .insert(storage_key(&other_scopes), (moved, 3600));
    let token =
        block_on(client(ENTRA).acquire_token_for_client(&other_scopes, &env.platform(&store)))
            .unwrap();
    assert_eq!(token.source, TokenSource::Provider);
    assert_eq!(env.requests.borrow().len(), 2);
}

#[test]
fn another_key_cannot_open_an_entry_and_a_rotation_keeps_it() {
    let env = ReplayPlatform::new(&[(200, SUCCESS), (200, SUCCESS)]);
    let (store, _) = cached_once(&env);
    // The old key still listed after the new one: the entry opens.
    let rotated = alloc::format!("{OTHER_KEY},{TOKEN_CACHE_KEY}");
    let token =
        block_on(keyed_client(&rotated).acquire_token_for_client(&scopes(), &env.platform(&store)))
            .unwrap();
    assert_eq!(token.source, TokenSource::Store);
    // The old key retired: a miss, then an entry under the new key.
    let token = block_on(
        keyed_client(OTHER_KEY).acquire_token_for_client(&scopes(), &env.platform(&store)),
    )
    .unwrap();
    assert_eq!(token.source, TokenSource::Provider);
    assert_eq!(env.requests.borrow().len(), 2);
}

#[test]
fn without_a_cache_key_the_store_is_neither_read_nor_written() {
    let env = ReplayPlatform::new(&[(200, SUCCESS), (200, SUCCESS)]);
    let (store, _) = cached_once(&env);
    let before = store.0.borrow().clone();
    let token = block_on(plain_client().acquire_token_for_client(&scopes(), &env.platform(&store)))
        .unwrap();
    assert_eq!(
        token.source,
        TokenSource::Provider,
        "the stored entry is not read"
    );
    assert_eq!(*store.0.borrow(), before, "nor anything written");
}
