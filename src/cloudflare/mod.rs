//! Cloudflare Workers adapter (feature `cloudflare`): the platform capabilities of the core on
//! the `worker` crate. Thin by design: no token logic lives here.
//!
//! - [`FetchTransport`]: Workers `fetch` with `redirect: "manual"` and a time limit per attempt.
//! - [`KvTokenStore`]: Workers KV as the shared token store.
//! - [`WorkerClock`], [`WorkerSleep`], [`WorkerEntropy`]: `Date.now()`, `setTimeout` and
//!   `crypto.getRandomValues` (getrandom).
//! - [`EnvSettings`]: vars and secrets as [`crate::config::Settings`].
//! - [`webcrypto_signer`]: the signer backend for certificate credentials (WebCrypto).
//! - [`install_console_logger`]: the core's log records on the Workers console (`LOG_LEVEL`).
//!
//! The reference Worker (feature `cloudflare-app`) lives in [`app`].

#[cfg(feature = "cloudflare-app")]
pub mod app;
mod kv;
mod log;
mod platform;
mod transport;
#[cfg(feature = "cloudflare-app")]
mod web;

pub use self::log::install_console_logger;
pub use kv::KvTokenStore;
pub use platform::{
    webcrypto_signer, EnvSettings, WorkerClock, WorkerEntropy, WorkerPlatform, WorkerSleep,
};
pub use transport::FetchTransport;
