//! The web app's route table: which operation each method and path reach, 405 for another
//! method, `None` outside the web app. The operations themselves are tested in
//! `webapp/tests.rs`; the three runtimes run the table end to end in
//! `testbed/e2e/runtimes-webapp.test.mjs`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use alloc::string::ToString;
use alloc::vec::Vec;

use futures::executor::block_on;
use serde_json::Value;

use super::*;
use crate::scenarios::web::Page;
use crate::testing::{MapStore, ReplayPlatform};

const DISCOVERY: &str = r#"{"issuer":"https://id.example.com","authorization_endpoint":"https://id.example.com/authorize","token_endpoint":"https://id.example.com/token","jwks_uri":"https://id.example.com/jwks"}"#;

const PATHS: [&str; 9] = [
    "/",
    "/auth/sign-in",
    "/auth/callback",
    "/auth/sign-out",
    "/auth/frontchannel-logout",
    "/auth/backchannel-logout",
    "/me",
    "/me/call",
    "/me/api",
];

fn app() -> WebApp {
    crate::scenarios::webapp::tests::app(&[])
}

fn route(app: &WebApp, replay: &ReplayPlatform, method: &str, path: &str) -> Option<WebResponse> {
    let store = MapStore::default();
    let request = WebRequest {
        is_post: method == "POST",
        ..WebRequest::default()
    };
    block_on(app.route(method, path, &request, &replay.platform(&store)))
}

fn error_of(response: &WebResponse) -> Value {
    serde_json::from_slice::<Value>(&response.body).unwrap()["error"].clone()
}

#[test]
fn every_web_app_path_is_known_whatever_the_method() {
    let routes: Vec<_> = PATHS.iter().map(|p| WebAppRoute::from_path(p)).collect();
    assert!(routes.iter().all(Option::is_some), "{routes:?}");
    for path in [
        "/me/",
        "/auth",
        "/daemon/call",
        "/tenants",
        "/api/profile",
        "",
        "/ME",
    ] {
        assert_eq!(WebAppRoute::from_path(path), None, "{path}");
    }
    assert!(WebAppRoute::Callback.allows("POST"));
    assert!(!WebAppRoute::Me.allows("POST"));
    assert!(WebAppRoute::BackChannelLogout.allows("POST"));
    assert!(!WebAppRoute::BackChannelLogout.allows("GET"));
    assert!(WebAppRoute::FrontChannelLogout.allows("GET"));
    let forms: Vec<_> = routes.iter().flatten().filter(|r| r.reads_form()).collect();
    assert_eq!(
        forms,
        [&WebAppRoute::Callback, &WebAppRoute::BackChannelLogout]
    );
    assert!(
        !WebAppRoute::Home.allows("get"),
        "methods are case-sensitive (RFC 9110 §9.1)"
    );
}

#[test]
fn other_paths_are_left_to_the_app_without_a_request() {
    let app = app();
    let replay = ReplayPlatform::new(&[]);
    for path in [
        "/daemon/call",
        "/tenants",
        "/api/profile",
        "/healthz",
        "/me/",
    ] {
        assert!(route(&app, &replay, "GET", path).is_none(), "{path}");
    }
    assert!(replay.requests.borrow().is_empty());
}

#[test]
fn another_method_on_a_web_app_path_is_405_without_a_request() {
    let app = app();
    let replay = ReplayPlatform::new(&[]);
    for path in PATHS {
        for method in ["PUT", "DELETE", "HEAD"] {
            let response = route(&app, &replay, method, path).unwrap();
            assert_eq!(response.status, 405, "{method} {path}");
            assert_eq!(error_of(&response), "method_not_allowed");
        }
    }
    for path in PATHS
        .iter()
        .filter(|p| !["/auth/callback", "/auth/backchannel-logout"].contains(p))
    {
        assert_eq!(route(&app, &replay, "POST", path).unwrap().status, 405);
    }
    assert_eq!(
        route(&app, &replay, "GET", "/auth/backchannel-logout")
            .unwrap()
            .status,
        405
    );
    assert!(replay.requests.borrow().is_empty());
}

#[test]
fn each_path_reaches_its_operation() {
    let app = app();
    let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);

    let home = route(&app, &replay, "GET", "/").unwrap();
    assert_eq!((home.status, home.page), (200, Some(Page::SignedOut)));

    let sign_in = route(&app, &replay, "GET", "/auth/sign-in").unwrap();
    assert_eq!(sign_in.status, 302);
    let location = sign_in.header("location").unwrap();
    assert!(
        location.starts_with("https://id.example.com/authorize?"),
        "{location}"
    );

    // Without a transaction cookie, both callback forms fail before the token endpoint.
    for method in ["GET", "POST"] {
        let callback = route(&app, &replay, method, "/auth/callback").unwrap();
        assert_eq!(callback.status, 400, "{method}");
        assert!(matches!(callback.page, Some(Page::SignInFailed { .. })));
    }

    // Signed out: the provider's end_session_endpoint is unknown, so back to
    // POST_LOGOUT_REDIRECT_URI.
    let sign_out = route(&app, &replay, "GET", "/auth/sign-out").unwrap();
    assert_eq!(sign_out.status, 302);
    assert_eq!(
        sign_out.header("location"),
        Some("https://app.example.com/")
    );

    for path in ["/me", "/me/call"] {
        let answer = route(&app, &replay, "GET", path).unwrap();
        assert_eq!(answer.status, 401, "{path}");
        assert_eq!(error_of(&answer), "not_signed_in");
    }
    // Logout requests that name nothing end nothing: 400 before any provider request.
    for (method, path) in [
        ("GET", "/auth/frontchannel-logout"),
        ("POST", "/auth/backchannel-logout"),
    ] {
        assert_eq!(
            route(&app, &replay, method, path).unwrap().status,
            400,
            "{path}"
        );
    }
    // No WEB_API_URL: /me/api is a configuration error, whoever asks.
    let me_api = route(&app, &replay, "GET", "/me/api").unwrap();
    assert_eq!(me_api.status, 500);
    assert_eq!(error_of(&me_api), "configuration_error");

    let urls: Vec<_> = replay
        .requests
        .borrow()
        .iter()
        .map(|r| r.url.to_string())
        .collect();
    assert_eq!(
        urls,
        ["https://id.example.com/.well-known/openid-configuration"]
    );
}
