//! Throttling and retries of token requests, as MSAL does them for the Microsoft identity
//! platform ("Handle errors and exceptions in MSAL": throttling, `Retry-After`; ENTRA-WIRE
//! "Retryable"):
//!
//! - A `429`, or a `5xx` carrying `Retry-After`, records a throttle for that exact request
//!   (authority, client, grant, scopes, and the user when there is one). Until it expires,
//!   identical requests fail fast with [`crate::error::Error::Throttled`] and no network call.
//!   `Retry-After` is delta-seconds or an HTTP-date (RFC 9110 §10.2.3); a missing, invalid or
//!   negative value means [`DEFAULT_THROTTLE_SECS`], and every value is capped at
//!   [`MAX_THROTTLE_SECS`].
//! - A `5xx` without `Retry-After`, or a transport failure (including a timeout), is retried
//!   once after [`RETRY_DELAY_MS`] plus up to [`RETRY_JITTER_MS`] of random jitter. An
//!   authorization code or refresh token redemption is never retried (codes are single-use;
//!   a refresh token may have been rotated by the redemption whose answer was lost).
//! - A `5xx` still failing after that (MSAL's `HttpStatusProvider`) records a short throttle of
//!   [`SERVER_ERROR_THROTTLE_SECS`], so an outage costs each request two sends per window, not
//!   two per call.
//! - A refresh token or on-behalf-of request answered with an error only the user can resolve
//!   (`invalid_grant`, `interaction_required`, `consent_required`, `login_required`; MSAL's
//!   `UiRequiredProvider`) is remembered for [`UI_REQUIRED_THROTTLE_SECS`]: the same request
//!   (same refresh token or incoming assertion, scopes and claims) fails at once with the same
//!   error, without sending the dead refresh token again. A rotated refresh token is another
//!   request.
//!
//! The table lives in isolate memory: "at most one call per throttle window per isolate".

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use core::cell::RefCell;

use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

use crate::acquisition::cache::hashed_storage_key;
use crate::error::Error;
use crate::platform::http::HttpResponse;
use crate::protocol::authority::Authority;
use crate::protocol::request::Grant;

/// The throttle recorded for a `429` without a usable `Retry-After`, in seconds (MSAL's
/// default).
pub(crate) const DEFAULT_THROTTLE_SECS: u64 = 60;

/// The throttle recorded for a `5xx` without `Retry-After` that failed its retry too, in
/// seconds (MSAL.NET `HttpStatusProvider`: 60 s).
pub(crate) const SERVER_ERROR_THROTTLE_SECS: u64 = 60;

/// How long an answer that needs the user is replayed for the same request, in seconds
/// (MSAL.NET `UiRequiredProvider`: 120 s).
pub(crate) const UI_REQUIRED_THROTTLE_SECS: u64 = 120;

/// The longest throttle honoured, in seconds (1 hour, as MSAL caps `Retry-After`).
pub(crate) const MAX_THROTTLE_SECS: u64 = 3600;

/// The wait before the one retry of a `5xx` without `Retry-After` or a transport failure, in
/// milliseconds.
pub(crate) const RETRY_DELAY_MS: u32 = 1000;

/// The most random jitter added to [`RETRY_DELAY_MS`], in milliseconds, so isolates that failed
/// together do not retry together.
pub(crate) const RETRY_JITTER_MS: u16 = 250;

/// Entries the table keeps at most; expired entries are dropped first, then the soonest ending.
pub(crate) const THROTTLE_TABLE_CAPACITY: usize = 256;

/// An HTTP-date (RFC 9110 §5.6.7, IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`) as Unix
/// seconds; `None` for anything else or a date before 1970.
pub(crate) fn parse_http_date(value: &str) -> Option<u64> {
    let date = OffsetDateTime::parse(value.trim(), &Rfc2822).ok()?;
    u64::try_from(date.unix_timestamp()).ok()
}

/// The throttle a `Retry-After` value asks for at `now` (Unix seconds), in seconds:
/// delta-seconds, or an HTTP-date minus `now`; `None` (absent), junk, a negative number or a
/// date in the past give [`DEFAULT_THROTTLE_SECS`]; the result is capped at
/// [`MAX_THROTTLE_SECS`] (RFC 9110 §10.2.3, MSAL's rules).
pub(crate) fn retry_after_secs(value: Option<&str>, now: u64) -> u64 {
    let Some(value) = value.map(str::trim) else {
        return DEFAULT_THROTTLE_SECS;
    };
    let secs = if value.bytes().all(|b| b.is_ascii_digit()) && !value.is_empty() {
        // Too many digits for u64 is a very long wait: the cap.
        value.parse::<u64>().unwrap_or(u64::MAX)
    } else {
        match parse_http_date(value) {
            Some(date) if date > now => date - now,
            _ => DEFAULT_THROTTLE_SECS,
        }
    };
    match secs {
        0 => DEFAULT_THROTTLE_SECS,
        secs => secs.min(MAX_THROTTLE_SECS),
    }
}

/// What to do after a provider's response or a transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Use the response as it is (success, or an error that retrying cannot fix).
    Accept,
    /// Record a throttle of this many seconds, then report the failure.
    Throttle {
        /// Seconds until identical requests may be sent again.
        secs: u64,
    },
    /// Wait and send again, once (the caller counts).
    Retry,
}

/// The verdict for `response` at `now` (Unix seconds): `429` → throttle (its `Retry-After`, or
/// the default); `5xx` with `Retry-After` → throttle; `5xx` without → retry; anything else →
/// accept.
pub(crate) fn verdict(response: &HttpResponse, now: u64) -> Verdict {
    let retry_after = response.header("retry-after");
    match response.status {
        429 => Verdict::Throttle {
            secs: retry_after_secs(retry_after, now),
        },
        500..=599 if retry_after.is_some() => Verdict::Throttle {
            secs: retry_after_secs(retry_after, now),
        },
        500..=599 => Verdict::Retry,
        _ => Verdict::Accept,
    }
}

/// The identity of a request for throttling: authority, client, grant, scopes, claims, and the
/// user (a hash of the refresh token or incoming assertion); `None` for an authorization code
/// redemption (single-use: never repeated, so never throttled). Secrets appear only hashed.
pub(crate) fn request_key(
    authority: &Authority,
    client_id: &str,
    grant: &Grant<'_>,
) -> Option<String> {
    let (user, scopes, claims) = grant.identity()?;
    let user = user.map(|secret| hashed_storage_key("", secret));
    let canonical = serde_json::json!([
        grant.name(),
        authority.cache_identity(),
        client_id,
        user,
        scopes.to_param(),
        claims,
    ]);
    Some(canonical.to_string())
}

/// Whether `error` answers `grant` with something only the user can resolve
/// ([`crate::error::ServerError::requires_user_interaction`]) for a refresh token or
/// on-behalf-of request.
pub(crate) fn requires_user(grant: &Grant<'_>, error: &Error) -> bool {
    grant.is_users()
        && error
            .server_error()
            .is_some_and(|server| server.requires_user_interaction())
}

/// One throttled request: until when, and the error to answer with meanwhile (`None`:
/// [`Error::Throttled`]).
#[derive(Debug)]
struct Throttle {
    until: u64,
    replay: Option<Error>,
}

/// Throttles by request: canonical request key → end of the throttle (Unix seconds) and the
/// answer meanwhile.
#[derive(Debug, Default)]
pub(crate) struct ThrottleTable {
    entries: RefCell<BTreeMap<String, Throttle>>,
}

impl ThrottleTable {
    #[cfg(test)]
    /// The seconds left on `key`'s throttle at `now`, if any.
    pub(crate) fn remaining(&self, key: &str, now: u64) -> Option<u64> {
        let until = self.entries.borrow().get(key)?.until;
        (until > now).then(|| until - now)
    }

    /// The error a request throttled at `now` fails with without being sent: the remembered
    /// answer ([`ThrottleTable::remember`]) or [`Error::Throttled`]; `None` when `key` is not
    /// throttled.
    pub(crate) fn refusal(&self, key: &str, now: u64) -> Option<Error> {
        let entries = self.entries.borrow();
        let throttle = entries.get(key).filter(|throttle| throttle.until > now)?;
        Some(throttle.replay.clone().unwrap_or(Error::Throttled {
            retry_after_secs: throttle.until - now,
        }))
    }

    /// Throttles `key` for `secs` from `now` (a longer existing throttle is kept).
    pub(crate) fn record(&self, key: &str, secs: u64, now: u64) {
        self.insert(key, secs, None, now);
    }

    /// Answers `key` with `error` for `secs` from `now`, without sending it.
    pub(crate) fn remember(&self, key: &str, secs: u64, error: Error, now: u64) {
        self.insert(key, secs, Some(error), now);
    }

    fn insert(&self, key: &str, secs: u64, replay: Option<Error>, now: u64) {
        let mut table = self.entries.borrow_mut();
        if table.len() >= THROTTLE_TABLE_CAPACITY && !table.contains_key(key) {
            table.retain(|_, throttle| throttle.until > now);
            if table.len() >= THROTTLE_TABLE_CAPACITY {
                if let Some(first) = table
                    .iter()
                    .min_by_key(|(_, throttle)| throttle.until)
                    .map(|(k, _)| k.clone())
                {
                    table.remove(&first);
                }
            }
        }
        let until = now.saturating_add(secs.min(MAX_THROTTLE_SECS));
        match table.get_mut(key) {
            Some(throttle) if throttle.until > now && throttle.until >= until => {}
            Some(throttle) => *throttle = Throttle { until, replay },
            None => {
                table.insert(String::from(key), Throttle { until, replay });
            }
        }
    }

    #[cfg(test)]
    /// Entries held (expired ones included until the next eviction).
    pub(crate) fn len(&self) -> usize {
        self.entries.borrow().len()
    }
}

#[cfg(test)]
mod tests;
