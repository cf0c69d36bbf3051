//! The edge-token cases through wasm-bindgen, for Node: the Workers adapter's clock
//! (`Date.now()`) and entropy (`crypto.getRandomValues`), as a Worker runs them, and
//! `performance.now()` for the timing loop. `bench/run.mjs` calls [`run`], then
//! [`run_webcrypto`]: cold certificate acquisitions with the adapter's WebCrypto signer
//! (`crypto.subtle`, asynchronous), what a Worker uses instead of the pure-Rust one.

use wasm_bindgen::prelude::wasm_bindgen;

use edge_token::credentials::{CertificateCredential, ClientCertificate, JwsAlgorithm};
use edge_token::{Authority, ClientCredential, ConfidentialClient, Error, Scopes};
use edge_token_cloudflare::{webcrypto_signer, WorkerClock, WorkerEntropy};

use crate::{
    edge_token_suite, next_iterations, row, CannedTransport, Host, Settings, Timing, AUTHORITY,
    CERTIFICATE_PEM, CLIENT_ID, COLD_SCOPE, PRIVATE_KEY_PEM,
};

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

fn settings(quick: bool) -> Settings {
    if quick {
        Settings::QUICK
    } else {
        Settings::FULL
    }
}

const HOST: Host<'static> = Host {
    implementation: "edge-token wasm-bindgen",
    clock: &WorkerClock,
    entropy: &WorkerEntropy,
    now_ns,
};

/// Runs every edge-token case; `quick` as `--quick`. Returns the rows as a JSON array.
#[wasm_bindgen]
pub fn run(quick: bool) -> String {
    let progress = |case: &str| console_error(&format!("  {case}"));
    serde_json::Value::Array(edge_token_suite(&HOST, &settings(quick), &progress)).to_string()
}

/// A new client with the WebCrypto signer, and one acquisition of [`COLD_SCOPE`].
async fn cold_webcrypto(
    algorithm: JwsAlgorithm,
    scopes: &Scopes,
    transport: &CannedTransport,
) -> Result<(), Error> {
    let certificate = ClientCertificate::from_pem(CERTIFICATE_PEM, PRIVATE_KEY_PEM)?;
    let signer = webcrypto_signer(certificate.key().clone(), algorithm).await?;
    let credential =
        ClientCredential::Certificate(CertificateCredential::new(certificate, signer, false));
    let client =
        ConfidentialClient::new(Authority::parse(AUTHORITY, None)?, CLIENT_ID, credential)?;
    client
        .acquire_token_for_client(scopes, &HOST.platform(transport))
        .await
        .map(|token| {
            core::hint::black_box(&token);
        })
}

/// [`crate::measure`] for the asynchronous WebCrypto case (awaited between operations).
async fn measure_webcrypto(
    settings: &Settings,
    algorithm: JwsAlgorithm,
    scopes: &Scopes,
    transport: &CannedTransport,
    errors: &mut u64,
) -> (Timing, u64) {
    let mut ops = 0u64;
    let mut round = async |iterations: u64| {
        let start = now_ns();
        for _ in 0..iterations {
            if cold_webcrypto(algorithm, scopes, transport).await.is_err() {
                *errors += 1;
            }
        }
        ops += iterations;
        now_ns() - start
    };
    let mut iterations = 1u64;
    while let Some(more) = next_iterations(settings, iterations, round(iterations).await) {
        iterations = more;
    }
    let mut per_op = Vec::new();
    for _ in 0..settings.rounds.max(5) {
        per_op.push(round(iterations).await / iterations as f64);
    }
    let timing = Timing::of_rounds(per_op, iterations);
    (timing, ops)
}

/// Cold certificate acquisitions (PS256, RS256) with the Workers adapter's WebCrypto signer;
/// resolves to the rows as a JSON array.
#[wasm_bindgen]
pub async fn run_webcrypto(quick: bool) -> String {
    let settings = settings(quick);
    let scopes = Scopes::parse(COLD_SCOPE).expect("a scope");
    let mut rows = Vec::new();
    for (algorithm, case) in [
        (
            JwsAlgorithm::Ps256,
            "cold, certificate PS256, WebCrypto signer",
        ),
        (
            JwsAlgorithm::Rs256,
            "cold, certificate RS256, WebCrypto signer",
        ),
    ] {
        console_error(&format!("  {}: {case}", HOST.implementation));
        let transport = CannedTransport::default();
        let mut errors = 0;
        let (timing, ops) =
            measure_webcrypto(&settings, algorithm, &scopes, &transport, &mut errors).await;
        let requests = transport.sent() as f64 / ops as f64;
        rows.push(row(
            HOST.implementation,
            case,
            None,
            &timing,
            requests,
            errors,
        ));
    }
    serde_json::Value::Array(rows).to_string()
}
