//! The reference Fastly Compute app of edge-token: `GET /daemon/call` and `GET /healthz`,
//! through the public API of `edge-token-fastly` only. Build: `cargo build --release --target
//! wasm32-wasip1 -p edge-token-fastly-app`; run locally: `viceroy serve -C
//! apps/fastly/fastly.toml <wasm>`.
//!
//! An undecorated `main` (no `#[fastly::main]`): the app sends its response itself, so a due
//! token refresh and the KV Store writes run after the response.

use edge_token::scenarios::{daemon_route, healthz_reply, DaemonRoute};
use edge_token_fastly::{fastly_response, TokenProvider};

fn main() {
    let request = fastly::Request::from_client();
    let tokens = TokenProvider::default();
    let reply = match daemon_route(request.get_method_str(), request.get_path()) {
        Ok(DaemonRoute::Healthz) => healthz_reply(),
        Ok(DaemonRoute::Call) => tokens.call_downstream(),
        Err(reply) => reply,
    };
    fastly_response(reply).send_to_client();
    tokens.after_response();
}
