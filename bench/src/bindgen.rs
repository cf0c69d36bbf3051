//! The edge-token cases through wasm-bindgen, for Node: the Workers adapter's clock
//! (`Date.now()`) and entropy (`crypto.getRandomValues`), as a Worker runs them, and
//! `performance.now()` for the timing loop. `bench/run.mjs` calls [`run`].

use wasm_bindgen::prelude::wasm_bindgen;

use edge_token_cloudflare::{WorkerClock, WorkerEntropy};

use crate::{edge_token_suite, Host, Settings};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;

    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(line: &str);
}

fn now_ns() -> f64 {
    performance_now() * 1e6
}

/// Runs every edge-token case; `quick` as `--quick`. Returns the rows as a JSON array.
#[wasm_bindgen]
pub fn run(quick: bool) -> String {
    let settings = if quick {
        Settings::QUICK
    } else {
        Settings::FULL
    };
    let host = Host {
        implementation: "edge-token wasm-bindgen",
        clock: &WorkerClock,
        entropy: &WorkerEntropy,
        now_ns,
    };
    let progress = |case: &str| console_error(&format!("  {case}"));
    serde_json::Value::Array(edge_token_suite(&host, &settings, &progress)).to_string()
}
