//! The reference Spin component of edge-token: `GET /daemon/call[?tenant={tid}]` (callers send an app-only
//! bearer token for `DAEMON_API_AUDIENCE` holding one of `DAEMON_CALLER_ROLES`), the tenant
//! routes (`/tenants/consent`, `/tenants/callback`, `GET /tenants`, `DELETE /tenants/{tid}`) and
//! `GET /healthz`, through the public API of `edge-token-spin` only.
//!
//! Built as is, it reads Spin variables and caches tokens in Spin's key-value store (run it
//! with `spin up`). Built with the feature `wasmtime`, it reads its settings from the
//! environment and caches tokens in memory, for `wasmtime serve`, which provides WASI HTTP but
//! not Spin's variables and key-value interfaces. That feature is the only difference.

use bytes::Bytes;
use edge_token::scenarios::{tenant_parameter, WebRequest};
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
    // Tenant onboarding (admin consent) and the tenant registry, with ADMIN_CONSENT_REDIRECT_URI
    // (no route there reads a body).
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let web = WebRequest::from_http(
        false,
        request.uri().query(),
        header("cookie"),
        header("authorization").map(str::to_string),
        None,
        &[],
    );
    let tokens = TOKENS.with(Clone::clone);
    let (method, path) = (request.method().as_str(), request.uri().path());
    if let Some(reply) = tokens.tenant_route(method, path, &web).await {
        return spin_response(reply);
    }
    match (method, path) {
        ("GET", "/healthz") => json(200, r#"{"status":"ok"}"#),
        ("GET", "/daemon/call") => {
            // The caller's bearer token: the daemon acts with the app's permissions, so only
            // callers holding one of DAEMON_CALLER_ROLES may trigger it.
            let authorization = request
                .headers()
                .get("authorization")
                .and_then(|value| value.to_str().ok());
            // `?tenant=`: a multi-tenant app's customer tenant.
            let tenant = tenant_parameter(request.uri().query());
            spin_response(
                tokens
                    .call_downstream_in_tenant(authorization, tenant.as_deref())
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
