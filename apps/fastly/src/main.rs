//! The reference Fastly Compute app of edge-token: `GET /daemon/call` and `GET /healthz`
//! (see `edge_token::fastly::app`). Build: `cargo build --release --target wasm32-wasip1 -p
//! edge-token-fastly-app`; run locally: `viceroy serve -C apps/fastly/fastly.toml <wasm>`.
//!
//! An undecorated `main` (no `#[fastly::main]`): the app sends its response itself, so a due
//! token refresh can run after the response.

fn main() {
    edge_token::fastly::app::handle(&fastly::Request::from_client());
}
