//! [`TokenProvider`]: the one object a Worker keeps per isolate to get tokens.

#[cfg(any(feature = "daemon", feature = "webapi", feature = "webapp"))]
use alloc::boxed::Box;
use alloc::rc::Rc;

use worker::{Context, Env};

use edge_token::acquisition::AcquiredToken;
use edge_token::acquisition::BuiltOnce;
use edge_token::config::AzureAdSettings;
use edge_token::error::Error;
#[cfg(feature = "daemon")]
use edge_token::platform::http::HttpResponse;
#[cfg(feature = "webapi")]
use edge_token::protocol::Scopes;
use edge_token::scenarios::AppTokens;
#[cfg(feature = "daemon")]
use edge_token::scenarios::{call_reply, CallFailure, Daemon, DaemonConfig, ScheduledReport};
#[cfg(feature = "webapi")]
use edge_token::scenarios::{Caller, WebApi, WebApiConfig};
#[cfg(feature = "webapp")]
use edge_token::scenarios::{WebApp, WebAppConfig};

#[cfg(any(feature = "daemon", feature = "webapi", feature = "webapp"))]
use crate::WebCryptoVerifier;
use crate::{install_console_logger, webcrypto_signer, EnvSettings};
use crate::{WorkerPlatform, WorkerSleep};

/// The KV namespace binding of the shared token cache (`[[kv_namespaces]] binding =
/// "TOKEN_CACHE"` in `wrangler.toml`). Without it, tokens are cached per isolate only.
pub const TOKEN_CACHE_BINDING: &str = "TOKEN_CACHE";

/// The per-isolate token provider: keep one per isolate ([`TokenProvider::for_isolate`]) and
/// ask it for tokens on every request.
///
/// Each scenario's client is built from the Worker's settings ([`EnvSettings`]: the flat
/// settings `AUTHORITY`, `CLIENT_ID`, `CLIENT_SECRET` / `CLIENT_CERTIFICATE` +
/// `CLIENT_PRIVATE_KEY` (feature `certificate`) / `CLIENT_ASSERTION`, …, or
/// Microsoft.Identity.Web's `AZURE_AD` JSON, feature `azure-ad`) on first use, once per isolate,
/// under single-flight: concurrent first requests share one build (one WebCrypto key import,
/// one discovery) and then one memory cache and one token request per key. A build that fails
/// is retried by the next request. Settings are read only for the scenarios used, so a Worker
/// needs only the settings of what it calls.
///
/// Background work goes to `ctx.wait_until`: a token past its refresh time is served at once
/// and refreshed after the response, and KV writes never delay the response.
///
/// Cloning is cheap and shares the isolate's clients.
#[derive(Clone, Default)]
pub struct TokenProvider {
    isolate: Rc<Isolate>,
}

#[derive(Default)]
struct Isolate {
    app: BuiltOnce<AppTokens>,
    #[cfg(feature = "daemon")]
    daemon: BuiltOnce<Daemon>,
    #[cfg(feature = "webapp")]
    webapp: BuiltOnce<WebApp>,
    #[cfg(feature = "webapi")]
    webapi: BuiltOnce<WebApi>,
}

thread_local! {
    static ISOLATE: TokenProvider = TokenProvider::default();
}

impl core::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenProvider").finish_non_exhaustive()
    }
}

impl TokenProvider {
    /// This isolate's provider (one per isolate, shared by every request it serves).
    pub fn for_isolate() -> Self {
        ISOLATE.with(Clone::clone)
    }

    /// An app-only token (OAuth 2.0 client credentials, RFC 6749 §4.4) for `scopes`
    /// (space-separated; on Entra one `{resource}/.default` scope), from this isolate's memory,
    /// the `TOKEN_CACHE` KV namespace, or the provider. A token due for a proactive refresh is
    /// returned at once and refreshed in `ctx.wait_until`.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming a missing or bad setting (or empty `scopes`); provider,
    /// transport and signing failures as [`AppTokens::acquire_scopes`];
    /// [`Error::Throttled`] while the provider's `Retry-After` lasts.
    pub async fn app_token(
        &self,
        env: &Env,
        ctx: &Context,
        scopes: &str,
    ) -> Result<AcquiredToken, Error> {
        let app = self.app_tokens(env).await?;
        let capabilities =
            WorkerPlatform::write_behind(env, ctx, TOKEN_CACHE_BINDING, app.http_timeout());
        let token = app.acquire_scopes(scopes, &capabilities.platform()).await?;
        if token.refresh_due {
            let (app, env, scopes) = (Rc::clone(&app), env.clone(), scopes.to_string());
            ctx.wait_until(async move {
                let capabilities =
                    WorkerPlatform::new(&env, TOKEN_CACHE_BINDING, app.http_timeout());
                if let Err(error) = app.refresh(&scopes, &capabilities.platform()).await {
                    log::warn!("background token refresh failed: {error}");
                }
            });
        }
        Ok(token)
    }

    /// The daemon scenario's answer: the caller's `authorization` (the request's
    /// `Authorization` header value) checked against `DAEMON_API_AUDIENCE` and
    /// `DAEMON_CALLER_ROLES` (unless `DAEMON_PUBLIC=true`), then an app token for
    /// `DOWNSTREAM_SCOPES` and `GET DOWNSTREAM_URL` with it ([`Daemon::call`]), as the reply to
    /// send ([`call_reply`]: the downstream status, `content-type` and body,
    /// `x-edge-token-source`; a refused caller's 401 / 403 with its RFC 6750 challenge and no
    /// token request; failures as JSON with `Retry-After` when throttled). Refreshes run in
    /// `ctx.wait_until`.
    #[cfg(feature = "daemon")]
    pub async fn call_downstream(
        &self,
        env: &Env,
        ctx: &Context,
        authorization: Option<&str>,
    ) -> HttpResponse {
        self.call_downstream_in_tenant(env, ctx, authorization, None)
            .await
    }

    /// One scheduled run of the daemon (Workers' `scheduled` handler, a cron trigger):
    /// [`Daemon::run_scheduled`], every tenant's app token acquired or refreshed ahead of its
    /// calls (and `SCHEDULED_CALL_URL` called), with KV written before it returns. Each
    /// tenant's outcome and the run's summary are logged.
    ///
    /// ```no_run
    /// use edge_token_cloudflare::TokenProvider;
    /// use worker::{event, Env, ScheduleContext, ScheduledEvent};
    ///
    /// #[event(scheduled)]
    /// pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    ///     let _report = TokenProvider::for_isolate().run_scheduled(&env).await;
    /// }
    /// # fn main() {}
    /// ```
    ///
    /// # Errors
    /// The daemon's configuration error; tenants' failures are in the report, not errors.
    #[cfg(feature = "daemon")]
    pub async fn run_scheduled(&self, env: &Env) -> Result<ScheduledReport, Error> {
        let daemon = self.daemon(env).await.inspect_err(|error| {
            log::warn!("scheduled run not possible: {error}");
        })?;
        let capabilities = WorkerPlatform::new(env, TOKEN_CACHE_BINDING, daemon.http_timeout());
        let report = daemon.run_scheduled(&capabilities.platform()).await;
        log::info!(
            "scheduled run: {} tenants, {} failed, {} left for a later run",
            report.tenants.len(),
            report.failures(),
            report.skipped
        );
        Ok(report)
    }

    /// [`TokenProvider::call_downstream`] in `tenant` for a multi-tenant app
    /// (`GET /daemon/call?tenant=`, [`Daemon::call_in_tenant`]): the app token comes from that
    /// tenant; with onboarding configured (`ADMIN_CONSENT_REDIRECT_URI`), a tenant that is not
    /// onboarded is answered 403 `tenant_not_onboarded` with no token request.
    #[cfg(feature = "daemon")]
    pub async fn call_downstream_in_tenant(
        &self,
        env: &Env,
        ctx: &Context,
        authorization: Option<&str>,
        tenant: Option<&str>,
    ) -> HttpResponse {
        let daemon = match self.daemon(env).await {
            Ok(daemon) => daemon,
            Err(error) => return call_reply(Err(CallFailure::Token(error))),
        };
        let capabilities =
            WorkerPlatform::write_behind(env, ctx, TOKEN_CACHE_BINDING, daemon.http_timeout());
        let outcome = daemon
            .call_in_tenant(authorization, tenant, &capabilities.platform())
            .await;
        if let Some(answer) = outcome.as_ref().ok().filter(|answer| answer.refresh_due) {
            let (daemon, env, tenant) = (Rc::clone(&daemon), env.clone(), answer.tenant.clone());
            ctx.wait_until(async move {
                let capabilities =
                    WorkerPlatform::new(&env, TOKEN_CACHE_BINDING, daemon.http_timeout());
                let platform = capabilities.platform();
                if let Err(error) = daemon.refresh_in(tenant.as_deref(), &platform).await {
                    log::warn!("background token refresh failed: {error}");
                }
            });
        }
        call_reply(outcome)
    }

    /// Validates the incoming `Authorization` header as the web API's (`API_AUDIENCE`,
    /// `API_REQUIRED_SCOPE` / `API_REQUIRED_ROLES`; RFC 6750, RFC 9068) and acquires a token
    /// for `scopes` on the caller's behalf (on-behalf-of), cached per incoming token.
    ///
    /// ```no_run
    /// use edge_token_cloudflare::{http_response, web_response, OnBehalfOfError, TokenProvider};
    /// use worker::{Context, Env, Request, Response, Result};
    ///
    /// async fn profile(request: Request, env: Env, ctx: Context) -> Result<Response> {
    ///     let authorization = request.headers().get("authorization")?;
    ///     let tokens = TokenProvider::for_isolate();
    ///     match tokens
    ///         .on_behalf_of(&env, &ctx, authorization.as_deref(), "api://downstream/reports.read")
    ///         .await
    ///     {
    ///         // `_token.authorization()` calls the downstream API as the caller.
    ///         Ok((caller, _token)) => Response::ok(format!("hello {}", caller.claims.sub)),
    ///         // 401 / 403 with RFC 6750 challenges, or 503 when the issuer's keys are unreachable.
    ///         Err(OnBehalfOfError::Rejected(rejection)) => web_response(rejection.response()),
    ///         Err(OnBehalfOfError::Token(error)) => Response::error(error.to_string(), 502),
    ///     }
    /// }
    /// ```
    ///
    /// # Errors
    /// [`OnBehalfOfError::Rejected`] when the bearer is refused (its
    /// [`edge_token::scenarios::Rejection::response`] is the 401/403/503 to send);
    /// [`OnBehalfOfError::Token`] when no token could be acquired (configuration, provider,
    /// `interaction_required` with a claims challenge).
    #[cfg(feature = "webapi")]
    pub async fn on_behalf_of(
        &self,
        env: &Env,
        ctx: &Context,
        authorization: Option<&str>,
        scopes: &str,
    ) -> Result<(Caller, AcquiredToken), OnBehalfOfError> {
        let api = self.web_api(env).await.map_err(OnBehalfOfError::Token)?;
        let scopes = Scopes::parse(scopes).map_err(OnBehalfOfError::Token)?;
        let capabilities =
            WorkerPlatform::write_behind(env, ctx, TOKEN_CACHE_BINDING, api.http_timeout());
        let platform = capabilities.platform();
        let caller = api
            .authenticate(authorization, &platform)
            .await
            .map_err(OnBehalfOfError::Rejected)?;
        let token = api
            .acquire_token_on_behalf_of(&caller, &scopes, &platform)
            .await
            .map_err(OnBehalfOfError::Token)?;
        Ok((caller, token))
    }

    /// This isolate's daemon (`DOWNSTREAM_URL`, `DOWNSTREAM_SCOPES`, the caller policy
    /// `DAEMON_API_AUDIENCE` + `DAEMON_CALLER_ROLES` or `DAEMON_PUBLIC`, and the client
    /// settings); callers' tokens are verified with WebCrypto.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming a bad setting; [`Error::Signing`] when WebCrypto refuses
    /// the key.
    #[cfg(feature = "daemon")]
    pub async fn daemon(&self, env: &Env) -> Result<Rc<Daemon>, Error> {
        install_console_logger(&EnvSettings(env));
        self.isolate
            .daemon
            .get(
                || async {
                    let config =
                        DaemonConfig::from_settings(&AzureAdSettings::new(&EnvSettings(env))?)?;
                    Daemon::build(config, webcrypto_signer, Box::new(WebCryptoVerifier::new()))
                        .await
                },
                &WorkerSleep,
            )
            .await
    }

    /// This isolate's web app (OpenID Connect sign-in, sessions in `TOKEN_CACHE`, delegated
    /// calls): pass its route methods a [`crate::web_request`] and a [`WorkerPlatform::new`]
    /// platform, whose KV writes complete before the response: a session record or a rotated
    /// refresh token must be stored before the browser's next request looks for it.
    ///
    /// # Errors
    /// As [`TokenProvider::daemon`], for the web app's settings (`REDIRECT_URI`, `COOKIE_KEY`, …).
    #[cfg(feature = "webapp")]
    pub async fn web_app(&self, env: &Env) -> Result<Rc<WebApp>, Error> {
        install_console_logger(&EnvSettings(env));
        self.isolate
            .webapp
            .get(
                || async {
                    let config =
                        WebAppConfig::from_settings(&AzureAdSettings::new(&EnvSettings(env))?)?;
                    WebApp::build(config, webcrypto_signer, Box::new(WebCryptoVerifier::new()))
                        .await
                },
                &WorkerSleep,
            )
            .await
    }

    /// This isolate's web API (bearer validation and on-behalf-of).
    ///
    /// # Errors
    /// As [`TokenProvider::daemon`], for the web API's settings (`API_AUDIENCE`, …).
    #[cfg(feature = "webapi")]
    pub async fn web_api(&self, env: &Env) -> Result<Rc<WebApi>, Error> {
        install_console_logger(&EnvSettings(env));
        self.isolate
            .webapi
            .get(
                || async {
                    let config =
                        WebApiConfig::from_settings(&AzureAdSettings::new(&EnvSettings(env))?)?;
                    WebApi::build(config, webcrypto_signer, Box::new(WebCryptoVerifier::new()))
                        .await
                },
                &WorkerSleep,
            )
            .await
    }

    async fn app_tokens(&self, env: &Env) -> Result<Rc<AppTokens>, Error> {
        install_console_logger(&EnvSettings(env));
        self.isolate
            .app
            .get(
                || async {
                    let env = EnvSettings(env);
                    AppTokens::build(&AzureAdSettings::new(&env)?, webcrypto_signer).await
                },
                &WorkerSleep,
            )
            .await
    }
}

/// Why [`TokenProvider::on_behalf_of`] gave no token.
#[cfg(feature = "webapi")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnBehalfOfError {
    /// The incoming bearer was refused before any token request: send
    /// [`edge_token::scenarios::Rejection::response`].
    Rejected(edge_token::scenarios::Rejection),
    /// No token could be acquired on the caller's behalf.
    Token(Error),
}
