//! edge-token's own benchmark: the timing loop and the edge-token cases, shared by the native
//! and WASI binary (`src/main.rs`) and the wasm-bindgen module (`src/bindgen.rs`).
//!
//! Every case runs against a canned platform: the token endpoint is answered from memory with
//! [`TOKEN_RESPONSE`] (an Entra authority of a known cloud needs no discovery), the store keeps
//! nothing, sleeps never happen. Only the clock and the entropy are the host's, passed in as a
//! [`Host`]. Timings are printed, never asserted.

use core::cell::Cell;
use core::future::Future;
use core::hint::black_box;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use edge_token::credentials::{
    rustcrypto_signer, CertificateCredential, ClientCertificate, JwsAlgorithm, SecretMethod,
};
use edge_token::platform::http::{HttpRequest, HttpResponse};
use edge_token::platform::{
    Clock, Entropy, HttpTransport, LocalBoxFuture, NoStore, Platform, Sleep,
};
use edge_token::secret::ClientSecret;
use edge_token::{
    AppTokenRequest, Authority, ClientCredential, ConfidentialClient, Error, Scopes, TokenOptions,
};
use serde_json::{json, Value};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod bindgen;

/// The token endpoint's answer, shared with the azure_identity and MSAL Node cases: Entra's
/// client credentials response shape (numbers for `expires_in`, as the v2.0 endpoint sends
/// them: azure_identity reads nothing else), a 3599 s token, `refresh_in` 1799 s.
pub const TOKEN_RESPONSE: &str = include_str!("../token-response.json");

/// The authority of every case: Entra, a known cloud (endpoints derived, no discovery).
pub const AUTHORITY: &str = "https://login.microsoftonline.com/contoso.onmicrosoft.com";

/// The tenant of [`AUTHORITY`].
pub const TENANT: &str = "contoso.onmicrosoft.com";

/// The client id of every case.
pub const CLIENT_ID: &str = "00000000-0000-0000-0000-00000000b0b0";

/// The client secret of the secret cases.
pub const CLIENT_SECRET: &str = "bench-client-secret";

/// The client certificate (PEM) of the certificate cases: the test bed's daemon certificate.
pub const CERTIFICATE_PEM: &str = include_str!("../../testbed/credentials/daemon-cert.pem");

/// Its RSA-2048 private key (PKCS#8 PEM).
pub const PRIVATE_KEY_PEM: &str = include_str!("../../testbed/credentials/daemon-key.pem");

/// The scope of the cold cases.
pub const COLD_SCOPE: &str = "https://graph.microsoft.com/.default";

/// The cached-key counts of the cache hit cases.
pub const KEY_COUNTS: [usize; 4] = [1, 100, 1_000, 10_000];

/// The `i`-th distinct scope of the cache hit cases: one `{resource}/.default` per key, named
/// the same way in every implementation.
pub fn scope_name(i: usize) -> String {
    format!("api://bench-resource-{i:05}/.default")
}

/// The order in which the hit cases visit `keys` cached keys: every key once per cycle, with
/// a stride (7919, prime, coprime to every count above) so consecutive hits are not neighbours.
pub fn spread(keys: usize) -> Vec<usize> {
    (0..keys).map(|i| (i * 7919) % keys).collect()
}

/// How long and how often each case runs.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Timed rounds per case (the median is reported); at least 5.
    pub rounds: usize,
    /// The least duration of one round, in milliseconds: the iteration count is calibrated
    /// (during the warm-up) so each round takes about this long.
    pub round_ms: f64,
}

impl Settings {
    /// 7 rounds of at least 50 ms each.
    pub const FULL: Self = Self {
        rounds: 7,
        round_ms: 50.0,
    };
    /// 5 rounds of at least 10 ms each (`--quick`: a smoke run, noisier figures).
    pub const QUICK: Self = Self {
        rounds: 5,
        round_ms: 10.0,
    };

    /// [`Settings::QUICK`] when `args` holds `--quick`, else [`Settings::FULL`].
    pub fn from_args(args: &[String]) -> Self {
        if args.iter().any(|arg| arg == "--quick") {
            Self::QUICK
        } else {
            Self::FULL
        }
    }
}

/// The result of one case, per operation.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Median of the rounds' nanoseconds per operation.
    pub median_ns: f64,
    /// Fastest round, nanoseconds per operation.
    pub min_ns: f64,
    /// Slowest round, nanoseconds per operation.
    pub max_ns: f64,
    /// Timed rounds.
    pub rounds: usize,
    /// Operations per timed round.
    pub iterations: u64,
}

/// Times `run(n)` (which performs `n` operations): doubles `n` until one call takes at least
/// `settings.round_ms` (the warm-up), then times `settings.rounds` calls of that `n`. `now_ns`
/// is a monotonic clock in nanoseconds (`Instant`, or `performance.now()` in JavaScript).
pub fn measure(now_ns: fn() -> f64, settings: &Settings, mut run: impl FnMut(u64)) -> Timing {
    let mut iterations = 1u64;
    loop {
        let start = now_ns();
        run(iterations);
        match next_iterations(settings, iterations, now_ns() - start) {
            Some(more) => iterations = more,
            None => break,
        }
    }
    let per_op = (0..settings.rounds.max(5))
        .map(|_| {
            let start = now_ns();
            run(iterations);
            (now_ns() - start) / iterations as f64
        })
        .collect();
    Timing::of_rounds(per_op, iterations)
}

/// The warm-up's next iteration count after `iterations` took `took_ns`: `None` once a round
/// takes at least `settings.round_ms`, else towards that, at least doubling, at most 16 times
/// more.
pub fn next_iterations(settings: &Settings, iterations: u64, took_ns: f64) -> Option<u64> {
    let target_ns = settings.round_ms * 1e6;
    if took_ns >= target_ns {
        return None;
    }
    let estimate = if took_ns > 0.0 {
        (iterations as f64 * target_ns / took_ns * 1.1).ceil() as u64
    } else {
        iterations * 16
    };
    Some(estimate.clamp(iterations * 2, iterations * 16))
}

impl Timing {
    /// The timing of rounds of `iterations` operations that took `per_op` nanoseconds per
    /// operation each (at least one round).
    pub fn of_rounds(mut per_op: Vec<f64>, iterations: u64) -> Self {
        per_op.sort_by(f64::total_cmp);
        Self {
            median_ns: per_op[per_op.len() / 2],
            min_ns: per_op[0],
            max_ns: per_op[per_op.len() - 1],
            rounds: per_op.len(),
            iterations,
        }
    }
}

/// One line of `target/bench.json`: `implementation` (column), `case` and `keys` (row),
/// the timing, and what the canned provider saw while timing (`requests` per operation:
/// 0 for a true cache hit, 1 for a cold acquisition).
pub fn row(
    implementation: &str,
    case: &str,
    keys: Option<usize>,
    timing: &Timing,
    requests_per_op: f64,
    errors: u64,
) -> Value {
    json!({
        "implementation": implementation,
        "case": case,
        "keys": keys,
        "ns_per_op": timing.median_ns,
        "min_ns": timing.min_ns,
        "max_ns": timing.max_ns,
        "rounds": timing.rounds,
        "iterations": timing.iterations,
        "requests_per_op": requests_per_op,
        "errors": errors,
    })
}

/// Completes `future` with one poll: everything on the canned platform is ready at once.
///
/// # Panics
/// When the future waits (a case that would need a real executor).
pub fn run_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the canned platform never waits"),
    }
}

/// The token endpoint answered from memory, counting requests.
#[derive(Default)]
pub struct CannedTransport {
    sent: Cell<u64>,
}

impl CannedTransport {
    /// Requests answered so far.
    pub fn sent(&self) -> u64 {
        self.sent.get()
    }
}

impl HttpTransport for CannedTransport {
    fn send(&self, _request: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, Error>> {
        self.sent.set(self.sent.get() + 1);
        Box::pin(core::future::ready(Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: TOKEN_RESPONSE.as_bytes().to_vec(),
        })))
    }
}

/// A sleep that completes at once (single-flight waiters never wait here: one caller).
pub struct NoSleep;

impl Sleep for NoSleep {
    fn sleep(&self, _millis: u32) -> LocalBoxFuture<'_, ()> {
        Box::pin(core::future::ready(()))
    }
}

/// What the host provides: its clock and entropy (as the runtime's adapter does), a monotonic
/// timer for the loop, and the column name.
pub struct Host<'a> {
    /// The column: `edge-token native`, `edge-token wasm32-wasip1`, ...
    pub implementation: &'a str,
    /// The wall clock the core reads.
    pub clock: &'a dyn Clock,
    /// The random source the core draws from (refresh jitter, `jti`, PSS salt, RSA blinding).
    pub entropy: &'a dyn Entropy,
    /// Monotonic nanoseconds for [`measure`].
    pub now_ns: fn() -> f64,
}

impl Host<'_> {
    /// The platform of one case: this host's clock and entropy, `transport`, no store.
    pub fn platform<'p>(&'p self, transport: &'p CannedTransport) -> Platform<'p> {
        Platform {
            clock: self.clock,
            sleep: &NoSleep,
            entropy: self.entropy,
            transport,
            store: &NoStore,
            coordinator: None,
        }
    }
}

/// How a cold case's client authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Credential {
    /// `client_secret_post`.
    Secret,
    /// A certificate, the assertion signed by the pure-Rust signer (`rustcrypto`).
    Certificate(JwsAlgorithm),
}

impl Credential {
    /// The row's case name.
    pub fn case(self) -> &'static str {
        match self {
            Self::Secret => "cold, client secret",
            Self::Certificate(JwsAlgorithm::Rs256) => "cold, certificate RS256",
            Self::Certificate(_) => "cold, certificate PS256",
        }
    }
}

/// A new client of [`AUTHORITY`], as an adapter builds one from its settings (the authority,
/// the credential and, for a certificate, the PEM parsing and the signer).
///
/// # Errors
/// Whatever the core reports for the fixed settings above (none expected).
pub fn new_client(credential: Credential) -> Result<ConfidentialClient, Error> {
    let authority = Authority::parse(AUTHORITY, None)?;
    let credential = match credential {
        Credential::Secret => ClientCredential::Secret {
            secret: ClientSecret::new(CLIENT_SECRET),
            method: SecretMethod::Post,
        },
        Credential::Certificate(algorithm) => {
            let certificate = ClientCertificate::from_pem(CERTIFICATE_PEM, PRIVATE_KEY_PEM)?;
            let signer = run_ready(rustcrypto_signer(certificate.key().clone(), algorithm))?;
            ClientCredential::Certificate(CertificateCredential::new(certificate, signer, false))
        }
    };
    ConfidentialClient::new(authority, CLIENT_ID, credential)
}

/// How a hit case calls the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitCall {
    /// `acquire_token_for_client(&Scopes, ..)`: the cache key is computed on every call.
    PerCall,
    /// `acquire_app_token(&AppTokenRequest, ..)`: each scope's request prepared once
    /// (`app_token_request`), as the adapters' `app_token` and the daemon keep them.
    Prepared,
}

impl HitCall {
    /// The row's case name.
    pub fn case(self) -> &'static str {
        match self {
            Self::PerCall => "cache hit",
            Self::Prepared => "cache hit, prepared request",
        }
    }
}

/// The token in memory: `keys` distinct scopes acquired once, then hits spread over all of
/// them ([`spread`]), made as `call` says.
pub fn edge_token_hits(host: &Host<'_>, settings: &Settings, keys: usize, call: HitCall) -> Value {
    let transport = CannedTransport::default();
    let platform = host.platform(&transport);
    let client = new_client(Credential::Secret).expect("a client");
    let scopes: Vec<Scopes> = (0..keys)
        .map(|i| Scopes::parse(&scope_name(i)).expect("a scope"))
        .collect();
    let requests: Vec<AppTokenRequest> = scopes
        .iter()
        .map(|scopes| client.app_token_request(scopes).expect("a request"))
        .collect();
    // Filled the way it is then read, as an app does: the entries hold the keys of the
    // requests (prepared, or kept by the per-call path) that look them up.
    for (scopes, request) in scopes.iter().zip(&requests) {
        match call {
            HitCall::PerCall => run_ready(client.acquire_token_for_client(scopes, &platform)),
            HitCall::Prepared => run_ready(client.acquire_app_token(request, &platform)),
        }
        .expect("a token");
    }
    let order = spread(keys);
    let (mut at, mut ops, mut errors) = (0, 0u64, 0u64);
    let before = transport.sent();
    let timing = measure(host.now_ns, settings, |iterations| {
        for _ in 0..iterations {
            let key = order[at];
            at = if at + 1 == keys { 0 } else { at + 1 };
            let acquired = match call {
                HitCall::PerCall => {
                    run_ready(client.acquire_token_for_client(black_box(&scopes[key]), &platform))
                }
                HitCall::Prepared => {
                    run_ready(client.acquire_app_token(black_box(&requests[key]), &platform))
                }
            };
            match acquired {
                Ok(token) => {
                    black_box(&token);
                }
                Err(_) => errors += 1,
            }
        }
        ops += iterations;
    });
    let sent = (transport.sent() - before) as f64 / ops as f64;
    row(
        host.implementation,
        call.case(),
        Some(keys),
        &timing,
        sent,
        errors,
    )
}

/// A new client for each acquisition of [`COLD_SCOPE`], the token endpoint answered from memory.
pub fn edge_token_cold(host: &Host<'_>, settings: &Settings, credential: Credential) -> Value {
    let transport = CannedTransport::default();
    let platform = host.platform(&transport);
    let scopes = Scopes::parse(COLD_SCOPE).expect("a scope");
    let (mut ops, mut errors) = (0u64, 0u64);
    let timing = measure(host.now_ns, settings, |iterations| {
        for _ in 0..iterations {
            let acquired = new_client(credential)
                .and_then(|client| run_ready(client.acquire_token_for_client(&scopes, &platform)));
            match acquired {
                Ok(token) => {
                    black_box(&token);
                }
                Err(_) => errors += 1,
            }
        }
        ops += iterations;
    });
    let requests = transport.sent() as f64 / ops as f64;
    row(
        host.implementation,
        credential.case(),
        None,
        &timing,
        requests,
        errors,
    )
}

/// Token requests of one client with a certificate (a forced refresh each time, so the token
/// endpoint is asked every time): the signed client assertion is reused for the endpoint while
/// 300 s of it is left, so after the first request none signs.
pub fn edge_token_certificate_miss(
    host: &Host<'_>,
    settings: &Settings,
    algorithm: JwsAlgorithm,
) -> Value {
    let transport = CannedTransport::default();
    let platform = host.platform(&transport);
    let scopes = Scopes::parse(COLD_SCOPE).expect("a scope");
    let client = new_client(Credential::Certificate(algorithm)).expect("a client");
    let request = client.app_token_request(&scopes).expect("a request");
    let options = TokenOptions::force_refresh();
    let before = transport.sent();
    let (mut ops, mut errors) = (0u64, 0u64);
    let timing = measure(host.now_ns, settings, |iterations| {
        for _ in 0..iterations {
            match run_ready(client.acquire_app_token_with(&request, &options, &platform)) {
                Ok(token) => {
                    black_box(&token);
                }
                Err(_) => errors += 1,
            }
        }
        ops += iterations;
    });
    let requests = (transport.sent() - before) as f64 / ops as f64;
    let case = match algorithm {
        JwsAlgorithm::Rs256 => "miss, certificate RS256, assertion reused",
        _ => "miss, certificate PS256, assertion reused",
    };
    row(host.implementation, case, None, &timing, requests, errors)
}

/// Every edge-token case on `host`, in table order; `progress` hears each case's name first.
pub fn edge_token_suite(
    host: &Host<'_>,
    settings: &Settings,
    progress: &dyn Fn(&str),
) -> Vec<Value> {
    let mut rows = Vec::new();
    for call in [HitCall::PerCall, HitCall::Prepared] {
        for keys in KEY_COUNTS {
            let case = call.case();
            progress(&format!("{}: {case}, {keys} keys", host.implementation));
            rows.push(edge_token_hits(host, settings, keys, call));
        }
    }
    rows.extend(edge_token_cold_suite(host, settings, progress));
    rows
}

/// The cold acquisitions of [`edge_token_suite`] alone (client secret, certificate PS256 and
/// RS256 with the pure-Rust signer).
pub fn edge_token_cold_suite(
    host: &Host<'_>,
    settings: &Settings,
    progress: &dyn Fn(&str),
) -> Vec<Value> {
    let mut rows: Vec<Value> = [
        Credential::Secret,
        Credential::Certificate(JwsAlgorithm::Ps256),
        Credential::Certificate(JwsAlgorithm::Rs256),
    ]
    .into_iter()
    .map(|credential| {
        progress(&format!("{}: {}", host.implementation, credential.case()));
        edge_token_cold(host, settings, credential)
    })
    .collect();
    for algorithm in [JwsAlgorithm::Ps256, JwsAlgorithm::Rs256] {
        progress(&format!(
            "{}: miss, certificate {algorithm:?}, assertion reused",
            host.implementation
        ));
        rows.push(edge_token_certificate_miss(host, settings, algorithm));
    }
    rows
}
