//! [`TokenProvider`]: the one object a Spin component keeps per instance to get tokens, and the
//! [`Host`] it reads settings and stores tokens through.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;

use bytes::Bytes;
use spin_sdk::http::FullBody;

use edge_token::acquisition::{AcquiredToken, BuiltOnce, ExpiringStore, MemoryKv, WriteBehind};
use edge_token::config::{AzureAdSettings, Settings};
use edge_token::credentials::rustcrypto_signer;
use edge_token::error::Error;
use edge_token::platform::http::HttpResponse;
use edge_token::platform::system::{install_stderr_logger, SystemClock, SystemEntropy};
use edge_token::platform::{LocalBoxFuture, NoStore, Platform, TokenStore};
use edge_token::scenarios::{
    call_reply, AppTokens, CallFailure, Daemon, DaemonConfig, WebApi, WebApiConfig, WebApp,
    WebAppConfig, WebAppRoute, WebRequest, WebResponse,
};
use edge_token::validation::RustCryptoVerifier;

use crate::{scenario_setting_names, EnvSettings, SpinKv, SpinSleep, SpinVariables};
use crate::{VariableSettings, WasiHttpTransport};

/// The Spin key-value store used as the token cache (`key_value_stores = ["default"]`).
pub const KEY_VALUE_STORE: &str = "default";

/// An in-memory token store for one component instance.
pub type MemoryTokenStore = ExpiringStore<MemoryKv, SystemClock>;

/// Where the component's settings and shared token store come from: the one choice a
/// component makes. Only the host given to [`TokenProvider::new`] is compiled into the component, so a
/// [`WasiHost`] build does not import Spin's interfaces.
pub trait Host {
    /// The settings to build the daemon from.
    ///
    /// # Errors
    /// [`Error::Configuration`] when they cannot be read.
    fn settings(&self) -> LocalBoxFuture<'_, Result<Box<dyn Settings>, Error>>;
    /// The shared token store for one request.
    fn token_store(&self) -> LocalBoxFuture<'_, Rc<dyn TokenStore>>;

    /// The absolute URL `request` was received at, whose origin picks the web app's redirect
    /// URI ([`WebRequest::origin`]); `None` when the host does not tell (the first
    /// `REDIRECT_URI` is then used). By default the request's URI when the host gives it with
    /// scheme and authority.
    fn request_url(&self, request: &spin_sdk::http::Request) -> Option<String> {
        absolute_uri(request)
    }
}

/// The request's URI when it is absolute (scheme and authority), as text.
fn absolute_uri(request: &spin_sdk::http::Request) -> Option<String> {
    let uri = request.uri();
    (uri.scheme().is_some() && uri.authority().is_some()).then(|| uri.to_string())
}

/// The header a request's `name` holds, as text.
fn header<'r>(request: &'r spin_sdk::http::Request, name: &str) -> Option<&'r str> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// Spin: settings from Spin variables ([`SpinVariables`], names in lower case: every setting of
/// the daemon, the web app and the web API), tokens and sessions in the key-value store
/// [`KEY_VALUE_STORE`] (none, logged, if it cannot be opened).
#[derive(Debug, Default, Clone, Copy)]
pub struct SpinHost;

impl Host for SpinHost {
    /// The request's absolute URI, else the `spin-full-url` header Spin's HTTP trigger sets
    /// (scheme, host, port, path and query, as the client asked).
    fn request_url(&self, request: &spin_sdk::http::Request) -> Option<String> {
        absolute_uri(request).or_else(|| header(request, "spin-full-url").map(String::from))
    }

    fn settings(&self) -> LocalBoxFuture<'_, Result<Box<dyn Settings>, Error>> {
        Box::pin(async {
            let settings =
                VariableSettings::load(&SpinVariables, &scenario_setting_names()).await?;
            Ok(Box::new(settings) as Box<dyn Settings>)
        })
    }

    fn token_store(&self) -> LocalBoxFuture<'_, Rc<dyn TokenStore>> {
        Box::pin(async {
            match SpinKv::open(KEY_VALUE_STORE).await {
                Ok(kv) => Rc::new(kv.into_token_store()) as Rc<dyn TokenStore>,
                Err(error) => {
                    log::warn!("{error}; running without a shared token store");
                    Rc::new(NoStore)
                }
            }
        })
    }
}

/// A plain WASI HTTP host such as `wasmtime serve`: settings from the environment
/// ([`EnvSettings`]), tokens in an in-memory store that lives as long as the instance.
#[derive(Debug, Default, Clone, Copy)]
pub struct WasiHost;

impl Host for WasiHost {
    fn settings(&self) -> LocalBoxFuture<'_, Result<Box<dyn Settings>, Error>> {
        Box::pin(core::future::ready(Ok(
            Box::new(EnvSettings) as Box<dyn Settings>
        )))
    }

    fn token_store(&self) -> LocalBoxFuture<'_, Rc<dyn TokenStore>> {
        let store = MEMORY_STORE.with(|store| -> Rc<dyn TokenStore> { store.clone() });
        Box::pin(core::future::ready(store))
    }
}

thread_local! {
    static MEMORY_STORE: Rc<MemoryTokenStore> =
        Rc::new(ExpiringStore::new(MemoryKv::default(), SystemClock));
}

/// The per-instance token provider: keep one per component instance (a `thread_local!`) and
/// ask it for tokens on every request. A WASI 0.3 host may run many, also concurrent, requests
/// in one instance: they share its clients, memory cache and single-flight.
///
/// Clients are built from the [`Host`]'s settings (the same setting names and `AZURE_AD` as on
/// Workers) on first use, under single-flight. Background work runs in a task spawned after
/// the response: a token past its refresh time is served at once and refreshed there, and
/// token store writes happen there too.
///
/// Cloning is cheap and shares the instance's clients.
pub struct TokenProvider<H> {
    inner: Rc<Inner<H>>,
}

struct Inner<H> {
    host: H,
    app: BuiltOnce<AppTokens>,
    daemon: BuiltOnce<Daemon>,
    webapp: BuiltOnce<WebApp>,
    webapi: BuiltOnce<WebApi>,
}

/// Runs `work` after the response when there is any: a due refresh, deferred store writes.
fn after_response(work: impl core::future::Future<Output = ()> + 'static) {
    spin_sdk::wit_bindgen::spawn(work);
}

impl<H> Clone for TokenProvider<H> {
    fn clone(&self) -> Self {
        Self {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<H> core::fmt::Debug for TokenProvider<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenProvider").finish_non_exhaustive()
    }
}

impl<H: Host + 'static> TokenProvider<H> {
    /// A provider reading settings and storing tokens through `host`.
    pub fn new(host: H) -> Self {
        Self {
            inner: Rc::new(Inner {
                host,
                app: BuiltOnce::default(),
                daemon: BuiltOnce::default(),
                webapp: BuiltOnce::default(),
                webapi: BuiltOnce::default(),
            }),
        }
    }

    /// The core's [`WebRequest`] for `request` ([`crate::web_request`]), with the origin of the
    /// URL the host says it was received at ([`Host::request_url`]). Take the method and path
    /// first: the request is consumed.
    pub async fn web_request(&self, request: spin_sdk::http::Request) -> WebRequest {
        let url = self.inner.host.request_url(&request);
        let web = crate::web_request(request).await;
        match url {
            Some(url) => web.with_url(&url),
            None => web,
        }
    }

    /// An app-only token (OAuth 2.0 client credentials, RFC 6749 §4.4) for `scopes`
    /// (space-separated; on Entra one `{resource}/.default` scope), from the instance's memory,
    /// the host's store, or the provider. A token due for a proactive refresh is returned at
    /// once and refreshed after the response.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming a missing or bad setting; provider, transport and
    /// signing failures as [`AppTokens::acquire_scopes`].
    pub async fn app_token(&self, scopes: &str) -> Result<AcquiredToken, Error> {
        let app = self.inner.app.get(|| self.build_app(), &SpinSleep).await?;
        let transport = WasiHttpTransport::new(app.http_timeout());
        let store = WriteBehind::new(self.inner.host.token_store().await);
        let token = app
            .acquire_scopes(scopes, &platform(&transport, &store))
            .await?;
        let refresh_due = token.refresh_due;
        if refresh_due || store.pending() > 0 {
            let scopes = scopes.to_string();
            after_response(async move {
                if refresh_due {
                    if let Err(error) = app.refresh(&scopes, &platform(&transport, &store)).await {
                        log::warn!("token refresh after the response failed: {error}");
                    }
                }
                store.flush().await;
            });
        }
        Ok(token)
    }

    /// The daemon scenario's answer: the caller's `authorization` (the request's
    /// `Authorization` header value) checked against `DAEMON_API_AUDIENCE` and
    /// `DAEMON_CALLER_ROLES` (unless `DAEMON_PUBLIC=true`), then an app token for
    /// `DOWNSTREAM_SCOPES` and `GET DOWNSTREAM_URL` with it, as the reply to send
    /// ([`call_reply`], which logs a failure; a refused caller gets 401 / 403 with its RFC 6750
    /// challenge and no token is requested).
    pub async fn call_downstream(&self, authorization: Option<&str>) -> HttpResponse {
        self.call_downstream_in_tenant(authorization, None).await
    }

    /// [`TokenProvider::call_downstream`] in `tenant` for a multi-tenant Entra app
    /// (`GET /daemon/call?tenant=`, [`Daemon::call_in_tenant`]; read it with
    /// [`edge_token::scenarios::tenant_parameter`]): the app token comes from that tenant. A
    /// malformed tenant, or one not onboarded when onboarding is configured, is answered 403
    /// `tenant_not_onboarded` with no token request.
    pub async fn call_downstream_in_tenant(
        &self,
        authorization: Option<&str>,
        tenant: Option<&str>,
    ) -> HttpResponse {
        let daemon = match self.daemon().await {
            Ok(daemon) => daemon,
            Err(error) => return failure(error),
        };
        let transport = WasiHttpTransport::new(daemon.http_timeout());
        let store = WriteBehind::new(self.inner.host.token_store().await);
        let outcome = daemon
            .call_in_tenant(authorization, tenant, &platform(&transport, &store))
            .await;
        let due_tenant = match &outcome {
            Ok(answer) if answer.refresh_due => Some(answer.tenant.clone()),
            _ => None,
        };
        // After the response: the task outlives the handler's return (component-model async),
        // so later requests find the new token without waiting.
        if due_tenant.is_some() || store.pending() > 0 {
            after_response(async move {
                if let Some(tenant) = due_tenant {
                    let platform = platform(&transport, &store);
                    if let Err(error) = daemon.refresh_in(tenant.as_deref(), &platform).await {
                        log::warn!("token refresh after the response failed: {error}");
                    }
                }
                store.flush().await;
            });
        }
        call_reply(outcome)
    }

    /// The tenant routes under `/tenants` ([`Daemon::tenant_route`]: admin consent onboarding,
    /// the registry for the daemon's callers) for a request of `method` on `path`, read by the
    /// app into `request` (`WebRequest::from_http`), as the reply to send; `None` for other
    /// paths. Registry writes reach the key-value store before the reply. Pages come as plain
    /// text.
    pub async fn tenant_route(
        &self,
        method: &str,
        path: &str,
        request: &WebRequest,
    ) -> Option<HttpResponse> {
        if !Daemon::serves_tenants(path) {
            return None;
        }
        let daemon = match self.daemon().await {
            Ok(daemon) => daemon,
            Err(error) => return Some(failure(error)),
        };
        let transport = WasiHttpTransport::new(daemon.http_timeout());
        let store = WriteBehind::new(self.inner.host.token_store().await);
        let routed = daemon
            .tenant_route(method, path, request, &platform(&transport, &store))
            .await;
        store.flush().await;
        routed.map(WebResponse::into_http)
    }

    /// The web app's routes ([`WebApp::route`]: `GET /`, `GET /auth/sign-in`, `GET|POST
    /// /auth/callback`, `GET /auth/sign-out`, `GET /auth/frontchannel-logout`, `POST
    /// /auth/backchannel-logout`, `GET /me`, `GET /me/call`, `GET /me/api`) for a
    /// request of `method` on `path`, read by the app into `request` ([`crate::web_request`]),
    /// as the reply to send; `None` for other paths. Session records and rotated refresh tokens
    /// reach the store before the reply (the browser's next request looks for them). Pages
    /// come as plain text.
    pub async fn web_app_route(
        &self,
        method: &str,
        path: &str,
        request: &WebRequest,
    ) -> Option<HttpResponse> {
        WebAppRoute::from_path(path)?;
        let app = match self.web_app().await {
            Ok(app) => app,
            Err(error) => return Some(failure(error)),
        };
        let transport = WasiHttpTransport::new(app.http_timeout());
        let store = self.inner.host.token_store().await;
        let routed = app
            .route(method, path, request, &platform(&transport, &*store))
            .await;
        routed.map(WebResponse::into_http)
    }

    /// The web API's routes ([`WebApi::route`]: `GET /api/profile`, the caller's bearer token
    /// in [`WebRequest::authorization`], then on-behalf-of) for a request of `method` on
    /// `path`, as the reply to send; `None` for other paths. Token store writes run after the
    /// response.
    pub async fn web_api_route(
        &self,
        method: &str,
        path: &str,
        request: &WebRequest,
    ) -> Option<HttpResponse> {
        if !WebApi::serves(path) {
            return None;
        }
        let api = match self.web_api().await {
            Ok(api) => api,
            Err(error) => return Some(failure(error)),
        };
        let transport = WasiHttpTransport::new(api.http_timeout());
        let store = WriteBehind::new(self.inner.host.token_store().await);
        let routed = api
            .route(method, path, request, &platform(&transport, &store))
            .await;
        if store.pending() > 0 {
            after_response(async move { store.flush().await });
        }
        routed.map(WebResponse::into_http)
    }

    async fn settings(&self) -> Result<Box<dyn Settings>, Error> {
        let settings = self.inner.host.settings().await?;
        install_stderr_logger(&*settings);
        Ok(settings)
    }

    async fn build_app(&self) -> Result<AppTokens, Error> {
        let settings = self.settings().await?;
        AppTokens::build(&AzureAdSettings::new(&*settings)?, rustcrypto_signer).await
    }

    /// This instance's daemon, built on first use.
    async fn daemon(&self) -> Result<Rc<Daemon>, Error> {
        self.inner
            .daemon
            .get(|| self.build_daemon(), &SpinSleep)
            .await
    }

    /// This instance's web app (its client's memory cache, issuer keys and refresh
    /// single-flight serve every request of the instance), built on first use.
    async fn web_app(&self) -> Result<Rc<WebApp>, Error> {
        self.inner
            .webapp
            .get(
                || async {
                    let settings = self.settings().await?;
                    let config = WebAppConfig::from_settings(&AzureAdSettings::new(&*settings)?)?;
                    let verifier = Box::new(RustCryptoVerifier::new());
                    WebApp::build(config, rustcrypto_signer, verifier).await
                },
                &SpinSleep,
            )
            .await
    }

    /// This instance's web API, built on first use.
    async fn web_api(&self) -> Result<Rc<WebApi>, Error> {
        self.inner
            .webapi
            .get(
                || async {
                    let settings = self.settings().await?;
                    let config = WebApiConfig::from_settings(&AzureAdSettings::new(&*settings)?)?;
                    let verifier = Box::new(RustCryptoVerifier::new());
                    WebApi::build(config, rustcrypto_signer, verifier).await
                },
                &SpinSleep,
            )
            .await
    }

    async fn build_daemon(&self) -> Result<Daemon, Error> {
        let settings = self.settings().await?;
        let config = DaemonConfig::from_settings(&AzureAdSettings::new(&*settings)?)?;
        let verifier = Box::new(RustCryptoVerifier::new());
        Daemon::build(config, rustcrypto_signer, verifier).await
    }
}

fn platform<'a>(transport: &'a WasiHttpTransport, store: &'a dyn TokenStore) -> Platform<'a> {
    Platform {
        clock: &SystemClock,
        sleep: &SpinSleep,
        entropy: &SystemEntropy,
        transport,
        store,
        coordinator: None,
    }
}

/// The Spin SDK response for `reply` (a header the HTTP types refuse makes it a bare 500).
pub fn spin_response(reply: HttpResponse) -> spin_sdk::http::Response<FullBody<Bytes>> {
    let mut builder = spin_sdk::http::Response::<()>::builder().status(reply.status);
    for (name, value) in &reply.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(FullBody::new(Bytes::from(reply.body)))
        .unwrap_or_else(|_| {
            let mut response = spin_sdk::http::Response::new(FullBody::new(Bytes::new()));
            *response.status_mut() = spin_sdk::http::StatusCode::INTERNAL_SERVER_ERROR;
            response
        })
}

/// The reply for a scenario that could not be built (configuration, key import), as
/// [`call_reply`] answers.
fn failure(error: Error) -> HttpResponse {
    call_reply(Err(CallFailure::Token(error)))
}
