//! # edge-token-fastly
//!
//! The Fastly Compute adapter of [`edge_token`] (target `wasm32-wasip1`): the runtime
//! capabilities the core needs and [`TokenProvider`], the one object an app keeps for its
//! instance to get tokens. Thin by design: grants, caching rules and validation live in the core.
//!
//! | piece | what it is |
//! | --- | --- |
//! | [`TokenProvider`] | app tokens, the daemon's downstream call, the tenant, web app and web API routes (the core's route tables); proactive refreshes and token cache writes run in [`TokenProvider::after_response`], session records are written before the response |
//! | [`BackendTransport`] | requests through Fastly backends (a configured backend named after the URL's origin, else a dynamic one), no redirects, time limits, capped bodies |
//! | [`CollapsingStore`] | the POP's Core Cache in front of the KV Store: concurrent misses of a key wait for one instance's fill (request collapsing), sealed entries only |
//! | [`FastlyKv`], [`KvTokenStore`] | a Fastly KV Store as the shared token store, entries carrying their absolute expiry |
//! | [`StoreSettings`] | settings from a Config Store, secrets ([`SECRET_SETTINGS`]) from a Secret Store |
//! | [`FastlyPlatform`], [`FastlySleep`], [`block_on`] | the per-request platform, a sleep that really waits, the poll loop |
//!
//! The clock, random source and stderr logger are the core's
//! [`edge_token::platform::system`] ones; certificates sign with the core's pure-Rust signer.
//!
//! Fastly runs one request per instance, to completion, and its host calls block: every future
//! here is ready when first polled, so [`block_on`] runs the core's async API without an
//! executor, and nothing is cached in memory across requests: the POP's Core Cache and the KV
//! Store are the cache, and concurrent instances missing the same token wait for the first
//! one's provider request instead of each sending their own ([`CollapsingStore`]).
//!
//! ## Quick start
//!
//! ```no_run
//! use edge_token_fastly::TokenProvider;
//!
//! fn main() {
//!     let tokens = TokenProvider::default();
//!     let response = match tokens.app_token("api://downstream/.default") {
//!         Ok(token) => fastly::Request::get("https://api.example.com/data")
//!             .with_header("authorization", token.authorization())
//!             .send("api")
//!             .unwrap_or_else(|_| fastly::Response::from_status(502)),
//!         Err(_) => fastly::Response::from_status(503),
//!     };
//!     response.send_to_client();
//!     tokens.after_response();
//! }
//! ```

#![warn(missing_docs)]
#![warn(unreachable_pub)]
#![deny(unsafe_code)]

extern crate alloc;

mod collapsing;
mod kv;
mod platform;
mod provider;
mod settings;
mod transport;

pub use collapsing::{CollapsingStore, KV_FILL_MAX_AGE};
pub use kv::{FastlyKv, KvTokenStore};
pub use platform::{block_on, FastlyPlatform, FastlySleep, COLLAPSED_WAIT_MARGIN};
pub use provider::{TokenProvider, TOKEN_CACHE_STORE};
pub use settings::{StoreSettings, CONFIG_STORE, SECRET_SETTINGS, SECRET_STORE};
pub use transport::BackendTransport;

/// The `fastly` response for a core reply (status, headers, body), e.g.
/// [`TokenProvider::call_downstream`]'s.
pub fn fastly_response(reply: edge_token::platform::http::HttpResponse) -> fastly::Response {
    let mut response = fastly::Response::from_status(reply.status);
    for (name, value) in &reply.headers {
        response.append_header(name.as_str(), value.as_str());
    }
    if !reply.body.is_empty() {
        response.set_body(reply.body);
    }
    response
}

/// The core's [`edge_token::scenarios::WebRequest`] for `request` (its URL's origin, query, cookies,
/// `Authorization`, and for a form `POST` of at most
/// [`edge_token::scenarios::MAX_FORM_BYTES`] its fields; the body is taken only then).
pub fn web_request(request: &mut fastly::Request) -> edge_token::scenarios::WebRequest {
    let is_post = request.get_method_str() == "POST";
    let content_type = request.get_header_str("content-type").map(str::to_string);
    let is_form = content_type
        .as_deref()
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let body = if is_post && is_form && request.has_body() {
        request.take_body_bytes()
    } else {
        alloc::vec::Vec::new()
    };
    edge_token::scenarios::WebRequest::from_http(
        is_post,
        request.get_query_str(),
        request.get_header_str("cookie"),
        request.get_header_str("authorization").map(str::to_string),
        content_type.as_deref(),
        &body,
    )
    // The URL the client asked for: its origin picks the web app's redirect URI.
    .with_url(request.get_url_str())
}
