//! The reference Fastly app's routes: `GET /healthz` and `GET /daemon/call`, answering as the
//! reference Worker does ([`crate::daemon::call_reply`]).
//!
//! Settings come from the Config Store [`super::CONFIG_STORE`] and secrets from the Secret
//! Store [`super::SECRET_STORE`]; tokens are cached in the KV Store [`TOKEN_CACHE_STORE`].
//! A Fastly instance serves one request, so the daemon (settings parsed, key imported) is
//! built for each request and the token comes from the KV Store or the provider. When the
//! core reports the token served as due for a proactive refresh, the response is sent first and
//! the refresh runs after it, in the same instance (Fastly lets a request continue after
//! `send_to_client`). A token read from the KV Store past its refresh time is reported so too.

use super::{block_on, rustcrypto_signer, FastlyPlatform, StoreSettings};
use super::{CONFIG_STORE, SECRET_STORE};
use crate::config::azure_ad::AzureAdSettings;
use crate::daemon::{
    call_reply, daemon_route, healthz_reply, CallFailure, Daemon, DaemonConfig, DaemonRoute,
};
use crate::error::Error;
use crate::http::HttpResponse;

/// The KV Store linked to the service as the token cache.
pub const TOKEN_CACHE_STORE: &str = "token_cache";

/// Serves `request` (the client request, `fastly::Request::from_client()`): sends the route's
/// answer, 404/405 JSON for anything else, then runs a due proactive refresh. Failures are
/// logged to stderr (no secret: [`CallFailure`]'s `Display`).
pub fn handle(request: &fastly::Request) {
    match daemon_route(request.get_method_str(), request.get_path()) {
        Ok(DaemonRoute::Healthz) => fastly_response(healthz_reply()).send_to_client(),
        Ok(DaemonRoute::Call) => daemon_call(),
        Err(reply) => fastly_response(reply).send_to_client(),
    }
}

fn daemon_call() {
    let daemon = match block_on(build()) {
        Some(Ok(daemon)) => daemon,
        Some(Err(error)) => return fail(CallFailure::Token(error)),
        None => return fail(incomplete()),
    };
    let capabilities = FastlyPlatform::new(TOKEN_CACHE_STORE, daemon.http_timeout());
    let platform = capabilities.platform();
    let outcome = block_on(daemon.call(&platform)).unwrap_or_else(|| Err(incomplete()));
    let refresh_due = matches!(&outcome, Ok(answer) if answer.refresh_due);
    if let Err(failure) = &outcome {
        std::eprintln!("{failure}");
    }
    fastly_response(call_reply(outcome)).send_to_client();
    if refresh_due {
        match block_on(daemon.refresh(&platform)) {
            Some(Ok(())) => {}
            Some(Err(error)) => std::eprintln!("token refresh after the response failed: {error}"),
            None => std::eprintln!("token refresh after the response did not complete"),
        }
    }
}

async fn build() -> Result<Daemon, Error> {
    let settings = StoreSettings::open(CONFIG_STORE, SECRET_STORE);
    crate::wasi::install_stderr_logger(&settings);
    let config = DaemonConfig::from_settings(&AzureAdSettings::new(&settings)?)?;
    Daemon::build(config, rustcrypto_signer).await
}

/// A future of this adapter that did not complete (none should: see [`block_on`]).
fn incomplete() -> CallFailure {
    CallFailure::Token(Error::Platform("the call did not complete".into()))
}

fn fail(failure: CallFailure) {
    std::eprintln!("{failure}");
    fastly_response(call_reply(Err(failure))).send_to_client();
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
