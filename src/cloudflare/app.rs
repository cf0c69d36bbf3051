//! The reference Worker (feature `cloudflare-app`): the daemon scenario on Workers.
//!
//! Routes: `GET /healthz`, and `GET /daemon/call`, which acquires an app token (client
//! credentials) for `DOWNSTREAM_SCOPES` and calls `DOWNSTREAM_URL` with it, answering with the
//! downstream status, `content-type` and body, plus `x-edge-token-source` (`memory`, `store`,
//! `provider` or `stale`). Failures answer with [`crate::daemon::error_reply`]'s JSON.
//!
//! One [`ConfidentialClient`] per isolate, built on first use (its WebCrypto key import
//! included) under single-flight, so concurrent first requests share one client, one memory
//! cache and one token request.

use alloc::rc::Rc;
use core::cell::RefCell;

use worker::{console_warn, event, Context, Env, Method, Request, Response};

use super::{
    webcrypto_signer, EnvSettings, FetchTransport, KvTokenStore, WorkerClock, WorkerEntropy,
    WorkerSleep,
};
use crate::cache::{NoStore, TokenStore};
use crate::client::SINGLE_FLIGHT_RECHECK_MS;
use crate::daemon::{error_reply, Daemon, DaemonConfig, DaemonFailure};
use crate::error::Error;
use crate::platform::{Platform, Sleep as _};
use crate::single_flight::SingleFlight;

/// The KV namespace binding of the token cache.
pub const TOKEN_CACHE_BINDING: &str = "TOKEN_CACHE";

#[derive(Default)]
struct Isolate {
    daemon: RefCell<Option<Rc<Daemon>>>,
    init: SingleFlight<(), Result<Rc<Daemon>, Error>>,
}

thread_local! {
    static ISOLATE: Rc<Isolate> = Rc::default();
}

/// The Worker's `fetch` handler.
#[event(fetch)]
pub async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    match (request.method(), request.path().as_str()) {
        (Method::Get, "/healthz") => json(200, br#"{"status":"ok"}"#.to_vec()),
        (Method::Get, "/daemon/call") => daemon_call(&env).await,
        (_, "/healthz" | "/daemon/call") => {
            json(405, br#"{"error":"method_not_allowed"}"#.to_vec())
        }
        _ => json(404, br#"{"error":"not_found"}"#.to_vec()),
    }
}

async fn daemon_call(env: &Env) -> worker::Result<Response> {
    let daemon = match daemon(env).await {
        Ok(daemon) => daemon,
        Err(error) => return failure(&DaemonFailure::Token(error)),
    };
    let kv = env.kv(TOKEN_CACHE_BINDING).ok().map(KvTokenStore::new);
    let store: &dyn TokenStore = match &kv {
        Some(kv) => kv,
        None => &NoStore,
    };
    let transport = FetchTransport::new(daemon.http_timeout());
    let platform = Platform {
        clock: &WorkerClock,
        sleep: &WorkerSleep,
        entropy: &WorkerEntropy,
        transport: &transport,
        store,
    };
    match daemon.call(&platform).await {
        Ok(answer) => {
            let downstream = answer.response;
            let content_type = downstream.header("content-type").map(str::to_owned);
            let mut response =
                Response::from_bytes(downstream.body)?.with_status(downstream.status);
            let headers = response.headers_mut();
            if let Some(content_type) = content_type {
                headers.set("content-type", &content_type)?;
            }
            headers.set("x-edge-token-source", answer.token_source.as_str())?;
            Ok(response)
        }
        Err(error) => failure(&error),
    }
}

/// The isolate's daemon, built once.
async fn daemon(env: &Env) -> Result<Rc<Daemon>, Error> {
    let isolate = ISOLATE.with(Rc::clone);
    if let Some(daemon) = isolate.daemon.borrow().as_ref() {
        return Ok(Rc::clone(daemon));
    }
    isolate
        .init
        .run(
            (),
            || async {
                let config = DaemonConfig::from_settings(&EnvSettings(env))?;
                let daemon = Rc::new(Daemon::build(config, webcrypto_signer).await?);
                *isolate.daemon.borrow_mut() = Some(Rc::clone(&daemon));
                Ok(daemon)
            },
            || WorkerSleep.sleep(SINGLE_FLIGHT_RECHECK_MS),
        )
        .await
}

fn failure(failure: &DaemonFailure) -> worker::Result<Response> {
    console_warn!("{failure}");
    let (status, body) = error_reply(failure);
    json(status, body)
}

fn json(status: u16, body: Vec<u8>) -> worker::Result<Response> {
    let mut response = Response::from_bytes(body)?.with_status(status);
    response
        .headers_mut()
        .set("content-type", "application/json")?;
    Ok(response)
}
