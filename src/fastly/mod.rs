//! Fastly Compute adapter (feature `fastly`, target wasm32-wasip1): the platform capabilities
//! of the core on the `fastly` crate. Thin by design: no token logic lives here.
//!
//! - [`BackendTransport`]: requests through Fastly backends (a configured backend named after
//!   the URL's origin, else a dynamic backend registered for it), no redirects followed, time
//!   limits per request, bodies read up to [`crate::http::MAX_RESPONSE_BODY_BYTES`].
//! - [`FastlyKv`]: a Fastly KV Store as a [`crate::cache::expiring::KvHost`]; with
//!   [`crate::cache::expiring::ExpiringStore`] it is the shared token store
//!   ([`KvTokenStore`]), entries carrying their absolute expiry.
//! - [`StoreSettings`]: settings from a Config Store, secrets from a Secret Store.
//! - [`SystemClock`], [`WasiEntropy`] (shared with Spin, [`crate::wasi`]), [`ImmediateSleep`]:
//!   the host clock, the host's random source (WASI `random_get` through getrandom), and a
//!   sleep that does not wait (see its docs).
//! - [`rustcrypto_signer`]: the pure-Rust signer backend for certificate credentials.
//!
//! [`app`] serves the reference app's routes (`GET /daemon/call`, `GET /healthz`).
//!
//! Fastly runs one request per instance, to completion, and its host calls block: every
//! future here is ready when first polled, so [`block_on`] runs the core's async API without an
//! executor.

pub mod app;
mod kv;
mod platform;
mod settings;
mod transport;

pub use crate::signer::rustcrypto::rustcrypto_signer;
pub use crate::wasi::{SystemClock, WasiEntropy};
pub use kv::{FastlyKv, KvTokenStore};
pub use platform::{block_on, FastlyPlatform, ImmediateSleep};
pub use settings::{StoreSettings, CONFIG_STORE, SECRET_SETTINGS, SECRET_STORE};
pub use transport::BackendTransport;
