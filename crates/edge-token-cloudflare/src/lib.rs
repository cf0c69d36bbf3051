//! # edge-token-cloudflare
//!
//! The Cloudflare Workers adapter of [`edge_token`]: the runtime capabilities the core needs,
//! and [`TokenProvider`], the one object a Worker keeps per isolate to get tokens. Thin by
//! design: grants, caching rules, validation and sessions live in the core.
//!
//! | piece | what it is |
//! | --- | --- |
//! | [`TokenProvider`] | per isolate: app tokens (client credentials), on-behalf-of tokens for a validated bearer, the web app's sign-in; clients built once under single-flight, refreshes and KV writes in `ctx.wait_until` |
//! | [`FetchTransport`] | Workers `fetch`, `redirect: "manual"`, a time limit per request, bodies capped |
//! | [`KvTokenStore`] | Workers KV as the shared token store, writes deferred with `ctx.wait_until` |
//! | [`TokenCoordinator`], [`DurableCoordinator`] | the optional Durable Object coordinating token work for the whole deployment (one object per app or on-behalf-of cache key, one per web-app session, whose refresh-token redemptions it serialises), and the isolates' channel to it |
//! | `WebCryptoSigner` (feature `certificate`), [`WebCryptoVerifier`] | `crypto.subtle` with non-extractable keys (signing RS256, PS256; verifying also ES256) |
//! | [`WorkerClock`], [`WorkerSleep`], [`WorkerEntropy`] | `Date.now()`, `setTimeout`, `crypto.getRandomValues` |
//! | [`EnvSettings`] | Worker vars and secrets as settings (`AUTHORITY`, `CLIENT_ID`, `AZURE_AD`, …) |
//! | [`install_console_logger`] | the core's `log` records on the Workers console at `LOG_LEVEL` |
//! | [`web_request`], [`web_response`], [`http_response`] | conversions between `worker` and the core's HTTP values |
//!
//! It is not a router and not an HTTP framework: the Worker keeps its own routes.
//!
//! ## Features
//!
//! A Worker carries only the scenarios it enables; app tokens ([`TokenProvider::app_token`])
//! are always there.
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `daemon` | yes | `TokenProvider::call_downstream`, `run_scheduled`, `daemon`: the daemon's protected route, scheduled runs, multi-tenant onboarding |
//! | `webapi` | no | `TokenProvider::on_behalf_of`, `web_api`: bearer validation and on-behalf-of |
//! | `webapp` | no | `TokenProvider::web_app`: OpenID Connect sign-in, sessions, logout, delegated calls |
//! | `certificate` | no | certificate credentials (`CLIENT_CERTIFICATE` + `CLIENT_PRIVATE_KEY`, `AZURE_AD` `Pem`), signed by `WebCryptoSigner`; without it those settings are a configuration error naming the feature |
//! | `azure-ad` | no | the `AZURE_AD` setting: Microsoft.Identity.Web's `AzureAd` section as JSON, mapped onto the flat settings; without it `AZURE_AD` is a configuration error naming the feature |
//! | `pkcs12` | no | PKCS#12 / PFX certificates in `AZURE_AD` (`SourceType: Base64Encoded`); implies `certificate` and `azure-ad` |
//! | `coordination` | no | [`DurableCoordinator`]: token requests (and web-app sessions' refresh-token redemptions) go through the `TOKEN_COORDINATOR` Durable Object; without it, a Worker with that binding refuses to get tokens (a configuration error naming the feature) |
//! | `coordinator` | no | exports the Durable Object class `TokenCoordinator` (implies `coordination`) |
//!
//! ## Quick start
//!
//! A Worker answering `GET /` with a downstream API's response, called with an app token
//! (client credentials). Settings: `AUTHORITY`, `CLIENT_ID`, `CLIENT_SECRET` (or, with the
//! feature `certificate`, `CLIENT_CERTIFICATE` + `CLIENT_PRIVATE_KEY`), `DOWNSTREAM_URL`, `DOWNSTREAM_SCOPES`; bind a KV
//! namespace as `TOKEN_CACHE` for tokens shared across isolates.
//!
//! ```no_run
//! use edge_token_cloudflare::TokenProvider;
//! use worker::{event, Context, Env, Fetch, Headers, Request, RequestInit, Response, Result};
//!
//! #[event(fetch)]
//! async fn fetch(_request: Request, env: Env, ctx: Context) -> Result<Response> {
//!     let scopes = env.var("DOWNSTREAM_SCOPES")?.to_string();
//!     let token = TokenProvider::for_isolate()
//!         .app_token(&env, &ctx, &scopes)
//!         .await
//!         .map_err(|error| worker::Error::RustError(error.to_string()))?;
//!     let headers = Headers::new();
//!     headers.set("authorization", &token.authorization())?;
//!     let mut init = RequestInit::new();
//!     init.with_headers(headers);
//!     let url = env.var("DOWNSTREAM_URL")?.to_string();
//!     Fetch::Request(Request::new_with_init(&url, &init)?).send().await
//! }
//! # fn main() {}
//! ```

#![warn(missing_docs)]
#![warn(unreachable_pub)]
#![deny(unsafe_code)]

extern crate alloc;

// `#[durable_object]` generates undocumented JS glue (the class's constructor and `fetch`);
// everything written here is documented.
#[allow(missing_docs)]
mod coordinator;
mod kv;
mod log;
mod platform;
mod provider;
#[cfg(feature = "certificate")]
mod signer;
#[cfg(test)]
mod test_keys;
mod transport;
mod verifier;
mod web;
mod webcrypto;

pub use self::log::install_console_logger;
#[cfg(feature = "coordination")]
pub use coordinator::DurableCoordinator;
#[cfg(feature = "coordinator")]
pub use coordinator::TokenCoordinator;
pub use coordinator::TOKEN_COORDINATOR_BINDING;
pub use kv::KvTokenStore;
pub use platform::{
    webcrypto_signer, EnvSettings, WorkerClock, WorkerEntropy, WorkerPlatform, WorkerSleep,
};
#[cfg(feature = "webapi")]
pub use provider::OnBehalfOfError;
pub use provider::{TokenProvider, TOKEN_CACHE_BINDING};
#[cfg(feature = "certificate")]
pub use signer::WebCryptoSigner;
pub use transport::{FetchTransport, DEFAULT_TIMEOUT};
pub use verifier::WebCryptoVerifier;
pub use web::{http_response, web_request, web_response};
