//! The reference Spin component of edge-token: `GET /daemon/call` and `GET /healthz`, through
//! the public API of `edge-token-spin` only.
//!
//! Built as is, it reads Spin variables and caches tokens in Spin's key-value store (run it
//! with `spin up`). Built with the feature `wasmtime`, it reads its settings from the
//! environment and caches tokens in memory, for `wasmtime serve`, which provides WASI HTTP but
//! not Spin's variables and key-value interfaces. That feature is the only difference.

use edge_token::scenarios::{daemon_route, healthz_reply, DaemonRoute};
use edge_token_spin::{spin_response, TokenProvider};
use spin_sdk::http::{IntoResponse, Request};

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
    let reply = match daemon_route(request.method().as_str(), request.uri().path()) {
        Ok(DaemonRoute::Healthz) => healthz_reply(),
        Ok(DaemonRoute::Call) => TOKENS.with(Clone::clone).call_downstream().await,
        Err(reply) => reply,
    };
    spin_response(reply)
}
