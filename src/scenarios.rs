//! The three Microsoft identity platform scenarios, platform-free so that every runtime's app
//! is a few lines: a daemon that calls web APIs with app tokens, a web app that signs users in
//! (OIDC authorization code + PKCE) and calls APIs as them, and a web API that validates its
//! callers' bearer tokens and calls APIs on their behalf; plus the bearer validation of a
//! protected resource (the web API's and the daemon's routes), calls to downstream APIs and
//! the runtime-neutral HTTP values the apps convert to and from.
//!
//! Each scenario is behind its cargo feature (`daemon`, `webapi`, `webapp`; all three by
//! default), so that an app that needs one carries none of the others' code; app tokens,
//! bearer validation, downstream calls and the HTTP values are always here.

pub(crate) mod app_tokens;
#[cfg(any(feature = "daemon", feature = "webapi", feature = "webapp"))]
pub(crate) mod call_failure;
#[cfg(feature = "daemon")]
pub(crate) mod daemon;
pub(crate) mod downstream;
pub(crate) mod protected;
#[cfg(feature = "webapp")]
pub(crate) mod return_to;
#[cfg(feature = "webapp")]
pub(crate) mod session;
#[cfg(feature = "daemon")]
pub mod tenants;
pub(crate) mod web;
#[cfg(feature = "webapi")]
pub(crate) mod webapi;
#[cfg(feature = "webapp")]
pub(crate) mod webapp;

pub use app_tokens::AppTokens;
#[cfg(any(feature = "daemon", feature = "webapi", feature = "webapp"))]
pub use call_failure::CallFailure;
#[cfg(feature = "daemon")]
pub use daemon::{
    call_reply, tenant_parameter, Daemon, DaemonAnswer, DaemonCallers, DaemonConfig,
    ScheduledOutcome, ScheduledReport, DAEMON_SETTING_NAMES, MAX_SCHEDULED_TENANTS,
    TOKEN_SOURCE_HEADER,
};
pub use downstream::{call_api, DownstreamAnswer, DownstreamApi, DownstreamError, Retry};
pub use protected::{AccessPolicy, Caller, ProtectedResource, Rejection};
#[cfg(feature = "webapp")]
pub use session::{SessionLifetime, DEFAULT_SESSION_ABSOLUTE_TIMEOUT_SECS};
#[cfg(feature = "std")]
pub use web::MAX_FORM_BYTES;
pub use web::{Page, SameSite, SetCookie, WebRequest, WebResponse, SIGN_IN_HREF};
#[cfg(feature = "webapi")]
pub use webapi::{WebApi, WebApiConfig, WEB_API_PROFILE_PATH, WEB_API_SETTING_NAMES};
#[cfg(feature = "webapp")]
pub use webapp::{
    RedirectUris, UnregisteredOrigin, WebApp, WebAppConfig, WebAppRoute, WEB_APP_SETTING_NAMES,
};
