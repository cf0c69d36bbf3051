//! Plain values for the HTTP exchanges of the web app (with the browser) and of the web API
//! (with its callers): what an adapter hands in (method, query, cookies, form, `Authorization`)
//! and what it sends back (status, headers, cookies to set, body). The core decides cookie names,
//! values and attributes; with the `std` feature it also reads and writes their HTTP forms
//! (`WebRequest::from_http`, `WebResponse::into_http`, with the `cookie` crate), which every
//! adapter shares.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// An incoming request, as the web app and the web API need it.
#[derive(Clone, Default)]
pub struct WebRequest {
    /// The `Authorization` header as received (RFC 9110 §11.6.2), for the web API: a secret
    /// (it carries the caller's token), so `Debug` shows only whether it is present.
    pub authorization: Option<String>,
    /// `true` for `POST` (the `form_post` callback), `false` for `GET`.
    pub is_post: bool,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// Cookies (name, value) from the `Cookie` header, in order.
    pub cookies: Vec<(String, String)>,
    /// Form fields of an `application/x-www-form-urlencoded` body, decoded, in order.
    pub form: Vec<(String, String)>,
    /// The origin (RFC 6454 §6.2 ASCII serialization, e.g. `https://app.example.com`) of the
    /// URL the runtime received the request at ([`WebRequest::with_url`]): it picks which of
    /// the web app's redirect URIs a sign-in uses. `None` when the adapter does not know it
    /// (the first redirect URI is used).
    pub origin: Option<String>,
}

impl fmt::Debug for WebRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Cookie values, codes and states are secrets: only names are shown.
        let names = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .map(|(name, _)| name.clone())
                .collect::<Vec<_>>()
        };
        f.debug_struct("WebRequest")
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "[redacted]"),
            )
            .field("is_post", &self.is_post)
            .field("query", &names(&self.query))
            .field("cookies", &names(&self.cookies))
            .field("form", &names(&self.form))
            .field("origin", &self.origin)
            .finish()
    }
}

impl WebRequest {
    /// The cookie named `name` when the request carries exactly one. Two cookies of one name
    /// (one of them planted, e.g. by a sibling domain or a cookie-tossing page) cannot be told
    /// apart (RFC 6265 §5.4 sends no attributes), so an ambiguous cookie reads as absent: the
    /// web app then treats the visitor as signed out instead of picking one.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        let mut named = self.cookies.iter().filter(|(n, _)| n == name);
        match (named.next(), named.next()) {
            (Some((_, value)), None) => Some(value),
            _ => None,
        }
    }

    /// Whether the request carries more than one cookie named `name` (see [`WebRequest::cookie`]).
    pub fn has_ambiguous_cookie(&self, name: &str) -> bool {
        self.cookies
            .iter()
            .filter(|(n, _)| n == name)
            .nth(1)
            .is_some()
    }

    /// This request with [`WebRequest::origin`] taken from `url`, the absolute URL the runtime
    /// received it at; a URL that does not parse or has an opaque origin leaves it `None`.
    pub fn with_url(mut self, url: &str) -> Self {
        self.origin = url::Url::parse(url)
            .ok()
            .map(|url| url.origin())
            .filter(url::Origin::is_tuple)
            .map(|origin| origin.ascii_serialization());
        self
    }

    /// The first query parameter named `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        first(&self.query, name)
    }

    /// The parameters of an authorization response: the form for `POST`, else the query.
    pub fn callback_params(&self) -> impl Iterator<Item = (&str, &str)> {
        let pairs = if self.is_post {
            &self.form
        } else {
            &self.query
        };
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The `SameSite` cookie attribute (RFC 6265bis §5.4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// Sent on same-site requests and top-level cross-site `GET` navigations.
    Lax,
    /// Sent on every request, including the provider's cross-site `form_post`; requires
    /// `Secure`.
    None,
}

/// A cookie to set. Always `Secure`, `HttpOnly` and `Path=/` (the `__Host-` prefix demands
/// `Secure`, `Path=/` and no `Domain`, RFC 6265bis §4.1.3.2).
#[derive(Clone, PartialEq, Eq)]
pub struct SetCookie {
    /// Name (with its `__Host-` prefix).
    pub name: String,
    /// Value (empty when deleting).
    pub value: String,
    /// `Max-Age` in seconds; `Some(0)` deletes; `None` makes a browser-session cookie.
    pub max_age: Option<u64>,
    /// `SameSite`.
    pub same_site: SameSite,
}

impl SetCookie {
    /// A cookie that deletes `name` (`Max-Age=0`, empty value).
    pub fn delete(name: &str, same_site: SameSite) -> Self {
        Self {
            name: name.to_string(),
            value: String::new(),
            max_age: Some(0),
            same_site,
        }
    }
}

impl fmt::Debug for SetCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetCookie")
            .field("name", &self.name)
            .field("max_age", &self.max_age)
            .field("same_site", &self.same_site)
            .finish_non_exhaustive()
    }
}

/// A response for the browser. `Debug` shows the status, header names, cookies (names only)
/// and body length: a `Location` can carry an `id_token_hint`, a body the user's claims.
#[derive(Clone, PartialEq, Eq)]
pub struct WebResponse {
    /// HTTP status.
    pub status: u16,
    /// Header fields (names lower-case), besides `Set-Cookie`.
    pub headers: Vec<(String, String)>,
    /// Cookies to set or delete.
    pub cookies: Vec<SetCookie>,
    /// Body bytes (empty when [`WebResponse::page`] is set).
    pub body: Vec<u8>,
    /// A page for the app to render (the core writes no HTML): set instead of a body on
    /// the web app's pages; the app renders it with its own markup and `content-type`.
    pub page: Option<Page>,
}

/// The pages of the web app, as data for the app to render (its markup, language and styling
/// are the app's). Every text field is one of the core's own sentences or a claim of the
/// signed-in user, never provider text: render it escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Page {
    /// `/` for a visitor without a session: offer [`SIGN_IN_HREF`].
    SignedOut,
    /// `/` for a signed-in user: `name` is the ID token's `name` (else `preferred_username`,
    /// else `sub`). Offer `/me`, `/me/call` and `/auth/sign-out`.
    SignedIn {
        /// The user's display name.
        name: String,
    },
    /// A sign-in that could not complete (status 400): offer [`SIGN_IN_HREF`] again.
    SignInFailed {
        /// What went wrong, in the core's words.
        reason: String,
    },
    /// A customer tenant's administrator granted the app's permissions (admin consent): the
    /// tenant is onboarded ([`crate::scenarios::tenants`]).
    TenantOnboarded {
        /// The tenant id.
        tenant: String,
    },
    /// An admin consent that did not complete (status 400): cancelled, expired, forged or
    /// replayed.
    ConsentFailed {
        /// What went wrong, in the core's words.
        reason: String,
    },
    /// A call that needs the user's consent or an interaction that was declined or did not help
    /// (status 403): the user was sent to the provider once for it already (the session
    /// remembers re-authorizations by scopes). Offer `/`.
    AccessDenied {
        /// What went wrong, in the core's words.
        reason: String,
    },
    /// A failure outside sign-in (configuration, provider unreachable; status 500 or 503).
    Unavailable {
        /// What went wrong, in the core's words.
        reason: String,
    },
}

/// Where a page's sign-in link points: the sign-in route, returning to `/` afterwards.
pub const SIGN_IN_HREF: &str = "/auth/sign-in?returnTo=%2F";

impl fmt::Debug for WebResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("WebResponse")
            .field("status", &self.status)
            .field("headers", &names)
            .field("cookies", &self.cookies)
            .field("body_len", &self.body.len())
            .field("page", &self.page.as_ref().map(|_| "…"))
            .finish()
    }
}

impl WebResponse {
    /// `302 Found` to `location`, never cached.
    pub fn redirect(location: &str) -> Self {
        Self::new(302, &[("location", location)], Vec::new())
    }

    /// A JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self::new(
            status,
            &[("content-type", "application/json")],
            serde_json::to_vec(body).unwrap_or_default(),
        )
    }

    /// A [`Page`] for the app to render, with no body.
    pub fn page(status: u16, page: Page) -> Self {
        Self {
            page: Some(page),
            ..Self::new(status, &[], Vec::new())
        }
    }

    /// A response with `headers` plus `cache-control: no-store` (every answer here is
    /// user-specific or carries a cookie: RFC 9111 §5.2.2.5).
    pub fn new(status: u16, headers: &[(&str, &str)], body: Vec<u8>) -> Self {
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
            .collect();
        all.push(("cache-control".into(), "no-store".into()));
        Self {
            status,
            headers: all,
            cookies: Vec::new(),
            body,
            page: None,
        }
    }

    /// An API's answer relayed to the caller: its status, `content-type` (default
    /// `application/octet-stream`) and body, plus `x-edge-token-source` naming where the token
    /// came from ([`crate::acquisition::client::TokenSource::as_str`]).
    pub fn relayed(answer: &crate::platform::http::HttpResponse, token_source: &str) -> Self {
        let content_type = answer
            .header("content-type")
            .unwrap_or("application/octet-stream");
        Self::new(
            answer.status,
            &[
                ("content-type", content_type),
                ("x-edge-token-source", token_source),
            ],
            answer.body.clone(),
        )
    }

    /// 405 `{"error":"method_not_allowed"}` (RFC 9110 §15.5.6), for a known path asked with
    /// another method: every route table's answer.
    pub fn method_not_allowed() -> Self {
        Self::json(405, &serde_json::json!({ "error": "method_not_allowed" }))
    }

    /// Adds a header field (`name` lower-case).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds a cookie to set.
    pub fn with_cookie(mut self, cookie: SetCookie) -> Self {
        self.cookies.push(cookie);
        self
    }

    /// The first header named `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        first(&self.headers, name)
    }
}

#[cfg(feature = "std")]
mod wire;
#[cfg(feature = "std")]
pub use wire::MAX_FORM_BYTES;
