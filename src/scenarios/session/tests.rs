use super::*;
use crate::seal::{Purpose, RootKeys};
use crate::secret::AccessToken;
use crate::testing::{CountingEntropy, MapStore, NOW};
use futures::executor::block_on;
use serde_json::json;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

fn response(access: &str, refresh: Option<&str>, expires_in: u64) -> TokenResponse {
    let mut body =
        json!({"token_type": "Bearer", "access_token": access, "expires_in": expires_in});
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    crate::protocol::response::parse_token_response(&crate::platform::http::HttpResponse {
        status: 200,
        headers: Vec::new(),
        body: serde_json::to_vec(&body).unwrap(),
    })
    .unwrap()
}

fn scopes(s: &str) -> Scopes {
    Scopes::parse(s).unwrap()
}

fn session() -> Session {
    let claims = json!({"sub": "alice", "name": "Alice Example"})
        .as_object()
        .unwrap()
        .clone();
    Session::begin(
        claims,
        "iss|alice".into(),
        IdToken::new("id.token.sig"),
        &response("at-1", Some("rt-1"), 3600),
        &scopes("api://a/.default"),
        NOW,
        &SessionLifetime::default(),
    )
}

#[test]
fn a_new_session_holds_the_first_tokens() {
    let session = session();
    assert_eq!(session.display_name(), "Alice Example");
    assert_eq!(session.refresh_token, Some(RefreshToken::new("rt-1")));
    let token = session.token_for(&scopes("api://a/.default")).unwrap();
    assert_eq!(token.access_token, AccessToken::new("at-1"));
    assert_eq!(token.state(NOW), TokenState::Fresh);
    assert!(session.token_for(&scopes("api://b/.default")).is_none());
    assert_eq!(
        session.expires_at,
        NOW + DEFAULT_SESSION_ABSOLUTE_TIMEOUT_SECS
    );
    let debug = alloc::format!("{session:?}");
    assert!(!debug.contains("rt-1") && !debug.contains("at-1") && !debug.contains("id.token"));
}

#[test]
fn a_rotated_refresh_token_replaces_the_old_one_and_an_absent_one_keeps_it() {
    let mut session = session();
    session.apply_refresh(
        &response("at-2", Some("rt-2"), 3600),
        &scopes("api://a/.default"),
        NOW + 10,
    );
    assert_eq!(session.refresh_token, Some(RefreshToken::new("rt-2")));
    assert_eq!(
        session
            .token_for(&scopes("api://a/.default"))
            .unwrap()
            .access_token,
        AccessToken::new("at-2")
    );
    session.apply_refresh(
        &response("at-3", None, 3600),
        &scopes("api://b/.default"),
        NOW + 20,
    );
    assert_eq!(session.refresh_token, Some(RefreshToken::new("rt-2")));
    assert_eq!(session.tokens.len(), 2);
}

#[test]
fn the_token_list_is_bounded_and_drops_expired_entries() {
    let mut session = session();
    for i in 0..(MAX_SESSION_TOKENS + 4) {
        let token = CachedToken::from_response(&response("at", None, 3600 + i as u64), NOW);
        session.put_token(&scopes(&alloc::format!("api://r{i}/.default")), token, NOW);
    }
    assert_eq!(session.tokens.len(), MAX_SESSION_TOKENS);
    let short = CachedToken::from_response(&response("at", None, 400), NOW);
    session.put_token(&scopes("api://short/.default"), short, NOW);
    session.put_token(
        &scopes("api://x/.default"),
        CachedToken::from_response(&response("at", None, 3600), NOW),
        NOW + 200,
    );
    assert!(session.token_for(&scopes("api://short/.default")).is_none());
    session.forget_token(&scopes("api://x/.default"));
    assert!(session.token_for(&scopes("api://x/.default")).is_none());
}

#[test]
fn ids_are_random_and_only_well_formed_cookie_values_parse() {
    let entropy = CountingEntropy::default();
    let a = SessionId::generate(&entropy).unwrap();
    let b = SessionId::generate(&entropy).unwrap();
    assert_ne!(a, b);
    assert_eq!(SessionId::parse(a.expose_secret()), Some(a.clone()));
    for bad in ["", "x", "%%%", &"A".repeat(44)] {
        assert!(SessionId::parse(bad).is_none(), "{bad}");
    }
    assert_eq!(alloc::format!("{a:?}"), "SessionId([redacted])");
}

#[test]
fn records_are_sealed_and_bound_to_their_key() {
    let store = MapStore::default();
    let sealer = RootKeys::parse("COOKIE_KEY", KEY)
        .unwrap()
        .sealer(Purpose::Session);
    let authority = Authority::parse("https://login.microsoftonline.com/tid", None).unwrap();
    let sessions = SessionStore {
        store: &store,
        sealer: &sealer,
        authority: &authority,
        client_id: "webapp",
    };
    let entropy = CountingEntropy::default();
    let alice = SessionId::generate(&entropy).unwrap();
    let mallory = SessionId::generate(&entropy).unwrap();

    block_on(sessions.save(&alice, &session(), NOW, &entropy)).unwrap();
    assert_eq!(
        block_on(sessions.load(&alice, NOW + 1)).unwrap(),
        Some(session())
    );
    let alice_key = alice.storage_key(&authority, "webapp");
    let (stored, ttl) = store.0.borrow()[&alice_key].clone();
    assert_eq!(ttl, DEFAULT_SESSION_ABSOLUTE_TIMEOUT_SECS);
    let text = String::from_utf8(stored.clone()).unwrap();
    assert!(!text.contains("rt-1") && !text.contains("Alice"));
    assert!(!alice_key.contains(alice.expose_secret()));

    // The same bytes under another session's key do not open.
    let mallory_key = mallory.storage_key(&authority, "webapp");
    store.0.borrow_mut().insert(mallory_key, (stored, ttl));
    assert_eq!(block_on(sessions.load(&mallory, NOW + 1)).unwrap(), None);
    // Nor under another client's.
    let other = SessionStore {
        client_id: "other",
        ..sessions
    };
    assert_eq!(block_on(other.load(&alice, NOW + 1)).unwrap(), None);
    // Nor after the session ends.
    assert_eq!(
        block_on(sessions.load(&alice, NOW + DEFAULT_SESSION_ABSOLUTE_TIMEOUT_SECS)).unwrap(),
        None
    );

    block_on(sessions.delete(&alice)).unwrap();
    assert_eq!(block_on(sessions.load(&alice, NOW + 1)).unwrap(), None);
}
