//! The coordination protocol's messages (feature `coordination`): what an isolate asks, what
//! its coordinator answers, and how the isolate reads the answer
//! ([`super`] has the rules).

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::Coordinator;
use crate::acquisition::cache::CachedToken;
use crate::error::{
    Error, InvalidResponse, ResponseProblem, ServerError, TransportError, TransportErrorKind,
};
#[cfg(feature = "webapp")]
use crate::protocol::response::ReceivedTokens;
use crate::protocol::scope::Scopes;
#[cfg(feature = "webapi")]
use crate::secret::AccessToken;
#[cfg(feature = "webapp")]
use crate::secret::RefreshToken;

/// The protocol version both ends must speak.
pub const COORDINATION_VERSION: u8 = 1;

/// The longest request or answer read, in bytes.
pub const MAX_COORDINATION_MESSAGE_LEN: usize = 64 * 1024;

/// What an isolate asks its coordinator for: the token of `scopes` by `grant`, stored (or, for a
/// refresh token, coordinated) under `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatedRequest {
    /// [`COORDINATION_VERSION`].
    pub v: u8,
    /// The storage key of the token (`CacheKey::storage_key`): the coordinator serves only a
    /// key it computes itself for the same grant and scopes, so a coordinator configured for
    /// another client, authority or scopes refuses instead of handing out its own token. For
    /// [`CoordinatedGrant::RefreshToken`], the session's storage key
    /// (`SessionId::storage_key`, `edge-token/v1/session/…`), under which the coordinator keeps
    /// the session's refresh token.
    pub key: String,
    /// The scopes, space-separated (`Scopes::to_param`).
    pub scopes: String,
    /// A background refresh ahead of expiry
    /// ([`crate::acquisition::ConfidentialClient::refresh_token_for_client`]):
    /// only a fresh token stops the coordinator's own refresh.
    #[serde(default)]
    pub ahead: bool,
    /// The grant the token comes from.
    #[serde(default)]
    pub grant: CoordinatedGrant,
    /// The tenant of a multi-tenant app's per-tenant client
    /// ([`crate::acquisition::ConfidentialClient::tenant_client`]); `None` for the configured
    /// authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// The grant of a [`CoordinatedRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoordinatedGrant {
    /// Client credentials (RFC 6749 §4.4): an app token.
    #[default]
    ClientCredentials,
    /// On-behalf-of (Microsoft identity platform on-behalf-of flow) for the user whose access
    /// token this is. Needs feature `webapi`.
    #[cfg(feature = "webapi")]
    OnBehalfOf {
        /// The incoming access token, as the web API received (and validated) it.
        assertion: AccessToken,
    },
    /// A refresh-token redemption (RFC 6749 §6) for a web-app session. Needs feature `webapp`.
    #[cfg(feature = "webapp")]
    RefreshToken(RefreshRedemption),
}

/// A session's refresh-token redemption through its coordinator. The coordinator serialises
/// every redemption of the session, keeps the current refresh token durably (sealed, before it
/// answers) and counts redemptions; a caller whose refresh token is older than the one it
/// holds (another isolate redeemed it meanwhile: `generation` below the coordinator's) is
/// answered with what that redemption gave, or with a redemption of the current refresh token,
/// never by presenting an already redeemed one (RFC 9700 §4.14.2: providers that rotate
/// refresh tokens revoke the grant when one is reused). Needs feature `webapp`.
#[cfg(feature = "webapp")]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRedemption {
    /// The refresh token the caller's session holds.
    pub refresh_token: RefreshToken,
    /// How many redemptions the caller's session has seen since sign-in
    /// (`Session::refresh_generation`).
    pub generation: u64,
    /// A claims challenge (JSON text, OIDC Core §5.5), if the resource sent one.
    #[serde(default)]
    pub claims: Option<String>,
    /// The caller refuses the tokens it holds (a forced refresh): only a redemption made after
    /// the caller's own refresh token was current may answer it.
    #[serde(default)]
    pub force: bool,
    /// The end of the session, Unix seconds: the coordinator keeps its record until then.
    pub expires_at: u64,
}

/// The coordinator's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoordinatedAnswer {
    /// A refresh-token redemption's tokens ([`CoordinatedGrant::RefreshToken`]), with the
    /// session's current refresh token in `tokens.response.refresh_token`. Needs feature
    /// `webapp`.
    #[cfg(feature = "webapp")]
    Redeemed {
        /// The provider's response and when it was asked for.
        tokens: ReceivedTokens,
        /// The redemption count the session is at now (`Session::refresh_generation`).
        generation: u64,
    },
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
    /// The app token due for a refresh ahead of time: run
    /// [`crate::acquisition::ConfidentialClient::refresh_ahead`] for it in the background
    /// (once per key per deployment).
    pub refresh_ahead: Option<RefreshAhead>,
}

/// An app token (client credentials) to refresh ahead of its expiry, in the background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshAhead {
    /// Its scopes.
    pub scopes: Scopes,
    /// Its tenant, for a multi-tenant app's per-tenant client; `None` for the configured
    /// authority.
    pub tenant: Option<String>,
}

/// What the isolate makes of its coordinator's answer.
pub(crate) enum Coordinated {
    /// A token to cache and serve, and where the coordinator got it
    /// (`TokenSource::as_str`).
    Token { token: CachedToken, source: String },
    /// A refresh-token redemption's tokens and the session's redemption count.
    #[cfg(feature = "webapp")]
    Redeemed {
        tokens: ReceivedTokens,
        generation: u64,
    },
    /// The answer for every isolate (throttled, refused): no local request.
    Final(Error),
    /// Acquire locally, as without a coordinator.
    Local,
}

/// The isolate's side: sends `request` to `coordinator` and reads its answer.
pub(crate) async fn ask(
    coordinator: &dyn Coordinator,
    request: &CoordinatedRequest,
) -> Coordinated {
    let Ok(body) = serde_json::to_vec(request) else {
        return Coordinated::Local;
    };
    let answer = coordinator
        .exchange(&request.key, body)
        .await
        .and_then(|bytes| CoordinatedAnswer::from_json(&bytes));
    match answer {
        Ok(CoordinatedAnswer::Token { token, source }) => {
            log::debug!("token from the coordinator ({source})");
            Coordinated::Token { token, source }
        }
        #[cfg(feature = "webapp")]
        Ok(CoordinatedAnswer::Redeemed { tokens, generation }) => {
            log::debug!("refresh token redeemed by the coordinator (generation {generation})");
            Coordinated::Redeemed { tokens, generation }
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
