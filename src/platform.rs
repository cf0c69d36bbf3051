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

use crate::cache::TokenStore;
use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse};

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
/// reading a body past [`crate::http::MAX_RESPONSE_BODY_BYTES`].
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
}

impl<'a> Platform<'a> {
    /// The same capabilities with another clock (e.g. a corrected one, [`crate::clock`]).
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
