//! On-behalf-of tokens of a web API (Microsoft identity platform "OAuth 2.0 on-behalf-of
//! flow", on the JWT bearer grant of RFC 7523 §2.1), cached per incoming token (feature
//! `webapi`).

use super::{AcquiredToken, ConfidentialClient, TokenOptions};
use crate::acquisition::cache::CacheKey;
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::request::Grant;
use crate::protocol::scope::Scopes;
use crate::secret::AccessToken;

impl ConfidentialClient {
    /// Acquires a token for `scopes` on behalf of the user whose access token this web API
    /// received (Microsoft identity platform "on-behalf-of flow"; MSAL
    /// `AcquireTokenOnBehalfOf`): from memory, else from the store, else from the provider, with
    /// concurrent misses for the same (assertion, scopes) sharing one request. Tokens are cached
    /// under `CacheKey::on_behalf_of`, so each incoming token has its own entries.
    ///
    /// Validate `assertion` first ([`crate::validation::access_token::validate_access_token`]): an expired
    /// incoming token must be refused before it reaches the cache.
    ///
    /// Needs feature `webapi`.
    ///
    /// # Errors
    /// [`Error::Configuration`] for an Entra multi-tenant alias authority (on-behalf-of needs
    /// the tenant) or a malformed claims challenge; provider failures as
    /// [`ConfidentialClient::acquire_token_for_client`], notably `interaction_required` (with
    /// `claims` and `suberror`) when the user must satisfy a policy first: see
    /// [`crate::error::ServerError`].
    pub async fn acquire_token_on_behalf_of(
        &self,
        assertion: &AccessToken,
        scopes: &Scopes,
        options: &TokenOptions,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, Error> {
        self.require_tenant("on-behalf-of")?;
        let key = CacheKey::on_behalf_of(&self.authority, &self.client_id, assertion, scopes);
        let clock = self.corrected_clock(platform);
        let platform = &platform.with_clock(&clock);
        let cached = match self.served_from_memory(&key, options, platform) {
            Ok(served) => return Ok(served),
            Err(cached) => cached,
        };
        let claims = self.claims_parameter(options.claims.as_deref())?;
        let grant = Grant::OnBehalfOf {
            assertion,
            scopes,
            claims: claims.as_deref(),
        };
        self.refill_under_flight(key, grant, cached, options, platform)
            .await
    }
}
