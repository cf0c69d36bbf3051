//! ID token validation for the web app, with the provider's signing keys (JWKS) fetched on
//! demand, kept per isolate, refreshed when stale, and refetched at most once per cooldown when
//! a token names an unknown key ([`crate::jwks::JwksCache`]).

use super::WebApp;
use crate::discovery::ProviderMetadata;
use crate::error::Error;
use crate::id_token::{validate_id_token, IdTokenClaims, IdTokenValidation, IssuerRule};
use crate::jwks::{JwkSet, JwksCache};
use crate::jwt::{TokenError, TENANT_PLACEHOLDER};
use crate::platform::Platform;
use crate::secret::IdToken;

impl WebApp {
    /// Validates an ID token with the provider's keys, refetching them once (per cooldown)
    /// when the token names an unknown key (the provider rotated its keys).
    pub(super) async fn validate(
        &self,
        id_token: &IdToken,
        nonce: &str,
        metadata: &ProviderMetadata,
        platform: &Platform<'_>,
    ) -> Result<IdTokenClaims, Error> {
        let issuer = if metadata.issuer.contains(TENANT_PLACEHOLDER) {
            IssuerRule::EntraTemplate {
                template: metadata.issuer.clone(),
                allowed_tenants: Some(self.allowed_tenants.clone()),
            }
        } else {
            IssuerRule::Exact(metadata.issuer.clone())
        };
        let now = platform.clock.now_unix_secs();
        let rules = IdTokenValidation::new(
            issuer,
            self.client.client_id(),
            self.id_token_algorithm,
            nonce,
            now,
        );
        let keys = self.signing_keys(metadata, false, platform).await?;
        match validate_id_token(id_token, &rules, &keys, self.verifier.as_ref()).await {
            Err(Error::InvalidToken(TokenError::UnknownKey)) if self.may_refetch_keys(now) => {
                let keys = self.signing_keys(metadata, true, platform).await?;
                validate_id_token(id_token, &rules, &keys, self.verifier.as_ref()).await
            }
            result => result,
        }
    }

    fn may_refetch_keys(&self, now: u64) -> bool {
        let mut cache = self.jwks.borrow_mut();
        match cache.as_mut() {
            Some(cache) if cache.needs_refetch_for_unknown_kid(now) => {
                cache.record_refetch_attempt(now);
                true
            }
            _ => false,
        }
    }

    /// The provider's signing keys: cached, fetched when absent, stale or `refetch`ed.
    async fn signing_keys(
        &self,
        metadata: &ProviderMetadata,
        refetch: bool,
        platform: &Platform<'_>,
    ) -> Result<JwkSet, Error> {
        let now = platform.clock.now_unix_secs();
        if let Some(cache) = self.jwks.borrow().as_ref() {
            if !refetch && !cache.is_stale(now) {
                return Ok(cache.keys().clone());
            }
        }
        let jwks_uri = metadata
            .jwks_uri
            .as_ref()
            .ok_or_else(|| Error::configuration("the provider publishes no jwks_uri"))?;
        let response = platform.transport.send(JwkSet::request(jwks_uri)?).await?;
        let keys = JwkSet::parse(&response)?;
        let mut cache = self.jwks.borrow_mut();
        match cache.as_mut() {
            Some(cache) => cache.replace(keys.clone(), now),
            None => *cache = Some(JwksCache::new(keys.clone(), now)),
        }
        Ok(keys)
    }
}
