//! The tenant routes of the reference Worker (multi-tenant onboarding by admin consent; see
//! `edge_token::scenarios::tenants`): the customer's administrator follows `GET
//! /tenants/consent` to the provider and comes back to `GET /tenants/callback`; the daemon's
//! callers list (`GET /tenants`) and offboard (`DELETE /tenants/{tid}`) tenants. The dispatch is
//! the core's (`Daemon::tenant_route`).

use edge_token::scenarios::{call_reply, CallFailure};
use edge_token_cloudflare::{
    http_response, web_request, web_response, TokenProvider, WorkerPlatform, TOKEN_CACHE_BINDING,
};
use worker::{Env, Request, Response};

use crate::pages;

/// Answers `request` on `/tenants…`.
pub(crate) async fn route(
    tokens: &TokenProvider,
    request: &mut Request,
    env: &Env,
) -> worker::Result<Response> {
    let daemon = match tokens.daemon(env).await {
        Ok(daemon) => daemon,
        Err(error) => return http_response(call_reply(Err(CallFailure::Token(error)))),
    };
    // The registry is written before the answer: the next call must find the tenant.
    let capabilities = WorkerPlatform::new(env, TOKEN_CACHE_BINDING, daemon.http_timeout());
    let (method, path) = (request.method(), request.path());
    let web = web_request(request).await?;
    let response = daemon
        .tenant_route(method.as_ref(), &path, &web, &capabilities.platform())
        .await
        .unwrap_or_else(|| {
            edge_token::WebResponse::new(
                404,
                &[("content-type", "application/json")],
                br#"{"error":"not_found"}"#.to_vec(),
            )
        });
    web_response(pages::render(response))
}
