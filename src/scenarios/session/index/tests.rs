//! The session index: add, remove, bounded records, sealed and bound to their key, per issuer,
//! `sid` / `sub` and client.

use super::*;
use crate::seal::{Purpose, RootKeys};
use crate::testing::{CountingEntropy, MapStore, NOW};
use alloc::string::ToString;
use futures::executor::block_on;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const ISS: &str = "https://id.example.com";
const SID: IndexKey<'static> = IndexKey::Sid {
    iss: ISS,
    sid: "sid-1",
};

fn sealer() -> Sealer {
    RootKeys::parse("COOKIE_KEY", KEY)
        .unwrap()
        .sealer(Purpose::SessionIndex)
}

fn authority() -> Authority {
    Authority::parse(ISS, None).unwrap()
}

fn id(entropy: &CountingEntropy) -> SessionId {
    SessionId::generate(entropy).unwrap()
}

fn index_of<'a>(
    store: &'a MapStore,
    sealer: &'a Sealer,
    authority: &'a Authority,
) -> SessionIndex<'a> {
    SessionIndex {
        store,
        sealer,
        authority,
        client_id: "webapp",
    }
}

#[test]
fn added_sessions_are_listed_and_removed_ones_are_not() {
    let (store, sealer, authority, entropy) = (
        MapStore::default(),
        sealer(),
        authority(),
        CountingEntropy::default(),
    );
    let index = index_of(&store, &sealer, &authority);
    let (a, b) = (id(&entropy), id(&entropy));
    block_on(index.add(SID, &a, NOW + 3600, NOW, &entropy)).unwrap();
    block_on(index.add(SID, &b, NOW + 7200, NOW, &entropy)).unwrap();
    // Adding again does not duplicate.
    block_on(index.add(SID, &a, NOW + 3600, NOW, &entropy)).unwrap();
    assert_eq!(
        block_on(index.sessions(SID, NOW)).unwrap(),
        [b.clone(), a.clone()]
    );
    // The record lives as long as its longest-lived session, sealed: no session id in clear.
    let stored = store.0.borrow();
    let (value, ttl) = stored.values().next().unwrap();
    assert_eq!(*ttl, 7200);
    let text = core::str::from_utf8(value).unwrap();
    assert!(!text.contains(a.expose_secret()) && !text.contains("sid-1"));
    drop(stored);

    block_on(index.remove(SID, &b, NOW, &entropy)).unwrap();
    assert_eq!(
        block_on(index.sessions(SID, NOW)).unwrap(),
        core::slice::from_ref(&a)
    );
    block_on(index.remove(SID, &a, NOW, &entropy)).unwrap();
    assert!(block_on(index.sessions(SID, NOW)).unwrap().is_empty());
    assert!(store.0.borrow().is_empty(), "an empty record is deleted");
}

#[test]
fn ended_sessions_are_not_listed_and_are_dropped_on_the_next_write() {
    let (store, sealer, authority, entropy) = (
        MapStore::default(),
        sealer(),
        authority(),
        CountingEntropy::default(),
    );
    let index = index_of(&store, &sealer, &authority);
    let (short, long) = (id(&entropy), id(&entropy));
    block_on(index.add(SID, &short, NOW + 100, NOW, &entropy)).unwrap();
    block_on(index.add(SID, &long, NOW + 9000, NOW, &entropy)).unwrap();
    assert_eq!(
        block_on(index.sessions(SID, NOW + 100)).unwrap(),
        core::slice::from_ref(&long)
    );
    let newer = id(&entropy);
    block_on(index.add(SID, &newer, NOW + 9100, NOW + 100, &entropy)).unwrap();
    assert_eq!(
        block_on(index.sessions(SID, NOW + 100)).unwrap(),
        [long, newer]
    );
}

#[test]
fn a_record_keeps_at_most_the_newest_sessions() {
    let (store, sealer, authority, entropy) = (
        MapStore::default(),
        sealer(),
        authority(),
        CountingEntropy::default(),
    );
    let index = index_of(&store, &sealer, &authority);
    let ids: Vec<SessionId> = (0..MAX_INDEX_ENTRIES + 3).map(|_| id(&entropy)).collect();
    for (n, each) in ids.iter().enumerate() {
        // Each later sign-in ends later.
        block_on(index.add(SID, each, NOW + 1000 + n as u64, NOW, &entropy)).unwrap();
    }
    let kept = block_on(index.sessions(SID, NOW)).unwrap();
    assert_eq!(kept.len(), MAX_INDEX_ENTRIES);
    assert!(ids[3..].iter().all(|each| kept.contains(each)));
    assert!(ids[..3].iter().all(|each| !kept.contains(each)));
}

#[test]
fn records_are_per_issuer_kind_value_and_client() {
    let (store, sealer, authority, entropy) = (
        MapStore::default(),
        sealer(),
        authority(),
        CountingEntropy::default(),
    );
    let index = index_of(&store, &sealer, &authority);
    let a = id(&entropy);
    block_on(index.add(SID, &a, NOW + 3600, NOW, &entropy)).unwrap();
    let others = [
        IndexKey::Sid {
            iss: ISS,
            sid: "sid-2",
        },
        IndexKey::Sid {
            iss: "https://other.example.com",
            sid: "sid-1",
        },
        IndexKey::Sub {
            iss: ISS,
            sub: "sid-1",
        },
    ];
    for other in others {
        assert!(
            block_on(index.sessions(other, NOW)).unwrap().is_empty(),
            "{other:?}"
        );
    }
    let other_client = SessionIndex {
        client_id: "other-app",
        ..index_of(&store, &sealer, &authority)
    };
    assert!(block_on(other_client.sessions(SID, NOW))
        .unwrap()
        .is_empty());
    block_on(index.forget(SID)).unwrap();
    assert!(block_on(index.sessions(SID, NOW)).unwrap().is_empty());
}

#[test]
fn a_record_moved_tampered_or_sealed_for_another_purpose_reads_as_empty() {
    let (store, sealer, authority, entropy) = (
        MapStore::default(),
        sealer(),
        authority(),
        CountingEntropy::default(),
    );
    let index = index_of(&store, &sealer, &authority);
    let a = id(&entropy);
    block_on(index.add(SID, &a, NOW + 3600, NOW, &entropy)).unwrap();
    let key = SID.storage_key(&authority, "webapp");
    let sealed = store.0.borrow().get(&key).unwrap().0.clone();
    // Moved under another sid's key.
    let other = IndexKey::Sid {
        iss: ISS,
        sid: "sid-2",
    };
    let other_key = other.storage_key(&authority, "webapp");
    store.0.borrow_mut().insert(other_key, (sealed, 3600));
    assert!(block_on(index.sessions(other, NOW)).unwrap().is_empty());
    // A session record's sealer cannot write index records.
    let session_sealer = RootKeys::parse("COOKIE_KEY", KEY)
        .unwrap()
        .sealer(Purpose::Session);
    let forged = session_sealer
        .seal(
            &serde_json::json!({"entries": [{"session": a.expose_secret(), "expires_at": NOW + 10}]}),
            NOW + 10,
            key.as_bytes(),
            &entropy,
        )
        .unwrap();
    store
        .0
        .borrow_mut()
        .insert(key.clone(), (forged.into_bytes(), 10));
    assert!(block_on(index.sessions(SID, NOW)).unwrap().is_empty());
    assert!(key.starts_with("edge-token/v1/session-index/"));
    assert!(!key.contains("sid-1") && !key.contains(&ISS.to_string()));
}
