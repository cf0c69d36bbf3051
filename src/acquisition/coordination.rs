//! Deployment-wide coordination of app token requests: one provider request per cache key per
//! deployment, not one per isolate (issue: a cold burst or a refresh deadline otherwise causes
//! one client credentials request per isolate, which is what gets an app throttled by Entra).
//!
//! The adapter hands the core a [`Coordinator`]: a channel to the one place responsible for a
//! key (on Workers, a Durable Object addressed by the key's storage name, a hash). Both ends run
//! edge-token and speak this module's protocol:
//!
//! - the isolate, after a memory and store miss, sends a [`CoordinatedRequest`] (the storage
//!   key, the scopes, whether the refresh is ahead of time) instead of asking the provider;
//! - the coordinator runs the same [`crate::acquisition::ConfidentialClient`] rules with its own
//!   memory tier, its own sealed storage tier, single-flight and throttle table
//!   ([`crate::acquisition::ConfidentialClient::serve_coordinated`]), and answers a
//!   [`CoordinatedAnswer`]: the token, the throttle, or the provider's refusal;
//! - the isolate caches the token (memory, store) and serves it. A throttle or a refusal is the
//!   answer (no local request, which would defeat the coordination); anything else (the
//!   coordinator unreachable, failing, configured for another client, another protocol
//!   version) is logged and the isolate asks the provider itself, as without a coordinator.
//!
//! Only client credentials without a claims challenge are coordinated: a forced refresh or a
//! claims challenge goes to the provider from the isolate, as before.
//!
//! Wire form: JSON both ways, the request `{"v":1,"key":…,"scopes":…,"ahead":…}`, the answer
//! `{"v":1,"answer":{"token":{…},"source":…}}` (or `throttled`, `refused`, `failed`,
//! `unavailable`); the answer holds an access token, so the channel must stay inside the
//! deployment (a Durable Object binding is).

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use serde::{Deserialize, Serialize};

use crate::acquisition::cache::{CacheKey, CachedToken};
use crate::acquisition::throttle::{RETRY_DELAY_MS, RETRY_JITTER_MS};
use crate::error::{
    Error, InvalidResponse, ResponseProblem, ServerError, TransportError, TransportErrorKind,
};
use crate::platform::LocalBoxFuture;
use crate::protocol::scope::Scopes;

/// The protocol version both ends must speak.
pub const COORDINATION_VERSION: u8 = 1;

/// The longest request or answer read, in bytes.
pub const MAX_COORDINATION_MESSAGE_LEN: usize = 64 * 1024;

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

/// What an isolate asks its coordinator for: the app token of `scopes`, stored under `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatedRequest {
    /// [`COORDINATION_VERSION`].
    pub v: u8,
    /// The storage key of the token (`CacheKey::storage_key`): the coordinator serves only a
    /// key it computes itself for the same scopes, so a coordinator configured for another
    /// client, authority or scopes refuses instead of handing out its own token.
    pub key: String,
    /// The scopes, space-separated (`Scopes::to_param`).
    pub scopes: String,
    /// A background refresh ahead of expiry
    /// ([`crate::acquisition::ConfidentialClient::refresh_token_for_client`]):
    /// only a fresh token stops the coordinator's own refresh.
    #[serde(default)]
    pub ahead: bool,
}

/// The coordinator's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoordinatedAnswer {
    /// The token, and where the coordinator got it.
    Token {
        /// The cache entry (absolute times).
        token: CachedToken,
        /// [`crate::acquisition::TokenSource::as_str`] at the coordinator.
        source: String,
    },
    /// The provider throttled this request; nobody sends it for this many seconds.
    Throttled {
        /// Seconds until the request may be sent again.
        retry_after_secs: u64,
    },
    /// The provider refused the request (RFC 6749 §5.2): the same answer for every isolate.
    Refused {
        /// The provider's error.
        error: ServerError,
    },
    /// The provider could not be reached or answered nonsense, after the coordinator's retry:
    /// the same failure for every isolate (asking again from each would only add load).
    Failed {
        /// The invalid response's HTTP status; `None` for a transport failure.
        status: Option<u16>,
        /// A transport failure that was a timeout.
        #[serde(default)]
        timeout: bool,
        /// What went wrong (the error's `Display`, never a secret).
        problem: String,
    },
    /// The coordinator could not serve (its configuration, another client's key): the isolate
    /// acquires the token itself.
    Unavailable {
        /// Why, for the isolate's log (never a secret).
        reason: String,
    },
}

/// The envelope of an answer: the version and the answer (nested, not flattened: serde's
/// `flatten` buffers the whole value and costs tens of KB of wasm).
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    v: u8,
    answer: T,
}

impl CoordinatedAnswer {
    /// The answer as sent: JSON with `"v"`.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&Envelope {
            v: COORDINATION_VERSION,
            answer: self,
        })
        .unwrap_or_default()
    }

    /// Reads an answer.
    ///
    /// # Errors
    /// [`Error::InvalidResponse`]-free: a plain [`Error::Platform`] naming the problem (too
    /// long, malformed, another version); the isolate then acquires the token itself.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_COORDINATION_MESSAGE_LEN {
            return Err(Error::Platform("coordinator answer too long".into()));
        }
        let envelope: Envelope<Self> = serde_json::from_slice(bytes)
            .map_err(|_| Error::Platform("coordinator answer is malformed".into()))?;
        if envelope.v != COORDINATION_VERSION {
            return Err(Error::Platform("coordinator speaks another version".into()));
        }
        Ok(envelope.answer)
    }
}

impl CoordinatedRequest {
    /// Reads a request.
    ///
    /// # Errors
    /// [`Error::Platform`] for a request that is too long, malformed or of another version.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_COORDINATION_MESSAGE_LEN {
            return Err(Error::Platform("coordination request too long".into()));
        }
        let request: Self = serde_json::from_slice(bytes)
            .map_err(|_| Error::Platform("coordination request is malformed".into()))?;
        if request.v != COORDINATION_VERSION {
            return Err(Error::Platform(
                "coordination request of another version".into(),
            ));
        }
        Ok(request)
    }
}

/// What the coordinator answers, and the work left for after the answer.
#[derive(Debug)]
pub struct Served {
    /// The [`CoordinatedAnswer`] as JSON, to send back.
    pub answer: Vec<u8>,
    /// The scopes whose token is due for a refresh ahead of time: run
    /// [`crate::acquisition::ConfidentialClient::refresh_token_for_client`] for them in the
    /// background (once per key per deployment).
    pub refresh_ahead: Option<Scopes>,
}

/// What the isolate makes of its coordinator's answer.
pub(crate) enum Coordinated {
    /// A token to cache and serve, and where the coordinator got it
    /// (`TokenSource::as_str`).
    Token { token: CachedToken, source: String },
    /// The answer for every isolate (throttled, refused): no local request.
    Final(Error),
    /// Acquire locally, as without a coordinator.
    Local,
}

/// The isolate's side: asks `coordinator` for the app token of `scopes` under `key`.
pub(crate) async fn ask(
    coordinator: &dyn Coordinator,
    key: &CacheKey,
    scopes: &Scopes,
    ahead: bool,
) -> Coordinated {
    let storage_key = key.storage_key();
    let request = CoordinatedRequest {
        v: COORDINATION_VERSION,
        key: storage_key.clone(),
        scopes: scopes.to_param(),
        ahead,
    };
    let Ok(body) = serde_json::to_vec(&request) else {
        return Coordinated::Local;
    };
    let answer = coordinator
        .exchange(&storage_key, body)
        .await
        .and_then(|bytes| CoordinatedAnswer::from_json(&bytes));
    match answer {
        Ok(CoordinatedAnswer::Token { token, source }) => {
            log::debug!("token from the coordinator ({source})");
            Coordinated::Token { token, source }
        }
        Ok(CoordinatedAnswer::Throttled { retry_after_secs }) => {
            Coordinated::Final(Error::Throttled { retry_after_secs })
        }
        Ok(CoordinatedAnswer::Refused { error }) => {
            Coordinated::Final(Error::Server(alloc::boxed::Box::new(error)))
        }
        Ok(CoordinatedAnswer::Failed {
            status: Some(status),
            problem,
            ..
        }) => Coordinated::Final(Error::InvalidResponse(InvalidResponse::new(
            status,
            ResponseProblem::Relayed(problem),
        ))),
        Ok(CoordinatedAnswer::Failed {
            status: None,
            timeout,
            problem,
        }) => {
            let kind = if timeout {
                TransportErrorKind::Timeout
            } else {
                TransportErrorKind::Network
            };
            Coordinated::Final(Error::Transport(TransportError::new(kind, problem)))
        }
        Ok(CoordinatedAnswer::Unavailable { reason }) => {
            log::warn!("coordinator unavailable ({reason}): acquiring in this isolate");
            Coordinated::Local
        }
        Err(error) => {
            log::warn!("coordinator unreachable ({error}): acquiring in this isolate");
            Coordinated::Local
        }
    }
}

#[cfg(test)]
mod tests;
