//! The web API's route table: `GET /api/profile` reaches [`WebApi::profile`], another method
//! is 405, other paths are `None`. The three runtimes run it end to end in
//! `testbed/e2e/runtimes-webapp.test.mjs`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use alloc::boxed::Box;

use futures::executor::block_on;
use serde_json::Value;

use super::*;
use crate::error::Error;
use crate::scenarios::webapi::WebApiConfig;
use crate::testing::{MapSettings, MapStore, ReplayPlatform};
use crate::validation::verifier::rustcrypto::RustCryptoVerifier;

fn api() -> WebApi {
    let settings = MapSettings::of(&[
        ("AUTHORITY", "https://id.example.com"),
        ("CLIENT_ID", "webapi"),
        ("CLIENT_SECRET", "pw"),
        ("API_AUDIENCE", "api://webapi"),
        ("API_REQUIRED_SCOPE", "access_as_user"),
        (
            "API_DOWNSTREAM_URL",
            "https://downstream.example.com/profile",
        ),
        ("API_DOWNSTREAM_SCOPES", "api://downstream/user.read"),
    ]);
    let config = WebApiConfig::from_settings(&settings).unwrap();
    let signer = |_, _| async { Err(Error::Signing("no certificate here".into())) };
    block_on(WebApi::build(
        config,
        signer,
        Box::new(RustCryptoVerifier::new()),
    ))
    .unwrap()
}

fn route(api: &WebApi, replay: &ReplayPlatform, method: &str, path: &str) -> Option<WebResponse> {
    let store = MapStore::default();
    let request = WebRequest::default();
    block_on(api.route(method, path, &request, &replay.platform(&store)))
}

#[test]
fn get_api_profile_reaches_the_profile_and_nothing_else_is_routed() {
    let api = api();
    let replay = ReplayPlatform::new(&[]);
    assert!(WebApi::serves(WEB_API_PROFILE_PATH));

    // No bearer: the profile's 401 with a Bearer challenge, before any request.
    let profile = route(&api, &replay, "GET", "/api/profile").unwrap();
    assert_eq!(profile.status, 401);
    assert!(profile
        .header("www-authenticate")
        .is_some_and(|value| value.starts_with("Bearer")));

    for method in ["POST", "PUT", "DELETE"] {
        let refused = route(&api, &replay, method, "/api/profile").unwrap();
        assert_eq!(refused.status, 405, "{method}");
        let body: Value = serde_json::from_slice(&refused.body).unwrap();
        assert_eq!(body["error"], "method_not_allowed");
    }
    for path in ["/api", "/api/profile/", "/me", "/", "/daemon/call"] {
        assert!(!WebApi::serves(path), "{path}");
        assert!(route(&api, &replay, "GET", path).is_none(), "{path}");
    }
    assert!(replay.requests.borrow().is_empty());
}
