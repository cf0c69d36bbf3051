//! # edge-token
//!
//! OAuth 2.0 / OpenID Connect token acquisition at the edge, in WebAssembly: the Microsoft
//! identity platform (Entra ID) first, any standards-compliant provider second.
//!
//! This crate is the platform-free core (`no_std` + `alloc`, sans-IO). Runtime adapters live in
//! their own crates (`edge-token-cloudflare`, `edge-token-fastly`, `edge-token-spin`).

#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]
#![warn(unreachable_pub)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod acquisition;
pub mod config;
pub mod credentials;
pub mod error;
pub mod platform;
pub mod protocol;
pub mod scenarios;
pub(crate) mod seal;
pub mod secret;
#[cfg(test)]
mod testing;
pub mod validation;

// The tasks, by name.
// Acquire app tokens (client credentials):
pub use acquisition::{AcquiredToken, ConfidentialClient, TokenOptions, TokenSource};
pub use credentials::ClientCredential;
pub use protocol::{Authority, AuthorityKind, Scopes};
// Validate an incoming bearer and acquire on its behalf:
pub use scenarios::{Caller, Rejection, WebApi, WebApiConfig};
// Sign users in:
pub use scenarios::{WebApp, WebAppConfig, WebRequest, WebResponse};
// Call a downstream API:
pub use scenarios::{call_reply, CallFailure, Daemon, DaemonConfig, DownstreamApi};
// What every task needs:
pub use config::Settings;
pub use error::Error;
pub use platform::Platform;
