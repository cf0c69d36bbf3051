//! Refresh-token redemptions (RFC 6749 §6) of a web-app session (feature `webapp`), coordinated deployment-wide
//! ([`crate::acquisition::coordination::RefreshRedemption`]): as an isolate, redeeming through
//! the session's coordinator when the platform has one; as the coordinator, serialising the
//! session's redemptions and keeping its current refresh token.
//!
//! Why: with refresh-token rotation and reuse detection (RFC 9700 §4.14.2), two isolates that
//! redeem the same refresh token make the provider revoke the user's grant; the session record
//! in an eventually consistent store (Workers KV) cannot prevent it. The coordinator keeps, per
//! session, a sealed [`RedemptionRecord`]: the current refresh token, how many redemptions the
//! session has seen (its generation), the last result per (scopes, claims) and a refusal of the
//! current refresh token. Under it, for each request:
//! - the caller's refresh token is older (its generation is below the record's): it is never
//!   presented again; the caller gets a result obtained since (unexpired), else a redemption of
//!   the current refresh token;
//! - the caller's is the current one: a fresh result is served unless the caller forces a
//!   refresh, else the current refresh token is redeemed;
//! - the caller's is newer (redeemed in an isolate while the coordinator was unreachable) or
//!   the coordinator has no record: the caller's is adopted and redeemed.
//!
//! The record is stored, sealed and bound to the session's key, before the answer leaves; an
//! `invalid_grant` refusal of the refresh token itself is kept too
//! ([`crate::error::ServerError::refuses_refresh_token`]), so every later caller with that
//! refresh token gets the same answer without a provider request. A refusal for the requested
//! scopes only (Entra's `consent_required`, a claims challenge) is not kept: the token still
//! serves other scopes.

use super::{ConfidentialClient, ReceivedTokens};
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::request::Grant;
use crate::protocol::scope::Scopes;
use crate::secret::RefreshToken;

/// A session whose refresh token is being redeemed: where its coordinator keeps it, and what
/// the caller's session knows. Needs feature `webapp`.
#[derive(Debug, Clone, Copy)]
pub struct SessionRedemption<'a> {
    /// The session's storage key (`SessionId::storage_key`: `edge-token/v1/session/` + a
    /// hash), which names the session's coordinator.
    pub key: &'a str,
    /// How many redemptions the caller's session record has seen since sign-in
    /// (`Session::refresh_generation`).
    pub generation: u64,
    /// The end of the session, Unix seconds.
    pub expires_at: u64,
    /// The caller refuses the token it holds (a forced refresh).
    pub force: bool,
}

/// A redemption's tokens, with the refresh token the session must keep now
/// (`tokens.response.refresh_token`: the rotated one, the coordinator's current one, or `None`
/// when the provider issued none) and the session's redemption count after it. Needs feature
/// `webapp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedeemedRefreshToken {
    /// The provider's response and when it was asked for.
    pub tokens: ReceivedTokens,
    /// The session's redemption count (`Session::refresh_generation`) to store with it.
    pub generation: u64,
}

impl ConfidentialClient {
    /// Redeems `refresh_token` for `scopes` (RFC 6749 §6, with an optional claims challenge)
    /// for the session `session`: through the session's coordinator when the platform has one
    /// (serialised deployment-wide, see [`crate::acquisition::coordination::RefreshRedemption`]),
    /// else (or when the coordinator is unreachable or unavailable) directly, as
    /// [`ConfidentialClient::acquire_token_by_refresh_token`]. Store the answer's refresh token
    /// and generation with the session before using the access token.
    ///
    /// # Errors
    /// As [`ConfidentialClient::acquire_token_by_refresh_token`], the coordinator's answer
    /// included: `invalid_grant` when the refresh token (or the current one) is refused.
    ///
    /// Needs feature `webapp`.
    pub async fn redeem_refresh_token(
        &self,
        session: &SessionRedemption<'_>,
        refresh_token: &RefreshToken,
        scopes: &Scopes,
        claims: Option<&str>,
        platform: &Platform<'_>,
    ) -> Result<RedeemedRefreshToken, Error> {
        if let Some(answer) = self
            .redeem_through_coordinator(session, refresh_token, scopes, claims, platform)
            .await
        {
            return answer;
        }
        let tokens = self
            .acquire_token_by_refresh_token(refresh_token, scopes, claims, platform)
            .await?;
        Ok(RedeemedRefreshToken {
            tokens,
            generation: session.generation.saturating_add(1),
        })
    }

    /// Exchanges a refresh token for tokens for `scopes` (RFC 6749 §6; MSAL
    /// `AcquireTokenSilent` when the cached access token is unusable), with an optional claims
    /// challenge (merged with the client capabilities). The caller keeps the rotated refresh
    /// token the response may carry.
    ///
    /// Needs feature `webapp`.
    ///
    /// # Errors
    /// As [`ConfidentialClient::acquire_token_for_client`]; `invalid_grant` (often with
    /// `suberror`) or `interaction_required` when the user must sign in again.
    pub async fn acquire_token_by_refresh_token(
        &self,
        refresh_token: &RefreshToken,
        scopes: &Scopes,
        claims: Option<&str>,
        platform: &Platform<'_>,
    ) -> Result<ReceivedTokens, Error> {
        let claims = self.claims_parameter(claims)?;
        let grant = Grant::RefreshToken {
            refresh_token,
            scopes,
            claims: claims.as_deref(),
        };
        let clock = self.corrected_clock(platform);
        self.send_grant(grant, &platform.with_clock(&clock)).await
    }
}

#[cfg(feature = "coordination")]
mod serialised;

#[cfg(test)]
mod tests;
