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
//!   authorization code redemption is never retried (codes are single-use).
//!
//! The table lives in isolate memory: "at most one call per throttle window per isolate".

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use core::cell::RefCell;

use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

use crate::acquisition::cache::hashed_storage_key;
use crate::platform::http::HttpResponse;
use crate::protocol::authority::Authority;
use crate::protocol::request::Grant;

/// The throttle recorded for a `429` without a usable `Retry-After`, in seconds (MSAL's
/// default).
pub(crate) const DEFAULT_THROTTLE_SECS: u64 = 60;

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
    let (user, scopes, claims) = match grant {
        Grant::ClientCredentials { scopes, claims } => (None, scopes, claims),
        Grant::RefreshToken {
            refresh_token,
            scopes,
            claims,
        } => (Some(refresh_token.expose_secret()), scopes, claims),
        Grant::OnBehalfOf {
            assertion,
            scopes,
            claims,
        } => (Some(assertion.expose_secret()), scopes, claims),
        Grant::AuthorizationCode { .. } => return None,
    };
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

/// Throttles by request: canonical request key → end of the throttle (Unix seconds).
#[derive(Debug, Default)]
pub(crate) struct ThrottleTable {
    until: RefCell<BTreeMap<String, u64>>,
}

impl ThrottleTable {
    /// The seconds left on `key`'s throttle at `now`, if any.
    pub(crate) fn remaining(&self, key: &str, now: u64) -> Option<u64> {
        let until = *self.until.borrow().get(key)?;
        (until > now).then(|| until - now)
    }

    /// Throttles `key` for `secs` from `now` (a longer existing throttle is kept).
    pub(crate) fn record(&self, key: &str, secs: u64, now: u64) {
        let mut table = self.until.borrow_mut();
        if table.len() >= THROTTLE_TABLE_CAPACITY && !table.contains_key(key) {
            table.retain(|_, until| *until > now);
            if table.len() >= THROTTLE_TABLE_CAPACITY {
                if let Some(first) = table
                    .iter()
                    .min_by_key(|(_, until)| **until)
                    .map(|(k, _)| k.clone())
                {
                    table.remove(&first);
                }
            }
        }
        let until = now.saturating_add(secs.min(MAX_THROTTLE_SECS));
        let entry = table.entry(String::from(key)).or_insert(until);
        *entry = (*entry).max(until);
    }

    #[cfg(test)]
    /// Entries held (expired ones included until the next eviction).
    pub(crate) fn len(&self) -> usize {
        self.until.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// 2026-11-18T11:06:40Z.
    const NOW: u64 = 1_795_000_000;

    #[test]
    fn http_dates_parse_as_imf_fixdate() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Wed, 18 Nov 2026 11:06:40 GMT"), Some(NOW));
        for junk in [
            "",
            "tomorrow",
            "06 Nov 1994",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "1234",
        ] {
            assert_eq!(parse_http_date(junk), None, "{junk}");
        }
    }

    #[test]
    fn retry_after_is_seconds_or_a_date_defaulted_and_capped() {
        assert_eq!(retry_after_secs(Some("30"), NOW), 30);
        assert_eq!(retry_after_secs(Some(" 120 "), NOW), 120);
        assert_eq!(
            retry_after_secs(Some("Wed, 18 Nov 2026 11:07:25 GMT"), NOW),
            45
        );
        // Absent, junk, negative, zero, a past date: the default.
        for value in [
            None,
            Some("soon"),
            Some("-5"),
            Some("0"),
            Some("1.5"),
            Some("Wed, 18 Nov 2026 10:00:00 GMT"),
        ] {
            assert_eq!(
                retry_after_secs(value, NOW),
                DEFAULT_THROTTLE_SECS,
                "{value:?}"
            );
        }
        // Huge: the cap.
        assert_eq!(retry_after_secs(Some("86400"), NOW), MAX_THROTTLE_SECS);
        assert_eq!(
            retry_after_secs(Some("99999999999999999999999"), NOW),
            MAX_THROTTLE_SECS
        );
        assert_eq!(
            retry_after_secs(Some("Fri, 01 Jan 2100 00:00:00 GMT"), NOW),
            MAX_THROTTLE_SECS
        );
    }

    fn response(status: u16, retry_after: Option<&str>) -> HttpResponse {
        HttpResponse {
            status,
            headers: retry_after
                .map(|v| vec![("Retry-After".to_string(), v.to_string())])
                .unwrap_or_default(),
            body: vec![],
        }
    }

    #[test]
    fn verdicts_follow_status_and_retry_after() {
        assert_eq!(verdict(&response(200, None), NOW), Verdict::Accept);
        assert_eq!(verdict(&response(400, Some("5")), NOW), Verdict::Accept);
        assert_eq!(
            verdict(&response(429, Some("7")), NOW),
            Verdict::Throttle { secs: 7 }
        );
        assert_eq!(
            verdict(&response(429, None), NOW),
            Verdict::Throttle {
                secs: DEFAULT_THROTTLE_SECS
            }
        );
        assert_eq!(
            verdict(&response(503, Some("2")), NOW),
            Verdict::Throttle { secs: 2 }
        );
        assert_eq!(verdict(&response(503, None), NOW), Verdict::Retry);
        assert_eq!(verdict(&response(500, None), NOW), Verdict::Retry);
        assert_eq!(verdict(&response(408, None), NOW), Verdict::Accept);
    }

    #[test]
    fn the_table_throttles_exact_keys_until_they_expire() {
        let table = ThrottleTable::default();
        table.record("a", 30, NOW);
        assert_eq!(table.remaining("a", NOW), Some(30));
        assert_eq!(table.remaining("a", NOW + 29), Some(1));
        assert_eq!(table.remaining("a", NOW + 30), None);
        assert_eq!(table.remaining("b", NOW), None);
        // A shorter throttle does not shorten a longer one.
        table.record("a", 5, NOW);
        assert_eq!(table.remaining("a", NOW), Some(30));
        table.record("a", 10_000, NOW);
        assert_eq!(table.remaining("a", NOW), Some(MAX_THROTTLE_SECS));
    }

    #[test]
    fn the_table_is_bounded() {
        let table = ThrottleTable::default();
        for i in 0..(THROTTLE_TABLE_CAPACITY as u64 + 10) {
            table.record(&format!("key-{i}"), 100 + i, NOW);
        }
        assert_eq!(table.len(), THROTTLE_TABLE_CAPACITY);
        // The newest survive; the soonest-ending went first.
        assert!(table
            .remaining(&format!("key-{}", THROTTLE_TABLE_CAPACITY + 9), NOW)
            .is_some());
        assert!(table.remaining("key-0", NOW).is_none());
    }
}
