//! Token endpoint responses: success (RFC 6749 §5.1) and error (RFC 6749 §5.2), with the
//! Microsoft identity platform's extra members (`ext_expires_in`, `refresh_in`, `client_info`,
//! `error_codes`, `suberror`, `claims`, `trace_id`, `correlation_id`, `timestamp`).
//!
//! Parsing is strict and total: every malformed input becomes a typed [`Error`], never a panic,
//! and a response that fails validation yields no token (so nothing bad is ever cached).

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::error::{Error, InvalidResponse, ResponseProblem, ServerError};
use crate::platform::http::{HttpResponse, MAX_RESPONSE_BODY_BYTES};
use crate::secret::{AccessToken, IdToken, RefreshToken};

/// The longest token lifetime accepted, in seconds (one year). A larger `expires_in` is treated
/// as malformed rather than trusted: it would pin a token in caches for an unbounded time.
pub(crate) const MAX_LIFETIME_SECS: u64 = 365 * 24 * 3600;

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenResponse {
    /// `access_token`: non-empty, visible ASCII only (it becomes an HTTP header value).
    pub access_token: AccessToken,
    /// `expires_in`, seconds from the time of the response. `None` when the provider omitted it.
    pub expires_in: Option<u64>,
    /// `ext_expires_in` (Entra), seconds: how long the token is honoured during an outage.
    pub ext_expires_in: Option<u64>,
    /// `refresh_in` (Entra), seconds: when to refresh proactively.
    pub refresh_in: Option<u64>,
    /// `scope`: the granted scopes, space-separated, when the provider says.
    pub scope: Option<String>,
    /// `refresh_token`.
    pub refresh_token: Option<RefreshToken>,
    /// `id_token` (OIDC Core §3.1.3.3).
    pub id_token: Option<IdToken>,
    /// `client_info` (Entra): base64url JSON `{"uid": …, "utid": …}`.
    pub client_info: Option<String>,
}

/// Parses a token endpoint response.
///
/// # Errors
/// - [`Error::Server`] for an RFC 6749 §5.2 error object (any non-2xx status with a JSON object
///   that has a string `error`).
/// - [`Error::InvalidResponse`] for a 3xx ([`ResponseProblem::UnexpectedRedirect`]), a body over
///   [`MAX_RESPONSE_BODY_BYTES`], an HTML page, non-JSON or non-object JSON, a missing or empty
///   `access_token`, a `token_type` other than `Bearer` (compared case-insensitively, RFC 6749
///   §5.1), or an `expires_in` / `ext_expires_in` / `refresh_in` that is not a non-negative
///   integer (number or numeric string) up to [`MAX_LIFETIME_SECS`].
pub(crate) fn parse_token_response(response: &HttpResponse) -> Result<TokenResponse, Error> {
    let status = response.status;
    if (300..400).contains(&status) {
        return Err(invalid(status, ResponseProblem::UnexpectedRedirect));
    }
    if !(200..300).contains(&status) {
        return Err(error_response(response));
    }
    let body = json_object(response)?;

    let access_token = match body.get("access_token") {
        Some(Value::String(token)) if !token.is_empty() => token,
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(invalid(
                status,
                ResponseProblem::MissingField("access_token"),
            ))
        }
        Some(_) => {
            return Err(invalid(
                status,
                ResponseProblem::InvalidField {
                    field: "access_token",
                    reason: "is not a string",
                },
            ))
        }
    };
    if !access_token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            status,
            ResponseProblem::InvalidField {
                field: "access_token",
                reason: "has characters not allowed in a header",
            },
        ));
    }
    match body.get("token_type") {
        Some(Value::String(kind)) if kind.eq_ignore_ascii_case("bearer") => {}
        None | Some(Value::Null) => {
            return Err(invalid(status, ResponseProblem::MissingField("token_type")))
        }
        Some(_) => {
            return Err(invalid(
                status,
                ResponseProblem::InvalidField {
                    field: "token_type",
                    reason: "is not Bearer",
                },
            ))
        }
    }

    Ok(TokenResponse {
        access_token: AccessToken::new(access_token.as_str()),
        expires_in: seconds(&body, "expires_in", status)?,
        ext_expires_in: seconds(&body, "ext_expires_in", status)?,
        refresh_in: seconds(&body, "refresh_in", status)?,
        scope: string(&body, "scope"),
        refresh_token: string(&body, "refresh_token").map(RefreshToken::new),
        id_token: string(&body, "id_token").map(IdToken::new),
        client_info: string(&body, "client_info"),
    })
}

/// Builds the error for a non-success response: the provider's [`ServerError`] when the body is
/// an OAuth 2.0 error object, otherwise [`Error::InvalidResponse`] saying what the body was.
pub(crate) fn error_response(response: &HttpResponse) -> Error {
    let status = response.status;
    let body = match json_object(response) {
        Ok(body) => body,
        Err(Error::InvalidResponse(InvalidResponse {
            problem: ResponseProblem::NotAnObject,
            ..
        })) => return invalid(status, ResponseProblem::UnexpectedStatus),
        Err(err) => return err,
    };
    let Some(error) = string(&body, "error") else {
        return invalid(status, ResponseProblem::UnexpectedStatus);
    };
    let error_codes = match body.get("error_codes") {
        Some(Value::Array(codes)) => codes.iter().filter_map(Value::as_u64).collect(),
        _ => Vec::new(),
    };
    Error::Server(Box::new(ServerError {
        status,
        error,
        error_description: string(&body, "error_description"),
        error_uri: string(&body, "error_uri"),
        error_codes,
        suberror: string(&body, "suberror"),
        claims: string(&body, "claims"),
        trace_id: string(&body, "trace_id"),
        correlation_id: string(&body, "correlation_id"),
        timestamp: string(&body, "timestamp"),
    }))
}

/// The body as a JSON object, after the size and content checks every JSON response needs.
pub(crate) fn json_object(response: &HttpResponse) -> Result<Map<String, Value>, Error> {
    let status = response.status;
    if response.body.len() > MAX_RESPONSE_BODY_BYTES {
        return Err(invalid(
            status,
            ResponseProblem::BodyTooLarge {
                limit: MAX_RESPONSE_BODY_BYTES,
            },
        ));
    }
    let html_type = response
        .header("content-type")
        .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    let html_body = response.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
    if html_type || html_body {
        return Err(invalid(status, ResponseProblem::Html));
    }
    match serde_json::from_slice::<Value>(&response.body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(invalid(status, ResponseProblem::NotAnObject)),
        Err(_) => Err(invalid(status, ResponseProblem::NotJson)),
    }
}

pub(crate) fn invalid(status: u16, problem: ResponseProblem) -> Error {
    Error::InvalidResponse(InvalidResponse { status, problem })
}

fn string(body: &Map<String, Value>, field: &str) -> Option<String> {
    match body.get(field) {
        Some(Value::String(text)) if !text.is_empty() => Some(text.to_string()),
        _ => None,
    }
}

/// A duration in seconds: a JSON integer or a numeric string (Entra sends `"3599"` in some
/// flows), non-negative and at most [`MAX_LIFETIME_SECS`].
fn seconds(
    body: &Map<String, Value>,
    field: &'static str,
    status: u16,
) -> Result<Option<u64>, Error> {
    let bad = |reason| invalid(status, ResponseProblem::InvalidField { field, reason });
    let value = match body.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(number)) => number
            .as_u64()
            .ok_or_else(|| bad("is not a non-negative integer"))?,
        Some(Value::String(text))
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) =>
        {
            text.parse::<u64>().map_err(|_| bad("is too large"))?
        }
        Some(_) => return Err(bad("is not a non-negative integer")),
    };
    if value > MAX_LIFETIME_SECS {
        return Err(bad("is longer than a year"));
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests;
