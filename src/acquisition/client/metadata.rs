//! Where the client sends its requests: the token endpoint (derived or discovered), the
//! provider's metadata, and Entra authority validation.

use url::Url;

use super::ConfidentialClient;
use crate::error::Error;
use crate::platform::http::HttpRequest;
use crate::platform::Platform;
use crate::protocol::authority::Authority;
use crate::protocol::discovery::ProviderMetadata;

impl ConfidentialClient {
    /// The token endpoint: derived for Entra, discovered (once per client) for OIDC issuers.
    ///
    /// # Errors
    /// Discovery failures ([`Error::InvalidResponse`], [`Error::Transport`]).
    pub async fn token_endpoint(&self, platform: &Platform<'_>) -> Result<Url, Error> {
        match &self.authority {
            Authority::Entra(entra) => {
                self.validate_instance(platform).await?;
                Ok(entra.token_endpoint().clone())
            }
            Authority::Oidc(_) => Ok(self.metadata(platform).await?.token_endpoint),
        }
    }

    /// Authority validation (MSAL's instance discovery), once per client: an Entra ID host
    /// outside the known clouds is used only if instance discovery lists it
    /// (`crate::protocol::authority::EntraAuthority::validate_instance`). Known hosts need no request.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `AUTHORITY` for a host Entra does not know; discovery
    /// failures as [`ConfidentialClient::metadata`].
    pub async fn validate_instance(&self, platform: &Platform<'_>) -> Result<(), Error> {
        if self.instance_validated.get() {
            return Ok(());
        }
        if let Authority::Entra(entra) = &self.authority {
            if let Some(request) = entra.instance_discovery_request() {
                let response = platform.transport.send(request).await?;
                entra.validate_instance(&response)?;
            }
        }
        self.instance_validated.set(true);
        Ok(())
    }

    /// The provider's metadata from its discovery document (OIDC Discovery 1.0; for Entra the
    /// v2.0 document of the authority), fetched once per client and kept.
    ///
    /// # Errors
    /// Discovery failures ([`Error::InvalidResponse`], [`Error::Transport`],
    /// [`Error::Configuration`] for a plain-`http` endpoint off loopback).
    pub async fn metadata(&self, platform: &Platform<'_>) -> Result<ProviderMetadata, Error> {
        if let Some(metadata) = self.metadata.borrow().as_ref() {
            return Ok(metadata.clone());
        }
        let url = match &self.authority {
            Authority::Entra(entra) => entra.discovery_url(),
            Authority::Oidc(issuer) => issuer.discovery_url(),
        };
        let response = platform
            .transport
            .send(HttpRequest::get_json(url.clone()))
            .await?;
        let metadata = ProviderMetadata::parse_for(&self.authority, &response)?;
        *self.metadata.borrow_mut() = Some(metadata.clone());
        Ok(metadata)
    }
}
