use super::*;
use crate::credentials::assertion::ASSERTION_LIFETIME_SECS;
use alloc::format;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const GLOBAL: &str = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token";
const REGIONAL: &str = "https://westus.login.microsoft.com/contoso.com/oauth2/v2.0/token";
const NOW: u64 = 1_795_000_000;

fn signed_at(cache: &AssertionCache, endpoint: &str, value: &str, now: u64) {
    cache.keep(
        "client-1",
        endpoint,
        ClientAssertion::new(value),
        now,
        now + ASSERTION_LIFETIME_SECS,
    );
}

fn reused(cache: &AssertionCache, endpoint: &str, now: u64) -> Option<String> {
    cache
        .reusable("client-1", endpoint, now)
        .map(|assertion| String::from(assertion.expose_secret()))
}

#[test]
fn an_assertion_is_reused_while_more_than_the_margin_of_its_lifetime_is_left() {
    let cache = AssertionCache::default();
    signed_at(&cache, GLOBAL, "a.b.c", NOW);
    let last_second = NOW + ASSERTION_LIFETIME_SECS - REUSE_MARGIN_SECS - 1;
    for now in [NOW, NOW + 1, last_second] {
        assert_eq!(
            reused(&cache, GLOBAL, now).as_deref(),
            Some("a.b.c"),
            "{now}"
        );
    }
    for now in [last_second + 1, NOW + ASSERTION_LIFETIME_SECS, u64::MAX] {
        assert_eq!(reused(&cache, GLOBAL, now), None, "{now}");
    }
}

#[test]
fn an_assertion_is_not_reused_once_the_clock_is_before_its_nbf() {
    // The corrected clock learned that the local clock was ahead: the provider would find the
    // assertion "not yet valid".
    let cache = AssertionCache::default();
    signed_at(&cache, GLOBAL, "a.b.c", NOW);
    assert_eq!(reused(&cache, GLOBAL, NOW - 1), None);
}

#[test]
fn each_token_endpoint_and_client_has_its_own_assertion() {
    let cache = AssertionCache::default();
    signed_at(&cache, GLOBAL, "global", NOW);
    assert_eq!(reused(&cache, REGIONAL, NOW), None);
    assert_eq!(
        reused(&cache, &GLOBAL.to_uppercase(), NOW),
        None,
        "aud is exact"
    );
    assert!(cache.reusable("client-2", GLOBAL, NOW).is_none());
    signed_at(&cache, REGIONAL, "regional", NOW + 1);
    assert_eq!(reused(&cache, GLOBAL, NOW + 2).as_deref(), Some("global"));
    assert_eq!(
        reused(&cache, REGIONAL, NOW + 2).as_deref(),
        Some("regional")
    );
}

#[test]
fn keeping_an_assertion_drops_those_no_longer_reusable() {
    let cache = AssertionCache::default();
    signed_at(&cache, GLOBAL, "old", NOW);
    signed_at(&cache, REGIONAL, "new", NOW + ASSERTION_LIFETIME_SECS);
    assert_eq!(cache.len(), 1);
    assert_eq!(
        reused(&cache, REGIONAL, NOW + ASSERTION_LIFETIME_SECS).as_deref(),
        Some("new")
    );
}

#[test]
fn at_most_max_endpoints_keep_an_assertion_the_one_expiring_first_gives_way() {
    let cache = AssertionCache::default();
    let tenant =
        |i: usize| format!("https://login.microsoftonline.com/tenant-{i}/oauth2/v2.0/token");
    // Tenant 0 is signed first, the others within the next 256 s: all still reusable.
    let signed = |i: usize| NOW + if i == 0 { 0 } else { 1 + i as u64 / 4 };
    for i in 0..MAX_ENDPOINTS {
        signed_at(&cache, &tenant(i), "t", signed(i));
    }
    assert_eq!(cache.len(), MAX_ENDPOINTS);
    let now = signed(MAX_ENDPOINTS);
    signed_at(&cache, GLOBAL, "global", now);
    assert_eq!(cache.len(), MAX_ENDPOINTS);
    assert_eq!(reused(&cache, &tenant(0), now), None, "expires first");
    assert_eq!(reused(&cache, &tenant(1), now).as_deref(), Some("t"));
    assert_eq!(reused(&cache, GLOBAL, now).as_deref(), Some("global"));
}
