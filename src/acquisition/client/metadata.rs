//! Where the client sends its requests: the token endpoint (derived or discovered), the
//! provider's metadata, and Entra authority validation.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use url::Url;

use super::ConfidentialClient;
use crate::acquisition::documents::{document_storage_key, read_document, write_document};
use crate::error::Error;
use crate::platform::http::{HttpRequest, HttpResponse};
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

    /// The provider's metadata from its discovery document (OIDC Discovery 1.0 §4, RFC 8414 §3;
    /// for Entra the v2.0 document of the authority): from the client's memory, else from the
    /// platform's shared store, else fetched; kept in memory for the client's life.
    ///
    /// With a token cache key ([`ConfidentialClient::with_token_cache_key`]) the document is
    /// shared through [`Platform::store`]: sealed ([`crate::seal::Purpose::ProviderDocument`],
    /// bound to its storage key), with its fetch time, and used by another client (a new
    /// isolate) for up to 24 hours after that fetch. A stored document is
    /// validated again as a fetched one is (issuer, endpoint schemes); one that does not open,
    /// or is too old, is a miss and is overwritten after the fetch. Store failures only cost a
    /// fetch. Without a cache key the store is never read or written.
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
        let sealer = self.document_sealer();
        let key = document_storage_key(url);
        let now = platform.clock.now_unix_secs();
        let stored = read_document::<StoredDiscovery>(sealer, &key, platform)
            .await
            .filter(|stored| stored.is_fresh(now))
            .and_then(|stored| {
                ProviderMetadata::parse_for(&self.authority, &stored.response())
                    .map_err(|error| {
                        log::warn!("stored discovery document {key} refused ({error}): a miss");
                    })
                    .ok()
            });
        if let Some(metadata) = stored {
            *self.metadata.borrow_mut() = Some(metadata.clone());
            return Ok(metadata);
        }
        let response = platform
            .transport
            .send(HttpRequest::get_json(url.clone()))
            .await?;
        let metadata = ProviderMetadata::parse_for(&self.authority, &response)?;
        *self.metadata.borrow_mut() = Some(metadata.clone());
        if let Ok(document) = String::from_utf8(response.body) {
            let stored = StoredDiscovery {
                fetched_at: now,
                document,
            };
            write_document(sealer, &key, &stored, stored.expires_at(), platform).await;
        }
        Ok(metadata)
    }
}

/// How long a discovery document in the shared store is used after its fetch, in seconds (24
/// hours, as a key set: [`crate::validation::jwks`]'s `JWKS_MAX_AGE_SECS`). A client keeps the
/// document it has for its life; a new one reads a stored copy only this long, then fetches.
pub(crate) const DISCOVERY_MAX_AGE_SECS: u64 = 24 * 3600;

/// A discovery document as the shared store keeps it (inside the seal): the body as received
/// and when it was fetched. It is parsed and validated again when read.
#[derive(Debug, Serialize, Deserialize)]
struct StoredDiscovery {
    /// When the document was fetched, Unix seconds.
    fetched_at: u64,
    /// The response body (JSON text).
    document: String,
}

impl StoredDiscovery {
    /// When the stored copy stops being used, Unix seconds (also its seal's expiry).
    fn expires_at(&self) -> u64 {
        self.fetched_at.saturating_add(DISCOVERY_MAX_AGE_SECS)
    }

    /// Whether the copy may be used at `now` (Unix seconds): younger than
    /// [`DISCOVERY_MAX_AGE_SECS`].
    fn is_fresh(&self, now: u64) -> bool {
        now < self.expires_at()
    }

    /// The document as the response it came in, for [`ProviderMetadata::parse_for`].
    fn response(self) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: self.document.into_bytes(),
        }
    }
}

#[cfg(test)]
mod tests;
