//! Silent acquisition of delegated tokens from a session (MSAL `AcquireTokenSilent`; the
//! refresh token grant, RFC 6749 §6).
//!
//! Rules:
//! - a fresh token held for the exact scope set is used as is, unless the caller forces a
//!   refresh or answers a claims challenge ([`TokenOptions`]);
//! - otherwise the refresh token is redeemed for the scopes plus the OIDC scopes, once per
//!   (session, scopes) at a time in an isolate (single-flight: with refresh token rotation, two
//!   concurrent redemptions of one refresh token would make the provider revoke the grant);
//! - a rotated refresh token is stored (session saved) before the new access token is used; a
//!   response without one keeps the old one;
//! - `invalid_grant`, `interaction_required`, `consent_required`, `login_required` or a claims
//!   challenge mean the user must interact: [`SilentFailure::InteractionRequired`];
//! - a retryable provider failure serves the held token while it is unexpired (even inside the
//!   early-expiry margin).

use alloc::string::String;

use super::WebApp;
use crate::acquisition::cache::{CachedToken, TokenState};
use crate::acquisition::client::{
    AcquiredToken, ReceivedTokens, SessionRedemption, TokenOptions, TokenSource,
};
use crate::acquisition::single_flight::SINGLE_FLIGHT_RECHECK_MS;
use crate::error::Error;
use crate::error::TokenError;
use crate::platform::Platform;
use crate::protocol::authorization::OIDC_SCOPES;
use crate::protocol::scope::Scopes;
use crate::scenarios::session::{Session, SessionId};
use crate::secret::IdToken;
use serde_json::Value;

/// Why no token could be acquired silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SilentFailure {
    /// The user must go through the authorization endpoint again, with `claims` when the
    /// provider sent a claims challenge.
    InteractionRequired {
        /// The claims challenge (JSON text) to send as the `claims` parameter.
        claims: Option<String>,
    },
    /// Anything else (provider down, configuration, store).
    Failed(Error),
}

impl WebApp {
    /// A delegated token for `scopes` in session `id` (whose record, as loaded, is `session`).
    /// With [`TokenOptions::force_refresh`] or a claims challenge, the held token is skipped
    /// and the refresh token redeemed (with the claims).
    ///
    /// # Errors
    /// `SilentFailure`.
    pub async fn acquire_token_silent(
        &self,
        id: &SessionId,
        session: &Session,
        scopes: &Scopes,
        options: &TokenOptions,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, SilentFailure> {
        let now = platform.clock.now_unix_secs();
        let bypass = options.force_refresh || options.claims.is_some();
        if let Some(token) = fresh(session, scopes, now).filter(|_| !bypass) {
            return Ok(acquired(token, TokenSource::Store));
        }
        let mut key = id.storage_key(self.client.authority(), self.client.client_id());
        key.push(' ');
        key.push_str(&scopes.to_param());
        self.refreshes
            .run(
                key,
                || self.refresh(id, scopes, options, platform),
                || platform.sleep.sleep(SINGLE_FLIGHT_RECHECK_MS),
            )
            .await
    }

    /// Validates the ID token of a refresh response like the sign-in's (OIDC Core §12.2: no
    /// `nonce` needed, the original one if present, `at_hash` against the new access token)
    /// and requires the same user: `iss` and `sub`, and `tid` and `oid` where the session has
    /// them (Entra). On success the session's claims and ID token are the new ones.
    ///
    /// # Errors
    /// [`Error::InvalidToken`] for an ID token that fails validation or names another user
    /// ([`TokenError::Issuer`] / [`TokenError::MissingClaim`] naming the claim that differs):
    /// the response is not used and the session is left as it was.
    async fn check_refreshed_identity(
        &self,
        session: &mut Session,
        id_token: &IdToken,
        received: &ReceivedTokens,
        platform: &Platform<'_>,
    ) -> Result<(), Error> {
        let metadata = self.client.metadata(platform).await?;
        let original_nonce = String::from(
            session
                .claims
                .get("nonce")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        );
        let claims = self
            .validate(
                id_token,
                &original_nonce,
                true,
                &received.response.access_token,
                &metadata,
                platform,
            )
            .await?;
        for name in ["iss", "sub", "tid", "oid"] {
            let before = session.claims.get(name).and_then(Value::as_str);
            let after = claims.all.get(name).and_then(Value::as_str);
            if before.is_some() && before != after {
                log::warn!("a refresh response's ID token names another user ({name} differs)");
                return Err(if name == "iss" {
                    TokenError::Issuer.into()
                } else {
                    TokenError::MissingClaim(name).into()
                });
            }
        }
        session.claims = claims.all;
        session.id_token = id_token.clone();
        Ok(())
    }

    async fn refresh(
        &self,
        id: &SessionId,
        scopes: &Scopes,
        options: &TokenOptions,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, SilentFailure> {
        let bypass = options.force_refresh || options.claims.is_some();
        let sessions = self.session_store(platform);
        let now = platform.clock.now_unix_secs();
        // Reloaded: another request may have refreshed (and rotated) meanwhile.
        let mut session = match sessions.load(id, now).await {
            Ok(Some(session)) => session,
            Ok(None) => return Err(SilentFailure::InteractionRequired { claims: None }),
            Err(error) => return Err(SilentFailure::Failed(error)),
        };
        if let Some(token) = fresh(&session, scopes, now).filter(|_| !bypass) {
            return Ok(acquired(token, TokenSource::Store));
        }
        let Some(mut refresh_token) = session.refresh_token.clone() else {
            return Err(SilentFailure::InteractionRequired { claims: None });
        };
        let mut wanted = scopes.to_param();
        for scope in OIDC_SCOPES {
            wanted.push(' ');
            wanted.push_str(scope);
        }
        let wanted = Scopes::parse(&wanted).map_err(SilentFailure::Failed)?;
        let session_key = id.storage_key(self.client.authority(), self.client.client_id());
        let mut reread = false;
        let result = loop {
            let redemption = SessionRedemption {
                key: &session_key,
                generation: session.refresh_generation,
                expires_at: session.expires_at,
                force: bypass,
            };
            let result = self
                .client
                .redeem_refresh_token(
                    &redemption,
                    &refresh_token,
                    &wanted,
                    options.claims.as_deref(),
                    platform,
                )
                .await;
            let invalid_grant = matches!(
                &result,
                Err(error) if error.server_error().is_some_and(|s| s.error == "invalid_grant")
            );
            if !invalid_grant || reread {
                break result;
            }
            // Another isolate may have redeemed and rotated this refresh token meanwhile: read
            // the session once more before giving up, and use what it holds now.
            reread = true;
            let now = platform.clock.now_unix_secs();
            let Ok(Some(current)) = sessions.load(id, now).await else {
                break result;
            };
            if let Some(token) = fresh(&current, scopes, now).filter(|_| !bypass) {
                return Ok(acquired(token, TokenSource::Store));
            }
            match current.refresh_token.clone() {
                Some(rotated) if rotated != refresh_token => {
                    log::info!("refresh token rotated by another request: using the new one");
                    session = current;
                    refresh_token = rotated;
                }
                _ => break result,
            }
        };
        match result {
            Ok(redeemed) => {
                let received = redeemed.tokens;
                if let Some(id_token) = &received.response.id_token {
                    self.check_refreshed_identity(&mut session, id_token, &received, platform)
                        .await
                        .map_err(SilentFailure::Failed)?;
                }
                session.apply_refresh(&received.response, scopes, received.requested_at);
                session.refresh_generation = redeemed.generation;
                sessions
                    .save(
                        id,
                        &session,
                        platform.clock.now_unix_secs(),
                        platform.entropy,
                    )
                    .await
                    .map_err(SilentFailure::Failed)?;
                let token = CachedToken::from_response(&received.response, received.requested_at);
                Ok(acquired(&token, TokenSource::Provider))
            }
            Err(error) => {
                if let Some(server) = error.server_error() {
                    if server.claims.is_some() || server.requires_user_interaction() {
                        return Err(SilentFailure::InteractionRequired {
                            claims: server.claims.clone(),
                        });
                    }
                }
                let held = session
                    .token_for(scopes)
                    .filter(|t| !bypass && t.is_unexpired(now));
                match held {
                    Some(token) if error.is_retryable() => {
                        Ok(acquired(token, TokenSource::CachedAfterProviderFailure))
                    }
                    _ => Err(SilentFailure::Failed(error)),
                }
            }
        }
    }
}

fn fresh<'a>(session: &'a Session, scopes: &Scopes, now: u64) -> Option<&'a CachedToken> {
    session
        .token_for(scopes)
        .filter(|token| token.state(now) == TokenState::Fresh)
}

fn acquired(token: &CachedToken, source: TokenSource) -> AcquiredToken {
    AcquiredToken::from_cached(token, source)
}
