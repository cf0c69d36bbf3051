//! The reference Worker (feature `cloudflare-app`): the daemon and web app scenarios on Workers.
//!
//! Routes:
//! - `GET /healthz`;
//! - daemon: `GET /daemon/call`, which acquires an app token (client credentials) for
//!   `DOWNSTREAM_SCOPES` and calls `DOWNSTREAM_URL` with it, answering with the downstream
//!   status, `content-type` and body, plus `x-edge-token-source` (`memory`, `store`, `provider`
//!   or `stale`). Failures answer with [`crate::daemon::error_reply`]'s JSON;
//! - web app ([`crate::webapp`]): `GET /`, `GET /auth/sign-in`, `GET|POST /auth/callback`,
//!   `GET /auth/sign-out`, `GET /me`, `GET /me/call`, `GET /me/api`;
//! - web API ([`crate::webapi`]): `GET /api/profile` (bearer validation, then on-behalf-of).
//!
//! One daemon, one web app and one web API per isolate, each built on first use (WebCrypto key
//! import included) under single-flight, so concurrent first requests share one client, one
//! memory cache and one token request. Each scenario's settings are read only when one of its
//! routes is used, so a deployment needs only the settings of the scenarios it serves (the
//! web app and the web API are usually two Workers with two app registrations).

use alloc::boxed::Box;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::Future;

use worker::{console_warn, event, Context, Env, Method, Request, Response};

use super::web::{http_response, web_request, worker_response};
use super::{install_console_logger, webcrypto_signer, EnvSettings, WorkerPlatform, WorkerSleep};
use crate::client::SINGLE_FLIGHT_RECHECK_MS;
use crate::config::azure_ad::AzureAdSettings;
use crate::daemon::{call_reply, CallFailure, Daemon, DaemonConfig};
use crate::error::Error;
use crate::platform::Sleep as _;
use crate::single_flight::SingleFlight;
use crate::verifier::webcrypto::WebCryptoVerifier;
use crate::webapi::{WebApi, WebApiConfig};
use crate::webapp::{WebApp, WebAppConfig, WebRequest};

/// The KV namespace binding of the token cache.
pub const TOKEN_CACHE_BINDING: &str = "TOKEN_CACHE";

#[derive(Default)]
struct Isolate {
    daemon: BuiltOnce<Daemon>,
    webapp: BuiltOnce<WebApp>,
    webapi: BuiltOnce<WebApi>,
}

/// A value built on first use, once per isolate: concurrent first requests share one build.
struct BuiltOnce<T> {
    value: RefCell<Option<Rc<T>>>,
    build: SingleFlight<(), Result<Rc<T>, Error>>,
}

impl<T> Default for BuiltOnce<T> {
    fn default() -> Self {
        Self {
            value: RefCell::default(),
            build: SingleFlight::default(),
        }
    }
}

impl<T> BuiltOnce<T> {
    async fn get<Fut>(&self, build: impl FnOnce() -> Fut) -> Result<Rc<T>, Error>
    where
        Fut: Future<Output = Result<T, Error>>,
    {
        if let Some(value) = self.value.borrow().as_ref() {
            return Ok(Rc::clone(value));
        }
        self.build
            .run(
                (),
                || async {
                    let value = Rc::new(build().await?);
                    *self.value.borrow_mut() = Some(Rc::clone(&value));
                    Ok(value)
                },
                || WorkerSleep.sleep(SINGLE_FLIGHT_RECHECK_MS),
            )
            .await
    }
}

thread_local! {
    static ISOLATE: Rc<Isolate> = Rc::default();
}

/// The Worker's `fetch` handler.
#[event(fetch)]
pub async fn fetch(mut request: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    install_console_logger(&EnvSettings(&env));
    let route = match (request.method(), request.path().as_str()) {
        (Method::Get, "/healthz") => return json(200, br#"{"status":"ok"}"#.to_vec()),
        (Method::Get, "/daemon/call") => return daemon_call(&env, &ctx).await,
        (Method::Get, "/api/profile") => {
            let web = web_request(&mut request).await?;
            return api_profile(&web, &env).await;
        }
        (Method::Get, "/") => WebRoute::Home,
        (Method::Get, "/auth/sign-in") => WebRoute::SignIn,
        (Method::Get | Method::Post, "/auth/callback") => WebRoute::Callback,
        (Method::Get, "/auth/sign-out") => WebRoute::SignOut,
        (Method::Get, "/me") => WebRoute::Me,
        (Method::Get, "/me/call") => WebRoute::MeCall,
        (Method::Get, "/me/api") => WebRoute::MeApi,
        (
            _,
            "/healthz" | "/daemon/call" | "/api/profile" | "/" | "/auth/sign-in" | "/auth/callback"
            | "/auth/sign-out" | "/me" | "/me/call" | "/me/api",
        ) => return json(405, br#"{"error":"method_not_allowed"}"#.to_vec()),
        _ => return json(404, br#"{"error":"not_found"}"#.to_vec()),
    };
    let web = web_request(&mut request).await?;
    web_route(route, &web, &env).await
}

enum WebRoute {
    Home,
    SignIn,
    Callback,
    SignOut,
    Me,
    MeCall,
    MeApi,
}

async fn web_route(route: WebRoute, request: &WebRequest, env: &Env) -> worker::Result<Response> {
    let isolate = ISOLATE.with(Rc::clone);
    let built = isolate.webapp.get(|| async {
        let config = WebAppConfig::from_settings(&AzureAdSettings::new(&EnvSettings(env))?)?;
        let verifier = Box::new(WebCryptoVerifier::new());
        WebApp::build(config, webcrypto_signer, verifier).await
    });
    let app = match built.await {
        Ok(app) => app,
        Err(error) => {
            console_warn!("web app: {error}");
            return failure(&CallFailure::Token(error));
        }
    };
    let capabilities = WorkerPlatform::new(env, TOKEN_CACHE_BINDING, app.http_timeout());
    let platform = capabilities.platform();
    let response = match route {
        WebRoute::Home => app.home(request, &platform).await,
        WebRoute::SignIn => app.sign_in(request, &platform).await,
        WebRoute::Callback => app.callback(request, &platform).await,
        WebRoute::SignOut => app.sign_out(request, &platform).await,
        WebRoute::Me => app.me(request, &platform).await,
        WebRoute::MeCall => app.call_downstream(request, &platform).await,
        WebRoute::MeApi => app.call_web_api(request, &platform).await,
    };
    worker_response(response)
}

async fn api_profile(request: &WebRequest, env: &Env) -> worker::Result<Response> {
    let isolate = ISOLATE.with(Rc::clone);
    let built = isolate.webapi.get(|| async {
        let config = WebApiConfig::from_settings(&AzureAdSettings::new(&EnvSettings(env))?)?;
        let verifier = Box::new(WebCryptoVerifier::new());
        WebApi::build(config, webcrypto_signer, verifier).await
    });
    let api = match built.await {
        Ok(api) => api,
        Err(error) => return failure(&CallFailure::Token(error)),
    };
    let capabilities = WorkerPlatform::new(env, TOKEN_CACHE_BINDING, api.http_timeout());
    worker_response(api.profile(request, &capabilities.platform()).await)
}

async fn daemon_call(env: &Env, ctx: &Context) -> worker::Result<Response> {
    let isolate = ISOLATE.with(Rc::clone);
    let built = isolate.daemon.get(|| async {
        let config = DaemonConfig::from_settings(&AzureAdSettings::new(&EnvSettings(env))?)?;
        Daemon::build(config, webcrypto_signer).await
    });
    let daemon = match built.await {
        Ok(daemon) => daemon,
        Err(error) => return failure(&CallFailure::Token(error)),
    };
    let capabilities = WorkerPlatform::new(env, TOKEN_CACHE_BINDING, daemon.http_timeout());
    let platform = capabilities.platform();
    let outcome = daemon.call(&platform).await;
    if outcome.as_ref().is_ok_and(|answer| answer.refresh_due) {
        // Proactive refresh after the response: later requests never wait for it.
        let (daemon, env) = (Rc::clone(&daemon), env.clone());
        ctx.wait_until(async move {
            let capabilities =
                WorkerPlatform::new(&env, TOKEN_CACHE_BINDING, daemon.http_timeout());
            if let Err(error) = daemon.refresh(&capabilities.platform()).await {
                console_warn!("background token refresh failed: {error}");
            }
        });
    }
    if let Err(error) = &outcome {
        console_warn!("{error}");
    }
    http_response(call_reply(outcome))
}

fn failure(failure: &CallFailure) -> worker::Result<Response> {
    console_warn!("{failure}");
    http_response(call_reply(Err(failure.clone())))
}

fn json(status: u16, body: Vec<u8>) -> worker::Result<Response> {
    let mut response = Response::from_bytes(body)?.with_status(status);
    response
        .headers_mut()
        .set("content-type", "application/json")?;
    Ok(response)
}
