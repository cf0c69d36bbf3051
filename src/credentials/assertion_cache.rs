//! Reuse of signed client assertions (RFC 7523 §3), one per token endpoint, while enough of
//! their lifetime is left.
//!
//! Signing an assertion is an RSA private-key operation (milliseconds in pure-Rust wasm), and a
//! client may send several token requests a minute (one per scope, tenant or user). MSAL reuses
//! the assertion it signed from a certificate instead of signing one per request:
//! - MSAL.NET 4.x (`ClientCredentialHelper.ValidateClientAssertion`): reused while its `exp` is
//!   more than `Constants.ExpirationMarginInMinutes` (5 minutes) away and the audience (the
//!   token endpoint) and the `x5c` choice are the ones it was signed with; lifetime 10 minutes.
//! - msal-node (`ClientAssertion.getJwt`): reused until its `exp` for the same `iss` (client
//!   id) and `aud` (token endpoint); lifetime 10 minutes.
//!
//! edge-token follows MSAL.NET's margin, the more cautious of the two: an assertion valid for
//! [`crate::credentials::assertion::ASSERTION_LIFETIME_SECS`] (600 s) is reused while more than
//! [`REUSE_MARGIN_SECS`] (300 s) of it is left, so a reused assertion always reaches the provider
//! with minutes to spare (a retry, a slow network, a few seconds of clock difference). The rules:
//! - One assertion per token endpoint (its `aud`) and client id: an assertion for the global
//!   endpoint is never sent to a regional one, nor one tenant's to another's.
//! - Only while the clock has not gone back before its `nbf`: when the client's corrected clock
//!   (`crate::acquisition::clock`) learns that the local clock was ahead, an assertion signed
//!   with the uncorrected time would be "not yet valid" for the provider; a new one is signed.
//! - A new assertion always has a new `jti`; a signing failure keeps nothing.
//! - Entra accepts an assertion again within its lifetime (MSAL depends on it). RFC 7523 §3 lets
//!   a server refuse a `jti` it has seen ("MAY"); against such a server, reuse fails: the test
//!   bed's provider is configured to accept reuse as Entra does (`testbed/lib/provider-config.mjs`).
//!
//! The cache lives in the credential, in the isolate's memory: no lock (the core is
//! single-threaded per isolate); two concurrent requests that both miss each sign one, and the
//! later one is kept. Assertions are [`ClientAssertion`]s: redacted and zeroized on drop.

use alloc::collections::BTreeMap;
use alloc::string::String;
use core::cell::RefCell;

use crate::secret::ClientAssertion;

/// An assertion is reused while more than this many seconds of its lifetime are left (MSAL.NET
/// 4.x: `Constants.ExpirationMarginInMinutes`, 5 minutes).
pub(crate) const REUSE_MARGIN_SECS: u64 = 300;

/// At most this many token endpoints keep an assertion (a tenant fleet has one endpoint per
/// tenant, up to the tenant registry's 1,000, plus a regional and a global one). When
/// full, the one with the least lifetime left gives way: a miss only costs a signature.
pub(crate) const MAX_ENDPOINTS: usize = 1_024;

/// One signed assertion and what it may be reused for.
struct Signed {
    client_id: String,
    assertion: ClientAssertion,
    /// `nbf`, Unix seconds.
    not_before: u64,
    /// `exp`, Unix seconds.
    expires_at: u64,
}

impl Signed {
    fn reusable(&self, now: u64) -> bool {
        self.not_before <= now && now.saturating_add(REUSE_MARGIN_SECS) < self.expires_at
    }
}

/// Signed assertions by token endpoint URL; see the module docs.
#[derive(Default)]
pub(crate) struct AssertionCache {
    by_endpoint: RefCell<BTreeMap<String, Signed>>,
}

impl AssertionCache {
    /// The assertion signed for `client_id` at `token_endpoint` (exactly, as in its `aud`), if
    /// `now` (Unix seconds, the corrected clock) is within its validity and more than
    /// [`REUSE_MARGIN_SECS`] before its `exp`.
    pub(crate) fn reusable(
        &self,
        client_id: &str,
        token_endpoint: &str,
        now: u64,
    ) -> Option<ClientAssertion> {
        self.by_endpoint
            .borrow()
            .get(token_endpoint)
            .filter(|signed| signed.client_id == client_id && signed.reusable(now))
            .map(|signed| signed.assertion.clone())
    }

    /// Keeps `assertion`, just signed for `client_id` at `token_endpoint` with `nbf` =
    /// `not_before` and `exp` = `expires_at` (Unix seconds), replacing that endpoint's previous
    /// one. Assertions no longer reusable at `not_before` are dropped; past
    /// [`MAX_ENDPOINTS`], the one expiring first is.
    pub(crate) fn keep(
        &self,
        client_id: &str,
        token_endpoint: &str,
        assertion: ClientAssertion,
        not_before: u64,
        expires_at: u64,
    ) {
        let mut by_endpoint = self.by_endpoint.borrow_mut();
        by_endpoint.retain(|_, signed| signed.reusable(not_before));
        if by_endpoint.len() >= MAX_ENDPOINTS && !by_endpoint.contains_key(token_endpoint) {
            let first = by_endpoint
                .iter()
                .min_by_key(|(_, signed)| signed.expires_at)
                .map(|(endpoint, _)| endpoint.clone());
            if let Some(endpoint) = first {
                by_endpoint.remove(&endpoint);
            }
        }
        by_endpoint.insert(
            String::from(token_endpoint),
            Signed {
                client_id: String::from(client_id),
                assertion,
                not_before,
                expires_at,
            },
        );
    }

    /// How many endpoints keep an assertion.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_endpoint.borrow().len()
    }
}

#[cfg(test)]
mod tests;
