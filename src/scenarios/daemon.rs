//! The daemon scenario (Microsoft identity platform "daemon app that calls web APIs"): acquire
//! an app-only token with client credentials, call the downstream API with it, and report
//! failures as JSON. Platform-free, so every runtime's reference app is the same few lines.
//!
//! Settings, in addition to [`crate::config`]'s: `DOWNSTREAM_URL` (the API to call; `https`, or
//! `http` on loopback: bearer tokens travel only over TLS, RFC 6750 §5.3) and `DOWNSTREAM_SCOPES`
//! (space-separated; on Entra `{resource}/.default`), and optionally `HTTP_TIMEOUT_MS` (the time
//! limit of each outgoing request, 100–60000 ms, default 10000).
//!
//! The route that triggers the call acts with the application's own permissions, so it is a
//! protected resource itself (Microsoft identity platform "protected web API: verify app
//! roles"): callers send `Authorization: Bearer` with an app-only access token validated as
//! the web API validates its callers ([`ProtectedResource`]) — `DAEMON_API_AUDIENCE`
//! (space-separated audiences: the daemon's client id and/or App ID URI), `DAEMON_CALLER_ROLES`
//! (space-separated app roles, one of which the token's `roles` must hold; required with an
//! audience) and optionally `ALLOWED_TENANTS` and `ACCESS_TOKEN_SIGNING_ALG` (as for the web
//! API). A refused caller gets the [`Rejection`](crate::scenarios::Rejection)'s 401 / 403
//! with an RFC 6750 §3 challenge, and no token is requested.
//! `DAEMON_PUBLIC=true` instead leaves the route open to anyone who can reach it: **unsafe**,
//! for local demos only (a warning is logged when the daemon is built). Neither is a
//! configuration error: the route is never open by default.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::future::Future;
use core::time::Duration;

use crate::acquisition::client::{ConfidentialClient, TokenSource};
use crate::config::{http_timeout, optional, ClientConfig, Settings};
use crate::credentials::certificate::PrivateKey;
use crate::credentials::signer::{JwsAlgorithm, JwsSigner};
use crate::error::Error;
use crate::platform::http::{header, HttpRequest, HttpResponse};
use crate::platform::Platform;
use crate::scenarios::call_failure::{error_reply, retry_after, CallFailure};
use crate::scenarios::downstream::{call_api, DownstreamApi, DownstreamError};
use crate::scenarios::protected::{
    access_token_algorithm, setting_list, AccessPolicy, ProtectedResource,
};
use crate::scenarios::tenants::TenantOnboarding;
use crate::validation::access_token::RequiredPermissions;
use crate::validation::verifier::JwsVerifier;

/// The daemon's configuration.
#[derive(Debug)]
#[non_exhaustive]
pub struct DaemonConfig {
    /// Who we are and how we authenticate.
    pub client: ClientConfig,
    /// `DOWNSTREAM_URL` + `DOWNSTREAM_SCOPES`: the API called with app-only tokens.
    pub downstream: DownstreamApi,
    /// `HTTP_TIMEOUT_MS`: the time limit of each outgoing request.
    pub http_timeout: Duration,
    /// `DAEMON_API_AUDIENCE` + `DAEMON_CALLER_ROLES` (+ `ALLOWED_TENANTS`), or `DAEMON_PUBLIC`:
    /// who may make the daemon call.
    pub callers: DaemonCallers,
    /// `SCHEDULED_CALL_URL` (optional): the batch endpoint a scheduled run calls in each tenant
    /// with that tenant's app token for `DOWNSTREAM_SCOPES` ([`Daemon::run_scheduled`]).
    pub scheduled_call: Option<DownstreamApi>,
    /// `ADMIN_CONSENT_REDIRECT_URI`: multi-tenant onboarding by admin consent and the tenant
    /// registry ([`crate::scenarios::tenants`]); `None` (unset) turns the tenant routes off and
    /// lets `/daemon/call?tenant=` name any tenant (the provider refuses those that did not
    /// consent).
    pub onboarding: Option<TenantOnboarding>,
}

/// Who may trigger the daemon's call (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonCallers {
    /// Callers with a valid app-only bearer token for the policy's audience carrying one of its
    /// app roles (`DAEMON_API_AUDIENCE`, `DAEMON_CALLER_ROLES`, `ALLOWED_TENANTS`).
    Bearer(AccessPolicy),
    /// `DAEMON_PUBLIC=true`: anyone who can reach the route. Unsafe: it relays the
    /// application's permissions to every caller; for local demos only.
    Public,
}

impl DaemonCallers {
    /// Reads `DAEMON_API_AUDIENCE`, `DAEMON_CALLER_ROLES`, `ALLOWED_TENANTS`,
    /// `ACCESS_TOKEN_SIGNING_ALG` (the callers' tokens' algorithm) and `DAEMON_PUBLIC`.
    ///
    /// `DAEMON_PUBLIC=true` is the explicit opt-out (the daemon's build then warns that the
    /// route is open); it cannot be combined with a caller policy, so a leftover opt-out never
    /// silently opens a deployment configured for callers.
    ///
    /// # Errors
    /// [`Error::Configuration`] when neither an audience nor `DAEMON_PUBLIC=true` is set, when
    /// both are, when an audience comes without a caller role, or when `DAEMON_PUBLIC` is
    /// neither `true` nor `false`.
    pub fn from_settings(settings: &dyn Settings) -> Result<Self, Error> {
        let public = match optional(settings, "DAEMON_PUBLIC")
            .as_deref()
            .map(str::trim)
        {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(Error::configuration("DAEMON_PUBLIC must be true or false")),
        };
        let audiences = setting_list(optional(settings, "DAEMON_API_AUDIENCE"));
        let roles = setting_list(optional(settings, "DAEMON_CALLER_ROLES"));
        if public {
            return match (audiences.is_empty(), roles.is_empty()) {
                (true, true) => Ok(Self::Public),
                _ => Err(Error::configuration(
                    "DAEMON_PUBLIC=true contradicts DAEMON_API_AUDIENCE / DAEMON_CALLER_ROLES: set either a caller policy or the (unsafe) public opt-out",
                )),
            };
        }
        match (audiences.is_empty(), roles.is_empty()) {
            (true, _) => Err(Error::configuration(
                "missing setting DAEMON_API_AUDIENCE: /daemon/call acts with the app's permissions, so callers need a bearer token for this audience (DAEMON_PUBLIC=true opens it to anyone: unsafe, local demos only)",
            )),
            (false, true) => Err(Error::configuration(
                "missing setting DAEMON_CALLER_ROLES: the app roles (space-separated) a caller's token must hold one of",
            )),
            (false, false) => Ok(Self::Bearer(AccessPolicy::new(
                audiences,
                RequiredPermissions::new(Vec::new(), roles),
                setting_list(optional(settings, "ALLOWED_TENANTS")),
            )?
            .with_algorithm(access_token_algorithm(optional(
                settings,
                "ACCESS_TOKEN_SIGNING_ALG",
            ))?))),
        }
    }
}

impl DaemonConfig {
    /// Reads and validates every daemon setting.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the first bad setting; on the Microsoft identity platform,
    /// `DOWNSTREAM_SCOPES` other than one `{resource}/.default` (IDW10404/IDW10405).
    pub fn from_settings(settings: &dyn Settings) -> Result<Self, Error> {
        let client = ClientConfig::from_settings(settings)?;
        let downstream =
            DownstreamApi::from_settings(settings, "DOWNSTREAM_URL", "DOWNSTREAM_SCOPES", true)?;
        if client.authority.requires_default_scope() {
            downstream
                .scopes
                .require_app_only()
                .map_err(|error| match error {
                    Error::Configuration(rule) => {
                        Error::configuration(alloc::format!("DOWNSTREAM_SCOPES: {rule}"))
                    }
                    other => other,
                })?;
        }
        let http_timeout = http_timeout(settings)?;
        let callers = DaemonCallers::from_settings(settings)?;
        let onboarding = match optional(settings, "ADMIN_CONSENT_REDIRECT_URI") {
            Some(redirect_uri) => {
                let keys = client.token_cache_key.as_ref().ok_or_else(|| {
                    Error::configuration(
                        "ADMIN_CONSENT_REDIRECT_URI needs TOKEN_CACHE_KEY (or COOKIE_KEY): the consent state and the tenant registry are sealed",
                    )
                })?;
                Some(TenantOnboarding::new(
                    &client.authority,
                    &client.client_id,
                    &redirect_uri,
                    downstream.scopes.clone(),
                    keys,
                )?)
            }
            None => None,
        };
        let scheduled_call = match optional(settings, "SCHEDULED_CALL_URL") {
            Some(url) => Some(DownstreamApi::new(
                "SCHEDULED_CALL_URL",
                url::Url::parse(&url).map_err(|_| {
                    Error::configuration("SCHEDULED_CALL_URL is not an absolute URL")
                })?,
                downstream.scopes.clone(),
                true,
            )?),
            None => None,
        };
        Ok(Self {
            client,
            downstream,
            http_timeout,
            callers,
            scheduled_call,
            onboarding,
        })
    }
}

/// A downstream answer with the provenance of the token used.
#[derive(Debug)]
pub struct DaemonAnswer {
    /// The downstream response, as received.
    pub response: HttpResponse,
    /// Where the token came from.
    pub token_source: TokenSource,
    /// The token is due for a proactive refresh: run [`Daemon::refresh_in`] with `tenant` in
    /// the background.
    pub refresh_due: bool,
    /// The tenant of the call (`/daemon/call?tenant=`); `None` for the configured authority.
    pub tenant: Option<String>,
}

/// The daemon: a confidential client and the downstream API it calls. Build one per isolate.
///
/// ```
/// use std::collections::BTreeMap;
/// use edge_token::config::AzureAdSettings;
/// use edge_token::credentials::rustcrypto_signer;
/// use edge_token::validation::RustCryptoVerifier;
/// use edge_token::{Daemon, DaemonConfig};
///
/// let settings: BTreeMap<String, String> = [
///     ("AUTHORITY", "https://login.microsoftonline.com/contoso.onmicrosoft.com"),
///     ("CLIENT_ID", "6731de76-14a6-49ae-97bc-6eba6914391e"),
///     ("CLIENT_SECRET", "client secret"),
///     ("DOWNSTREAM_URL", "https://graph.microsoft.com/v1.0/users"),
///     ("DOWNSTREAM_SCOPES", "https://graph.microsoft.com/.default"),
///     // Who may trigger the call: app-only tokens for the daemon's API holding this app role.
///     ("DAEMON_API_AUDIENCE", "api://contoso-daemon"),
///     ("DAEMON_CALLER_ROLES", "Daemon.Call"),
/// ]
/// .into_iter()
/// .map(|(name, value)| (name.to_string(), value.to_string()))
/// .collect();
/// let config = DaemonConfig::from_settings(&AzureAdSettings::new(&settings)?)?;
/// // No IO here: a certificate's key would be handed to the signer backend.
/// let verifier = Box::new(RustCryptoVerifier::new());
/// let daemon = futures::executor::block_on(Daemon::build(config, rustcrypto_signer, verifier))?;
/// assert_eq!(daemon.http_timeout().as_secs(), 10); // HTTP_TIMEOUT_MS unset: 10 s
/// // Per request: `daemon.call(authorization, &platform).await` -> the downstream answer and
/// // the token's source, or the caller's rejection (401 / 403) with no token requested.
/// # Ok::<(), edge_token::Error>(())
/// ```
#[derive(Debug)]
pub struct Daemon {
    client: ConfidentialClient,
    downstream: DownstreamApi,
    http_timeout: Duration,
    /// `None`: `DAEMON_PUBLIC=true`.
    callers: Option<ProtectedResource>,
    /// `None`: no `ADMIN_CONSENT_REDIRECT_URI`.
    onboarding: Option<TenantOnboarding>,
    scheduled_call: Option<DownstreamApi>,
}

impl Daemon {
    /// Builds the daemon from `config`; `signer` is the adapter's signer backend for a
    /// certificate's key (see [`crate::config::CredentialConfig::into_credential`]) and
    /// `verifier` its signature backend for callers' access tokens (unused with
    /// [`DaemonCallers::Public`], which logs a warning here: the route is open to anyone).
    ///
    /// # Errors
    /// As [`crate::config::CredentialConfig::into_credential`]; [`Error::Configuration`] for an empty client id.
    pub async fn build<F, Fut>(
        config: DaemonConfig,
        signer: F,
        verifier: Box<dyn JwsVerifier>,
    ) -> Result<Self, Error>
    where
        F: FnOnce(PrivateKey, JwsAlgorithm) -> Fut,
        Fut: Future<Output = Result<Box<dyn JwsSigner>, Error>>,
    {
        let DaemonConfig {
            client,
            downstream,
            http_timeout,
            callers,
            scheduled_call,
            onboarding,
        } = config;
        let client = client.into_client(signer).await?;
        let callers = match callers {
            DaemonCallers::Bearer(policy) => Some(ProtectedResource::new(policy, verifier)),
            DaemonCallers::Public => {
                log::warn!(
                    "DAEMON_PUBLIC=true: /daemon/call is open to anyone who can reach it and acts with this app's permissions (any DAEMON_API_AUDIENCE / DAEMON_CALLER_ROLES is ignored); unsafe outside local demos"
                );
                None
            }
        };
        Ok(Self {
            client,
            downstream,
            http_timeout,
            callers,
            onboarding,
            scheduled_call,
        })
    }

    /// Whether the call is open to any caller (`DAEMON_PUBLIC=true`).
    pub fn is_public(&self) -> bool {
        self.callers.is_none()
    }

    /// The time limit for each outgoing request (`HTTP_TIMEOUT_MS`), for the adapter's transport.
    pub fn http_timeout(&self) -> Duration {
        self.http_timeout
    }

    /// Checks the caller, then acquires an app token for `DOWNSTREAM_SCOPES` and calls
    /// `DOWNSTREAM_URL` with it (`GET`, `Authorization: Bearer`), through
    /// [`crate::scenarios::downstream::call_api`]: a claims challenge or `invalid_token` gets
    /// one retry with a new token.
    ///
    /// `authorization` is the incoming request's `Authorization` header value. Unless the
    /// daemon is public, it must carry a bearer token passing
    /// [`ProtectedResource::authenticate`] for `DAEMON_API_AUDIENCE` with one of
    /// `DAEMON_CALLER_ROLES`; that check comes first, so a refused caller causes no token
    /// request and no downstream call.
    ///
    /// # Errors
    /// [`CallFailure::Rejected`] for a refused caller, [`CallFailure::Token`] when no token
    /// could be acquired, [`CallFailure::Downstream`] when the downstream API could not be
    /// reached. Downstream HTTP errors are answers, not failures: they are returned as they
    /// are.
    pub async fn call(
        &self,
        authorization: Option<&str>,
        platform: &Platform<'_>,
    ) -> Result<DaemonAnswer, CallFailure> {
        self.call_in_tenant(authorization, None, platform).await
    }

    /// [`Daemon::call`] in `tenant` (a tenant id or verified domain; `GET /daemon/call?tenant=`)
    /// for a multi-tenant app: the app token comes from that tenant
    /// ([`ConfidentialClient::tenant_client`]). With onboarding configured
    /// (`ADMIN_CONSENT_REDIRECT_URI`), a tenant missing from the registry is refused with no
    /// token request.
    ///
    /// # Errors
    /// As [`Daemon::call`]; [`CallFailure::UnknownTenant`] for a tenant that is not onboarded
    /// or not a tenant id; [`CallFailure::Token`] when the registry cannot be read or the
    /// authority is not Entra ID.
    pub async fn call_in_tenant(
        &self,
        authorization: Option<&str>,
        tenant: Option<&str>,
        platform: &Platform<'_>,
    ) -> Result<DaemonAnswer, CallFailure> {
        if let Some(callers) = &self.callers {
            callers
                .authenticate(&self.client, authorization, platform)
                .await
                .map_err(CallFailure::Rejected)?;
        }
        let tenant_client = match tenant {
            Some(tenant) => Some(self.onboarded_client(tenant, platform).await?),
            None => None,
        };
        let client = tenant_client.as_deref().unwrap_or(&self.client);
        let scopes = &self.downstream.scopes;
        let answer = call_api(
            &self.downstream,
            HttpRequest::get_json(self.downstream.base_url.clone()),
            |options| async move {
                client
                    .acquire_token_for_client_with(scopes, &options, platform)
                    .await
            },
            platform.transport,
        )
        .await
        .map_err(|error| match error {
            DownstreamError::Token(error) => CallFailure::Token(error),
            DownstreamError::Transport(error) => CallFailure::Downstream(error),
            DownstreamError::OutsideBaseUrl => CallFailure::Token(Error::configuration(
                "DOWNSTREAM_URL is outside its own base URL",
            )),
        })?;
        Ok(DaemonAnswer {
            response: answer.response,
            token_source: answer.token_source,
            refresh_due: answer.refresh_due,
            tenant: client.tenant().map(alloc::string::ToString::to_string),
        })
    }

    /// Refreshes the app token ahead of its expiry ([`ConfidentialClient::refresh_token_for_client`]);
    /// for the background, after a [`DaemonAnswer`] said `refresh_due`.
    ///
    /// # Errors
    /// As [`ConfidentialClient::refresh_token_for_client`]: log them, the cached token stays.
    pub async fn refresh(&self, platform: &Platform<'_>) -> Result<(), Error> {
        self.refresh_in(None, platform).await
    }

    /// [`Daemon::refresh`] of `tenant`'s app token ([`DaemonAnswer::tenant`]).
    ///
    /// # Errors
    /// As [`Daemon::refresh`]; [`Error::Configuration`] for a tenant that is no tenant id.
    pub async fn refresh_in(
        &self,
        tenant: Option<&str>,
        platform: &Platform<'_>,
    ) -> Result<(), Error> {
        let tenant_client = match tenant {
            Some(tenant) => Some(self.client.tenant_client(tenant)?),
            None => None,
        };
        tenant_client
            .as_deref()
            .unwrap_or(&self.client)
            .refresh_token_for_client(&self.downstream.scopes, platform)
            .await
            .map(|_| ())
    }
}

/// The response header that tells where the token of a `/daemon/call` came from (`memory`,
/// `store`, `provider` or `stale`: [`TokenSource::as_str`]).
pub const TOKEN_SOURCE_HEADER: &str = "x-edge-token-source";

/// Every setting [`DaemonConfig::from_settings`] may read, through
/// [`crate::config::azure_ad::AzureAdSettings`], besides
/// [`crate::config::CLIENT_SETTING_NAMES`]: for runtimes whose settings must be fetched by name
/// before they are parsed (Spin variables are read asynchronously).
pub const DAEMON_SETTING_NAMES: &[&str] = &[
    "DOWNSTREAM_URL",
    "DOWNSTREAM_SCOPES",
    "DAEMON_API_AUDIENCE",
    "DAEMON_CALLER_ROLES",
    "DAEMON_PUBLIC",
    "ALLOWED_TENANTS",
    "ACCESS_TOKEN_SIGNING_ALG",
    "ADMIN_CONSENT_REDIRECT_URI",
    "SCHEDULED_CALL_URL",
];

/// The answer to `GET /daemon/call`: on success `answer_reply`, for a refused caller the
/// [`Rejection::response`](crate::scenarios::Rejection::response) (401 / 403 with its RFC 6750 `WWW-Authenticate` challenge, or 503;
/// logged at `info`), on any other failure `error_reply`'s status and JSON, with `retry-after`
/// when `retry_after` gives one. A failure is logged at `warn` (its `Display`, which holds no
/// secret), so callers need not log it again.
pub fn call_reply(outcome: Result<DaemonAnswer, CallFailure>) -> HttpResponse {
    match outcome {
        Ok(answer) => answer_reply(answer.response, answer.token_source),
        Err(CallFailure::Rejected(rejection)) => {
            log::info!("{rejection}");
            let response = rejection.response();
            HttpResponse {
                status: response.status,
                headers: response
                    .headers
                    .iter()
                    .map(|(name, value)| header(name, value))
                    .collect(),
                body: response.body,
            }
        }
        Err(failure) => {
            log::warn!("{failure}");
            let (status, body) = error_reply(&failure);
            let mut reply = json_reply(status, body);
            if let Some(secs) = retry_after(&failure) {
                reply
                    .headers
                    .push(header("retry-after", &alloc::format!("{secs}")));
            }
            reply
        }
    }
}

/// The downstream's answer as relayed to the caller: its status, `content-type` and body, plus
/// [`TOKEN_SOURCE_HEADER`] naming where the token came from.
pub(crate) fn answer_reply(downstream: HttpResponse, token_source: TokenSource) -> HttpResponse {
    let mut headers = Vec::new();
    if let Some(content_type) = downstream.header("content-type") {
        headers.push(header("content-type", content_type));
    }
    headers.push(header(TOKEN_SOURCE_HEADER, token_source.as_str()));
    HttpResponse {
        status: downstream.status,
        headers,
        body: downstream.body,
    }
}

/// A reply with `status`, `content-type: application/json` and `body`.
pub(crate) fn json_reply(status: u16, body: Vec<u8>) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![header("content-type", "application/json")],
        body,
    }
}

mod scheduled;
pub use scheduled::{ScheduledOutcome, ScheduledReport, MAX_SCHEDULED_TENANTS};
mod tenants;
pub use tenants::tenant_parameter;
#[cfg(test)]
mod tests;
