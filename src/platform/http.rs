//! HTTP requests and responses as plain values: what the sans-IO core builds and parses.
//!
//! The core never sends anything. It returns an [`HttpRequest`] for the adapter to send with the
//! platform's client (which must not follow redirects), and takes back an [`HttpResponse`].
//! Neither type's `Debug` shows a body or header values: request bodies carry client secrets
//! and assertions, response bodies carry tokens.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use url::Url;

/// The largest response body the core accepts, in bytes (512 KiB). Token responses with large
/// ID tokens are a few tens of KiB; anything near this is not a token response. Adapters should
/// stop reading at this size.
pub const MAX_RESPONSE_BODY_BYTES: usize = 512 * 1024;

/// HTTP methods the core uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`: discovery documents, key sets.
    Get,
    /// `POST`: token requests (RFC 6749 §3.2: the token endpoint takes POST only).
    Post,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// A request for the adapter to send. Adapters must send it as is and must not follow
/// redirects: a 3xx comes back to the core as a response.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL (`https`, or `http` on a loopback host only).
    pub url: Url,
    /// Header fields in order, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body bytes (`application/x-www-form-urlencoded` for token requests); empty for GET.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A GET request with `Accept: application/json`.
    pub fn get_json(url: Url) -> Self {
        Self {
            method: Method::Get,
            url,
            headers: alloc::vec![header("accept", "application/json")],
            body: Vec::new(),
        }
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A response as the adapter received it.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header fields; names are compared case-insensitively.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

pub(crate) fn header(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.to_string())
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
