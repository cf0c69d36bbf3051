use super::*;
use crate::protocol::authority::Authority;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const NOW: u64 = 1_795_000_000;

fn response(expires_in: Option<u64>, refresh_in: Option<u64>) -> TokenResponse {
    let mut body = serde_json::json!({"access_token": "at", "token_type": "Bearer"});
    if let Some(e) = expires_in {
        body["expires_in"] = e.into();
    }
    if let Some(r) = refresh_in {
        body["refresh_in"] = r.into();
    }
    let http = crate::platform::http::HttpResponse {
        status: 200,
        headers: Vec::new(),
        body: serde_json::to_vec(&body).unwrap(),
    };
    crate::protocol::response::parse_token_response(&http).unwrap()
}

#[test]
fn a_token_expires_300_seconds_early() {
    let token = CachedToken::from_response(&response(Some(3600), None), NOW);
    assert_eq!(token.expires_on, NOW + 3600);
    assert_eq!(
        token.refresh_on, None,
        "under 2 h without refresh_in: no proactive refresh"
    );
    assert_eq!(token.state(NOW), TokenState::Fresh);
    assert_eq!(token.state(NOW + 3600 - 301), TokenState::Fresh);
    assert_eq!(token.state(NOW + 3600 - 300), TokenState::Expired);
    assert!(token.is_unexpired(NOW + 3599));
    assert!(!token.is_unexpired(NOW + 3600));
}

#[test]
fn refresh_is_due_at_refresh_in_or_at_half_life_for_long_tokens() {
    let with_hint = CachedToken::from_response(&response(Some(3599), Some(1799)), NOW);
    assert_eq!(with_hint.refresh_on, Some(NOW + 1799));
    assert_eq!(with_hint.state(NOW + 1798), TokenState::Fresh);
    assert_eq!(with_hint.state(NOW + 1799), TokenState::RefreshDue);
    assert_eq!(with_hint.state(NOW + 3599 - 300), TokenState::Expired);

    let long = CachedToken::from_response(&response(Some(86_400), None), NOW);
    assert_eq!(long.refresh_on, Some(NOW + 43_200));
}

#[test]
fn short_lived_and_lifetime_less_tokens_are_not_cached() {
    for token in [
        CachedToken::from_response(&response(Some(300), None), NOW),
        CachedToken::from_response(&response(None, None), NOW),
    ] {
        assert_eq!(token.store_ttl(NOW), None);
        let memory = memory::MemoryCache::default();
        memory.put(CacheKey::from_canonical(String::from("k")), token, NOW, 0);
        assert!(memory.is_empty());
    }
    let ok = CachedToken::from_response(&response(Some(301), None), NOW);
    assert_eq!(ok.store_ttl(NOW), Some(301));
    assert_eq!(
        ok.store_ttl(NOW + 1),
        None,
        "one second later it is inside the margin"
    );
}

#[test]
fn cache_keys_compare_scopes_as_sets_and_separate_everything_else() {
    let authority =
        Authority::parse("https://login.microsoftonline.com/contoso.com", None).unwrap();
    let other_tenant =
        Authority::parse("https://login.microsoftonline.com/fabrikam.com", None).unwrap();
    let key = |authority: &Authority, client: &str, scopes: &str| {
        CacheKey::app_token(authority, client, &Scopes::parse(scopes).unwrap())
    };
    let base = key(&authority, "c1", "b/.default a/.default");
    assert_eq!(
        base,
        key(&authority, "c1", "a/.default b/.default a/.default")
    );
    assert_ne!(base, key(&other_tenant, "c1", "a/.default b/.default"));
    assert_ne!(base, key(&authority, "c2", "a/.default b/.default"));
    assert_ne!(base, key(&authority, "c1", "a/.default"));
    // No separator ambiguity: a client id containing what a naive join would use.
    assert_ne!(key(&authority, "c1|x", "y"), key(&authority, "c1", "x|y"));
    let storage = base.storage_key();
    assert!(
        storage.starts_with("edge-token/v1/") && storage.len() == 57,
        "{storage}"
    );
    assert!(!storage.contains("contoso"));
}

#[test]
fn on_behalf_of_keys_partition_by_the_incoming_token() {
    let authority =
        Authority::parse("https://login.microsoftonline.com/contoso.com", None).unwrap();
    let scopes = Scopes::parse("api://downstream/user.read").unwrap();
    let alice = AccessToken::new("eyJhbGciOi.alice.sig");
    let bob = AccessToken::new("eyJhbGciOi.bob.sig");
    // MSAL's user assertion hash: base64url(SHA-256(assertion)), here of "abc" (FIPS 180-2).
    assert_eq!(
        user_assertion_hash(&AccessToken::new("abc")),
        "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
    );
    let key = |token: &AccessToken| CacheKey::on_behalf_of(&authority, "webapi", token, &scopes);
    assert_eq!(key(&alice), key(&AccessToken::new("eyJhbGciOi.alice.sig")));
    assert_ne!(key(&alice), key(&bob));
    assert_ne!(
        key(&alice),
        CacheKey::app_token(&authority, "webapi", &scopes)
    );
    assert!(key(&alice).as_str().contains(&user_assertion_hash(&alice)));
    assert!(!key(&alice).as_str().contains("alice.sig"));
    assert!(!key(&alice)
        .storage_key()
        .contains(&user_assertion_hash(&alice)));
}

#[test]
fn entries_round_trip_sealed_and_anything_else_is_refused() {
    let token = CachedToken::from_response(&response(Some(3599), Some(1799)), NOW);
    let sealer = crate::testing::token_cache_keys().sealer(crate::seal::Purpose::TokenCache);
    let entropy = crate::testing::ReplayPlatform::new(&[]);
    let stored = token.seal(&sealer, "edge-token/v1/k", &entropy).unwrap();
    assert_eq!(
        CachedToken::open(&stored, &sealer, "edge-token/v1/k", NOW).unwrap(),
        token
    );
    assert_eq!(
        CachedToken::open(&stored, &sealer, "edge-token/v1/other", NOW),
        Err(SealError::Forged),
        "bound to its key"
    );
    assert_eq!(
        CachedToken::open(&stored, &sealer, "edge-token/v1/k", token.expires_on),
        Err(SealError::Expired)
    );
    let plain = serde_json::to_vec(&token).unwrap();
    let oversize = alloc::vec![b'A'; 64 * 1024 + 1];
    for bad in [&b""[..], b"{}", &plain, b"\xff", &oversize] {
        assert_eq!(
            CachedToken::open(bad, &sealer, "edge-token/v1/k", NOW),
            Err(SealError::Malformed)
        );
    }
}
