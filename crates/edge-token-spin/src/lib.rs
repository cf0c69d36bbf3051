//! # edge-token-spin
//!
//! The Spin adapter of [`edge_token`] (target `wasm32-wasip2`, spin-sdk 7 / WASI 0.3): the
//! runtime capabilities the core needs and [`TokenProvider`], the one object a component keeps
//! per instance to get tokens. Thin by design: grants, caching rules and validation live in
//! the core.
//!
//! - [`TokenProvider`]: app tokens, the daemon's downstream call and tenant routes, the web
//!   app's and the web API's routes (core dispatch: `WebApp::route`, `WebApi::route`), each
//!   scenario built once per instance under single-flight; token refreshes and token store
//!   writes in a task after the response, session records before it; settings and store
//!   through a [`Host`] ([`SpinHost`] in Spin, [`WasiHost`] under `wasmtime serve`).
//! - [`web_request`]: a Spin request as the core's `WebRequest` (form bodies bounded).
//!
//! - [`WasiHttpTransport`]: outbound WASI HTTP (`spin_sdk::http::send`), which never follows
//!   redirects, with a time limit per request and bodies read up to
//!   [`edge_token::platform::http::MAX_RESPONSE_BODY_BYTES`].
//! - [`SpinKv`]: a Spin key-value store as a [`edge_token::acquisition::KvHost`]; with
//!   [`edge_token::acquisition::ExpiringStore`] it is the shared token store
//!   ([`KvTokenStore`]), entries carrying their absolute expiry (Spin key-value has no TTL).
//! - [`VariableSettings`]: Spin variables as [`edge_token::config::Settings`], loaded through the
//!   [`VariableHost`] seam ([`SpinVariables`] in Spin, a double in tests).
//! - [`EnvSettings`]: settings from the WASI environment, for runtimes that run the component
//!   without Spin's interfaces (`wasmtime serve`).
//! - `SystemClock`, [`SpinSleep`], `SystemEntropy`: the host clock, the host's monotonic
//!   timer and random source (clock and randomness shared with Fastly, [`edge_token::platform::system`]).
//! - Certificates sign with the core's pure-Rust signer.
//!
//!
//! ## Quick start
//!
//! ```no_run
//! use edge_token_spin::{spin_response, SpinHost, TokenProvider};
//! use spin_sdk::http::{IntoResponse, Request};
//!
//! thread_local! {
//!     static TOKENS: TokenProvider<SpinHost> = TokenProvider::new(SpinHost);
//! }
//!
//! #[spin_sdk::http_service]
//! async fn handle(request: Request) -> impl IntoResponse {
//!     let tokens = TOKENS.with(Clone::clone);
//!     // The caller's bearer token, checked against DAEMON_API_AUDIENCE / DAEMON_CALLER_ROLES.
//!     let authorization = request.headers().get("authorization").and_then(|v| v.to_str().ok());
//!     spin_response(tokens.call_downstream(authorization).await)
//! }
//! # fn main() {}
//! ```

#![warn(missing_docs)]
#![warn(unreachable_pub)]
#![deny(unsafe_code)]

extern crate alloc;

mod kv;
mod platform;
mod provider;
mod transport;
mod variables;
mod web;

pub use kv::{KvTokenStore, SpinKv};
pub use platform::SpinSleep;
pub use provider::{
    spin_response, Host, MemoryTokenStore, SpinHost, TokenProvider, WasiHost, KEY_VALUE_STORE,
};
pub use transport::WasiHttpTransport;
pub use variables::{
    scenario_setting_names, variable_name, EnvSettings, SpinVariables, VariableHost,
    VariableSettings,
};
pub use web::web_request;
