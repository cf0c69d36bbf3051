//! The reference Worker of edge-token: the daemon, web app and web API scenarios on Workers,
//! through the public API of `edge-token-cloudflare` only, as any user's Worker would.
//!
//! Routes:
//! - `GET /healthz`;
//! - daemon: `GET /daemon/call[?tenant={tid}]` ([`TokenProvider::call_downstream_in_tenant`]):
//!   the caller's bearer token checked (`DAEMON_API_AUDIENCE`, one of `DAEMON_CALLER_ROLES`;
//!   401 / 403 otherwise), then an app token for `DOWNSTREAM_SCOPES` (from `tenant` when
//!   given: a multi-tenant app's customer tenant, which must be onboarded) and
//!   `DOWNSTREAM_URL` called with it, relayed with `x-edge-token-source` (`memory`, `store`,
//!   `coordinator`, `provider` or `stale`);
//! - tenant onboarding (with `ADMIN_CONSENT_REDIRECT_URI`): `GET /tenants/consent[?tenant=]`
//!   and `GET /tenants/callback` for the customer's administrator (admin consent), `GET
//!   /tenants` and `DELETE /tenants/{tid}` for the daemon's callers;
//! - web app: `GET /`, `GET /auth/sign-in`, `GET|POST /auth/callback`, `GET /auth/sign-out`,
//!   `GET /me`, `GET /me/call`, `GET /me/api`, and the provider's logout notifications
//!   `GET /auth/frontchannel-logout` (Front-Channel Logout 1.0) and `POST
//!   /auth/backchannel-logout` (Back-Channel Logout 1.0);
//! - web API: `GET /api/profile` (bearer validation, then on-behalf-of).
//!
//! The route tables of the tenant routes, the web app and the web API are the core's
//! (`Daemon::tenant_route`, `WebApp::route`, `WebApi::route`: paths, methods, 405s), shared with
//! the Fastly app and the Spin component; this Worker renders the web app's pages as HTML.
//! Each scenario's settings are read only when one of its routes is used, so a deployment needs
//! only the settings of the scenarios it serves.

use edge_token::scenarios::{call_reply, CallFailure, Daemon, WebApi, WebAppRoute};
use edge_token_cloudflare::{
    http_response, web_request, web_response, TokenProvider, WorkerPlatform, TOKEN_CACHE_BINDING,
};
use worker::{event, Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent};

mod pages;
mod tenants;

/// The Worker's `fetch` handler.
#[event(fetch)]
pub async fn fetch(mut request: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let tokens = TokenProvider::for_isolate();
    let route = match (request.method(), request.path().as_str()) {
        (Method::Get, "/healthz") => return json(200, br#"{"status":"ok"}"#.to_vec()),
        (Method::Get, "/daemon/call") => {
            let authorization = request.headers().get("authorization")?;
            let url = request.url()?;
            let tenant = url
                .query_pairs()
                .find(|(name, _)| name == "tenant")
                .map(|(_, value)| value.into_owned());
            return http_response(
                tokens
                    .call_downstream_in_tenant(
                        &env,
                        &ctx,
                        authorization.as_deref(),
                        tenant.as_deref(),
                    )
                    .await,
            );
        }
        (_, path) if Daemon::serves_tenants(path) => {
            return tenants::route(&tokens, &mut request, &env).await;
        }
        (_, "/healthz" | "/daemon/call") => {
            return json(405, br#"{"error":"method_not_allowed"}"#.to_vec())
        }
        (_, path) if WebApi::serves(path) => WebRoute::Api,
        (_, path) if WebAppRoute::from_path(path).is_some() => WebRoute::App,
        _ => return json(404, br#"{"error":"not_found"}"#.to_vec()),
    };
    // The route tables (paths, methods, 405s) are the core's: WebApi::route, WebApp::route.
    let method = request.method().to_string();
    let path = request.path();
    let web = web_request(&mut request).await?;
    let response = match route {
        WebRoute::Api => {
            let api = match tokens.web_api(&env).await {
                Ok(api) => api,
                Err(error) => return failure(error),
            };
            let capabilities =
                WorkerPlatform::write_behind(&env, &ctx, TOKEN_CACHE_BINDING, api.http_timeout());
            api.route(&method, &path, &web, &capabilities.platform())
                .await
        }
        WebRoute::App => {
            let app = match tokens.web_app(&env).await {
                Ok(app) => app,
                Err(error) => return failure(error),
            };
            // Session records (and rotated refresh tokens) are written before the response: the
            // browser's next request must find them. Only token cache writes go to ctx.waitUntil.
            let capabilities = WorkerPlatform::new(&env, TOKEN_CACHE_BINDING, app.http_timeout());
            app.route(&method, &path, &web, &capabilities.platform())
                .await
                .map(pages::render)
        }
    };
    match response {
        Some(response) => web_response(response),
        None => json(404, br#"{"error":"not_found"}"#.to_vec()),
    }
}

/// The Worker's `scheduled` handler (the cron trigger in `wrangler.toml`): one scheduled run of
/// the daemon ([`TokenProvider::run_scheduled`]) for every tenant.
#[event(scheduled)]
pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    // Each tenant's outcome, the run's summary and a configuration error are logged.
    let _report = TokenProvider::for_isolate().run_scheduled(&env).await;
}

/// Which scenario serves a path: the web API's or the web app's route table.
enum WebRoute {
    Api,
    App,
}

/// A scenario that could not be built (configuration, key import): `call_reply` logs it.
fn failure(error: edge_token::Error) -> worker::Result<Response> {
    http_response(call_reply(Err(CallFailure::Token(error))))
}

fn json(status: u16, body: Vec<u8>) -> worker::Result<Response> {
    let mut response = Response::from_bytes(body)?.with_status(status);
    response
        .headers_mut()
        .set("content-type", "application/json")?;
    Ok(response)
}
