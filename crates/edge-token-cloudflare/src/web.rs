//! Conversions between `worker` requests/responses and the core's [`WebRequest`] /
//! [`WebResponse`]. Cookies are parsed and serialized by the `cookie` crate, forms and queries
//! by `url` / `form_urlencoded`.

use alloc::string::ToString;
use alloc::vec::Vec;

use cookie::{Cookie, SameSite as CookieSameSite};
use worker::{Method, Request, Response};

use edge_token::platform::http::HttpResponse;
use edge_token::scenarios::{SameSite, WebRequest, WebResponse};

/// The largest callback form accepted, in bytes (a `form_post` answer is a few KiB).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Reads what the web app and the web API need from `request`: query, cookies, the
/// `Authorization` header and, for a form `POST`, its fields. A body over 64 KiB or of another type is ignored (the callback then fails cleanly).
pub async fn web_request(request: &mut Request) -> worker::Result<WebRequest> {
    let url = request.url()?;
    let query = url
        .query_pairs()
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    let cookies = match request.headers().get("cookie")? {
        Some(header) => Cookie::split_parse(header)
            .filter_map(Result::ok)
            .map(|c| (c.name().to_string(), c.value().to_string()))
            .collect(),
        None => Vec::new(),
    };
    let is_post = request.method() == Method::Post;
    let is_form = request
        .headers()
        .get("content-type")?
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let mut form = Vec::new();
    if is_post && is_form {
        let body = request.bytes().await?;
        if body.len() <= MAX_FORM_BYTES {
            form = form_urlencoded::parse(&body)
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
        }
    }
    Ok(WebRequest {
        authorization: request.headers().get("authorization")?,
        is_post,
        query,
        cookies,
        form,
    })
}

/// The `worker` response for a core reply (status, headers, body), e.g.
/// [`edge_token::scenarios::call_reply`]'s.
pub fn http_response(reply: HttpResponse) -> worker::Result<Response> {
    let mut response = Response::from_bytes(reply.body)?.with_status(reply.status);
    let headers = response.headers_mut();
    for (name, value) in &reply.headers {
        headers.set(name, value)?;
    }
    Ok(response)
}

/// The `worker` response for `web`, cookies serialized as `Set-Cookie` headers with `Secure`,
/// `HttpOnly`, `Path=/` and their `SameSite` and `Max-Age`.
pub fn web_response(web: WebResponse) -> worker::Result<Response> {
    let response = if web.body.is_empty() {
        Response::empty()?
    } else {
        Response::from_bytes(web.body)?
    };
    let mut response = response.with_status(web.status);
    let headers = response.headers_mut();
    for (name, value) in &web.headers {
        headers.set(name, value)?;
    }
    for cookie in web.cookies {
        let mut builder = Cookie::build((cookie.name, cookie.value))
            .secure(true)
            .http_only(true)
            .path("/")
            .same_site(match cookie.same_site {
                SameSite::Lax => CookieSameSite::Lax,
                SameSite::None => CookieSameSite::None,
            });
        if let Some(max_age) = cookie.max_age {
            let seconds = i64::try_from(max_age).unwrap_or(i64::MAX);
            builder = builder.max_age(cookie::time::Duration::seconds(seconds));
        }
        headers.append("set-cookie", &builder.build().to_string())?;
    }
    Ok(response)
}
