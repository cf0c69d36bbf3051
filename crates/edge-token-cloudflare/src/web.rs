//! Conversions between `worker` requests/responses and the core's [`WebRequest`] /
//! [`WebResponse`]: the worker parts are read here, their HTTP forms (cookies, queries, forms,
//! `Set-Cookie`) by the core (`WebRequest::from_http`, `WebResponse::into_http`), which every
//! adapter shares.

use alloc::vec::Vec;

use worker::{Method, Request, Response};

use edge_token::platform::http::HttpResponse;
use edge_token::scenarios::{WebRequest, WebResponse};

/// Reads what the web app and the web API need from `request`: its URL's origin, query,
/// cookies, the `Authorization` header and, for a form `POST`, its fields. A body over
/// [`edge_token::scenarios::MAX_FORM_BYTES`] or of another type is ignored (the callback then
/// fails cleanly).
pub async fn web_request(request: &mut Request) -> worker::Result<WebRequest> {
    let url = request.url()?;
    let is_post = request.method() == Method::Post;
    let content_type = request.headers().get("content-type")?;
    let is_form = content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    // Read only when it may be a form; `from_http` ignores an oversize one.
    let body = if is_post && is_form {
        request.bytes().await?
    } else {
        Vec::new()
    };
    Ok(WebRequest::from_http(
        is_post,
        url.query(),
        request.headers().get("cookie")?.as_deref(),
        request.headers().get("authorization")?,
        content_type.as_deref(),
        &body,
    )
    // The URL the runtime received: its origin picks the web app's redirect URI.
    .with_url(url.as_str()))
}

/// The `worker` response for a core reply (status, headers, body), e.g.
/// [`edge_token::scenarios::call_reply`]'s; each `Set-Cookie` is sent, other headers once.
pub fn http_response(reply: HttpResponse) -> worker::Result<Response> {
    let response = if reply.body.is_empty() {
        Response::empty()?
    } else {
        Response::from_bytes(reply.body)?
    };
    let mut response = response.with_status(reply.status);
    let headers = response.headers_mut();
    for (name, value) in &reply.headers {
        // `Set-Cookie` may come more than once; every other header replaces the default
        // (`from_bytes` sets `content-type: application/octet-stream`).
        if name.eq_ignore_ascii_case("set-cookie") {
            headers.append(name, value)?;
        } else {
            headers.set(name, value)?;
        }
    }
    Ok(response)
}

/// The `worker` response for `web` ([`WebResponse::into_http`]: cookies as `Set-Cookie` headers
/// with `Secure`, `HttpOnly`, `Path=/` and their `SameSite` and `Max-Age`).
pub fn web_response(web: WebResponse) -> worker::Result<Response> {
    http_response(web.into_http())
}
