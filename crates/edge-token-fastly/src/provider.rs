//! [`TokenProvider`]: the one object a Fastly app keeps for its instance to get tokens.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::time::Duration;

use edge_token::acquisition::AcquiredToken;
use edge_token::config::AzureAdSettings;
use edge_token::credentials::rustcrypto_signer;
use edge_token::error::Error;
use edge_token::platform::http::HttpResponse;
use edge_token::platform::system::install_stderr_logger;
use edge_token::scenarios::{
    call_reply, AppTokens, CallFailure, Daemon, DaemonConfig, WebApi, WebApiConfig, WebApp,
    WebAppConfig, WebAppRoute, WebResponse,
};
use edge_token::validation::RustCryptoVerifier;

use crate::{block_on, FastlyPlatform, StoreSettings, CONFIG_STORE, SECRET_STORE};

/// The KV Store linked to the service as the shared token cache.
pub const TOKEN_CACHE_STORE: &str = "token_cache";

/// The per-instance token provider. A Fastly instance serves one request: make one at the
/// start of `main`, answer with `send_to_client`, then call [`TokenProvider::after_response`],
/// which runs the proactive refreshes and KV Store writes deferred during the request.
/// Each scenario (app tokens, daemon, web app, web API) is built at most once per instance,
/// that is once per request: its memory caches (tokens, issuer keys, single-flight) last one
/// request, and discovery documents and signing keys come from the KV Store (sealed, with
/// `TOKEN_CACHE_KEY`) instead of the provider.
///
/// Clients are built from the service's settings ([`StoreSettings`]: Config Store
/// [`CONFIG_STORE`], secrets from Secret Store [`SECRET_STORE`]; the same setting names and
/// `AZURE_AD` as on Workers) on first use. Tokens are cached (sealed: `TOKEN_CACHE_KEY`) in
/// the POP's Core Cache, concurrent instances missing the same token waiting for one provider
/// request ([`crate::CollapsingStore`]), and in the KV Store [`TOKEN_CACHE_STORE`] when it is
/// linked.
pub struct TokenProvider {
    config_store: &'static str,
    secret_store: &'static str,
    kv_store: &'static str,
    app: RefCell<Option<Rc<Built<AppTokens>>>>,
    daemon: RefCell<Option<Rc<Built<Daemon>>>>,
    webapp: RefCell<Option<Rc<Built<WebApp>>>>,
    webapi: RefCell<Option<Rc<Built<WebApi>>>>,
    deferred: RefCell<Vec<Deferred>>,
}

/// A client and the platform it uses for the rest of the instance's life.
struct Built<T> {
    value: T,
    platform: FastlyPlatform,
}

enum Deferred {
    AppRefresh(Rc<Built<AppTokens>>, String),
    /// The daemon's app token, of a tenant (`/daemon/call?tenant=`) or the configured one.
    DaemonRefresh(Rc<Built<Daemon>>, Option<String>),
}

impl core::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenProvider")
            .field("config_store", &self.config_store)
            .field("kv_store", &self.kv_store)
            .finish_non_exhaustive()
    }
}

impl Default for TokenProvider {
    fn default() -> Self {
        Self::with_stores(CONFIG_STORE, SECRET_STORE, TOKEN_CACHE_STORE)
    }
}

impl TokenProvider {
    /// A provider reading the Config Store `config_store`, the Secret Store `secret_store`
    /// and caching tokens in the KV Store `kv_store` (any of them may be absent).
    pub fn with_stores(
        config_store: &'static str,
        secret_store: &'static str,
        kv_store: &'static str,
    ) -> Self {
        Self {
            config_store,
            secret_store,
            kv_store,
            app: RefCell::new(None),
            daemon: RefCell::new(None),
            webapp: RefCell::new(None),
            webapi: RefCell::new(None),
            deferred: RefCell::new(Vec::new()),
        }
    }

    /// An app-only token (OAuth 2.0 client credentials, RFC 6749 §4.4) for `scopes`
    /// (space-separated; on Entra one `{resource}/.default` scope), from the KV Store or the
    /// provider. A token due for a proactive refresh is returned and refreshed in
    /// [`TokenProvider::after_response`].
    ///
    /// # Errors
    /// [`Error::Configuration`] naming a missing or bad setting; provider, transport and
    /// signing failures as [`AppTokens::acquire_scopes`].
    pub fn app_token(&self, scopes: &str) -> Result<AcquiredToken, Error> {
        let app = self.app()?;
        let token = block_on(app.value.acquire_scopes(scopes, &app.platform.platform()))
            .unwrap_or_else(|| Err(incomplete()));
        // Cache fills this instance took on and did not complete go to a waiting instance.
        app.platform.release();
        let token = token?;
        if token.refresh_due {
            self.deferred
                .borrow_mut()
                .push(Deferred::AppRefresh(app, scopes.to_string()));
        }
        Ok(token)
    }

    /// The daemon scenario's answer: the caller's `authorization` (the request's
    /// `Authorization` header value) checked against `DAEMON_API_AUDIENCE` and
    /// `DAEMON_CALLER_ROLES` (unless `DAEMON_PUBLIC=true`), then an app token for
    /// `DOWNSTREAM_SCOPES` and `GET DOWNSTREAM_URL` with it, as the reply to send
    /// ([`call_reply`]; a refused caller gets 401 / 403 with its RFC 6750 challenge and no
    /// token is requested). A due refresh runs in [`TokenProvider::after_response`].
    pub fn call_downstream(&self, authorization: Option<&str>) -> HttpResponse {
        self.call_downstream_in_tenant(authorization, None)
    }

    /// [`TokenProvider::call_downstream`] in `tenant` for a multi-tenant Entra app
    /// (`GET /daemon/call?tenant=`, [`Daemon::call_in_tenant`]; read it with
    /// [`edge_token::scenarios::tenant_parameter`]): the app token comes from that tenant. A
    /// malformed tenant, or one not onboarded when onboarding is configured, is answered 403
    /// `tenant_not_onboarded` with no token request.
    pub fn call_downstream_in_tenant(
        &self,
        authorization: Option<&str>,
        tenant: Option<&str>,
    ) -> HttpResponse {
        let daemon = match self.daemon() {
            Ok(daemon) => daemon,
            Err(error) => return failure(error),
        };
        let outcome = block_on(daemon.value.call_in_tenant(
            authorization,
            tenant,
            &daemon.platform.platform(),
        ))
        .unwrap_or_else(|| Err(CallFailure::Token(incomplete())));
        daemon.platform.release();
        if let Some(answer) = outcome.as_ref().ok().filter(|answer| answer.refresh_due) {
            self.deferred.borrow_mut().push(Deferred::DaemonRefresh(
                Rc::clone(&daemon),
                answer.tenant.clone(),
            ));
        }
        call_reply(outcome)
    }

    /// The tenant routes under `/tenants` for `request` ([`Daemon::tenant_route`]: admin consent
    /// onboarding, the registry for the daemon's callers), as the reply to send; `None` for
    /// other paths. Registry writes reach the KV Store before the reply (flushed here): the
    /// administrator's next request may come to another instance. Pages come as plain text.
    pub fn tenant_route(&self, request: &mut fastly::Request) -> Option<HttpResponse> {
        let path = request.get_path().to_string();
        if !Daemon::serves_tenants(&path) {
            return None;
        }
        let daemon = match self.daemon() {
            Ok(daemon) => daemon,
            Err(error) => return Some(failure(error)),
        };
        let method = request.get_method_str().to_string();
        let web = crate::web_request(request);
        let routed = block_on(daemon.value.tenant_route(
            &method,
            &path,
            &web,
            &daemon.platform.platform(),
        ));
        daemon.platform.flush();
        routed_reply(routed)
    }

    /// The web app's routes for `request` ([`WebApp::route`]: `GET /`, `GET /auth/sign-in`,
    /// `GET|POST /auth/callback`, `GET /auth/sign-out`, `GET /auth/frontchannel-logout`,
    /// `POST /auth/backchannel-logout`, `GET /me`, `GET /me/call`, `GET
    /// /me/api`), as the reply to send; `None` for other paths (the body is then left unread).
    /// Session records and rotated refresh tokens reach the KV Store before the reply (flushed
    /// here): the browser's next request is another instance. Pages come as plain text.
    pub fn web_app_route(&self, request: &mut fastly::Request) -> Option<HttpResponse> {
        let path = request.get_path().to_string();
        WebAppRoute::from_path(&path)?;
        let app = match self.web_app() {
            Ok(app) => app,
            Err(error) => return Some(failure(error)),
        };
        let method = request.get_method_str().to_string();
        let web = crate::web_request(request);
        let routed = block_on(
            app.value
                .route(&method, &path, &web, &app.platform.platform()),
        );
        app.platform.flush();
        routed_reply(routed)
    }

    /// The web API's routes for `request` ([`WebApi::route`]: `GET /api/profile`, the
    /// caller's bearer token validated, then on-behalf-of), as the reply to send; `None` for
    /// other paths. Token cache writes run in [`TokenProvider::after_response`].
    pub fn web_api_route(&self, request: &mut fastly::Request) -> Option<HttpResponse> {
        let path = request.get_path().to_string();
        if !WebApi::serves(&path) {
            return None;
        }
        let api = match self.web_api() {
            Ok(api) => api,
            Err(error) => return Some(failure(error)),
        };
        let method = request.get_method_str().to_string();
        let web = crate::web_request(request);
        let routed = block_on(
            api.value
                .route(&method, &path, &web, &api.platform.platform()),
        );
        api.platform.release();
        routed_reply(routed)
    }

    /// Runs the work deferred during the request: proactive refreshes, then the KV Store
    /// writes. Call it after `send_to_client`; failures are logged (no secret).
    pub fn after_response(&self) {
        for work in core::mem::take(&mut *self.deferred.borrow_mut()) {
            let outcome = match &work {
                Deferred::AppRefresh(app, scopes) => {
                    block_on(app.value.refresh(scopes, &app.platform.platform()))
                }
                Deferred::DaemonRefresh(daemon, tenant) => block_on(
                    daemon
                        .value
                        .refresh_in(tenant.as_deref(), &daemon.platform.platform()),
                ),
            };
            match outcome {
                Some(Ok(())) => {}
                Some(Err(error)) => log::warn!("token refresh after the response failed: {error}"),
                None => log::warn!("token refresh after the response did not complete"),
            }
        }
        if let Some(app) = self.app.borrow().as_ref() {
            app.platform.flush();
        }
        if let Some(daemon) = self.daemon.borrow().as_ref() {
            daemon.platform.flush();
        }
        if let Some(app) = self.webapp.borrow().as_ref() {
            app.platform.flush();
        }
        if let Some(api) = self.webapi.borrow().as_ref() {
            api.platform.flush();
        }
    }

    fn settings(&self) -> StoreSettings {
        let settings = StoreSettings::open(self.config_store, self.secret_store);
        install_stderr_logger(&settings);
        settings
    }

    fn app(&self) -> Result<Rc<Built<AppTokens>>, Error> {
        self.built(&self.app, |settings| {
            let app = block_on(AppTokens::build(settings, rustcrypto_signer))
                .unwrap_or_else(|| Err(incomplete()))?;
            let timeout = app.http_timeout();
            Ok((app, timeout))
        })
    }

    fn daemon(&self) -> Result<Rc<Built<Daemon>>, Error> {
        self.built(&self.daemon, |settings| {
            let config = DaemonConfig::from_settings(settings)?;
            let verifier = Box::new(RustCryptoVerifier::new());
            let daemon = block_on(Daemon::build(config, rustcrypto_signer, verifier))
                .unwrap_or_else(|| Err(incomplete()))?;
            let timeout = daemon.http_timeout();
            Ok((daemon, timeout))
        })
    }

    fn web_app(&self) -> Result<Rc<Built<WebApp>>, Error> {
        self.built(&self.webapp, |settings| {
            let config = WebAppConfig::from_settings(settings)?;
            let verifier = Box::new(RustCryptoVerifier::new());
            let app = block_on(WebApp::build(config, rustcrypto_signer, verifier))
                .unwrap_or_else(|| Err(incomplete()))?;
            let timeout = app.http_timeout();
            Ok((app, timeout))
        })
    }

    fn web_api(&self) -> Result<Rc<Built<WebApi>>, Error> {
        self.built(&self.webapi, |settings| {
            let config = WebApiConfig::from_settings(settings)?;
            let verifier = Box::new(RustCryptoVerifier::new());
            let api = block_on(WebApi::build(config, rustcrypto_signer, verifier))
                .unwrap_or_else(|| Err(incomplete()))?;
            let timeout = api.http_timeout();
            Ok((api, timeout))
        })
    }

    /// The value in `slot`, else the one `build` makes from the service's settings (with the
    /// `AZURE_AD` layer), kept in `slot` with a platform of its time limit.
    fn built<T>(
        &self,
        slot: &RefCell<Option<Rc<Built<T>>>>,
        build: impl FnOnce(&AzureAdSettings<'_>) -> Result<(T, Duration), Error>,
    ) -> Result<Rc<Built<T>>, Error> {
        if let Some(built) = slot.borrow().as_ref() {
            return Ok(Rc::clone(built));
        }
        let settings = self.settings();
        let (value, timeout) = build(&AzureAdSettings::new(&settings)?)?;
        let built = Rc::new(Built {
            value,
            platform: FastlyPlatform::new(self.kv_store, timeout),
        });
        *slot.borrow_mut() = Some(Rc::clone(&built));
        Ok(built)
    }
}

/// A future of this adapter that did not complete (none should: see [`block_on`]).
fn incomplete() -> Error {
    Error::Platform("the call did not complete".into())
}

/// The reply for a scenario that could not be built (configuration, key import): 500
/// `configuration_error` or the provider's error, as [`call_reply`] answers.
fn failure(error: Error) -> HttpResponse {
    call_reply(Err(CallFailure::Token(error)))
}

/// The reply for a route table's answer (`block_on`'s `None`: a future that did not complete,
/// which Fastly's blocking host calls never leave): `None` when the path was not the table's.
fn routed_reply(routed: Option<Option<WebResponse>>) -> Option<HttpResponse> {
    match routed {
        Some(response) => response.map(WebResponse::into_http),
        None => Some(failure(incomplete())),
    }
}
