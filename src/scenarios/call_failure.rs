//! What went wrong in a call to a downstream API (the daemon's, the web app's or the web API's),
//! and the status and JSON body that describe it to the caller: shared by every scenario that
//! calls one.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde_json::json;

use crate::error::{Error, TransportErrorKind};
use crate::scenarios::protected::Rejection;

/// What went wrong in a call to a downstream API (the daemon's or the web app's), and on which
/// side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallFailure {
    /// No token: configuration, credential or identity provider failure.
    Token(Error),
    /// The downstream API could not be reached (its HTTP errors are passed through instead).
    Downstream(Error),
    /// The caller was refused before any token was requested (the daemon's protected route).
    Rejected(Rejection),
    /// The tenant a call named is not onboarded (or is no tenant id): no token was requested.
    UnknownTenant(String),
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(error) => write!(f, "token acquisition failed: {error}"),
            Self::Downstream(error) => write!(f, "downstream call failed: {error}"),
            Self::Rejected(rejection) => write!(f, "{rejection}"),
            Self::UnknownTenant(tenant) => write!(f, "tenant {tenant} is not onboarded"),
        }
    }
}

/// The `Retry-After` value (seconds, RFC 9110 §10.2.3) to send with [`error_reply`]'s answer:
/// the throttle's remaining time when the provider throttled the request.
#[cfg_attr(not(feature = "daemon"), allow(dead_code))]
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
/// | caller refused | 401 / 403 / 503 | [`Rejection::response`]'s (the daemon's `call_reply` adds its challenge header) |
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
        CallFailure::Rejected(rejection) => {
            let response = rejection.response();
            return (response.status, response.body);
        }
        CallFailure::UnknownTenant(_) => (
            403,
            json!({"error": "tenant_not_onboarded", "error_description": "this tenant has not granted the application's permissions (admin consent)"}),
        ),
    };
    (body.0, serde_json::to_vec(&body.1).unwrap_or_default())
}
