//! How long a web app session lasts: an absolute timeout from sign-in and an optional idle
//! timeout with sliding renewal (OWASP Session Management Cheat Sheet, "Session Expiration";
//! ASP.NET Core cookie authentication's `ExpireTimeSpan` / `SlidingExpiration`, which
//! Microsoft.Identity.Web web apps use).
//!
//! Rules:
//! - A session ends `absolute_secs` after sign-in whatever happens: its record is sealed with
//!   that expiry and stored with that TTL, so no renewal can extend it.
//! - With an idle timeout, a session also ends `idle_secs` after its last recorded activity.
//!   Activity is recorded (and the cookie renewed) once at least half the idle window has
//!   passed since the last record, as ASP.NET's sliding expiration does: a request in the
//!   first half writes nothing, so a session ends between `idle_secs / 2` and `idle_secs` after
//!   the last request. The last activity lives in its own small sealed record next to the
//!   session's ([`crate::scenarios::session::SessionStore::touch`]), never by rewriting the
//!   session record, which would race refresh-token rotation in other requests.
//! - The cookie's `Max-Age` is the time left (the idle window, capped by the absolute end)
//!   with an idle timeout; without one the cookie lasts the browser session, as before. The
//!   server decides either way: the cookie's age is only a courtesy to the browser.

use crate::config::{optional, Settings};
use crate::error::Error;

/// The default absolute timeout, in seconds (24 h; Entra's own web sessions last longer, a day
/// bounds what a stolen cookie is worth).
pub const DEFAULT_SESSION_ABSOLUTE_TIMEOUT_SECS: u64 = 24 * 3600;

/// The shortest timeouts accepted, in seconds: a minute absolute, half a minute idle.
const MIN_ABSOLUTE_SECS: u64 = 60;
const MIN_IDLE_SECS: u64 = 30;
/// The longest absolute timeout accepted, in seconds (90 days: the lifetime of an unused Entra
/// refresh token).
const MAX_ABSOLUTE_SECS: u64 = 90 * 24 * 3600;

/// A session's timeouts, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetime {
    /// `SESSION_ABSOLUTE_TIMEOUT_SECS`: from sign-in to the end, whatever the activity
    /// (default [`DEFAULT_SESSION_ABSOLUTE_TIMEOUT_SECS`]; 60 to 7,776,000).
    pub absolute_secs: u64,
    /// `SESSION_IDLE_TIMEOUT_SECS` (optional): the end after this long without a request
    /// (30 up to the absolute timeout). `None`: no idle timeout.
    pub idle_secs: Option<u64>,
}

impl Default for SessionLifetime {
    fn default() -> Self {
        Self {
            absolute_secs: DEFAULT_SESSION_ABSOLUTE_TIMEOUT_SECS,
            idle_secs: None,
        }
    }
}

impl SessionLifetime {
    /// Reads `SESSION_ABSOLUTE_TIMEOUT_SECS` and `SESSION_IDLE_TIMEOUT_SECS`.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the setting when it is not a whole number of seconds in
    /// its range (the idle timeout at most the absolute one).
    pub fn from_settings(settings: &dyn Settings) -> Result<Self, Error> {
        let seconds = |name: &str, min: u64, max: u64| -> Result<Option<u64>, Error> {
            let Some(value) = optional(settings, name) else {
                return Ok(None);
            };
            match value.trim().parse::<u64>() {
                Ok(secs) if (min..=max).contains(&secs) => Ok(Some(secs)),
                _ => Err(Error::configuration(alloc::format!(
                    "{name} must be a whole number of seconds from {min} to {max}"
                ))),
            }
        };
        let absolute_secs = seconds(
            "SESSION_ABSOLUTE_TIMEOUT_SECS",
            MIN_ABSOLUTE_SECS,
            MAX_ABSOLUTE_SECS,
        )?
        .unwrap_or(DEFAULT_SESSION_ABSOLUTE_TIMEOUT_SECS);
        let idle_secs = seconds("SESSION_IDLE_TIMEOUT_SECS", MIN_IDLE_SECS, absolute_secs)?;
        Ok(Self {
            absolute_secs,
            idle_secs,
        })
    }

    /// The absolute end of a session signed in at `created_at` (Unix seconds).
    pub fn ends_at(&self, created_at: u64) -> u64 {
        created_at.saturating_add(self.absolute_secs)
    }

    /// Whether a session last recorded active at `last_active` has been idle too long at
    /// `now` (Unix seconds). Always `false` without an idle timeout.
    pub fn is_idle(&self, last_active: u64, now: u64) -> bool {
        self.idle_secs
            .is_some_and(|idle| now >= last_active.saturating_add(idle))
    }

    /// Whether activity at `now` should be recorded (and the cookie renewed): at least half
    /// the idle window has passed since `last_active`. Always `false` without an idle timeout.
    pub fn renewal_due(&self, last_active: u64, now: u64) -> bool {
        self.idle_secs
            .is_some_and(|idle| now.saturating_sub(last_active) >= idle / 2)
    }

    /// The session cookie's `Max-Age` at `now` for a session ending at `expires_at`: the idle
    /// window capped by the time left, or `None` (a browser-session cookie) without an idle
    /// timeout.
    pub fn cookie_max_age(&self, expires_at: u64, now: u64) -> Option<u64> {
        self.idle_secs
            .map(|idle| idle.min(expires_at.saturating_sub(now)))
    }
}

#[cfg(test)]
mod tests;
