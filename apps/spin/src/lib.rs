//! The reference Spin component of edge-token: `GET /daemon/call` and `GET /healthz` (see
//! `edge_token::spin::app`).
//!
//! Built as is, it reads Spin variables and caches tokens in Spin's key-value store (run it
//! with `spin up`). Built with the feature `wasmtime`, it reads its settings from the
//! environment and caches tokens in memory, for `wasmtime serve`, which provides WASI HTTP but
//! not Spin's variables and key-value interfaces. That feature is the only difference.

use edge_token::spin::app::{serve, spin_response};
use spin_sdk::http::{IntoResponse, Request};

/// Where settings and the token store come from in this build.
#[cfg(not(feature = "wasmtime"))]
const HOST: edge_token::spin::app::SpinHost = edge_token::spin::app::SpinHost;
#[cfg(feature = "wasmtime")]
const HOST: edge_token::spin::app::WasiHost = edge_token::spin::app::WasiHost;

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    let reply = serve(&HOST, request.method().as_str(), request.uri().path()).await;
    spin_response(reply)
}
