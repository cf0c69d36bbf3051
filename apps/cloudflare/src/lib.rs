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
//! Each scenario's settings are read only when one of its routes is used, so a deployment needs
//! only the settings of the scenarios it serves.

use edge_token::scenarios::{call_reply, CallFailure};
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
        (_, path) if path == "/tenants" || path.starts_with("/tenants/") => {
            return tenants::route(&tokens, &mut request, &env).await;
        }
        (Method::Get, "/api/profile") => WebRoute::ApiProfile,
        (Method::Get, "/") => WebRoute::Home,
        (Method::Get, "/auth/sign-in") => WebRoute::SignIn,
        (Method::Get | Method::Post, "/auth/callback") => WebRoute::Callback,
        (Method::Get, "/auth/sign-out") => WebRoute::SignOut,
        (Method::Get, "/auth/frontchannel-logout") => WebRoute::FrontChannelLogout,
        (Method::Post, "/auth/backchannel-logout") => WebRoute::BackChannelLogout,
        (Method::Get, "/me") => WebRoute::Me,
        (Method::Get, "/me/call") => WebRoute::MeCall,
        (Method::Get, "/me/api") => WebRoute::MeApi,
        (
            _,
            "/healthz"
            | "/daemon/call"
            | "/api/profile"
            | "/"
            | "/auth/sign-in"
            | "/auth/callback"
            | "/auth/sign-out"
            | "/auth/frontchannel-logout"
            | "/auth/backchannel-logout"
            | "/me"
            | "/me/call"
            | "/me/api",
        ) => return json(405, br#"{"error":"method_not_allowed"}"#.to_vec()),
        _ => return json(404, br#"{"error":"not_found"}"#.to_vec()),
    };
    let web = web_request(&mut request).await?;
    if let WebRoute::ApiProfile = route {
        let api = match tokens.web_api(&env).await {
            Ok(api) => api,
            Err(error) => return failure(error),
        };
        let capabilities =
            WorkerPlatform::write_behind(&env, &ctx, TOKEN_CACHE_BINDING, api.http_timeout());
        return web_response(api.profile(&web, &capabilities.platform()).await);
    }
    let app = match tokens.web_app(&env).await {
        Ok(app) => app,
        Err(error) => return failure(error),
    };
    // Session records (and rotated refresh tokens) are written before the response: the
    // browser's next request must find them. Only token cache writes go to ctx.waitUntil.
    let capabilities = WorkerPlatform::new(&env, TOKEN_CACHE_BINDING, app.http_timeout());
    let platform = capabilities.platform();
    let response = match route {
        WebRoute::Home => app.home(&web, &platform).await,
        WebRoute::SignIn => app.sign_in(&web, &platform).await,
        WebRoute::Callback => app.callback(&web, &platform).await,
        WebRoute::SignOut => app.sign_out(&web, &platform).await,
        WebRoute::FrontChannelLogout => app.front_channel_logout(&web, &platform).await,
        WebRoute::BackChannelLogout => app.back_channel_logout(&web, &platform).await,
        WebRoute::Me => app.me(&web, &platform).await,
        WebRoute::MeCall => app.call_downstream(&web, &platform).await,
        WebRoute::MeApi | WebRoute::ApiProfile => app.call_web_api(&web, &platform).await,
    };
    web_response(pages::render(response))
}

/// The Worker's `scheduled` handler (the cron trigger in `wrangler.toml`): one scheduled run of
/// the daemon ([`TokenProvider::run_scheduled`]) for every tenant.
#[event(scheduled)]
pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    // Each tenant's outcome, the run's summary and a configuration error are logged.
    let _report = TokenProvider::for_isolate().run_scheduled(&env).await;
}

enum WebRoute {
    ApiProfile,
    Home,
    SignIn,
    Callback,
    SignOut,
    FrontChannelLogout,
    BackChannelLogout,
    Me,
    MeCall,
    MeApi,
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
