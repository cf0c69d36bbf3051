//! Clock correction from the provider's `Date` header.
//!
//! An edge node's clock can be off, and on Workers the clock only advances after IO. Client
//! assertions carry `nbf` / `iat` / `exp` that the Microsoft identity platform checks against
//! its own clock (AADSTS700024: "client assertion is not within its valid time range"), and
//! cache expiry compares the provider's lifetimes with the local clock. So the client learns the
//! offset between its clock and the provider's from each response's `Date` header (RFC 9110
//! §6.6.1) and uses the local clock plus that offset for both.
//!
//! Bounds: an offset within [`NEGLIGIBLE_OFFSET_SECS`] counts as none (`Date` has one-second
//! resolution and the response took time to arrive); an offset beyond [`MAX_OFFSET_SECS`] is
//! absurd (a broken header or proxy) and ignored.

use core::cell::Cell;

use crate::acquisition::throttle::parse_http_date;
use crate::platform::http::HttpResponse;
use crate::platform::Clock;

/// Offsets up to this many seconds (either way) are treated as zero.
pub(crate) const NEGLIGIBLE_OFFSET_SECS: u64 = 2;

/// Offsets beyond this many seconds (either way: 12 hours) are ignored as absurd.
pub(crate) const MAX_OFFSET_SECS: u64 = 12 * 3600;

/// The learned offset of the provider's clock from the local one, in seconds (positive: the
/// provider is ahead). Keep one per client (per provider), per isolate.
#[derive(Debug, Default)]
pub(crate) struct ClockOffset(Cell<i64>);

impl ClockOffset {
    /// The current offset, seconds.
    pub(crate) fn secs(&self) -> i64 {
        self.0.get()
    }

    /// Learns from `response`, received when the local clock read `local_now` (Unix seconds).
    /// Returns the new offset when it changed. A missing or unparsable `Date` changes nothing.
    pub(crate) fn learn(&self, response: &HttpResponse, local_now: u64) -> Option<i64> {
        let date = parse_http_date(response.header("date")?)?;
        let offset = i64::try_from(date).ok()? - i64::try_from(local_now).ok()?;
        let offset = match offset.unsigned_abs() {
            0..=NEGLIGIBLE_OFFSET_SECS => 0,
            MAX_OFFSET_SECS.. => return None,
            _ => offset,
        };
        (offset != self.0.replace(offset)).then_some(offset)
    }
}

/// The local clock plus the offset learned so far (read at each call, so an offset learned
/// mid-operation applies at once).
pub(crate) struct CorrectedClock<'a> {
    /// The platform's clock.
    pub local: &'a dyn Clock,
    /// The learned offset.
    pub offset: &'a ClockOffset,
}

impl Clock for CorrectedClock<'_> {
    fn now_unix_secs(&self) -> u64 {
        self.local
            .now_unix_secs()
            .saturating_add_signed(self.offset.secs())
    }
}

#[cfg(test)]
mod tests;
