//! The benchmark binary: the edge-token cases natively or on wasm32-wasip1 (under Node's WASI,
//! see `bench/run.mjs`), and natively the azure_identity cases too. Prints the rows as one JSON
//! array on stdout, progress on stderr.
//!
//! `edge-token-bench [--quick] [--only edge-token|azure_identity]`

use std::sync::OnceLock;
use std::time::Instant;

use edge_token::platform::system::{SystemClock, SystemEntropy};
use edge_token_bench::{edge_token_suite, Host, Settings};

#[cfg(not(target_arch = "wasm32"))]
mod azure;

/// Monotonic nanoseconds since the first call (`Instant`: `clock_time_get` on WASI).
fn now_ns() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as f64
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let settings = Settings::from_args(&args);
    let only = args
        .iter()
        .position(|arg| arg == "--only")
        .and_then(|at| args.get(at + 1))
        .map(String::as_str);
    let progress = |case: &str| eprintln!("  {case}");
    let mut rows = Vec::new();
    if only.is_none_or(|only| only == "edge-token") {
        let implementation = if cfg!(target_arch = "wasm32") {
            "edge-token wasm32-wasip1"
        } else {
            "edge-token native"
        };
        let host = Host {
            implementation,
            clock: &SystemClock,
            entropy: &SystemEntropy,
            now_ns,
        };
        rows.extend(edge_token_suite(&host, &settings, &progress));
    }
    #[cfg(not(target_arch = "wasm32"))]
    if only.is_none_or(|only| only == "azure_identity") {
        rows.extend(azure::suite(&settings, now_ns, &progress));
    }
    println!("{}", serde_json::Value::Array(rows));
}
