#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::acquisition::cache::expiring::{ExpiringStore, MemoryKv};
use futures::executor::block_on;

struct Fixed(u64);

impl crate::platform::Clock for Fixed {
    fn now_unix_secs(&self) -> u64 {
        self.0
    }
}

fn store() -> WriteBehind<ExpiringStore<MemoryKv, Fixed>> {
    WriteBehind::new(ExpiringStore::new(MemoryKv::default(), Fixed(1_000)))
}

#[test]
fn writes_wait_for_flush_and_land_in_order() {
    let store = store();
    block_on(store.put("k", b"one".to_vec(), 600)).unwrap();
    block_on(store.put("k", b"two".to_vec(), 600)).unwrap();
    assert_eq!(store.pending(), 2);
    assert_eq!(
        block_on(store.get("k")).unwrap(),
        None,
        "nothing written before flush"
    );
    block_on(store.flush());
    assert_eq!(store.pending(), 0);
    assert_eq!(block_on(store.get("k")).unwrap(), Some(b"two".to_vec()));
}

#[test]
fn a_delete_drops_the_pending_write_of_its_key() {
    let store = store();
    block_on(store.put("k", b"stale".to_vec(), 600)).unwrap();
    block_on(store.put("other", b"kept".to_vec(), 600)).unwrap();
    block_on(store.delete("k")).unwrap();
    block_on(store.flush());
    assert_eq!(block_on(store.get("k")).unwrap(), None);
    assert_eq!(
        block_on(store.get("other")).unwrap(),
        Some(b"kept".to_vec())
    );
}
