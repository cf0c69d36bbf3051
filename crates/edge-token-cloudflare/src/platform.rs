//! Clock, randomness, settings and signer construction on Workers.

use alloc::boxed::Box;
use alloc::string::{String, ToString};

use worker::{Context, Env};

use edge_token::config::Settings;
use edge_token::credentials::PrivateKey;
use edge_token::error::Error;
use edge_token::platform::NoStore;
use edge_token::platform::{Clock, Entropy, LocalBoxFuture, Platform, Sleep};

use super::{FetchTransport, KvTokenStore};
use crate::coordinator::BoundCoordinator;
#[cfg(feature = "certificate")]
use crate::signer::WebCryptoSigner;
use edge_token::acquisition::Coordinator;
use edge_token::credentials::{JwsAlgorithm, JwsSigner};

/// `Date.now()`. On Workers it advances only across IO, which is enough for expiry decisions
/// made around token requests.
#[derive(Debug, Default, Clone, Copy)]
pub struct WorkerClock;

impl Clock for WorkerClock {
    fn now_unix_secs(&self) -> u64 {
        worker::Date::now().as_millis() / 1000
    }
}

/// `setTimeout`, through `worker::Delay`: IO of the calling request's own.
#[derive(Debug, Default, Clone, Copy)]
pub struct WorkerSleep;

impl Sleep for WorkerSleep {
    fn sleep(&self, millis: u32) -> LocalBoxFuture<'_, ()> {
        Box::pin(worker::Delay::from(core::time::Duration::from_millis(
            u64::from(millis),
        )))
    }
}

/// `crypto.getRandomValues`, through getrandom.
#[derive(Debug, Default, Clone, Copy)]
pub struct WorkerEntropy;

impl Entropy for WorkerEntropy {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        getrandom::getrandom(dest)
            .map_err(|_| Error::Platform("crypto.getRandomValues failed".into()))
    }
}

/// Everything a [`Platform`] borrows on Workers, for one request: `fetch` with a time limit,
/// the KV namespace bound as the shared store (no store when the binding is missing), and the
/// token coordinator when `TOKEN_COORDINATOR` is bound (`DurableCoordinator`, feature
/// `coordination`; without the feature, a binding is refused: see `TOKEN_COORDINATOR_BINDING`).
pub struct WorkerPlatform<'ctx> {
    transport: FetchTransport,
    kv: Option<KvTokenStore<'ctx>>,
    coordinator: Option<BoundCoordinator>,
}

impl WorkerPlatform<'static> {
    /// The capabilities for `env`, with the KV namespace `kv_binding` and `timeout` per
    /// request; KV writes complete before they return (for work already in the background).
    pub fn new(env: &Env, kv_binding: &str, timeout: core::time::Duration) -> Self {
        Self {
            transport: FetchTransport::new(timeout),
            kv: env.kv(kv_binding).ok().map(KvTokenStore::new),
            coordinator: BoundCoordinator::from_env(env, timeout),
        }
    }
}

impl<'ctx> WorkerPlatform<'ctx> {
    /// As [`WorkerPlatform::new`], with KV writes deferred to `ctx.wait_until`, after the
    /// response ([`KvTokenStore::write_behind`]).
    pub fn write_behind(
        env: &Env,
        ctx: &'ctx Context,
        kv_binding: &str,
        timeout: core::time::Duration,
    ) -> Self {
        Self {
            transport: FetchTransport::new(timeout),
            kv: env
                .kv(kv_binding)
                .ok()
                .map(|kv| KvTokenStore::write_behind(kv, ctx)),
            coordinator: BoundCoordinator::from_env(env, timeout),
        }
    }

    /// The [`Platform`] to pass to the core.
    pub fn platform(&self) -> Platform<'_> {
        Platform {
            clock: &WorkerClock,
            sleep: &WorkerSleep,
            entropy: &WorkerEntropy,
            transport: &self.transport,
            store: match &self.kv {
                Some(kv) => kv,
                None => &NoStore,
            },
            coordinator: self
                .coordinator
                .as_ref()
                .map(|coordinator| coordinator as &dyn Coordinator),
        }
    }
}

/// Worker vars and secrets (both are strings on `env`).
pub struct EnvSettings<'a>(pub &'a Env);

impl Settings for EnvSettings<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.0.var(name).ok().map(|value| value.to_string())
    }
}

/// The Workers signer backend: `key` imported into WebCrypto as a non-extractable key
/// (`WebCryptoSigner`, feature `certificate`). Pass it to
/// [`edge_token::config::CredentialConfig::into_credential`] (once per isolate).
///
/// Without the feature `certificate` the core makes no key, so it is never called; it would
/// answer [`Error::Configuration`] ([`edge_token::config::CERTIFICATE_FEATURE_MISSING`]).
///
/// # Errors
/// [`Error::Signing`] when WebCrypto refuses the key.
pub async fn webcrypto_signer(
    key: PrivateKey,
    algorithm: JwsAlgorithm,
) -> Result<Box<dyn JwsSigner>, Error> {
    #[cfg(feature = "certificate")]
    return Ok(Box::new(WebCryptoSigner::import(&key, algorithm).await?));
    #[cfg(not(feature = "certificate"))]
    {
        let _ = (key, algorithm);
        Err(Error::configuration(
            edge_token::config::CERTIFICATE_FEATURE_MISSING,
        ))
    }
}
