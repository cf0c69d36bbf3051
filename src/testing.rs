//! Test support shared by the core's unit tests: a platform with a settable clock, fixed
//! entropy, instant sleeps and a transport that replays recorded responses in order.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use crate::acquisition::client::ConfidentialClient;
use crate::acquisition::coordination::Coordinator;
use crate::config::Settings;
use crate::error::Error;
use crate::platform::http::{HttpRequest, HttpResponse};
use crate::platform::TokenStore;
use crate::platform::{Clock, Entropy, HttpTransport, LocalBoxFuture, Platform, Sleep};

/// The tests' "now", Unix seconds (2026-11-18).
pub(crate) const NOW: u64 = 1_795_000_000;

/// Recorded Entra answers (`tests/fixtures/entra/`) shared by the acquisition tests: a client
/// credentials success (`expires_in` 3599, `refresh_in` 1799), an `invalid_client` refusal
/// (AADSTS7000215) and an HTML 503 outage page.
pub(crate) const ENTRA_SUCCESS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/entra/client_credentials_success.json"
));
/// See [`ENTRA_SUCCESS`].
pub(crate) const ENTRA_INVALID_CLIENT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/entra/invalid_client_secret.json"
));
/// See [`ENTRA_SUCCESS`].
pub(crate) const ENTRA_OUTAGE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/entra/service_unavailable.html"
));

/// A token cache key for tests (`TOKEN_CACHE_KEY`: base64url of 32 bytes).
pub(crate) const TOKEN_CACHE_KEY: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8";

/// [`TOKEN_CACHE_KEY`] parsed.
pub(crate) fn token_cache_keys() -> crate::seal::RootKeys {
    crate::seal::RootKeys::parse("TOKEN_CACHE_KEY", TOKEN_CACHE_KEY).expect("a valid test key")
}

/// Replays recorded responses; see the module docs.
pub(crate) struct ReplayPlatform {
    /// The clock, settable.
    pub(crate) now: Cell<u64>,
    responses: RefCell<VecDeque<HttpResponse>>,
    /// Every request sent, in order.
    pub(crate) requests: RefCell<Vec<HttpRequest>>,
}

impl ReplayPlatform {
    /// Answers the requests with `responses` in order; a request past the end fails the test.
    pub(crate) fn new(responses: &[(u16, &str)]) -> Self {
        let responses = responses
            .iter()
            .map(|(status, body)| HttpResponse {
                status: *status,
                headers: Vec::new(),
                body: body.as_bytes().to_vec(),
            })
            .collect();
        Self {
            now: Cell::new(NOW),
            responses: RefCell::new(responses),
            requests: RefCell::default(),
        }
    }

    /// Queues one more response (for answers that depend on earlier requests).
    pub(crate) fn push(&self, status: u16, body: &str) {
        self.responses.borrow_mut().push_back(HttpResponse {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        });
    }

    /// Queues one more response with headers.
    pub(crate) fn push_response(&self, status: u16, headers: &[(&str, &str)], body: &str) {
        self.responses.borrow_mut().push_back(HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (String::from(*n), String::from(*v)))
                .collect(),
            body: body.as_bytes().to_vec(),
        });
    }

    /// The platform, with `store` as the shared store.
    pub(crate) fn platform<'a>(&'a self, store: &'a dyn TokenStore) -> Platform<'a> {
        Platform {
            clock: self,
            sleep: self,
            entropy: self,
            transport: self,
            store,
            coordinator: None,
        }
    }
}

impl Clock for ReplayPlatform {
    fn now_unix_secs(&self) -> u64 {
        self.now.get()
    }
}
impl Sleep for ReplayPlatform {
    fn sleep(&self, _millis: u32) -> LocalBoxFuture<'_, ()> {
        Box::pin(core::future::ready(()))
    }
}
impl Entropy for ReplayPlatform {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        dest.fill(0x42);
        Ok(())
    }
}
impl HttpTransport for ReplayPlatform {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, Error>> {
        self.requests.borrow_mut().push(request);
        let next = self
            .responses
            .borrow_mut()
            .pop_front()
            .expect("a recorded response for every request");
        Box::pin(core::future::ready(Ok(next)))
    }
}

/// Entropy that never repeats: each fill writes a running counter, so two draws always differ
/// (state, nonce and verifier must not coincide; every seal needs a fresh nonce).
#[derive(Default)]
pub(crate) struct CountingEntropy(Cell<u64>);

impl CountingEntropy {
    /// A source whose first value follows `start` (distinct sources, distinct "randomness").
    pub(crate) fn starting_at(start: u64) -> Self {
        Self(Cell::new(start))
    }
}

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

/// An in-memory [`TokenStore`] that records each entry's TTL.
#[derive(Default)]
pub(crate) struct MapStore(pub(crate) RefCell<BTreeMap<String, (Vec<u8>, u64)>>);

impl TokenStore for MapStore {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        Box::pin(core::future::ready(Ok(self
            .0
            .borrow()
            .get(key)
            .map(|(value, _)| value.clone()))))
    }
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        self.0.borrow_mut().insert(key.into(), (value, ttl_secs));
        Box::pin(core::future::ready(Ok(())))
    }
    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        self.0.borrow_mut().remove(key);
        Box::pin(core::future::ready(Ok(())))
    }
}

/// Settings from a map of names to values.
#[derive(Default)]
pub(crate) struct MapSettings(pub(crate) BTreeMap<&'static str, String>);

impl MapSettings {
    /// The settings `pairs`.
    pub(crate) fn of(pairs: &[(&'static str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(name, value)| (*name, String::from(*value)))
                .collect(),
        )
    }
}

impl Settings for MapSettings {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// A token coordinator in memory: its own client and durable storage, on the shared test
/// transport, reached through [`Coordinator::exchange`] as an isolate reaches a Durable Object.
pub(crate) struct InMemoryCoordinator<'a> {
    /// The coordinator's client (the same settings as the isolates').
    pub(crate) client: ConfidentialClient,
    /// Its durable storage.
    pub(crate) storage: MapStore,
    env: &'a ReplayPlatform,
    /// How many exchanges it served.
    pub(crate) served: Cell<usize>,
    /// When set, it is unreachable.
    pub(crate) down: Cell<bool>,
}

impl<'a> InMemoryCoordinator<'a> {
    /// The coordinator running `client` on `env`'s transport and clock.
    pub(crate) fn new(env: &'a ReplayPlatform, client: ConfidentialClient) -> Self {
        Self {
            client,
            storage: MapStore::default(),
            env,
            served: Cell::new(0),
            down: Cell::new(false),
        }
    }

    /// A platform over `store` whose coordinator is this one.
    pub(crate) fn platform<'p>(&'p self, store: &'p dyn TokenStore) -> Platform<'p> {
        Platform {
            coordinator: Some(self),
            ..self.env.platform(store)
        }
    }
}

impl Coordinator for InMemoryCoordinator<'_> {
    fn exchange<'a>(
        &'a self,
        key: &'a str,
        request: Vec<u8>,
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            assert!(
                key.starts_with("edge-token/v1/"),
                "addressed by the hashed key"
            );
            if self.down.get() {
                return Err(Error::Platform("Network connection lost".into()));
            }
            self.served.set(self.served.get() + 1);
            let platform = self.env.platform(&self.storage);
            Ok(self
                .client
                .serve_coordinated(&request, &platform)
                .await
                .answer)
        })
    }
}

/// Settings that answer from `values` and record every name asked for.
struct RecordingSettings {
    values: BTreeMap<&'static str, &'static str>,
    asked: RefCell<alloc::collections::BTreeSet<String>>,
}

impl Settings for RecordingSettings {
    fn get(&self, name: &str) -> Option<String> {
        self.asked.borrow_mut().insert(name.into());
        self.values.get(name).map(|value| String::from(*value))
    }
}

/// Checks that `read` (a scenario's `from_settings`), given `base` plus each kind of credential
/// (secret, certificate, assertion) through the `AZURE_AD` layer, succeeds and asks only for
/// names in [`crate::config::CLIENT_SETTING_NAMES`] or `listed`: what lets a runtime fetch every
/// setting by name before parsing.
pub(crate) fn assert_reads_only_listed(
    listed: &[&str],
    base: &[(&'static str, &'static str)],
    read: impl Fn(&dyn Settings) -> Result<(), Error>,
) {
    use crate::credentials::certificate::tests::{CERT_PEM, KEY_PKCS8_PEM};
    let credentials: [&[(&'static str, &'static str)]; 3] = [
        &[
            ("CLIENT_SECRET", "s"),
            ("CLIENT_AUTH_METHOD", "client_secret_basic"),
        ],
        &[
            ("CLIENT_CERTIFICATE", CERT_PEM),
            ("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM),
            ("CLIENT_ASSERTION_ALG", "RS256"),
            ("CLIENT_SEND_X5C", "true"),
        ],
        &[("CLIENT_ASSERTION", "a.b.c")],
    ];
    for credential in credentials {
        let settings = RecordingSettings {
            values: base.iter().chain(credential).copied().collect(),
            asked: RefCell::default(),
        };
        let layered = crate::config::azure_ad::AzureAdSettings::new(&settings).unwrap();
        read(&layered).unwrap();
        for name in settings.asked.borrow().iter() {
            assert!(
                crate::config::CLIENT_SETTING_NAMES.contains(&name.as_str())
                    || listed.contains(&name.as_str()),
                "{name} is not listed"
            );
        }
    }
}
