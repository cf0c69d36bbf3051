//! The daemon scenario (Microsoft identity platform "daemon app that calls web APIs"): acquire
//! an app-only token with client credentials, call the downstream API with it, and report
//! failures as JSON. Platform-free, so every runtime's reference app is the same few lines.
//!
//! Settings, in addition to [`crate::config`]'s: `DOWNSTREAM_URL` (the API to call; `https`, or
//! `http` on loopback: bearer tokens travel only over TLS, RFC 6750 §5.3) and `DOWNSTREAM_SCOPES`
//! (space-separated; on Entra `{resource}/.default`), and optionally `HTTP_TIMEOUT_MS` (the time
//! limit of each outgoing request, 100–60000 ms, default 10000).

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::time::Duration;

use serde_json::json;

use crate::acquisition::client::{ConfidentialClient, TokenSource};
use crate::config::{http_timeout, ClientConfig, Settings};
use crate::credentials::certificate::PrivateKey;
use crate::credentials::signer::{JwsAlgorithm, JwsSigner};
use crate::error::{Error, TransportErrorKind};
use crate::platform::http::{header, HttpRequest, HttpResponse};
use crate::platform::Platform;
use crate::scenarios::downstream::{call_api, DownstreamApi, DownstreamError};

/// The daemon's configuration.
#[derive(Debug)]
#[non_exhaustive]
pub struct DaemonConfig {
    /// Who we are and how we authenticate.
    pub client: ClientConfig,
    /// `DOWNSTREAM_URL` + `DOWNSTREAM_SCOPES`: the API called with app-only tokens.
    pub downstream: DownstreamApi,
    /// `HTTP_TIMEOUT_MS`: the time limit of each outgoing request.
    pub http_timeout: Duration,
}

impl DaemonConfig {
    /// Reads and validates every daemon setting.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the first bad setting.
    pub fn from_settings(settings: &dyn Settings) -> Result<Self, Error> {
        let client = ClientConfig::from_settings(settings)?;
        let downstream =
            DownstreamApi::from_settings(settings, "DOWNSTREAM_URL", "DOWNSTREAM_SCOPES", true)?;
        let http_timeout = http_timeout(settings)?;
        Ok(Self {
            client,
            downstream,
            http_timeout,
        })
    }
}

/// What went wrong in a call to a downstream API (the daemon's or the web app's), and on which
/// side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallFailure {
    /// No token: configuration, credential or identity provider failure.
    Token(Error),
    /// The downstream API could not be reached (its HTTP errors are passed through instead).
    Downstream(Error),
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(error) => write!(f, "token acquisition failed: {error}"),
            Self::Downstream(error) => write!(f, "downstream call failed: {error}"),
        }
    }
}

/// A downstream answer with the provenance of the token used.
#[derive(Debug)]
pub struct DaemonAnswer {
    /// The downstream response, as received.
    pub response: HttpResponse,
    /// Where the token came from.
    pub token_source: TokenSource,
    /// The token is due for a proactive refresh: run [`Daemon::refresh`] in the background.
    pub refresh_due: bool,
}

/// The daemon: a confidential client and the downstream API it calls. Build one per isolate.
///
/// ```
/// use std::collections::BTreeMap;
/// use edge_token::config::AzureAdSettings;
/// use edge_token::credentials::rustcrypto_signer;
/// use edge_token::{Daemon, DaemonConfig};
///
/// let settings: BTreeMap<String, String> = [
///     ("AUTHORITY", "https://login.microsoftonline.com/contoso.onmicrosoft.com"),
///     ("CLIENT_ID", "6731de76-14a6-49ae-97bc-6eba6914391e"),
///     ("CLIENT_SECRET", "client secret"),
///     ("DOWNSTREAM_URL", "https://graph.microsoft.com/v1.0/users"),
///     ("DOWNSTREAM_SCOPES", "https://graph.microsoft.com/.default"),
/// ]
/// .into_iter()
/// .map(|(name, value)| (name.to_string(), value.to_string()))
/// .collect();
/// let config = DaemonConfig::from_settings(&AzureAdSettings::new(&settings)?)?;
/// // No IO here: a certificate's key would be handed to the signer backend.
/// let daemon = futures::executor::block_on(Daemon::build(config, rustcrypto_signer))?;
/// assert_eq!(daemon.http_timeout().as_secs(), 10); // HTTP_TIMEOUT_MS unset: 10 s
/// // Per request: `daemon.call(&platform).await` -> the downstream answer and the token's source.
/// # Ok::<(), edge_token::Error>(())
/// ```
#[derive(Debug)]
pub struct Daemon {
    client: ConfidentialClient,
    downstream: DownstreamApi,
    http_timeout: Duration,
}

impl Daemon {
    /// Builds the daemon from `config`; `signer` is the adapter's signer backend for a
    /// certificate's key (see [`crate::config::CredentialConfig::into_credential`]).
    ///
    /// # Errors
    /// As [`crate::config::CredentialConfig::into_credential`]; [`Error::Configuration`] for an empty client id.
    pub async fn build<F, Fut>(config: DaemonConfig, signer: F) -> Result<Self, Error>
    where
        F: FnOnce(PrivateKey, JwsAlgorithm) -> Fut,
        Fut: Future<Output = Result<Box<dyn JwsSigner>, Error>>,
    {
        let DaemonConfig {
            client,
            downstream,
            http_timeout,
        } = config;
        let client = client.into_client(signer).await?;
        Ok(Self {
            client,
            downstream,
            http_timeout,
        })
    }

    /// The time limit for each outgoing request (`HTTP_TIMEOUT_MS`), for the adapter's transport.
    pub fn http_timeout(&self) -> Duration {
        self.http_timeout
    }

    /// Acquires an app token for `DOWNSTREAM_SCOPES` and calls `DOWNSTREAM_URL` with it (`GET`,
    /// `Authorization: Bearer`), through [`crate::scenarios::downstream::call_api`]: a claims challenge
    /// or `invalid_token` gets one retry with a new token.
    ///
    /// # Errors
    /// [`CallFailure::Token`] when no token could be acquired, [`CallFailure::Downstream`]
    /// when the downstream API could not be reached. Downstream HTTP errors are answers, not
    /// failures: they are returned as they are.
    pub async fn call(&self, platform: &Platform<'_>) -> Result<DaemonAnswer, CallFailure> {
        let scopes = &self.downstream.scopes;
        let answer = call_api(
            &self.downstream,
            HttpRequest::get_json(self.downstream.base_url.clone()),
            |options| async move {
                self.client
                    .acquire_token_for_client_with(scopes, &options, platform)
                    .await
            },
            platform.transport,
        )
        .await
        .map_err(|error| match error {
            DownstreamError::Token(error) => CallFailure::Token(error),
            DownstreamError::Transport(error) => CallFailure::Downstream(error),
            DownstreamError::OutsideBaseUrl => CallFailure::Token(Error::configuration(
                "DOWNSTREAM_URL is outside its own base URL",
            )),
        })?;
        Ok(DaemonAnswer {
            response: answer.response,
            token_source: answer.token_source,
            refresh_due: answer.refresh_due,
        })
    }

    /// Refreshes the app token ahead of its expiry ([`ConfidentialClient::refresh_token_for_client`]);
    /// for the background, after a [`DaemonAnswer`] said `refresh_due`.
    ///
    /// # Errors
    /// As [`ConfidentialClient::refresh_token_for_client`]: log them, the cached token stays.
    pub async fn refresh(&self, platform: &Platform<'_>) -> Result<(), Error> {
        self.client
            .refresh_token_for_client(&self.downstream.scopes, platform)
            .await
            .map(|_| ())
    }
}

/// The `Retry-After` value (seconds, RFC 9110 §10.2.3) to send with [`error_reply`]'s answer:
/// the throttle's remaining time when the provider throttled the request.
pub(crate) fn retry_after(failure: &CallFailure) -> Option<u64> {
    match failure {
        CallFailure::Token(Error::Throttled { retry_after_secs }) => Some(*retry_after_secs),
        _ => None,
    }
}

/// An HTTP status and JSON body describing `failure`, safe to return to any caller: no
/// secret, no provider `error_description` (free text the provider controls), only the
/// provider's `error`, `error_codes`, `suberror`, `correlation_id` and `trace_id`.
///
/// | failure | status | `error` |
/// |---|---|---|
/// | configuration | 500 | `configuration_error` (description names the setting) |
/// | provider error response | 502 | the provider's `error`, e.g. `invalid_client` |
/// | invalid provider response | 502 | `invalid_response` |
/// | timeout | 504 | `timeout` |
/// | throttled (no request sent) | 429 | `throttled`, with `retry_after` in seconds |
/// | network, signing, platform | 502 / 500 | `network_error` / `signing_error` / `platform_error` |
/// | downstream unreachable | 502 / 504 | `downstream_unreachable` / `downstream_timeout` |
pub(crate) fn error_reply(failure: &CallFailure) -> (u16, Vec<u8>) {
    let body = match failure {
        CallFailure::Token(Error::Configuration(message)) => (
            500,
            json!({"error": "configuration_error", "error_description": message}),
        ),
        CallFailure::Token(Error::Server(server)) => (
            502,
            json!({
                "error": server.error,
                "error_description": "the identity provider refused the token request",
                "error_codes": server.error_codes,
                "suberror": server.suberror,
                "correlation_id": server.correlation_id,
                "trace_id": server.trace_id,
                "provider_status": server.status,
            }),
        ),
        CallFailure::Token(Error::InvalidResponse(invalid)) => (
            502,
            json!({"error": "invalid_response", "error_description": alloc::format!("{invalid}")}),
        ),
        CallFailure::Token(Error::Transport(transport))
            if transport.kind == TransportErrorKind::Timeout =>
        {
            (
                504,
                json!({"error": "timeout", "error_description": "the identity provider did not answer in time"}),
            )
        }
        CallFailure::Token(Error::Transport(_)) => (
            502,
            json!({"error": "network_error", "error_description": "the identity provider could not be reached"}),
        ),
        CallFailure::Token(Error::Throttled { retry_after_secs }) => (
            429,
            json!({
                "error": "throttled",
                "error_description": "the identity provider throttled this request; it was not sent again",
                "retry_after": retry_after_secs,
            }),
        ),
        CallFailure::Token(Error::Signing(message)) => (
            500,
            json!({"error": "signing_error", "error_description": message}),
        ),
        CallFailure::Token(other) => (
            500,
            json!({"error": "platform_error", "error_description": alloc::format!("{other}")}),
        ),
        CallFailure::Downstream(Error::Transport(transport))
            if transport.kind == TransportErrorKind::Timeout =>
        {
            (
                504,
                json!({"error": "downstream_timeout", "error_description": "the downstream API did not answer in time"}),
            )
        }
        CallFailure::Downstream(_) => (
            502,
            json!({"error": "downstream_unreachable", "error_description": "the downstream API could not be reached"}),
        ),
    };
    (body.0, serde_json::to_vec(&body.1).unwrap_or_default())
}

/// The response header that tells where the token of a `/daemon/call` came from (`memory`,
/// `store`, `provider` or `stale`: [`TokenSource::as_str`]).
pub const TOKEN_SOURCE_HEADER: &str = "x-edge-token-source";

/// Every setting [`DaemonConfig::from_settings`] may read, through
/// [`crate::config::azure_ad::AzureAdSettings`] (hence `AZURE_AD`), for runtimes whose settings
/// must be fetched by name before they are parsed (Spin variables are read asynchronously).
pub const DAEMON_SETTING_NAMES: &[&str] = &[
    "AZURE_AD",
    "AUTHORITY",
    "AUTHORITY_KIND",
    "AZURE_REGION",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "CLIENT_AUTH_METHOD",
    "CLIENT_CERTIFICATE",
    "CLIENT_PRIVATE_KEY",
    "CLIENT_ASSERTION_ALG",
    "CLIENT_SEND_X5C",
    "CLIENT_ASSERTION",
    "CLIENT_CAPABILITIES",
    "DOWNSTREAM_URL",
    "DOWNSTREAM_SCOPES",
    "HTTP_TIMEOUT_MS",
];

/// The answer to `GET /daemon/call`: on success `answer_reply`, on failure `error_reply`'s
/// status and JSON, with `retry-after` when `retry_after` gives one. A failure is logged at
/// `warn` (its `Display`, which holds no secret), so callers need not log it again.
pub fn call_reply(outcome: Result<DaemonAnswer, CallFailure>) -> HttpResponse {
    match outcome {
        Ok(answer) => answer_reply(answer.response, answer.token_source),
        Err(failure) => {
            log::warn!("{failure}");
            let (status, body) = error_reply(&failure);
            let mut reply = json_reply(status, body);
            if let Some(secs) = retry_after(&failure) {
                reply
                    .headers
                    .push(header("retry-after", &alloc::format!("{secs}")));
            }
            reply
        }
    }
}

/// The downstream's answer as relayed to the caller: its status, `content-type` and body, plus
/// [`TOKEN_SOURCE_HEADER`] naming where the token came from.
pub(crate) fn answer_reply(downstream: HttpResponse, token_source: TokenSource) -> HttpResponse {
    let mut headers = Vec::new();
    if let Some(content_type) = downstream.header("content-type") {
        headers.push(header("content-type", content_type));
    }
    headers.push(header(TOKEN_SOURCE_HEADER, token_source.as_str()));
    HttpResponse {
        status: downstream.status,
        headers,
        body: downstream.body,
    }
}

/// A reply with `status`, `content-type: application/json` and `body`.
pub(crate) fn json_reply(status: u16, body: Vec<u8>) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![header("content-type", "application/json")],
        body,
    }
}

#[cfg(test)]
mod tests;
