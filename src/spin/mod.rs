//! Spin adapter (feature `spin`, target wasm32-wasip2, spin-sdk 7 / WASI 0.3): the platform
//! capabilities of the core on the Spin SDK. Thin by design: no token logic lives here.
//!
//! - [`WasiHttpTransport`]: outbound WASI HTTP (`spin_sdk::http::send`), which never follows
//!   redirects, with a time limit per request and bodies read up to
//!   [`crate::http::MAX_RESPONSE_BODY_BYTES`].
//! - [`SpinKv`]: a Spin key-value store as a [`crate::cache::expiring::KvHost`]; with
//!   [`crate::cache::expiring::ExpiringStore`] it is the shared token store
//!   ([`KvTokenStore`]), entries carrying their absolute expiry (Spin key-value has no TTL).
//! - [`VariableSettings`]: Spin variables as [`crate::config::Settings`], loaded through the
//!   [`VariableHost`] seam ([`SpinVariables`] in Spin, a double in tests).
//! - [`EnvSettings`]: settings from the WASI environment, for runtimes that run the component
//!   without Spin's interfaces (`wasmtime serve`).
//! - [`SystemClock`], [`SpinSleep`], [`WasiEntropy`]: the host clock, the host's monotonic
//!   timer and random source (clock and randomness shared with Fastly, [`crate::wasi`]).
//! - [`rustcrypto_signer`]: the pure-Rust signer backend for certificate credentials.
//!
//! [`app`] serves the reference component's routes (`GET /daemon/call`, `GET /healthz`).

pub mod app;
mod kv;
mod platform;
mod transport;
mod variables;

pub use crate::signer::rustcrypto::rustcrypto_signer;
pub use crate::wasi::{SystemClock, WasiEntropy};
pub use kv::{KvTokenStore, SpinKv};
pub use platform::SpinSleep;
pub use transport::WasiHttpTransport;
pub use variables::{variable_name, EnvSettings, SpinVariables, VariableHost, VariableSettings};
