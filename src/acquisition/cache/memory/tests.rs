use alloc::format;
use alloc::string::String;

use super::*;
use crate::secret::AccessToken;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const NOW: u64 = 1_795_000_000;

fn key(name: &str) -> CacheKey {
    CacheKey::from_canonical(String::from(name))
}

fn token(text: &str, expires_on: u64, refresh_on: Option<u64>) -> CachedToken {
    CachedToken {
        access_token: AccessToken::new(text),
        expires_on,
        refresh_on,
        ext_expires_on: None,
    }
}

/// What one entry of `key` and `text` counts against the limit.
fn size_of(key: &CacheKey, text: &str) -> usize {
    key.canonical().len() + key.storage_key().len() + text.len() + ENTRY_OVERHEAD_BYTES
}

#[test]
fn a_hit_shares_the_stored_token_instead_of_copying_it() {
    let memory = MemoryCache::default();
    let stored = token("eyJ.token.sig", NOW + 3600, None);
    let text = stored.access_token.expose_secret().as_ptr();
    memory.put(key("k"), stored, NOW, 0);
    let hit = memory.get(&key("k")).unwrap();
    assert_eq!(hit.token.access_token.expose_secret(), "eyJ.token.sig");
    assert_eq!(
        hit.token.access_token.expose_secret().as_ptr(),
        text,
        "the same bytes, not a copy"
    );
    assert!(memory.get(&key("other")).is_none());
}

#[test]
fn the_refresh_jitter_is_drawn_once_when_the_entry_is_stored() {
    let memory = MemoryCache::default();
    memory.put(key("k"), token("t", NOW + 7200, Some(NOW + 3600)), NOW, 45);
    let hit = memory.get(&key("k")).unwrap();
    assert_eq!(hit.refresh_due_at, Some(NOW + 3600 - 45));
    assert!(!hit.refresh_due(NOW + 3600 - 46));
    assert!(hit.refresh_due(NOW + 3600 - 45));
    // Every later hit answers the same.
    assert_eq!(
        memory.get(&key("k")).unwrap().refresh_due_at,
        Some(NOW + 3555)
    );
    memory.put(key("plain"), token("t", NOW + 3600, None), NOW, 45);
    assert!(!memory.get(&key("plain")).unwrap().refresh_due(NOW + 3000));
}

#[test]
fn sizes_are_counted_and_replacing_or_removing_an_entry_gives_its_bytes_back() {
    let memory = MemoryCache::default();
    memory.put(key("a"), token("12345", NOW + 3600, None), NOW, 0);
    memory.put(key("b"), token("xyz", NOW + 3600, None), NOW, 0);
    assert_eq!(
        memory.bytes(),
        size_of(&key("a"), "12345") + size_of(&key("b"), "xyz")
    );
    memory.put(key("a"), token("1", NOW + 3600, None), NOW, 0);
    assert_eq!(memory.len(), 2);
    assert_eq!(
        memory.bytes(),
        size_of(&key("a"), "1") + size_of(&key("b"), "xyz")
    );
    assert_eq!(
        memory
            .get(&key("a"))
            .unwrap()
            .token
            .access_token
            .expose_secret(),
        "1"
    );
    memory.remove(&key("b"));
    memory.remove(&key("absent"));
    assert_eq!(memory.bytes(), size_of(&key("a"), "1"));
}

#[test]
fn past_the_size_limit_the_least_recently_used_entries_go() {
    let memory = MemoryCache::default();
    let text = "t".repeat(800);
    let one = size_of(&key("k00"), &text);
    memory.set_size_limit(10 * one);
    for i in 0..10 {
        memory.put(
            key(&format!("k{i:02}")),
            token(&text, NOW + 3600, None),
            NOW,
            0,
        );
    }
    assert_eq!(memory.len(), 10);
    // k00 is the oldest insertion, but it is used now: k01 becomes the least recently used.
    assert!(memory.get(&key("k00")).is_some());
    memory.put(key("k10"), token(&text, NOW + 3600, None), NOW, 0);
    assert!(memory.bytes() <= 10 * one);
    assert!(memory.get(&key("k00")).is_some(), "recently used: kept");
    assert!(memory.get(&key("k10")).is_some(), "the new entry is in");
    assert!(
        memory.get(&key("k01")).is_none(),
        "least recently used: gone"
    );
    // Eviction goes down to 90% of the limit, the new entry included, so it runs rarely.
    assert_eq!(memory.len(), 9);
}

#[test]
fn expired_entries_go_before_any_unexpired_one() {
    let memory = MemoryCache::default();
    let text = "t".repeat(800);
    let one = size_of(&key("k0"), &text);
    memory.set_size_limit(3 * one);
    memory.put(key("k0"), token(&text, NOW + 3600, None), NOW, 0);
    memory.put(key("k1"), token(&text, NOW + 400, None), NOW, 0);
    memory.put(key("k2"), token(&text, NOW + 3600, None), NOW, 0);
    assert!(memory.get(&key("k1")).is_some(), "most recently used");
    // 200 s later k1 is inside the expiry margin.
    memory.put(key("k3"), token(&text, NOW + 3600, None), NOW + 200, 0);
    assert!(memory.get(&key("k1")).is_none());
    assert!(memory.get(&key("k3")).is_some());
    assert_eq!(memory.len(), 3, "no unexpired entry had to go");
}

#[test]
fn an_entry_larger_than_the_limit_is_not_kept() {
    let memory = MemoryCache::default();
    memory.set_size_limit(1024);
    memory.put(
        key("big"),
        token(&"t".repeat(2048), NOW + 3600, None),
        NOW,
        0,
    );
    assert!(memory.is_empty());
    assert_eq!(memory.bytes(), 0);
}

#[test]
fn the_default_limit_holds_ten_thousand_entra_sized_tokens() {
    let memory = MemoryCache::default();
    let text = "t".repeat(2500);
    for i in 0..10_000 {
        let canonical = format!(
            r#"["app","https://login.microsoftonline.com/contoso.onmicrosoft.com","00000000-0000-0000-0000-000000000000","api://resource-{i}/.default"]"#
        );
        memory.put(
            CacheKey::from_canonical(canonical),
            token(&text, NOW + 3600, None),
            NOW,
            0,
        );
    }
    assert_eq!(memory.len(), 10_000);
    assert!(memory.bytes() <= DEFAULT_MEMORY_CACHE_SIZE_LIMIT);
}
