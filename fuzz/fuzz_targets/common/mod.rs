//! What the fuzz targets share: a platform (fixed clock, immediate sleep, counting entropy, a
//! transport answering from the fuzzer's input, an in-memory store), the fixed key set, and a
//! blocking executor. Only edge-token's public API is used.

// Each target uses its own part of this module.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;

use edge_token::platform::http::{HttpRequest, HttpResponse};
use edge_token::platform::{
    Clock, Entropy, HttpTransport, LocalBoxFuture, Platform, Sleep, TokenStore,
};
use edge_token::validation::{check_rsa_key, Jwk, JwkSet, JwsVerifier};
use edge_token::Error;

/// The targets' "now", Unix seconds (2026-11-18T11:06:40Z), as in the core's tests.
pub const NOW: u64 = 1_795_000_000;

/// An Entra authority on a known cloud: endpoints derived, no instance discovery request.
pub const ENTRA: &str = "https://login.microsoftonline.com/contoso.onmicrosoft.com";

/// The modulus of the fixed RSA-2048 key (`e` = 65537) of [`fixed_jwks`], base64url.
pub const MODULUS: &str = "oqssLG6aC8a5xH12iIQgG9XUrWeVH34u-oqNgEF5EdhO2o8fVO-XNXpVuiziymv1OBNubMU-97QZI_-63LcjqWfIOd7Q63IijZTCk0UX48sxI6ZRTbBLIcy2-OfG2ZKgr9N805RLOk9Qaj3tRcTNOF2JRJ0LYKEXcibBUx8w8sBF15ZaK_gGOUzpc_gpCr5rgLj6GszgPIsK2BB5HiVJnMDaysHzN1ltsdXQLWAMCUwNMCAQr8n_BhDGhr4CLV1W6VqY6aNT6mRWq_0L_xs3BzDkQgFlWypfgur4srjO_lNByAHIa3eg0KQVKq3jXazSev_byGok2RK2b5CWZKOobQ";

/// The fixed key set the token targets validate against: one RS256 signature key `k1`, one
/// without `kid`/`alg`, and an encryption key that must never be used.
pub fn fixed_jwks_json() -> String {
    format!(
        r#"{{"keys":[{{"kty":"RSA","use":"sig","kid":"k1","alg":"RS256","n":"{MODULUS}","e":"AQAB"}},{{"kty":"RSA","n":"{MODULUS}","e":"AQAB"}},{{"kty":"RSA","use":"enc","kid":"enc","n":"{MODULUS}","e":"AQAB"}}]}}"#
    )
}

/// [`fixed_jwks_json`] parsed by the core. The target aborts (a harness bug, not a finding) if
/// the core refuses it.
pub fn fixed_jwks() -> JwkSet {
    let response = json_response(200, fixed_jwks_json().into_bytes());
    match JwkSet::parse(&response) {
        Ok(set) => set,
        Err(error) => panic!("harness: the fixed JWKS does not parse: {error}"),
    }
}

/// A response with `content-type: application/json`.
pub fn json_response(status: u16, body: Vec<u8>) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body,
    }
}

/// Runs a future to completion (every capability here answers at once).
pub fn block_on<F: Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}

/// A clock stopped at a time the target chooses.
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now_unix_secs(&self) -> u64 {
        self.0
    }
}

/// A sleep that completes at once.
pub struct ImmediateSleep;

impl Sleep for ImmediateSleep {
    fn sleep(&self, _millis: u32) -> LocalBoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// Entropy that never repeats (deterministic, so crashes reproduce).
#[derive(Default)]
pub struct CountingEntropy(Cell<u64>);

impl Entropy for CountingEntropy {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        for chunk in dest.chunks_mut(8) {
            let next = self.0.get().wrapping_add(1);
            self.0.set(next);
            chunk.copy_from_slice(&next.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// Answers every request with `answer(request)`, and counts the requests (bounded: a core that
/// loops on requests would show as a timeout, not as an endless run).
pub struct FnTransport<F: Fn(&HttpRequest) -> HttpResponse> {
    pub answer: F,
    pub sent: Cell<usize>,
}

impl<F: Fn(&HttpRequest) -> HttpResponse> FnTransport<F> {
    pub fn new(answer: F) -> Self {
        Self {
            answer,
            sent: Cell::new(0),
        }
    }
}

impl<F: Fn(&HttpRequest) -> HttpResponse> HttpTransport for FnTransport<F> {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, Error>> {
        self.sent.set(self.sent.get() + 1);
        let response = (self.answer)(&request);
        Box::pin(std::future::ready(Ok(response)))
    }
}

/// A store in memory whose `get` may be overridden by the target (bytes planted in the store).
#[derive(Default)]
pub struct PlantedStore {
    pub entries: RefCell<BTreeMap<String, Vec<u8>>>,
    /// When set, answers `get` for keys it returns `Some` for (before the map).
    pub planted: Option<Box<dyn Fn(&str) -> Option<Vec<u8>>>>,
}

impl TokenStore for PlantedStore {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        let planted = self.planted.as_ref().and_then(|planted| planted(key));
        let value = planted.or_else(|| self.entries.borrow().get(key).cloned());
        Box::pin(std::future::ready(Ok(value)))
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        _ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        self.entries.borrow_mut().insert(key.to_string(), value);
        Box::pin(std::future::ready(Ok(())))
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        self.entries.borrow_mut().remove(key);
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A verifier that runs the core's key checks ([`check_rsa_key`]) and then accepts any
/// signature: it lets the fuzzer reach the claim checks behind the signature.
pub struct KeyCheckingVerifier;

impl JwsVerifier for KeyCheckingVerifier {
    fn verify<'a>(
        &'a self,
        algorithm: edge_token::credentials::JwsAlgorithm,
        key: &'a Jwk,
        _signing_input: &'a [u8],
        signature: &'a [u8],
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        // The length check is the real backend's; with an accepting verifier it would only
        // block the fuzzer, so only the key is checked.
        let _ = signature;
        let result = check_rsa_key(algorithm, key, &vec![0u8; 256])
            .map(|_| ())
            .map_err(Error::InvalidToken);
        Box::pin(std::future::ready(result))
    }
}

/// The platform over the given capabilities.
pub fn platform<'a>(
    clock: &'a dyn Clock,
    entropy: &'a dyn Entropy,
    transport: &'a dyn HttpTransport,
    store: &'a dyn TokenStore,
) -> Platform<'a> {
    Platform {
        clock,
        sleep: &ImmediateSleep,
        entropy,
        transport,
        store,
        coordinator: None,
    }
}

/// Text from fuzzer bytes: valid UTF-8 as is, anything else lossily (the core takes `&str`).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Splits a fuzz input shaped like a tiny HTTP message:
///
/// ```text
/// <first line>\n
/// <name>: <value>\n ...   (header lines, until an empty line)
/// \n
/// <body bytes>
/// ```
///
/// Returns the first line, the headers and the body (raw bytes, not re-encoded). Inputs without
/// an empty line are all first line and headers, with an empty body.
pub fn split_message(data: &[u8]) -> (String, Vec<(String, String)>, Vec<u8>) {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], data[at + 2..].to_vec()),
        None => (data, Vec::new()),
    };
    let head = text(head);
    let mut lines = head.split('\n');
    let first = lines.next().unwrap_or_default().to_string();
    let headers = lines
        .map(|line| match line.split_once(':') {
            Some((name, value)) => (name.trim().to_string(), value.trim_start().to_string()),
            None => (line.to_string(), String::new()),
        })
        .collect();
    (first, headers, body)
}

/// An HTTP status from the first word of `line` (`200`, `429`, …); 200 when it is not a number.
pub fn status_of(line: &str) -> u16 {
    line.split(' ')
        .next()
        .and_then(|word| word.trim().parse::<u16>().ok())
        .unwrap_or(200)
}

/// `FUZZ_DEBUG=1` makes the targets print what the core answered (to check that the seeds
/// reach the paths they are meant for: `cargo +nightly fuzz run <target> seeds/<target>/*`).
pub fn debug() -> bool {
    static DEBUG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("FUZZ_DEBUG").is_some())
}
