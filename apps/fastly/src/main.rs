//! The reference Fastly Compute app of edge-token, through the public API of
//! `edge-token-fastly` only:
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
//! with the Worker and the Spin component. Each scenario's settings are read only when one of
//! its routes is used. Build: `cargo build --release --target wasm32-wasip1 -p
//! edge-token-fastly-app`; run locally: `viceroy serve -C fastly.toml <wasm>` (the top-level
//! fastly.toml).
//!
//! An undecorated `main` (no `#[fastly::main]`): the app sends its response itself, so a due
//! token refresh and the token cache writes run after the response.

use edge_token::scenarios::tenant_parameter;
use edge_token_fastly::{fastly_response, TokenProvider};
use fastly::Response;

fn main() {
    let mut request = fastly::Request::from_client();
    let tokens = TokenProvider::default();
    // Tenant onboarding (admin consent) and the tenant registry, with ADMIN_CONSENT_REDIRECT_URI;
    // then the web app (sessions written before the reply) and the web API.
    let routed = tokens
        .tenant_route(&mut request)
        .or_else(|| tokens.web_app_route(&mut request))
        .or_else(|| tokens.web_api_route(&mut request));
    if let Some(reply) = routed {
        fastly_response(reply).send_to_client();
        tokens.after_response();
        return;
    }
    let response = match (request.get_method_str(), request.get_path()) {
        ("GET", "/healthz") => json(200, r#"{"status":"ok"}"#),
        // The caller's bearer token: checked against DAEMON_API_AUDIENCE / DAEMON_CALLER_ROLES;
        // `?tenant=`: a multi-tenant app's customer tenant.
        ("GET", "/daemon/call") => {
            let tenant = tenant_parameter(request.get_query_str());
            fastly_response(tokens.call_downstream_in_tenant(
                request.get_header_str("authorization"),
                tenant.as_deref(),
            ))
        }
        (_, "/healthz" | "/daemon/call") => json(405, r#"{"error":"method_not_allowed"}"#),
        _ => json(404, r#"{"error":"not_found"}"#),
    };
    response.send_to_client();
    tokens.after_response();
}

fn json(status: u16, body: &str) -> Response {
    Response::from_status(status)
        .with_content_type(fastly::mime::APPLICATION_JSON)
        .with_body(body)
}
