//! The client's part in deployment-wide coordination ([`crate::acquisition::coordination`]):
//! as an isolate, asking the coordinator after a memory and store miss; as the coordinator,
//! answering the isolates with its own caches, single-flight and throttles. Refresh-token
//! redemptions have their own module ([`super::redemption`]).

use alloc::string::ToString;

#[cfg(feature = "webapi")]
use super::TokenOptions;
use super::{AcquiredToken, ConfidentialClient, Refill, TokenSource};
use crate::acquisition::cache::{CacheKey, CachedToken};
use crate::acquisition::coordination::{
    ask, Coordinated, CoordinatedAnswer, CoordinatedGrant, CoordinatedRequest, RefreshAhead,
    Served, COORDINATION_VERSION,
};
use crate::error::{Error, TransportErrorKind};
use crate::platform::Platform;
use crate::protocol::request::Grant;
use crate::protocol::scope::Scopes;

impl ConfidentialClient {
    /// Serves an isolate's [`CoordinatedRequest`] (JSON) as the deployment's coordinator of this
    /// client's tokens. App and on-behalf-of tokens: memory, then `platform`'s store (the
    /// coordinator's own durable storage), then the provider, under single-flight and with this
    /// client's throttle table, so every isolate's miss for one key costs one provider request;
    /// the request must name the storage key this client computes for its grant and scopes
    /// (same authority, client id, assertion and scopes), else it is answered
    /// [`CoordinatedAnswer::Unavailable`] and the isolate acquires by itself. Refresh-token
    /// redemptions: serialised per session, see
    /// [`crate::acquisition::coordination::RefreshRedemption`]. `platform` must have no
    /// coordinator of its own. Run [`Served::refresh_ahead`] in the background.
    pub async fn serve_coordinated(&self, request: &[u8], platform: &Platform<'_>) -> Served {
        let parsed = CoordinatedRequest::from_json(request).and_then(|request| {
            // A multi-tenant app's per-tenant request is served by that tenant's client.
            let client = match (&request.tenant, &self.tenant) {
                (Some(tenant), None) => Some(self.tenant_client(tenant)?),
                _ => None,
            };
            Ok((request, client))
        });
        match parsed {
            Ok((request, Some(client))) => client.serve_request(&request, platform).await,
            Ok((request, None)) => self.serve_request(&request, platform).await,
            Err(error) => Served {
                answer: failure_answer(error).to_json(),
                refresh_ahead: None,
            },
        }
    }

    /// Runs a coordinator's [`Served::refresh_ahead`]: the app token's refresh
    /// ([`ConfidentialClient::refresh_token_for_client`]) by the client of its tenant.
    ///
    /// # Errors
    /// As [`ConfidentialClient::refresh_token_for_client`]; the cached token stays usable.
    pub async fn refresh_ahead(
        &self,
        ahead: &RefreshAhead,
        platform: &Platform<'_>,
    ) -> Result<(), Error> {
        let tenant_client = match &ahead.tenant {
            Some(tenant) => Some(self.tenant_client(tenant)?),
            None => None,
        };
        tenant_client
            .as_deref()
            .unwrap_or(self)
            .refresh_token_for_client(&ahead.scopes, platform)
            .await
            .map(drop)
    }

    async fn serve_request(&self, request: &CoordinatedRequest, platform: &Platform<'_>) -> Served {
        #[cfg(feature = "webapp")]
        if let CoordinatedGrant::RefreshToken(redemption) = &request.grant {
            let answer = self
                .serve_redemption(&request.key, &request.scopes, redemption, platform)
                .await;
            return Served {
                answer: answer.to_json(),
                refresh_ahead: None,
            };
        }
        let (answer, refresh_ahead) = match self.coordinated_answer(request, platform).await {
            Ok((token, scopes)) => {
                // Only app tokens are refreshed ahead; an on-behalf-of token is asked again
                // when its caller comes back with the same incoming token.
                let app_token = request.grant == CoordinatedGrant::ClientCredentials;
                let due = (token.refresh_due && app_token).then(|| RefreshAhead {
                    scopes,
                    tenant: self.tenant.clone(),
                });
                let entry = CachedToken {
                    access_token: token.access_token,
                    expires_on: token.expires_on,
                    refresh_on: token.refresh_on,
                    ext_expires_on: None,
                };
                let source = token.source.as_str().to_string();
                let answer = CoordinatedAnswer::Token {
                    token: entry,
                    source,
                };
                (answer, due)
            }
            Err(error) => (failure_answer(error), None),
        };
        Served {
            answer: answer.to_json(),
            refresh_ahead,
        }
    }

    async fn coordinated_answer(
        &self,
        request: &CoordinatedRequest,
        platform: &Platform<'_>,
    ) -> Result<(AcquiredToken, Scopes), Error> {
        let scopes = Scopes::parse(&request.scopes)?;
        let token = match &request.grant {
            CoordinatedGrant::ClientCredentials => {
                let expected = CacheKey::app_token(&self.authority, &self.client_id, &scopes);
                requested_key(&expected, request)?;
                if request.ahead {
                    self.refresh_token_for_client(&scopes, platform).await
                } else {
                    self.acquire_token_for_client(&scopes, platform).await
                }
            }
            #[cfg(feature = "webapi")]
            CoordinatedGrant::OnBehalfOf { assertion } => {
                let expected =
                    CacheKey::on_behalf_of(&self.authority, &self.client_id, assertion, &scopes);
                requested_key(&expected, request)?;
                let options = TokenOptions::default();
                self.acquire_token_on_behalf_of(assertion, &scopes, &options, platform)
                    .await
            }
            // (Served by `serve_redemption`.)
            #[cfg(feature = "webapp")]
            CoordinatedGrant::RefreshToken(_) => {
                Err(Error::configuration("a redemption is not a token request"))
            }
        }?;
        Ok((token, scopes))
    }

    /// As an isolate, after a memory and store miss for `key`: the coordinator's answer
    /// ([`Self::coordinate`]), with its token cached here. `Some(Ok)`: the token to serve;
    /// `Some(Err)`: the answer for every isolate (throttled, refused, failed); `None`: acquire
    /// in this isolate (no coordinator, a bypass, or the coordinator unavailable).
    pub(super) async fn coordinated(
        &self,
        key: &CacheKey,
        grant: &Grant<'_>,
        mode: Refill,
        platform: &Platform<'_>,
    ) -> Option<Result<AcquiredToken, Error>> {
        match self.coordinate(key, grant, mode, platform).await {
            Coordinated::Token { token, source } => {
                let source = coordinator_source(&source);
                let now = platform.clock.now_unix_secs();
                if token.store_ttl(now).is_some() {
                    self.remember(key.clone(), &token, now, platform);
                    // Only the answers of a fresh request reach the store: every isolate
                    // writing every answer would exceed Workers KV's one write per key per
                    // second.
                    if source == TokenSource::Provider {
                        self.write_stored(key.storage_key(), &token, platform).await;
                    }
                }
                Some(Ok(served(&token, source, now)))
            }
            Coordinated::Final(error) => Some(Err(error)),
            Coordinated::Local => None,
            // (`coordinate` never answers a redemption: it is `Local` there.)
            #[cfg(feature = "webapp")]
            Coordinated::Redeemed { .. } => None,
        }
    }

    /// As an isolate: asks the coordinator, if the platform has one, for an app token the
    /// caller is waiting for ([`Refill::Normal`]) or a refresh ahead ([`Refill::Ahead`]), or
    /// for an on-behalf-of token the caller is waiting for; a bypass (forced refresh, claims
    /// challenge) stays local. (The grants' `claims` then carry only the client capabilities,
    /// which the coordinator, built from the same settings, adds itself.)
    async fn coordinate(
        &self,
        key: &CacheKey,
        grant: &Grant<'_>,
        mode: Refill,
        platform: &Platform<'_>,
    ) -> Coordinated {
        let Some(coordinator) = platform.coordinator else {
            return Coordinated::Local;
        };
        let (scopes, grant, ahead) = match (grant, mode) {
            (Grant::ClientCredentials { scopes, .. }, Refill::Normal | Refill::Ahead) => (
                scopes,
                CoordinatedGrant::ClientCredentials,
                mode == Refill::Ahead,
            ),
            #[cfg(feature = "webapi")]
            (
                Grant::OnBehalfOf {
                    assertion, scopes, ..
                },
                Refill::Normal,
            ) => {
                let assertion = (*assertion).clone();
                (scopes, CoordinatedGrant::OnBehalfOf { assertion }, false)
            }
            _ => return Coordinated::Local,
        };
        let request = CoordinatedRequest {
            v: COORDINATION_VERSION,
            key: key.storage_key().to_string(),
            scopes: scopes.to_param(),
            ahead,
            grant,
            tenant: self.tenant.clone(),
        };
        match ask(coordinator, &request).await {
            #[cfg(feature = "webapp")]
            Coordinated::Redeemed { .. } => {
                log::warn!("coordinator answered a token request with a redemption: acquiring in this isolate");
                Coordinated::Local
            }
            answer => answer,
        }
    }
}

/// Checks that the isolate's request names the storage key this client computes for its grant
/// and scopes (`expected`).
///
/// # Errors
/// [`Error::Configuration`] when it does not: the coordinator is configured for another
/// client (its answer is [`CoordinatedAnswer::Unavailable`]).
fn requested_key(expected: &CacheKey, request: &CoordinatedRequest) -> Result<(), Error> {
    if expected.storage_key() == request.key {
        Ok(())
    } else {
        Err(Error::configuration(
            "the coordinator's client settings differ from the isolate's (AUTHORITY, CLIENT_ID)",
        ))
    }
}

/// The answer for an acquisition that failed at the coordinator: what every isolate must be
/// told (a throttle, the provider's refusal or failure) or, for the coordinator's own problems,
/// [`CoordinatedAnswer::Unavailable`] (the isolate then acquires by itself).
pub(super) fn failure_answer(error: Error) -> CoordinatedAnswer {
    match error {
        Error::Throttled { retry_after_secs } => CoordinatedAnswer::Throttled { retry_after_secs },
        Error::Server(error) => CoordinatedAnswer::Refused { error: *error },
        Error::InvalidResponse(invalid) => CoordinatedAnswer::Failed {
            status: Some(invalid.status),
            timeout: false,
            problem: invalid.problem.to_string(),
        },
        Error::Transport(transport) => CoordinatedAnswer::Failed {
            status: None,
            timeout: transport.kind == TransportErrorKind::Timeout,
            problem: transport.message,
        },
        other => {
            log::warn!("coordinator cannot serve: {other}");
            CoordinatedAnswer::Unavailable {
                reason: other.to_string(),
            }
        }
    }
}

/// Where a coordinated token comes from, as the isolate's caller sees it: a token the
/// coordinator just requested is [`TokenSource::Provider`] (a provider request happened for
/// this call), one it served while the provider fails is
/// [`TokenSource::CachedAfterProviderFailure`], one it held is [`TokenSource::Coordinator`].
fn coordinator_source(source: &str) -> TokenSource {
    match source {
        "provider" => TokenSource::Provider,
        "stale" => TokenSource::CachedAfterProviderFailure,
        _ => TokenSource::Coordinator,
    }
}

/// The coordinated token served to the isolate's caller, from `source`, due for a refresh when
/// its `refresh_on` has passed at `now`.
fn served(token: &CachedToken, source: TokenSource, now: u64) -> AcquiredToken {
    let mut served = AcquiredToken::from_cached(token, source);
    served.refresh_due = token.refresh_on.is_some_and(|refresh_on| now >= refresh_on);
    served
}
