//! Redirect URIs: parsing, one per origin, chosen by the request's origin.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;

const TWO: &str = "https://app.example.com/auth/callback, https://app.workers.dev/auth/callback";

#[test]
fn the_requests_origin_picks_its_uri_and_an_unknown_origin_is_refused() {
    let uris = RedirectUris::parse("REDIRECT_URI", TWO).unwrap();
    assert_eq!(uris.as_slice().len(), 2);
    let pick = |origin| uris.for_origin(origin).map(Url::as_str);
    assert_eq!(
        pick(Some("https://app.workers.dev")),
        Ok("https://app.workers.dev/auth/callback")
    );
    assert_eq!(
        pick(Some("https://app.example.com")),
        Ok("https://app.example.com/auth/callback")
    );
    // Another host, scheme or port is another origin.
    for other in [
        "https://evil.example",
        "http://app.example.com",
        "https://app.example.com:8443",
    ] {
        assert_eq!(pick(Some(other)), Err(UnregisteredOrigin), "{other}");
    }
    // An adapter that does not tell the origin gets the first.
    assert_eq!(pick(None), Ok("https://app.example.com/auth/callback"));
}

#[test]
fn the_request_url_gives_the_origin() {
    let uris = RedirectUris::parse("REDIRECT_URI", TWO).unwrap();
    let request = WebRequest::default().with_url("https://app.workers.dev/auth/sign-in?x=1");
    assert_eq!(request.origin.as_deref(), Some("https://app.workers.dev"));
    assert_eq!(
        uris.for_request(&request).map(Url::as_str),
        Ok("https://app.workers.dev/auth/callback")
    );
    let loopback = WebRequest::default().with_url("http://127.0.0.1:8787/");
    assert_eq!(loopback.origin.as_deref(), Some("http://127.0.0.1:8787"));
    assert_eq!(WebRequest::default().with_url("not a url").origin, None);
    assert_eq!(
        WebRequest::default().with_url("data:text/plain,x").origin,
        None
    );
}

#[test]
fn bad_lists_are_configuration_errors_that_do_not_echo_the_value() {
    for bad in [
        "",
        " , ",
        "/auth/callback",
        "http://app.example.com/auth/callback",
        "https://app.example.com/auth/callback?x=1",
        "https://app.example.com/a https://app.example.com/b",
    ] {
        let error = RedirectUris::parse("REDIRECT_URI", bad).unwrap_err();
        assert!(matches!(error, Error::Configuration(_)), "{bad}");
        let text = error.to_string();
        assert!(text.contains("REDIRECT_URI"), "{text}");
        assert!(bad.is_empty() || !text.contains(bad.trim()), "{text}");
    }
    let many: Vec<String> = (0..=MAX_REDIRECT_URIS)
        .map(|i| alloc::format!("https://h{i}.example.com/cb"))
        .collect();
    assert!(RedirectUris::parse("REDIRECT_URI", &many.join(" ")).is_err());
}
