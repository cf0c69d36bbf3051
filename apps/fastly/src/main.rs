//! The reference Fastly Compute app of edge-token: `GET /daemon/call` and `GET /healthz`
//! (see `edge_token::fastly::app`). Build: `cargo build --release --target wasm32-wasip1 -p
//! edge-token-fastly-app`; run locally: `viceroy serve -C apps/fastly/fastly.toml <wasm>`.

use fastly::{Error, Request, Response};

#[fastly::main]
fn main(request: Request) -> Result<Response, Error> {
    let reply = edge_token::fastly::app::serve(request.get_method_str(), request.get_path());
    Ok(edge_token::fastly::app::fastly_response(reply))
}
