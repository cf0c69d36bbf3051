//! What the platform hands the core: the time, randomness and transport.
//!
//! The core never reads a clock, draws randomness or does IO by itself. Adapters implement these
//! traits with the runtime's facilities (Workers `Date.now()` / `crypto.getRandomValues` /
//! `fetch`, Fastly and Spin host calls) and pass them in for each operation as a [`Platform`].
//! Futures are `!Send` boxed futures: every edge runtime runs one request on one thread.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use core::future::Future;
use core::pin::Pin;

use crate::error::Error;
use alloc::vec::Vec;

use crate::platform::http::{HttpRequest, HttpResponse};

pub mod http;
#[cfg(feature = "system")]
pub mod system;

/// A boxed, `!Send` future: the shape every async capability returns, so the traits stay
/// object-safe (`&dyn`) without an async runtime.
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Wall-clock time.
pub trait Clock {
    /// Seconds since the Unix epoch (UTC).
    fn now_unix_secs(&self) -> u64;
}

/// A cryptographically secure random source.
pub trait Entropy {
    /// Fills `dest` with random bytes.
    ///
    /// # Errors
    /// Whatever the platform reports; the core maps nothing to a default.
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error>;
}

/// Waits without blocking: a timer of the caller's own (Workers `setTimeout`, a host sleep).
pub trait Sleep {
    /// Completes after `millis` milliseconds.
    fn sleep(&self, millis: u32) -> LocalBoxFuture<'_, ()>;
}

/// Sends one HTTP request.
///
/// Implementations must not follow redirects (a 3xx is returned as a response), should bound
/// the time of each attempt ([`crate::error::TransportErrorKind::Timeout`]), and should stop
/// reading a body past [`crate::platform::http::MAX_RESPONSE_BODY_BYTES`].
pub trait HttpTransport {
    /// Sends `request` and returns the response, whatever its status.
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, Error>>;
}

/// The capabilities one operation needs, borrowed from the adapter.
#[derive(Clone, Copy)]
pub struct Platform<'a> {
    /// Time.
    pub clock: &'a dyn Clock,
    /// Timers (single-flight waiters recheck on their own timer).
    pub sleep: &'a dyn Sleep,
    /// Randomness (`jti`, `client-request-id`).
    pub entropy: &'a dyn Entropy,
    /// Transport to the identity provider.
    pub transport: &'a dyn HttpTransport,
    /// The shared token store (second cache level, e.g. Workers KV).
    pub store: &'a dyn TokenStore,
    /// The deployment-wide coordinator of token requests (a Durable Object on Workers), if the
    /// adapter has one: see [`crate::acquisition::coordination`]. `None`: each isolate asks
    /// the provider itself. Without the feature `coordination`, `Some` is refused: an
    /// acquisition that would ask it fails with [`crate::Error::Configuration`].
    pub coordinator: Option<&'a dyn crate::acquisition::Coordinator>,
}

impl<'a> Platform<'a> {
    /// The same capabilities with another clock (e.g. a corrected one, `crate::acquisition::clock`).
    pub fn with_clock<'b>(&self, clock: &'b dyn Clock) -> Platform<'b>
    where
        'a: 'b,
    {
        Platform { clock, ..*self }
    }

    /// 16 random bytes as an RFC 9562 version-4 UUID, lower-case hyphenated: the `jti` of an
    /// assertion and the `client-request-id` of a request.
    ///
    /// # Errors
    /// As [`Entropy::fill`].
    pub fn random_uuid(&self) -> Result<String, Error> {
        let mut bytes = [0u8; 16];
        self.entropy.fill(&mut bytes)?;
        Ok(uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string())
    }
}

/// A shared token store, the second cache level. Implementations keep opaque bytes under a
/// `crate::acquisition::cache::CacheKey::storage_key`; the core decides what is valid.
pub trait TokenStore {
    /// The stored bytes, or `None` when absent.
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>>;
    /// Stores `value` for `ttl_secs` seconds (>= `crate::acquisition::cache::MIN_STORE_TTL_SECS`).
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>>;
    /// Removes the entry under `key`; absent keys are not an error.
    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>>;
}

/// A store that keeps nothing: for platforms without a shared store.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoStore;

impl TokenStore for NoStore {
    fn get<'a>(&'a self, _key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        alloc::boxed::Box::pin(core::future::ready(Ok(None)))
    }
    fn put<'a>(
        &'a self,
        _key: &'a str,
        _value: Vec<u8>,
        _ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        alloc::boxed::Box::pin(core::future::ready(Ok(())))
    }
    fn delete<'a>(&'a self, _key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        alloc::boxed::Box::pin(core::future::ready(Ok(())))
    }
}

/// A shared store is a store: adapters hand out `Rc<dyn TokenStore>` for stores that live as
/// long as the instance.
impl<T: TokenStore + ?Sized> TokenStore for alloc::rc::Rc<T> {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        (**self).get(key)
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        (**self).put(key, value, ttl_secs)
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        (**self).delete(key)
    }
}
