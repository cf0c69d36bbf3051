//! The coordinator's side of a session's refresh-token redemptions, and the isolate's request
//! to it (feature `coordination`): the [`RedemptionRecord`] and the rules of [`super`].

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::super::coordinated::failure_answer;
use super::{RedeemedRefreshToken, SessionRedemption};
use crate::acquisition::cache::{CachedToken, TokenState, MIN_STORE_TTL_SECS};
use crate::acquisition::client::{ConfidentialClient, ReceivedTokens};
use crate::acquisition::coordination::{
    ask, Coordinated, CoordinatedAnswer, CoordinatedGrant, CoordinatedRequest, RefreshRedemption,
    COORDINATION_VERSION,
};
use crate::acquisition::sealed_store::{read_sealed, write_sealed};
use crate::acquisition::single_flight::SINGLE_FLIGHT_RECHECK_MS;
use crate::error::{Error, ServerError};
use crate::platform::Platform;
use crate::protocol::scope::Scopes;
use crate::secret::RefreshToken;

/// The prefix of the keys whose redemptions a coordinator serialises: sessions' storage keys
/// (`SessionId::storage_key`).
const SESSION_KEY_PREFIX: &str = "edge-token/v1/session/";

/// Results a record keeps at most (one per scope set and claims); the soonest-expiring go.
const MAX_RECORD_RESULTS: usize = 8;

/// The longest sealed record read or written, in characters (tokens of up to 8 scope sets).
const MAX_RECORD_LEN: usize = 128 * 1024;

/// What the record is called in logs.
const RECORD: &str = "coordinator's session record";

/// A coordinator's record of one session (sealed with the token cache key, bound to the
/// session's storage key, kept until the session ends).
#[derive(Serialize, Deserialize)]
struct RedemptionRecord {
    /// Redemptions so far.
    generation: u64,
    /// The refresh token to present next.
    refresh_token: RefreshToken,
    /// The provider refused `refresh_token` itself (`invalid_grant`, not scope-specific): the
    /// answer for it from now on.
    refused: Option<ServerError>,
    /// The last result per (scopes, claims), without refresh token.
    results: Vec<RecordedResult>,
}

#[derive(Serialize, Deserialize)]
struct RecordedResult {
    scopes: String,
    claims: Option<String>,
    /// The record's generation right after this redemption.
    generation: u64,
    tokens: ReceivedTokens,
}

impl RedemptionRecord {
    /// The result to serve a caller at `generation` without a provider request, if any: one
    /// for the same scopes and claims, obtained after the caller's refresh token stopped being
    /// current and still unexpired, or fresh when the caller does not force a refresh.
    fn result_for(
        &self,
        scopes: &str,
        redemption: &RefreshRedemption,
        now: u64,
    ) -> Option<&ReceivedTokens> {
        let result = self
            .results
            .iter()
            .find(|r| r.scopes == scopes && r.claims == redemption.claims)?;
        let token = CachedToken::from_response(&result.tokens.response, result.tokens.requested_at);
        let newer = result.generation > redemption.generation && token.is_unexpired(now);
        let fresh = !redemption.force && token.state(now) == TokenState::Fresh;
        (newer || fresh).then_some(&result.tokens)
    }

    fn record(
        &mut self,
        scopes: &str,
        claims: Option<String>,
        mut tokens: ReceivedTokens,
        now: u64,
    ) {
        tokens.response.refresh_token = None;
        self.results
            .retain(|r| !(r.scopes == scopes && r.claims == claims));
        self.results.retain(|r| {
            CachedToken::from_response(&r.tokens.response, r.tokens.requested_at).is_unexpired(now)
        });
        self.results.push(RecordedResult {
            scopes: scopes.to_string(),
            claims,
            generation: self.generation,
            tokens,
        });
        while self.results.len() > MAX_RECORD_RESULTS {
            self.results.remove(0);
        }
    }

    /// `tokens` as answered: with the current refresh token and generation.
    fn answer(&self, tokens: &ReceivedTokens) -> CoordinatedAnswer {
        let mut tokens = tokens.clone();
        tokens.response.refresh_token = Some(self.refresh_token.clone());
        CoordinatedAnswer::Redeemed {
            tokens,
            generation: self.generation,
        }
    }
}

impl ConfidentialClient {
    /// As an isolate: the redemption through the session's coordinator, if the platform has
    /// one and it answers (see [`super`]'s rules); `None`: redeem in this isolate.
    pub(super) async fn redeem_through_coordinator(
        &self,
        session: &SessionRedemption<'_>,
        refresh_token: &RefreshToken,
        scopes: &Scopes,
        claims: Option<&str>,
        platform: &Platform<'_>,
    ) -> Option<Result<RedeemedRefreshToken, Error>> {
        let coordinator = platform.coordinator?;
        let request = CoordinatedRequest {
            v: COORDINATION_VERSION,
            key: session.key.to_string(),
            scopes: scopes.to_param(),
            ahead: false,
            grant: CoordinatedGrant::RefreshToken(RefreshRedemption {
                refresh_token: refresh_token.clone(),
                generation: session.generation,
                claims: claims.map(str::to_string),
                force: session.force,
                expires_at: session.expires_at,
            }),
            tenant: None,
        };
        match ask(coordinator, &request).await {
            Coordinated::Redeemed { tokens, generation } => {
                return Some(Ok(RedeemedRefreshToken { tokens, generation }))
            }
            Coordinated::Final(error) => return Some(Err(error)),
            Coordinated::Token { .. } => {
                log::warn!(
                    "coordinator answered a redemption with a token: redeeming in this isolate"
                );
            }
            Coordinated::Local => {}
        }
        None
    }

    /// As the coordinator: serves one redemption of the session stored under `key`, after any
    /// redemption of the same session in progress here (see the module's rules).
    pub(in crate::acquisition::client) async fn serve_redemption(
        &self,
        key: &str,
        scopes: &str,
        redemption: &RefreshRedemption,
        platform: &Platform<'_>,
    ) -> CoordinatedAnswer {
        if !key.starts_with(SESSION_KEY_PREFIX) || key.len() > 128 {
            return unavailable("a redemption must name a session's storage key");
        }
        if self.store_sealer.is_none() {
            return unavailable("no token cache key (TOKEN_CACHE_KEY or COOKIE_KEY): refresh tokens are never stored unsealed");
        }
        let scopes = match Scopes::parse(scopes) {
            Ok(scopes) => scopes,
            Err(error) => return failure_answer(error),
        };
        let scopes = &scopes;
        // One redemption of a session at a time: a request arriving meanwhile waits, then
        // decides again on the record the other one stored.
        loop {
            let mut answer = None;
            let slot = &mut answer;
            self.redemptions
                .run(
                    key.to_string(),
                    move || async move {
                        *slot = Some(
                            self.redeem_serialised(key, scopes, redemption, platform)
                                .await,
                        );
                    },
                    || platform.sleep.sleep(SINGLE_FLIGHT_RECHECK_MS),
                )
                .await;
            if let Some(answer) = answer {
                return answer;
            }
        }
    }

    async fn redeem_serialised(
        &self,
        key: &str,
        scopes: &Scopes,
        redemption: &RefreshRedemption,
        platform: &Platform<'_>,
    ) -> CoordinatedAnswer {
        let now = platform.clock.now_unix_secs();
        let wanted = scopes.to_param();
        let held = self.read_record(key, platform).await;
        let mut record = match held {
            Some(record)
                if record.generation > redemption.generation
                    || (record.generation == redemption.generation
                        && record.refresh_token == redemption.refresh_token) =>
            {
                if let Some(tokens) = record.result_for(&wanted, redemption, now) {
                    return record.answer(tokens);
                }
                if let Some(refused) = &record.refused {
                    return CoordinatedAnswer::Refused {
                        error: refused.clone(),
                    };
                }
                record
            }
            // No record, or the caller's refresh token is newer than the record's: adopt it.
            _ => RedemptionRecord {
                generation: redemption.generation,
                refresh_token: redemption.refresh_token.clone(),
                refused: None,
                results: Vec::new(),
            },
        };
        let result = self
            .acquire_token_by_refresh_token(
                &record.refresh_token,
                scopes,
                redemption.claims.as_deref(),
                platform,
            )
            .await;
        let now = platform.clock.now_unix_secs();
        match result {
            Ok(tokens) => {
                record.generation = record.generation.saturating_add(1);
                if let Some(rotated) = &tokens.response.refresh_token {
                    record.refresh_token = rotated.clone();
                }
                record.record(&wanted, redemption.claims.clone(), tokens.clone(), now);
                self.write_record(key, &record, redemption.expires_at, platform)
                    .await;
                record.answer(&tokens)
            }
            Err(error) => {
                if let Some(server) = error.server_error().filter(|s| s.refuses_refresh_token()) {
                    record.refused = Some(server.clone());
                    self.write_record(key, &record, redemption.expires_at, platform)
                        .await;
                }
                failure_answer(error)
            }
        }
    }

    async fn read_record(&self, key: &str, platform: &Platform<'_>) -> Option<RedemptionRecord> {
        let sealer = self.store_sealer.as_ref();
        read_sealed(sealer, key, MAX_RECORD_LEN, RECORD, platform).await
    }

    /// Stores `record` until the session ends (`expires_at`, at least
    /// [`MIN_STORE_TTL_SECS`] from now). A failure is logged: the answer still carries the
    /// rotated refresh token, which the caller's session keeps.
    async fn write_record(
        &self,
        key: &str,
        record: &RedemptionRecord,
        expires_at: u64,
        platform: &Platform<'_>,
    ) {
        let now = platform.clock.now_unix_secs();
        let expires_at = expires_at.max(now.saturating_add(MIN_STORE_TTL_SECS));
        let sealer = self.store_sealer.as_ref();
        write_sealed(
            sealer,
            key,
            record,
            expires_at,
            MAX_RECORD_LEN,
            RECORD,
            platform,
        )
        .await;
    }
}

fn unavailable(reason: &str) -> CoordinatedAnswer {
    CoordinatedAnswer::Unavailable {
        reason: reason.to_string(),
    }
}
