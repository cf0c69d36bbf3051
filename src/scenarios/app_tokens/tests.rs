//! The adapters' `app_token` path: a prepared request per scopes text.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use alloc::format;
use alloc::string::ToString;

use futures::executor::block_on;

use super::*;
use crate::acquisition::TokenSource;
use crate::testing::{MapSettings, MapStore, ReplayPlatform, ENTRA_SUCCESS};

fn app_tokens() -> AppTokens {
    let settings = MapSettings::of(&[
        (
            "AUTHORITY",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com",
        ),
        ("CLIENT_ID", "daemon"),
        ("CLIENT_SECRET", "pw"),
    ]);
    let signer = |_, _| async { Err(Error::Signing("no certificate here".into())) };
    block_on(AppTokens::build(&settings, signer)).unwrap()
}

#[test]
fn a_scopes_text_is_prepared_once_and_its_token_served_from_memory() {
    let env = ReplayPlatform::new(&[(200, ENTRA_SUCCESS)]);
    let store = MapStore::default();
    let platform = env.platform(&store);
    let app = app_tokens();
    let scopes = "api://downstream/.default";
    let first = block_on(app.acquire_scopes(scopes, &platform)).unwrap();
    assert_eq!(first.source, TokenSource::Provider);
    let second = block_on(app.acquire_scopes(scopes, &platform)).unwrap();
    assert_eq!(second.source, TokenSource::Memory);
    assert_eq!(app.prepared.len(), 1);
    // The same scopes through the per-call form share the entry.
    let parsed = Scopes::parse(scopes).unwrap();
    let third = block_on(app.acquire(&parsed, &platform)).unwrap();
    assert_eq!(third.source, TokenSource::Memory);
    assert_eq!(env.requests.borrow().len(), 1);
}

#[test]
fn a_bad_scopes_text_is_an_error_and_is_not_kept() {
    let env = ReplayPlatform::new(&[]);
    let store = MapStore::default();
    let app = app_tokens();
    for bad in ["", "https://graph.microsoft.com/User.Read"] {
        let refused = block_on(app.acquire_scopes(bad, &env.platform(&store)));
        assert!(
            matches!(refused, Err(Error::Configuration(_))),
            "{bad}: {refused:?}"
        );
    }
    assert_eq!(app.prepared.len(), 0);
    assert!(env.requests.borrow().is_empty());
}

#[test]
fn prepared_requests_are_bounded_and_start_over_when_full() {
    let app = app_tokens();
    for i in 0..crate::acquisition::MAX_PREPARED_REQUESTS + 5 {
        let scopes = format!("api://resource-{i}/.default");
        let request = app.prepared(&scopes).unwrap();
        assert_eq!(request.scopes().to_param(), scopes.to_string());
    }
    assert_eq!(app.prepared.len(), 5, "full: started over");
}
