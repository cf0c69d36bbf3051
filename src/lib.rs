//! # edge-token
//!
//! OAuth 2.0 / OpenID Connect token acquisition at the edge, in WebAssembly: the Microsoft
//! identity platform (Entra ID) first, any standards-compliant provider second.
//!
//! This crate is the **platform-free core**: `no_std` + `alloc`, sans-IO. It builds token
//! requests, signs client assertions through a [`credentials::JwsSigner`], parses and validates
//! responses and received tokens, and owns cache keys, expiry and refresh rules. It never reads
//! a clock, draws randomness or does IO: an adapter hands those in as a [`Platform`] for each
//! operation. It is not an HTTP server or router, and it has no async runtime.
//!
//! Runtime adapters, each with a per-isolate `TokenProvider` that most users need and nothing
//! else: `edge-token-cloudflare` (Workers: `fetch`, KV, WebCrypto, `ctx.waitUntil`),
//! `edge-token-fastly` (Compute: backends, KV Store, Config and Secret Stores) and
//! `edge-token-spin` (WASI HTTP, key-value, variables). Start there; use this crate directly
//! to write an adapter or to drive the scenarios yourself.
//!
//! ## Layers
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`credentials`] | client secrets, certificates and keys, signed assertions (RFC 7523), signers |
//! | [`protocol`] | authorities (Entra ID, B2C, External ID, AD FS, OIDC), discovery, token requests and responses, scopes, PKCE, bearer headers |
//! | [`acquisition`] | [`ConfidentialClient`]: the grants, a two-level cache, single-flight, throttling, retries, clock correction |
//! | [`validation`] | JWS, JWKS, verifiers, ID tokens, access tokens |
//! | [`config`] | settings (flat names and Microsoft.Identity.Web's `AzureAd` section) parsed once into typed values |
//! | [`scenarios`] | the daemon, the web app, the web API, downstream API calls |
//! | [`platform`] | what adapters implement: clock, entropy, sleep, HTTP transport, token store |
//! | [`seal`] | authenticated encryption of what is kept outside memory: cache entries, session records, sign-in cookies |
//! | [`secret`], [`error`] | redacting secret types; the one [`Error`] type |
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `std` | yes | std-only conveniences (the core itself needs only `alloc`) |
//! | `rustcrypto` | yes | pure-Rust RS256/PS256 signer and RS256/PS256/ES256 verifier (`rsa`, `jwt-compact`, `p256`); draws randomness through `getrandom` |
//! | `certificate` | yes | certificate credentials: `CLIENT_CERTIFICATE` + `CLIENT_PRIVATE_KEY` (and `AzureAd` `Pem` credentials), `credentials::CertificateCredential` (RFC 7523 assertions with `x5t#S256` / `x5t` / `x5c`), X.509 and PEM/DER key decoding (`der`, `pkcs1`, `pkcs8`, `x509-cert`, `sha1`); without it a certificate setting is a configuration error |
//! | `azure-ad` | yes | the `AZURE_AD` setting: Microsoft.Identity.Web's `AzureAd` section as JSON, mapped onto the flat settings (`config::AzureAdSettings`); without it `AZURE_AD` is a configuration error naming the feature |
//! | `pkcs12` | yes | PKCS#12 / PFX certificates (`AzureAd` `Base64Encoded` credentials); implies `certificate` and `azure-ad` |
//! | `system` | no | the host's clock, random source and stderr logger through std (WASI hosts) |
//! | `daemon` | yes | [`Daemon`]: app tokens for a downstream API behind a protected route, scheduled runs, multi-tenant onboarding (admin consent) |
//! | `webapi` | yes | [`WebApi`]: bearer validation of callers and the on-behalf-of flow (Microsoft identity platform; RFC 7523 `jwt-bearer` grant; `ConfidentialClient::acquire_token_on_behalf_of`) |
//! | `webapp` | yes | [`WebApp`]: OpenID Connect sign-in (code + PKCE), sessions, logout, delegated calls (`ConfidentialClient::redeem_authorization_code`, `acquire_token_by_refresh_token`, `redeem_refresh_token`) |
//! | `coordination` | yes | deployment-wide coordination of token requests ([`acquisition::coordination`]): the protocol's messages, the isolate's requests to [`Platform::coordinator`], the coordinator's side (`AppTokens::serve_coordinated`); without it a platform's coordinator is refused ([`Error::Configuration`]) |
//!
//! [`AppTokens`] (client credentials), [`ProtectedResource`] (bearer validation) and
//! [`DownstreamApi`] are always there: an app that needs only app tokens turns the scenarios
//! off (`default-features = false`) and carries none of their code.
//!
//! ## Acquire an app token
//!
//! ```
//! use edge_token::credentials::SecretMethod;
//! use edge_token::secret::ClientSecret;
//! use edge_token::{Authority, ClientCredential, ConfidentialClient, Error, Platform, Scopes};
//!
//! /// Build once per isolate (it holds the memory cache), then ask per request.
//! fn client() -> Result<ConfidentialClient, Error> {
//!     let authority =
//!         Authority::parse("https://login.microsoftonline.com/contoso.onmicrosoft.com", None)?;
//!     let credential = ClientCredential::Secret {
//!         secret: ClientSecret::new("client secret from a secret store"),
//!         method: SecretMethod::default(),
//!     };
//!     ConfidentialClient::new(authority, "6731de76-14a6-49ae-97bc-6eba6914391e", credential)
//! }
//!
//! /// `platform` comes from the runtime's adapter.
//! async fn graph_authorization(
//!     client: &ConfidentialClient,
//!     platform: &Platform<'_>,
//! ) -> Result<String, Error> {
//!     let scopes = Scopes::parse("https://graph.microsoft.com/.default")?;
//!     let token = client.acquire_token_for_client(&scopes, platform).await?;
//!     Ok(token.authorization()) // "Bearer …": send it, never log it
//! }
//!
//! assert_eq!(client()?.client_id(), "6731de76-14a6-49ae-97bc-6eba6914391e");
//! # Ok::<(), Error>(())
//! ```
//!
//! ## Configure from settings
//!
//! The adapters read the same names everywhere (`AUTHORITY`, `CLIENT_ID`, one credential,
//! `DOWNSTREAM_URL`, …, or `AZURE_AD` as JSON); any [`Settings`] works:
//!
//! ```
//! use std::collections::BTreeMap;
//! use edge_token::config::{AzureAdSettings, ClientConfig};
//!
//! let mut settings = BTreeMap::new();
//! settings.insert("AUTHORITY".to_string(), "https://login.microsoftonline.com/contoso.onmicrosoft.com".to_string());
//! settings.insert("CLIENT_ID".to_string(), "6731de76-14a6-49ae-97bc-6eba6914391e".to_string());
//! settings.insert("CLIENT_SECRET".to_string(), "client secret".to_string());
//! let config = ClientConfig::from_settings(&AzureAdSettings::new(&settings)?)?;
//! assert!(!format!("{config:?}").contains("client secret"), "secrets never reach Debug");
//!
//! settings.remove("CLIENT_SECRET");
//! let error = ClientConfig::from_settings(&AzureAdSettings::new(&settings)?).unwrap_err();
//! assert!(matches!(error, edge_token::Error::Configuration(_)));
//! # Ok::<(), edge_token::Error>(())
//! ```
//!
//! ## Validate an incoming bearer, then call on its behalf
//!
//! ```
//! use edge_token::{Error, Platform, Scopes, WebApi};
//!
//! async fn on_behalf_of(
//!     api: &WebApi,
//!     authorization: Option<&str>,
//!     platform: &Platform<'_>,
//! ) -> Result<String, Error> {
//!     let caller = match api.authenticate(authorization, platform).await {
//!         Ok(caller) => caller,
//!         // `rejection.response()` is the RFC 6750 answer (401 / 403) to send.
//!         Err(rejection) => return Err(Error::configuration(format!("{rejection:?}"))),
//!     };
//!     let scopes = Scopes::parse("api://downstream/reports.read")?;
//!     let token = api.acquire_token_on_behalf_of(&caller, &scopes, platform).await?;
//!     Ok(token.authorization())
//! }
//! ```
//!
//! ## Sign users in
//!
//! [`WebApp`] answers the sign-in routes from runtime-neutral requests: the adapter converts
//! its runtime's request into a [`WebRequest`] and the [`WebResponse`] back.
//!
//! ```
//! use edge_token::{Platform, WebApp, WebRequest, WebResponse};
//!
//! async fn route(app: &WebApp, path: &str, request: &WebRequest, platform: &Platform<'_>) -> WebResponse {
//!     match path {
//!         "/auth/sign-in" => app.sign_in(request, platform).await,
//!         "/auth/callback" => app.callback(request, platform).await,
//!         "/auth/sign-out" => app.sign_out(request, platform).await,
//!         "/me" => app.me(request, platform).await,
//!         _ => app.home(request, platform).await,
//!     }
//! }
//! ```
//!
//! Secrets (client secrets, keys, assertions, tokens, codes, verifiers, cookie keys) are held in
//! [`secret`] types whose `Debug` and `Display` redact them.

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
pub mod seal;
pub mod secret;
#[cfg(test)]
mod testing;
pub mod validation;

// The tasks, by name.
// Acquire app tokens (client credentials):
pub use acquisition::{
    AcquiredToken, AppTokenRequest, ConfidentialClient, TokenOptions, TokenSource,
};
pub use credentials::ClientCredential;
pub use protocol::{Authority, AuthorityKind, Scopes};
pub use scenarios::AppTokens;
// Validate an incoming bearer and acquire on its behalf:
pub use scenarios::{AccessPolicy, Caller, ProtectedResource, Rejection};
#[cfg(feature = "webapi")]
pub use scenarios::{WebApi, WebApiConfig};
// Sign users in:
#[cfg(feature = "webapp")]
pub use scenarios::{WebApp, WebAppConfig};
pub use scenarios::{WebRequest, WebResponse};
// Call a downstream API:
#[cfg(any(feature = "daemon", feature = "webapi", feature = "webapp"))]
pub use scenarios::CallFailure;
pub use scenarios::DownstreamApi;
#[cfg(feature = "daemon")]
pub use scenarios::{call_reply, Daemon, DaemonConfig};
// What every task needs:
pub use config::Settings;
pub use error::Error;
pub use platform::Platform;
