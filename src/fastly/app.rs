//! The reference Fastly app's routes: `GET /healthz` and `GET /daemon/call`, answering as the
//! reference Worker does ([`crate::daemon::call_reply`]).
//!
//! Settings come from the Config Store [`super::CONFIG_STORE`] and secrets from the Secret
//! Store [`super::SECRET_STORE`]; tokens are cached in the KV Store [`TOKEN_CACHE_STORE`].
//! A Fastly instance serves one request, so the daemon (settings parsed, key imported) is
//! built for each request and the token comes from the KV Store or the provider.

use super::{block_on, rustcrypto_signer, FastlyPlatform, StoreSettings};
use super::{CONFIG_STORE, SECRET_STORE};
use crate::config::azure_ad::AzureAdSettings;
use crate::daemon::{
    call_reply, daemon_route, error_reply, healthz_reply, json_reply, CallFailure, Daemon,
    DaemonConfig, DaemonRoute,
};
use crate::error::Error;
use crate::http::HttpResponse;

/// The KV Store linked to the service as the token cache.
pub const TOKEN_CACHE_STORE: &str = "token_cache";

/// The reply to `method` `path`: the route's answer, 404/405 JSON for anything else. Failures
/// are logged to stderr (no secret: [`CallFailure`]'s `Display`).
pub fn serve(method: &str, path: &str) -> HttpResponse {
    match daemon_route(method, path) {
        Ok(DaemonRoute::Healthz) => healthz_reply(),
        Ok(DaemonRoute::Call) => block_on(daemon_call()).unwrap_or_else(|| {
            let failure = CallFailure::Token(Error::Platform("the call did not complete".into()));
            let (status, body) = error_reply(&failure);
            json_reply(status, body)
        }),
        Err(reply) => reply,
    }
}

async fn daemon_call() -> HttpResponse {
    let outcome = call().await;
    if let Err(failure) = &outcome {
        std::eprintln!("{failure}");
    }
    call_reply(outcome)
}

async fn call() -> Result<crate::daemon::DaemonAnswer, CallFailure> {
    let settings = StoreSettings::open(CONFIG_STORE, SECRET_STORE);
    let settings = AzureAdSettings::new(&settings).map_err(CallFailure::Token)?;
    let config = DaemonConfig::from_settings(&settings).map_err(CallFailure::Token)?;
    let daemon = Daemon::build(config, rustcrypto_signer)
        .await
        .map_err(CallFailure::Token)?;
    let capabilities = FastlyPlatform::new(TOKEN_CACHE_STORE, daemon.http_timeout());
    daemon.call(&capabilities.platform()).await
}

/// The `fastly` response for `reply`.
pub fn fastly_response(reply: HttpResponse) -> fastly::Response {
    let mut response = fastly::Response::from_status(reply.status);
    for (name, value) in &reply.headers {
        response.append_header(name.as_str(), value.as_str());
    }
    if !reply.body.is_empty() {
        response.set_body(reply.body);
    }
    response
}
