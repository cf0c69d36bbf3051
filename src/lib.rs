//! # edge-token
//!
//! OAuth 2.0 / OpenID Connect token acquisition at the edge, in WebAssembly: the Microsoft
//! identity platform (Entra ID) first, any standards-compliant provider second.
//!
//! The crate has two layers:
//! - **The core** (always compiled, `no_std` + `alloc`, sans-IO): authorities and discovery
//!   ([`authority`], [`discovery`]), configuration ([`config`], with Microsoft.Identity.Web's
//!   `AzureAd` section), credentials and signed client assertions ([`credential`],
//!   [`certificate`], [`assertion`], [`signer`]), token requests and responses ([`request`],
//!   [`response`], [`claims`]), cache rules ([`cache`]), single-flight ([`single_flight`]),
//!   throttling and retries ([`throttle`]), clock correction ([`clock`]) and the orchestrating
//!   [`client::ConfidentialClient`]; received tokens ([`jwt`], [`jwks`], [`verifier`],
//!   [`id_token`], [`access_token`], [`bearer`]); and the three scenarios: [`daemon`],
//!   [`webapp`] and [`webapi`], calling APIs through [`downstream`]. It never reads a clock,
//!   draws randomness or does IO: the [`platform`] traits hand those in. It logs through the
//!   `log` facade.
//! - **Runtime adapters** behind features: `cloudflare` (Workers `fetch`, KV, WebCrypto,
//!   console), `fastly` and `spin`. The core never imports an adapter.
//!
//! Secrets are wrapped in [`secret`] types whose `Debug` and `Display` redact them.

// no_std unless the `std` feature is on (adapters need it; their macros expect std's prelude).
// The core uses only `core` and `alloc`; CI builds it for a bare-metal target to prove it.
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod access_token;
pub mod assertion;
pub mod authority;
pub mod authorization;
pub mod bearer;
pub mod cache;
pub mod certificate;
pub mod claims;
pub mod client;
pub mod clock;
pub mod config;
pub mod credential;
pub mod daemon;
pub mod discovery;
pub mod downstream;
pub mod error;
pub mod http;
pub mod id_token;
pub mod issuer_keys;
pub mod jwks;
pub mod jwt;
pub mod pkce;
pub mod platform;
pub mod request;
pub mod response;
pub mod return_to;
pub mod scope;
pub mod seal;
pub mod secret;
pub mod session;
pub mod signer;
pub mod single_flight;
#[cfg(test)]
mod testing;
pub mod throttle;
pub mod verifier;
pub mod web;
pub mod webapi;
pub mod webapp;
#[cfg(all(feature = "webcrypto", target_arch = "wasm32"))]
mod webcrypto;

#[cfg(all(feature = "cloudflare", target_arch = "wasm32"))]
pub mod cloudflare;
#[cfg(feature = "fastly")]
pub mod fastly;
#[cfg(feature = "spin")]
pub mod spin;
#[cfg(any(feature = "fastly", feature = "spin"))]
pub mod wasi;

pub use authority::{Authority, AuthorityKind};
pub use client::{AcquiredToken, ConfidentialClient, TokenSource};
pub use credential::ClientCredential;
pub use error::Error;
pub use platform::Platform;
pub use scope::Scopes;
