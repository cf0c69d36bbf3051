//! The benchmark binary: the edge-token cases natively or on wasm32-wasip1 (under Node's WASI,
//! see `bench/run.mjs`), and natively the azure_identity cases too. Prints the rows as one JSON
//! array on stdout, progress on stderr.
//!
//! `edge-token-bench [--quick] [--only edge-token|azure_identity] [--cold-only --label NAME]`
//!
//! `--cold-only --label NAME`: only edge-token's cold acquisitions, as implementation `NAME` (the
//! wasm32-wasip1 build with wide-arithmetic, run under wasmtime: what the Fastly and Spin apps
//! ship).
//!
//! On wasm32-unknown-unknown there is nothing to run here: the library's wasm-bindgen export
//! (`src/bindgen.rs`) runs the cases there.

#[cfg(not(target_arch = "wasm32"))]
mod azure;

/// Monotonic nanoseconds since the first call (`Instant`: `clock_time_get` on WASI).
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn now_ns() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as f64
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn main() {
    use edge_token::platform::system::{SystemClock, SystemEntropy};
    use edge_token_bench::{edge_token_cold_suite, edge_token_suite, Host, Settings};

    let args: Vec<String> = std::env::args().skip(1).collect();
    let settings = Settings::from_args(&args);
    let only = args
        .iter()
        .position(|arg| arg == "--only")
        .and_then(|at| args.get(at + 1))
        .map(String::as_str);
    let label = args
        .iter()
        .position(|arg| arg == "--label")
        .and_then(|at| args.get(at + 1))
        .map(String::as_str);
    let cold_only = args.iter().any(|arg| arg == "--cold-only");
    let progress = |case: &str| eprintln!("  {case}");
    let mut rows = Vec::new();
    if only.is_none_or(|only| only == "edge-token") {
        let implementation = label.unwrap_or(if cfg!(target_arch = "wasm32") {
            "edge-token wasm32-wasip1"
        } else {
            "edge-token native"
        });
        let host = Host {
            implementation,
            clock: &SystemClock,
            entropy: &SystemEntropy,
            now_ns,
        };
        rows.extend(if cold_only {
            edge_token_cold_suite(&host, &settings, &progress)
        } else {
            edge_token_suite(&host, &settings, &progress)
        });
    }
    #[cfg(not(target_arch = "wasm32"))]
    if only.is_none_or(|only| only == "azure_identity") {
        rows.extend(azure::suite(&settings, now_ns, &progress));
    }
    println!("{}", serde_json::Value::Array(rows));
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
fn main() {}
