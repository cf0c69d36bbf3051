//! The three Microsoft identity platform scenarios, platform-free so that every runtime's app
//! is a few lines: a daemon that calls web APIs with app tokens, a web app that signs users in
//! (OIDC authorization code + PKCE) and calls APIs as them, and a web API that validates its
//! callers' bearer tokens and calls APIs on their behalf; plus the bearer validation of a
//! protected resource (the web API's and the daemon's routes), calls to downstream APIs and
//! the runtime-neutral HTTP values the apps convert to and from.

pub(crate) mod app_tokens;
pub(crate) mod daemon;
pub(crate) mod downstream;
pub(crate) mod protected;
pub(crate) mod return_to;
pub(crate) mod session;
pub mod tenants;
pub(crate) mod web;
pub(crate) mod webapi;
pub(crate) mod webapp;

pub use app_tokens::AppTokens;
pub use daemon::{
    call_reply, tenant_parameter, CallFailure, Daemon, DaemonAnswer, DaemonCallers, DaemonConfig,
    ScheduledOutcome, ScheduledReport, DAEMON_SETTING_NAMES, MAX_SCHEDULED_TENANTS,
    TOKEN_SOURCE_HEADER,
};
pub use downstream::{call_api, DownstreamAnswer, DownstreamApi, DownstreamError, Retry};
pub use protected::{AccessPolicy, Caller, ProtectedResource, Rejection};
pub use session::{SessionLifetime, DEFAULT_SESSION_ABSOLUTE_TIMEOUT_SECS};
#[cfg(feature = "std")]
pub use web::MAX_FORM_BYTES;
pub use web::{Page, SameSite, SetCookie, WebRequest, WebResponse, SIGN_IN_HREF};
pub use webapi::{WebApi, WebApiConfig, WEB_API_PROFILE_PATH, WEB_API_SETTING_NAMES};
pub use webapp::{
    RedirectUris, UnregisteredOrigin, WebApp, WebAppConfig, WebAppRoute, WEB_APP_SETTING_NAMES,
};
