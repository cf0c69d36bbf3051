//! The tenant routes of the reference Worker (multi-tenant onboarding by admin consent; see
//! `edge_token::scenarios::tenants`): the customer's administrator follows `GET
//! /tenants/consent` to the provider and comes back to `GET /tenants/callback`; the daemon's
//! callers list (`GET /tenants`) and offboard (`DELETE /tenants/{tid}`) tenants.

use edge_token::scenarios::{call_reply, CallFailure};
use edge_token_cloudflare::{
    http_response, web_request, web_response, TokenProvider, WorkerPlatform, TOKEN_CACHE_BINDING,
};
use worker::{Env, Method, Request, Response};

use crate::pages;

/// Answers `method` on `/tenants…`.
pub(crate) async fn route(
    tokens: &TokenProvider,
    method: Method,
    request: &mut Request,
    env: &Env,
) -> worker::Result<Response> {
    let daemon = match tokens.daemon(env).await {
        Ok(daemon) => daemon,
        Err(error) => return http_response(call_reply(Err(CallFailure::Token(error)))),
    };
    // The registry is written before the answer: the next call must find the tenant.
    let capabilities = WorkerPlatform::new(env, TOKEN_CACHE_BINDING, daemon.http_timeout());
    let platform = capabilities.platform();
    let path = request.path();
    let authorization = request.headers().get("authorization")?;
    let web = web_request(request).await?;
    let response = match (method, path.as_str()) {
        (Method::Get, "/tenants/consent") => daemon.tenant_consent(&web, &platform),
        (Method::Get, "/tenants/callback") => daemon.tenant_callback(&web, &platform).await,
        (Method::Get, "/tenants") => {
            daemon
                .list_tenants(authorization.as_deref(), &platform)
                .await
        }
        (Method::Delete, tenant) if tenant.starts_with("/tenants/") => {
            let tenant = &tenant["/tenants/".len()..];
            daemon
                .offboard_tenant(authorization.as_deref(), tenant, &platform)
                .await
        }
        _ => {
            let not_found = br#"{"error":"not_found"}"#.to_vec();
            edge_token::WebResponse::new(404, &[("content-type", "application/json")], not_found)
        }
    };
    web_response(pages::render(response))
}
