//! What an adapter author writes to run the core, for the integration tests: a settable clock,
//! an immediate sleep, a counting entropy source and a transport that answers queued responses
//! in order and records every request. Plus fixtures (compiled in) and two small codecs (form
//! bodies, base64url) so the tests need no dependency beyond the crate's dev-dependencies.

// Each test crate uses its own part of this module.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};

use edge_token::config::{AzureAdSettings, ClientConfig};
use edge_token::platform::http::{HttpRequest, HttpResponse};
use edge_token::platform::{
    Clock, Entropy, HttpTransport, LocalBoxFuture, Platform, Sleep, TokenStore,
};
use edge_token::Error;

/// The tests' "now", Unix seconds (2026-11-18T11:06:40Z).
pub const NOW: u64 = 1_795_000_000;

/// The Entra authority of the tests (a known cloud: endpoints derived, no discovery).
pub const ENTRA: &str = "https://login.microsoftonline.com/contoso.onmicrosoft.com";

/// Its token endpoint.
pub const ENTRA_TOKEN_ENDPOINT: &str =
    "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";

/// A client secret that must never show up in any rendered value.
pub const SECRET: &str = "s3ntinel-SECRET-value";

/// A recorded fixture under `tests/fixtures/`, e.g. `fixture!("entra/throttled_429.json")`:
/// compiled in, so the tests also run on wasm32 (`wasm-pack test`).
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $name
        ))
    };
}
pub(crate) use fixture;

/// The `access_token` of a recorded token response.
pub fn access_token_of(response: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(response).unwrap();
    json["access_token"].as_str().unwrap().to_string()
}

/// A clock whose time the test sets.
pub struct TestClock(Cell<u64>);

/// Starts at [`NOW`].
impl Default for TestClock {
    fn default() -> Self {
        Self(Cell::new(NOW))
    }
}

impl TestClock {
    /// Sets the time to `NOW + secs`.
    pub fn set_elapsed(&self, secs: u64) {
        self.0.set(NOW + secs);
    }
}

impl Clock for TestClock {
    fn now_unix_secs(&self) -> u64 {
        self.0.get()
    }
}

/// `ExpiringStore` takes its clock by value: a borrowed test clock will do.
impl Clock for &TestClock {
    fn now_unix_secs(&self) -> u64 {
        self.0.get()
    }
}

/// A sleep that completes at once.
#[derive(Default)]
pub struct ImmediateSleep;

impl Sleep for ImmediateSleep {
    fn sleep(&self, _millis: u32) -> LocalBoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// Entropy that never repeats: each 8-byte chunk is the next value of a counter.
#[derive(Default)]
pub struct CountingEntropy(Cell<u64>);

impl Entropy for CountingEntropy {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        for chunk in dest.chunks_mut(8) {
            let next = self.0.get() + 1;
            self.0.set(next);
            chunk.copy_from_slice(&next.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// Answers each request with the next queued response; a request with none queued fails the
/// test (it is a request the test did not expect).
#[derive(Default)]
pub struct ReplayTransport {
    responses: RefCell<VecDeque<HttpResponse>>,
    requests: RefCell<Vec<HttpRequest>>,
}

impl ReplayTransport {
    /// Queues a response with `headers`.
    pub fn push_with(&self, status: u16, headers: &[(&str, &str)], body: &str) {
        self.responses.borrow_mut().push_back(HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        });
    }

    /// Queues a JSON response.
    pub fn push_json(&self, status: u16, body: &str) {
        self.push_with(status, &[("content-type", "application/json")], body);
    }

    /// Every request sent so far, in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.requests.borrow().clone()
    }

    /// How many requests were sent.
    pub fn sent(&self) -> usize {
        self.requests.borrow().len()
    }

    /// The last request sent.
    pub fn last(&self) -> HttpRequest {
        self.requests.borrow().last().cloned().expect("a request")
    }
}

impl HttpTransport for ReplayTransport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, Error>> {
        let next = self.responses.borrow_mut().pop_front();
        let response = next.unwrap_or_else(|| panic!("unexpected request: {request:?}"));
        self.requests.borrow_mut().push(request);
        Box::pin(std::future::ready(Ok(response)))
    }
}

/// The capabilities of one test "isolate"; the store is chosen per call.
#[derive(Default)]
pub struct Env {
    pub clock: TestClock,
    pub sleep: ImmediateSleep,
    pub entropy: CountingEntropy,
    pub transport: ReplayTransport,
}

impl Env {
    /// The platform handed to each operation, with `store` as the shared store.
    pub fn platform<'a>(&'a self, store: &'a dyn TokenStore) -> Platform<'a> {
        Platform {
            clock: &self.clock,
            sleep: &self.sleep,
            entropy: &self.entropy,
            transport: &self.transport,
            store,
            coordinator: None,
        }
    }
}

/// Settings from `(name, value)` pairs (a `BTreeMap<String, String>` is a `Settings`).
pub fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// The client configuration of `flat`, read through the `AZURE_AD` layer as adapters do.
pub fn config_of(flat: &BTreeMap<String, String>) -> Result<ClientConfig, Error> {
    ClientConfig::from_settings(&AzureAdSettings::new(flat)?)
}

/// The message of the configuration error `flat` gives.
pub fn config_error(flat: &BTreeMap<String, String>) -> String {
    match config_of(flat) {
        Err(Error::Configuration(message)) => message,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

/// The pairs of an `application/x-www-form-urlencoded` body; a repeated name fails the test.
pub fn form(body: &[u8]) -> BTreeMap<String, String> {
    let text = std::str::from_utf8(body).expect("a UTF-8 form body");
    let mut pairs = BTreeMap::new();
    for pair in text.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let previous = pairs.insert(form_decode(name), form_decode(value));
        assert!(previous.is_none(), "`{}` appears twice", form_decode(name));
    }
    pairs
}

/// One form-encoded name or value: `+` is a space, `%XX` a byte.
fn form_decode(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let hex = encoded.get(at + 1..at + 3).expect("two hex digits");
                decoded.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
                at += 2;
            }
            byte => decoded.push(byte),
        }
        at += 1;
    }
    String::from_utf8(decoded).expect("UTF-8")
}

/// Base64url without padding (RFC 4648 §5), as JOSE uses it.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}
