//! Deployment-wide coordination of token requests: one provider request per key per deployment,
//! not one per isolate, and one redemption at a time per refresh token (issue: a cold burst or
//! a refresh deadline otherwise causes one request per isolate, which is what gets an app
//! throttled by Entra; two isolates redeeming one rotating refresh token make the provider
//! revoke the user's grant, RFC 9700 §4.14.2).
//!
//! The adapter hands the core a [`Coordinator`]: a channel to the one place responsible for a
//! key (on Workers, a Durable Object addressed by the key's storage name, a hash). Both ends run
//! edge-token and speak this module's protocol:
//!
//! - the isolate, after a memory and store miss, sends a [`CoordinatedRequest`] (the storage
//!   key, the scopes, the [`CoordinatedGrant`]) instead of asking the provider;
//! - the coordinator runs the same [`crate::acquisition::ConfidentialClient`] rules with its own
//!   memory tier, its own sealed storage tier, single-flight and throttle table
//!   ([`crate::acquisition::ConfidentialClient::serve_coordinated`]), and answers a
//!   [`CoordinatedAnswer`]: the token, the throttle, or the provider's refusal;
//! - the isolate caches the token (memory, store) and serves it. A throttle or a refusal is the
//!   answer (no local request, which would defeat the coordination); anything else (the
//!   coordinator unreachable, failing, configured for another client, another protocol
//!   version) is logged and the isolate asks the provider itself, as without a coordinator.
//!
//! Coordinated: app tokens (client credentials) and on-behalf-of tokens without a claims
//! challenge (one object per cache key), and every refresh-token redemption of a web-app
//! session (one object per session: [`RefreshRedemption`]). A forced refresh or a claims
//! challenge of an app or on-behalf-of token goes to the provider from the isolate, as before.
//! The messages of the user grants are there with their scenarios: on-behalf-of with feature
//! `webapi`, refresh-token redemptions with feature `webapp`. A coordinator built without one
//! reads such a request as malformed and answers [`CoordinatedAnswer::Unavailable`]: the
//! isolate then acquires by itself.
//!
//! The messages ([`CoordinatedRequest`], [`CoordinatedAnswer`]) and both ends' code need
//! feature `coordination` (default); without it, a [`Coordinator`] in the
//! [`crate::platform::Platform`] is refused with [`crate::Error::Configuration`] (never
//! bypassed in silence: the deployment meant its token requests to be coordinated).
//!
//! Wire form: JSON both ways, the request `{"v":1,"key":…,"scopes":…,"ahead":…,"grant":…}`, the
//! answer `{"v":1,"answer":{"token":{…},"source":…}}` (or `redeemed`, `throttled`, `refused`,
//! `failed`, `unavailable`); both carry tokens, so the channel must stay inside the
//! deployment (a Durable Object binding is).

use alloc::vec::Vec;
use core::time::Duration;

use crate::acquisition::throttle::{RETRY_DELAY_MS, RETRY_JITTER_MS};
use crate::error::Error;
use crate::platform::LocalBoxFuture;

#[cfg(feature = "coordination")]
mod messages;
#[cfg(all(feature = "coordination", feature = "webapp"))]
pub use messages::RefreshRedemption;
#[cfg(feature = "coordination")]
pub(crate) use messages::{ask, Coordinated};
#[cfg(feature = "coordination")]
pub use messages::{
    CoordinatedAnswer, CoordinatedGrant, CoordinatedRequest, RefreshAhead, Served,
    COORDINATION_VERSION, MAX_COORDINATION_MESSAGE_LEN,
};

/// How long an isolate waits for its coordinator, given the requests' time limit
/// (`HTTP_TIMEOUT_MS`): the coordinator's own worst case (two attempts of that limit and the
/// retry delay of 1 s with its largest jitter of 0.25 s) plus 2 s, so that an
/// isolate never gives up on a coordinator that is still retrying and then sends the same
/// request itself. Adapters bound their [`Coordinator::exchange`] by it.
pub fn coordinator_time_limit(http_timeout: Duration) -> Duration {
    let retry_delay_ms = u64::from(RETRY_DELAY_MS) + u64::from(RETRY_JITTER_MS);
    http_timeout
        .saturating_mul(2)
        .saturating_add(Duration::from_millis(retry_delay_ms + 2_000))
}

/// The channel to the coordinator responsible for a key, implemented by adapters (Workers: a
/// Durable Object stub per key).
pub trait Coordinator {
    /// Sends `request` (a [`CoordinatedRequest`] as JSON) to the coordinator of `key` (a
    /// storage key: `edge-token/v1/` + a hash, never the raw cache key) and returns its answer
    /// (a [`CoordinatedAnswer`] as JSON).
    ///
    /// # Errors
    /// Whatever the channel reports (the coordinator is unreachable, stopped, or failed): the
    /// isolate then acquires the token itself.
    fn exchange<'a>(
        &'a self,
        key: &'a str,
        request: Vec<u8>,
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>>;
}

#[cfg(test)]
mod tests;
