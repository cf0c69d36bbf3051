//! Token endpoint responses: success (RFC 6749 §5.1) and error (RFC 6749 §5.2), with the
//! Microsoft identity platform's extra members (`ext_expires_in`, `refresh_in`, `client_info`,
//! `error_codes`, `suberror`, `claims`, `trace_id`, `correlation_id`, `timestamp`).
//!
//! Parsing is strict and total: every malformed input becomes a typed [`Error`], never a panic,
//! and a response that fails validation yields no token (so nothing bad is ever cached). A body
//! that names a member twice in any object is refused ([`ResponseProblem::DuplicateMember`],
//! through [`json_object`], which discovery documents and key sets share), and every field of a
//! [`ServerError`] is bounded ([`error_response`]), so logs and replies that show it stay short.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::error::{Error, InvalidResponse, ResponseProblem, ServerError};
use crate::platform::http::{HttpResponse, MAX_RESPONSE_BODY_BYTES};
use crate::protocol::json::{strict_object, StrictJsonError};
use crate::secret::{AccessToken, IdToken, RefreshToken};

/// The longest token lifetime accepted, in seconds (one year). A larger `expires_in` is treated
/// as malformed rather than trusted: it would pin a token in caches for an unbounded time.
pub(crate) const MAX_LIFETIME_SECS: u64 = 365 * 24 * 3600;

/// A successful token response (RFC 6749 §5.1). Serialized only where it stays inside the
/// deployment: the token coordinator's answers and its sealed records
/// ([`crate::acquisition::coordination`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// Tokens straight from the provider, with the time they were asked for (lifetimes count from
/// there). What a token request gives the caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReceivedTokens {
    /// The parsed token response.
    pub response: TokenResponse,
    /// When the request was sent, Unix seconds.
    pub requested_at: u64,
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

/// The longest `error` accepted, in characters. OAuth 2.0 error codes are short identifiers
/// (the longest registered ones are under 32 characters); a longer `error` makes the answer an
/// [`Error::InvalidResponse`], not a [`ServerError`].
pub(crate) const MAX_ERROR_CHARS: usize = 64;

/// The longest `error_description` kept, in characters; a longer one is cut to this length.
/// Entra's descriptions (an AADSTS message, then trace and correlation ids and a timestamp) stay
/// well below it.
pub(crate) const MAX_ERROR_DESCRIPTION_CHARS: usize = 1024;

/// The longest `error_uri` kept, in characters; a longer one (or one with characters outside
/// RFC 6749 §5.2's `%x21 / %x23-5B / %x5D-7E`) is dropped.
pub(crate) const MAX_ERROR_URI_CHARS: usize = 512;

/// The longest `suberror` kept, in characters (Entra's are identifiers such as
/// `consent_required`); a longer one, or one with characters outside ASCII letters, digits, `_`,
/// `-` and `.`, is dropped.
pub(crate) const MAX_SUBERROR_CHARS: usize = 64;

/// The longest `trace_id` / `correlation_id` kept, in characters (Entra sends GUIDs, 36
/// characters); a longer one, or one with characters outside ASCII letters, digits, `-`, `_` and
/// `.`, is dropped.
pub(crate) const MAX_ID_CHARS: usize = 64;

/// The longest `timestamp` kept, in characters (Entra: `2026-11-20 09:14:03Z`); a longer one, or
/// one outside RFC 6749 §5.2's character set, is dropped.
pub(crate) const MAX_TIMESTAMP_CHARS: usize = 64;

/// How many `error_codes` are kept: the first ones, in order (Entra sends one).
pub(crate) const MAX_ERROR_CODES: usize = 8;

/// The largest `error_code` value kept (eight digits; AADSTS codes have at most seven). Larger
/// values, negative numbers, fractions and non-numbers are dropped.
pub(crate) const MAX_ERROR_CODE_VALUE: u64 = 99_999_999;

/// The longest `claims` challenge accepted, in bytes. It cannot be dropped without changing what
/// the caller must do (send it with the next request), so a longer one makes the answer an
/// [`Error::InvalidResponse`].
pub(crate) const MAX_CLAIMS_CHALLENGE_BYTES: usize = 8 * 1024;

/// Builds the error for a non-success response: the provider's [`ServerError`] when the body is
/// an OAuth 2.0 error object, otherwise [`Error::InvalidResponse`] saying what the body was.
///
/// Every field of the [`ServerError`] is bounded, so neither its `Display` (logs) nor a reply
/// built from it can carry more than the provider's short codes and ids:
/// - `error` must be 1 to [`MAX_ERROR_CHARS`] characters of RFC 6749 §5.2's `error` set
///   (`%x20-21 / %x23-5B / %x5D-7E`: printable ASCII without `"` and `\`), otherwise the body is
///   not an OAuth error response ([`ResponseProblem::InvalidField`] `error`); a non-string
///   `error` is [`ResponseProblem::UnexpectedStatus`];
/// - `claims` longer than [`MAX_CLAIMS_CHALLENGE_BYTES`] is [`ResponseProblem::InvalidField`];
/// - `error_description` keeps its first [`MAX_ERROR_DESCRIPTION_CHARS`] characters, each
///   character outside the `error` set replaced (whitespace by a space, others by `?`);
/// - `error_uri`, `suberror`, `trace_id`, `correlation_id` and `timestamp` outside their bounds
///   ([`MAX_ERROR_URI_CHARS`], [`MAX_SUBERROR_CHARS`], [`MAX_ID_CHARS`],
///   [`MAX_TIMESTAMP_CHARS`]) or character sets are dropped;
/// - `error_codes` keeps the first [`MAX_ERROR_CODES`] integers up to [`MAX_ERROR_CODE_VALUE`].
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
    let bad = |field, reason| invalid(status, ResponseProblem::InvalidField { field, reason });
    if error.chars().count() > MAX_ERROR_CHARS {
        return bad("error", "is longer than 64 characters");
    }
    if !error.chars().all(is_error_char) {
        return bad("error", "has characters outside RFC 6749 §5.2's set");
    }
    let claims = string(&body, "claims");
    if claims
        .as_ref()
        .is_some_and(|claims| claims.len() > MAX_CLAIMS_CHALLENGE_BYTES)
    {
        return bad("claims", "is longer than 8 KiB");
    }
    let error_codes = match body.get("error_codes") {
        Some(Value::Array(codes)) => codes
            .iter()
            .filter_map(Value::as_u64)
            .filter(|code| *code <= MAX_ERROR_CODE_VALUE)
            .take(MAX_ERROR_CODES)
            .collect(),
        _ => Vec::new(),
    };
    let is_id_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let bounded = |field, max, allowed: fn(char) -> bool| {
        string(&body, field).filter(|text| text.chars().count() <= max && text.chars().all(allowed))
    };
    Error::Server(Box::new(ServerError {
        status,
        error,
        error_description: string(&body, "error_description").map(|text| description(&text)),
        error_uri: bounded("error_uri", MAX_ERROR_URI_CHARS, |c| {
            c != ' ' && is_error_char(c)
        }),
        error_codes,
        suberror: bounded("suberror", MAX_SUBERROR_CHARS, is_id_char),
        claims,
        trace_id: bounded("trace_id", MAX_ID_CHARS, is_id_char),
        correlation_id: bounded("correlation_id", MAX_ID_CHARS, is_id_char),
        timestamp: bounded("timestamp", MAX_TIMESTAMP_CHARS, is_error_char),
    }))
}

/// RFC 6749 §5.2's character set for `error` and `error_description`: `%x20-21 / %x23-5B /
/// %x5D-7E`, printable ASCII and space without `"` and `\`.
pub(crate) fn is_error_char(c: char) -> bool {
    matches!(c, ' '..='~') && c != '"' && c != '\\'
}

/// Whether `error` is an OAuth 2.0 error code: 1 to [`MAX_ERROR_CHARS`] characters of the
/// `error` set (RFC 6749 §4.1.2.1 and §5.2 share it).
#[cfg_attr(not(feature = "webapp"), allow(dead_code))]
pub(crate) fn is_error_code(error: &str) -> bool {
    !error.is_empty()
        && error.chars().count() <= MAX_ERROR_CHARS
        && error.chars().all(is_error_char)
}

/// `error_description` cut to [`MAX_ERROR_DESCRIPTION_CHARS`] characters, each outside
/// RFC 6749 §5.2's set replaced: whitespace (Entra's `\r\n`) by a space, others by `?`.
pub(crate) fn description(text: &str) -> String {
    text.chars()
        .take(MAX_ERROR_DESCRIPTION_CHARS)
        .map(|c| match c {
            c if is_error_char(c) => c,
            c if c.is_whitespace() => ' ',
            _ => '?',
        })
        .collect()
}

/// The body as a JSON object, after the size and content checks every JSON response needs.
///
/// The object is strict ([`strict_object`]): a member name repeated in any object of the body is
/// [`ResponseProblem::DuplicateMember`], never "the last one wins".
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
    strict_object(&response.body).map_err(|err| {
        invalid(
            status,
            match err {
                StrictJsonError::NotJson => ResponseProblem::NotJson,
                StrictJsonError::NotAnObject => ResponseProblem::NotAnObject,
                StrictJsonError::DuplicateMember => ResponseProblem::DuplicateMember,
            },
        )
    })
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
