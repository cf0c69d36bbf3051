//! The HTTP forms of [`WebRequest`] and [`WebResponse`], shared by the adapters: cookies parsed
//! and `Set-Cookie` written by the `cookie` crate, queries and forms by `form_urlencoded`, and a
//! plain-text rendering of [`Page`] for apps without HTML of their own.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use cookie::{Cookie, SameSite as CookieSameSite};

use super::{Page, SameSite, SetCookie, WebRequest, WebResponse};
use crate::platform::http::HttpResponse;

/// The largest form body read, in bytes (a `form_post` answer is a few KiB): a larger one is
/// ignored, and the route then fails cleanly.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

impl WebRequest {
    /// A request from its HTTP parts: `is_post`, the raw `query` (without `?`), the `Cookie`
    /// header, the `Authorization` header, the `Content-Type` and the body. The body is read
    /// as a form only for an `application/x-www-form-urlencoded` `POST` of at most
    /// [`MAX_FORM_BYTES`]; malformed cookies are skipped.
    pub fn from_http(
        is_post: bool,
        query: Option<&str>,
        cookie_header: Option<&str>,
        authorization: Option<String>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Self {
        let pairs = |bytes: &[u8]| {
            form_urlencoded::parse(bytes)
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect::<Vec<_>>()
        };
        let is_form = content_type
            .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
        let form = if is_post && is_form && body.len() <= MAX_FORM_BYTES {
            pairs(body)
        } else {
            Vec::new()
        };
        Self {
            authorization,
            is_post,
            query: query
                .map(|query| pairs(query.as_bytes()))
                .unwrap_or_default(),
            cookies: cookie_header
                .map(|header| {
                    Cookie::split_parse(header)
                        .filter_map(Result::ok)
                        .map(|c| (c.name().to_string(), c.value().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            form,
            origin: None,
        }
    }
}

impl SetCookie {
    /// The `Set-Cookie` header value: `Secure`, `HttpOnly`, `Path=/`, its `SameSite` and
    /// `Max-Age` (RFC 6265bis).
    pub fn to_header_value(&self) -> String {
        let mut builder = Cookie::build((self.name.as_str(), self.value.as_str()))
            .secure(true)
            .http_only(true)
            .path("/")
            .same_site(match self.same_site {
                SameSite::Lax => CookieSameSite::Lax,
                SameSite::None => CookieSameSite::None,
            });
        if let Some(max_age) = self.max_age {
            let seconds = i64::try_from(max_age).unwrap_or(i64::MAX);
            builder = builder.max_age(cookie::time::Duration::seconds(seconds));
        }
        builder.build().to_string()
    }
}

impl WebResponse {
    /// The response as plain HTTP: status, headers, one `Set-Cookie` per cookie, and the body;
    /// a [`Page`] still unrendered becomes its plain text ([`Page`]'s `Display`,
    /// `text/plain; charset=utf-8`). Apps with their own HTML render the page first.
    pub fn into_http(mut self) -> HttpResponse {
        if let Some(page) = self.page.take() {
            self.body = page.to_string().into_bytes();
            self.headers
                .push(("content-type".into(), "text/plain; charset=utf-8".into()));
        }
        for cookie in &self.cookies {
            self.headers
                .push(("set-cookie".into(), cookie.to_header_value()));
        }
        HttpResponse {
            status: self.status,
            headers: self.headers,
            body: self.body,
        }
    }
}

impl fmt::Display for Page {
    /// The page as one plain sentence (its text fields are the core's words or the user's own
    /// claims, never provider text).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::SignedOut => format!("You are signed out. Sign in: {}", super::SIGN_IN_HREF),
            Self::SignedIn { name } => format!("Signed in as {name}."),
            Self::SignInFailed { reason } => format!("Sign-in failed: {reason}"),
            Self::TenantOnboarded { tenant } => format!(
                "Your organization (tenant {tenant}) granted the application's permissions. You can close this page."
            ),
            Self::ConsentFailed { reason } => {
                format!("Consent not completed: {reason}. Start again: /tenants/consent")
            }
            Self::AccessDenied { reason } => format!("Access denied: {reason}"),
            Self::Unavailable { reason } => format!("Temporarily unavailable: {reason}"),
        };
        f.write_str(&text)
    }
}

#[cfg(test)]
mod tests;
