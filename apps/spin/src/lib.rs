//! The reference Spin component of edge-token, through the public API of `edge-token-spin`
//! only:
//! - `GET /healthz`;
//! - daemon: `GET /daemon/call[?tenant={tid}]` (callers send an app-only bearer token for
//!   `DAEMON_API_AUDIENCE` holding one of `DAEMON_CALLER_ROLES`);
//! - tenant onboarding (with `ADMIN_CONSENT_REDIRECT_URI`): `/tenants/consent`,
//!   `/tenants/callback`, `GET /tenants`, `DELETE /tenants/{tid}`;
//! - web app: `GET /`, `GET /auth/sign-in`, `GET|POST /auth/callback`, `GET /auth/sign-out`,
//!   `GET /me`, `GET /me/call`, `GET /me/api` (pages as plain text);
//! - web API: `GET /api/profile` (bearer validation, then on-behalf-of).
//!
//! The route tables of the tenant routes, the web app and the web API are the core's, shared
//! with the Worker and the Fastly app. Each scenario's settings are read only when one of its
//! routes is used.
//!
//! Built as is, it reads Spin variables and caches tokens and sessions in Spin's key-value
//! store (run it with `spin up`). Built with the feature `wasmtime`, it reads its settings from
//! the environment and keeps them in memory, for `wasmtime serve`, which provides WASI HTTP but
//! not Spin's variables and key-value interfaces. That feature is the only difference.

use bytes::Bytes;
use edge_token::scenarios::tenant_parameter;
use edge_token_spin::{spin_response, TokenProvider};
use spin_sdk::http::{FullBody, IntoResponse, Request, Response};

/// Where settings and the token store come from in this build.
#[cfg(not(feature = "wasmtime"))]
type Host = edge_token_spin::SpinHost;
#[cfg(feature = "wasmtime")]
type Host = edge_token_spin::WasiHost;

thread_local! {
    /// This instance's provider: its clients and memory cache serve every request it runs.
    static TOKENS: TokenProvider<Host> = TokenProvider::new(Host::default());
}

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().map(str::to_string);
    let tokens = TOKENS.with(Clone::clone);
    let web = tokens.web_request(request).await;
    // Tenant onboarding (admin consent) and the tenant registry, with ADMIN_CONSENT_REDIRECT_URI.
    if let Some(reply) = tokens.tenant_route(&method, &path, &web).await {
        return spin_response(reply);
    }
    if let Some(reply) = tokens.web_app_route(&method, &path, &web).await {
        return spin_response(reply);
    }
    if let Some(reply) = tokens.web_api_route(&method, &path, &web).await {
        return spin_response(reply);
    }
    match (method.as_str(), path.as_str()) {
        ("GET", "/healthz") => json(200, r#"{"status":"ok"}"#),
        ("GET", "/daemon/call") => {
            // The caller's bearer token: the daemon acts with the app's permissions, so only
            // callers holding one of DAEMON_CALLER_ROLES may trigger it.
            // `?tenant=`: a multi-tenant app's customer tenant.
            let tenant = tenant_parameter(query.as_deref());
            spin_response(
                tokens
                    .call_downstream_in_tenant(web.authorization.as_deref(), tenant.as_deref())
                    .await,
            )
        }
        (_, "/healthz" | "/daemon/call") => json(405, r#"{"error":"method_not_allowed"}"#),
        _ => json(404, r#"{"error":"not_found"}"#),
    }
}

fn json(status: u16, body: &'static str) -> Response<FullBody<Bytes>> {
    let mut response = Response::new(FullBody::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = spin_sdk::http::StatusCode::from_u16(status)
        .unwrap_or(spin_sdk::http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        "content-type",
        spin_sdk::http::HeaderValue::from_static("application/json"),
    );
    response
}
