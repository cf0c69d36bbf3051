//! The core's [`WebRequest`] from a Spin request: the parts are read here, their HTTP forms
//! (cookies, query, form) by the core ([`WebRequest::from_http`]), which every adapter shares.

use alloc::string::ToString;
use alloc::vec::Vec;

use futures_util::StreamExt as _;
use spin_sdk::http::body::IncomingBodyExt as _;
use spin_sdk::http::Request;

use edge_token::scenarios::{WebRequest, MAX_FORM_BYTES};

/// Reads what the web app, the web API and the tenant routes need from `request`: the origin of
/// its URI when absolute, query, cookies, the `Authorization` header and, for an
/// `application/x-www-form-urlencoded` `POST` (a `form_post` authorization response, a
/// back-channel logout), its fields. The body is read only then, and no further than
/// [`MAX_FORM_BYTES`] + 1 bytes: a longer one, or one that fails to arrive, is ignored (the
/// callback then fails cleanly). Take the method and path first: the request is consumed.
/// [`crate::TokenProvider::web_request`] also asks the host for the URL when the URI is not
/// absolute (`wasmtime serve` gives only the path).
pub async fn web_request(request: Request) -> WebRequest {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let is_post = request.method() == spin_sdk::http::Method::POST;
    let query = request.uri().query().map(str::to_string);
    // The URL as the host received it (scheme and authority included when the host gives
    // them): its origin picks the web app's redirect URI.
    let url = request.uri().to_string();
    let (cookie, authorization) = (header("cookie"), header("authorization"));
    let content_type = header("content-type");
    let is_form = content_type
        .as_deref()
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let mut body = Vec::new();
    if is_post && is_form {
        let mut stream = request.into_body().stream();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(chunk) if body.len() <= MAX_FORM_BYTES => body.extend_from_slice(&chunk),
                Ok(_) => break,
                Err(_) => {
                    body.clear();
                    break;
                }
            }
        }
    }
    WebRequest::from_http(
        is_post,
        query.as_deref(),
        cookie.as_deref(),
        authorization,
        content_type.as_deref(),
        &body,
    )
    .with_url(&url)
}
