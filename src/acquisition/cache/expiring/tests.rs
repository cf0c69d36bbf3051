use super::*;
use alloc::vec;
use core::cell::Cell;
use futures::executor::block_on;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

struct TestClock(Cell<u64>);
impl Clock for &TestClock {
    fn now_unix_secs(&self) -> u64 {
        self.0.get()
    }
}

/// A host whose every operation fails.
struct BrokenKv;
impl KvHost for BrokenKv {
    fn get<'a>(&'a self, _: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        Box::pin(core::future::ready(Err(Error::Cache("down".into()))))
    }
    fn set<'a>(&'a self, _: &'a str, _: Vec<u8>, _: u64) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(core::future::ready(Err(Error::Cache("down".into()))))
    }
    fn delete<'a>(&'a self, _: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(core::future::ready(Err(Error::Cache("down".into()))))
    }
}

#[test]
fn a_value_is_returned_until_its_expiry_then_missed() {
    let clock = TestClock(Cell::new(1_000));
    let store = ExpiringStore::new(MemoryKv::default(), &clock);
    block_on(store.put("k", b"token".to_vec(), 60)).unwrap();
    assert_eq!(block_on(store.get("k")).unwrap(), Some(b"token".to_vec()));
    clock.0.set(1_059);
    assert_eq!(block_on(store.get("k")).unwrap(), Some(b"token".to_vec()));
    clock.0.set(1_060);
    assert_eq!(block_on(store.get("k")).unwrap(), None);
}

#[test]
fn the_stored_bytes_carry_the_absolute_expiry() {
    let clock = TestClock(Cell::new(1_000));
    let store = ExpiringStore::new(MemoryKv::default(), &clock);
    block_on(store.put("k", b"v".to_vec(), 300)).unwrap();
    let mut expected = vec![1u8];
    expected.extend_from_slice(&1_300u64.to_be_bytes());
    expected.push(b'v');
    assert_eq!(store.host().raw("k"), Some(expected));
}

#[test]
fn foreign_or_truncated_values_are_misses() {
    let clock = TestClock(Cell::new(1_000));
    let store = ExpiringStore::new(MemoryKv::default(), &clock);
    let mut other_version = vec![2u8];
    other_version.extend_from_slice(&u64::MAX.to_be_bytes());
    for raw in [
        vec![],
        vec![1u8, 0, 0],
        other_version,
        b"{\"json\":1}".to_vec(),
    ] {
        block_on(store.host().set("k", raw, 60)).unwrap();
        assert_eq!(block_on(store.get("k")).unwrap(), None);
    }
}

#[test]
fn delete_forgets_and_absent_keys_are_misses() {
    let clock = TestClock(Cell::new(1_000));
    let store = ExpiringStore::new(MemoryKv::default(), &clock);
    assert_eq!(block_on(store.get("absent")).unwrap(), None);
    block_on(store.put("k", b"v".to_vec(), 60)).unwrap();
    block_on(store.delete("k")).unwrap();
    block_on(store.delete("k")).unwrap();
    assert_eq!(block_on(store.get("k")).unwrap(), None);
}

#[test]
fn host_errors_are_cache_errors() {
    let clock = TestClock(Cell::new(1_000));
    let store = ExpiringStore::new(BrokenKv, &clock);
    assert!(matches!(block_on(store.get("k")), Err(Error::Cache(_))));
    assert!(matches!(
        block_on(store.put("k", vec![], 60)),
        Err(Error::Cache(_))
    ));
}

#[test]
fn the_memory_host_is_bounded() {
    let kv = MemoryKv::default();
    for i in 0..=MemoryKv::CAPACITY {
        block_on(kv.set(&alloc::format!("k{i:04}"), vec![], 60)).unwrap();
    }
    assert_eq!(kv.len(), MemoryKv::CAPACITY);
    assert_eq!(kv.raw("k0000"), None, "the smallest key went");
}
