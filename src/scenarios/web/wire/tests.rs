//! The HTTP forms adapters share: cookies and forms read, `Set-Cookie` written, pages as text.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use alloc::string::ToString;
use alloc::vec;

use super::*;

#[test]
fn a_request_is_read_from_its_http_parts() {
    let request = WebRequest::from_http(
        true,
        Some("tenant=a%2Eb&x="),
        Some("__Host-a=1; bad; __Host-b=two%20words"),
        Some("Bearer t".to_string()),
        Some("application/x-www-form-urlencoded; charset=utf-8"),
        b"code=c%2B1&state=s",
    );
    assert_eq!(request.query_param("tenant"), Some("a.b"));
    assert_eq!(request.cookie("__Host-a"), Some("1"));
    assert_eq!(
        request.cookie("__Host-b"),
        Some("two%20words"),
        "cookie values as sent"
    );
    assert_eq!(
        request.form,
        vec![
            ("code".to_string(), "c+1".to_string()),
            ("state".to_string(), "s".to_string())
        ]
    );
    // No form from a GET, another content type, or an oversize body.
    let big = vec![b'a'; MAX_FORM_BYTES + 1];
    for (is_post, content_type, body) in [
        (false, "application/x-www-form-urlencoded", &b"a=1"[..]),
        (true, "application/json", &b"a=1"[..]),
        (true, "application/x-www-form-urlencoded", &big[..]),
    ] {
        let request = WebRequest::from_http(is_post, None, None, None, Some(content_type), body);
        assert!(request.form.is_empty());
    }
}

#[test]
fn a_response_carries_its_cookies_and_a_plain_page() {
    let response = WebResponse::page(
        400,
        Page::ConsentFailed {
            reason: "<b>no</b>".into(),
        },
    )
    .with_cookie(SetCookie::delete("__Host-x", SameSite::Lax))
    .with_cookie(SetCookie {
        name: "__Host-y".into(),
        value: "v".into(),
        max_age: Some(600),
        same_site: SameSite::None,
    });
    let http = response.into_http();
    assert_eq!(http.status, 400);
    assert_eq!(
        http.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let cookies: Vec<&str> = http
        .headers
        .iter()
        .filter(|(name, _)| name == "set-cookie")
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(cookies.len(), 2);
    for attribute in [
        "__Host-x=",
        "Max-Age=0",
        "Secure",
        "HttpOnly",
        "Path=/",
        "SameSite=Lax",
    ] {
        assert!(cookies[0].contains(attribute), "{}", cookies[0]);
    }
    assert!(
        cookies[1].contains("__Host-y=v")
            && cookies[1].contains("Max-Age=600")
            && cookies[1].contains("SameSite=None")
    );
    assert!(
        String::from_utf8(http.body)
            .unwrap()
            .starts_with("Consent not completed: <b>no</b>"),
        "plain text, never HTML"
    );
}
