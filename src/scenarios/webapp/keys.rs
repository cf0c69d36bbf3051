//! ID token validation for the web app, with the provider's signing keys from
//! [`crate::validation::issuer_keys::IssuerKeys`].

use super::WebApp;
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::discovery::ProviderMetadata;
use crate::secret::{AccessToken, IdToken};
use crate::validation::id_token::{
    validate_id_token, IdTokenClaims, IdTokenValidation, IssuerRule,
};
use crate::validation::jwks::JwkSet;
use crate::validation::jwt::TENANT_PLACEHOLDER;

impl WebApp {
    /// The issuer tokens from the provider must name: the discovered issuer exactly, or, for
    /// an Entra multi-tenant authority (`{tenantid}` in the issuer), the template with the
    /// token's tenant, one of `ALLOWED_TENANTS` when set.
    pub(super) fn issuer_rule(&self, metadata: &ProviderMetadata) -> IssuerRule {
        if metadata.issuer.contains(TENANT_PLACEHOLDER) {
            IssuerRule::EntraTemplate {
                template: metadata.issuer.clone(),
                allowed_tenants: Some(self.allowed_tenants.clone()),
            }
        } else {
            IssuerRule::Exact(metadata.issuer.clone())
        }
    }

    /// Validates an ID token with the provider's keys (refetched once per cooldown when the
    /// token names an unknown key).
    pub(super) async fn validate(
        &self,
        id_token: &IdToken,
        nonce: &str,
        refreshed: bool,
        access_token: &AccessToken,
        metadata: &ProviderMetadata,
        platform: &Platform<'_>,
    ) -> Result<IdTokenClaims, Error> {
        let mut rules = IdTokenValidation::new(
            self.issuer_rule(metadata),
            self.client.client_id(),
            self.id_token_algorithm,
            nonce,
            platform.clock.now_unix_secs(),
        );
        // The ID token came with this access token: its `at_hash`, when present, must match.
        rules.access_token = Some(access_token.clone());
        rules.refreshed = refreshed;
        let rules = &rules;
        let jwks_uri = metadata
            .jwks_uri
            .as_ref()
            .ok_or_else(|| Error::configuration("the provider publishes no jwks_uri"))?;
        let verifier = self.verifier.as_ref();
        let sealer = self.client.document_sealer();
        self.keys
            .validate_with(jwks_uri, sealer, platform, |keys: JwkSet| async move {
                validate_id_token(id_token, rules, &keys, verifier).await
            })
            .await
    }
}
