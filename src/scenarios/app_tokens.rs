//! App-only tokens for any scopes (Microsoft identity platform "daemon app", client
//! credentials, RFC 6749 §4.4) without a configured downstream API: what every adapter's token
//! provider keeps per isolate or instance for its `app_token` calls.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use core::future::Future;
use core::time::Duration;

use crate::acquisition::client::{
    AcquiredToken, AppTokenRequest, ConfidentialClient, PreparedRequests,
};
#[cfg(feature = "coordination")]
use crate::acquisition::coordination::{RefreshAhead, Served};
use crate::config::{http_timeout, ClientConfig, Settings};
use crate::credentials::certificate::PrivateKey;
use crate::credentials::signer::{JwsAlgorithm, JwsSigner};
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::scope::Scopes;

/// A registration's confidential client and the time limit of its requests, built from the
/// client settings (`AUTHORITY`, `CLIENT_ID`, one credential, `HTTP_TIMEOUT_MS`; pass them
/// through [`crate::config::AzureAdSettings`] for `AZURE_AD`). Build one per isolate.
#[derive(Debug)]
pub struct AppTokens {
    client: ConfidentialClient,
    http_timeout: Duration,
    /// Prepared requests by the scopes text callers pass.
    prepared: PreparedRequests<String>,
}

impl AppTokens {
    /// Reads the client settings and builds the client; `signer` is the adapter's signer
    /// backend for a certificate's key.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the first bad setting; as
    /// [`crate::config::CredentialConfig::into_credential`] for the signer.
    pub async fn build<F, Fut>(settings: &dyn Settings, signer: F) -> Result<Self, Error>
    where
        F: FnOnce(PrivateKey, JwsAlgorithm) -> Fut,
        Fut: Future<Output = Result<Box<dyn JwsSigner>, Error>>,
    {
        let http_timeout = http_timeout(settings)?;
        let client = ClientConfig::from_settings(settings)?
            .into_client(signer)
            .await?;
        Ok(Self {
            client,
            http_timeout,
            prepared: PreparedRequests::default(),
        })
    }

    /// The time limit for each outgoing request (`HTTP_TIMEOUT_MS`), for the adapter's transport.
    pub fn http_timeout(&self) -> Duration {
        self.http_timeout
    }

    /// An app-only token for `scopes`, from memory, the store or the provider
    /// ([`ConfidentialClient::acquire_token_for_client`]). When it says `refresh_due`, run
    /// [`AppTokens::refresh`] in the background.
    ///
    /// # Errors
    /// As [`ConfidentialClient::acquire_token_for_client`].
    pub async fn acquire(
        &self,
        scopes: &Scopes,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, Error> {
        self.client.acquire_token_for_client(scopes, platform).await
    }

    /// An app-only token for `scopes` as callers write them (space-separated; on Entra one
    /// `{resource}/.default`), from memory, the store or the provider
    /// ([`ConfidentialClient::acquire_app_token`]). The text's [`AppTokenRequest`] is prepared on
    /// its first use and kept (up to [`crate::acquisition::MAX_PREPARED_REQUESTS`] texts), so
    /// a token in memory is served without parsing the scopes or computing the cache key again. When it says `refresh_due`, run [`AppTokens::refresh`] in
    /// the background.
    ///
    /// # Errors
    /// As [`Scopes::parse`], [`ConfidentialClient::app_token_request`] and
    /// [`ConfidentialClient::acquire_app_token`].
    pub async fn acquire_scopes(
        &self,
        scopes: &str,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, Error> {
        let request = self.prepared(scopes)?;
        self.client.acquire_app_token(&request, platform).await
    }

    /// The prepared request of `scopes` (text as callers pass it).
    fn prepared(&self, scopes: &str) -> Result<Rc<AppTokenRequest>, Error> {
        self.prepared.get_or_prepare(scopes, || {
            self.client.app_token_request(&Scopes::parse(scopes)?)
        })
    }
    /// The proactive refresh of the token for `scopes` (text as passed to
    /// [`AppTokens::acquire_scopes`]; [`ConfidentialClient::refresh_token_for_client`]); meant
    /// for the background.
    ///
    /// # Errors
    /// As [`AppTokens::acquire_scopes`] and [`ConfidentialClient::refresh_token_for_client`];
    /// the cached token stays usable.
    pub async fn refresh(&self, scopes: &str, platform: &Platform<'_>) -> Result<(), Error> {
        let request = self.prepared(scopes)?;
        self.client
            .refresh_token_for_client(request.scopes(), platform)
            .await
            .map(drop)
    }
}

/// The deployment's coordinator ([`crate::acquisition::coordination`]): needs feature
/// `coordination`.
#[cfg(feature = "coordination")]
impl AppTokens {
    /// Serves an isolate's [`crate::acquisition::coordination::CoordinatedRequest`] (JSON) as
    /// the deployment's coordinator of this client's tokens: app and on-behalf-of tokens, and
    /// web-app sessions' refresh-token redemptions
    /// ([`ConfidentialClient::serve_coordinated`]): `platform`'s store is the coordinator's
    /// own durable storage, and it has no coordinator. Run the returned refresh, if any, in the
    /// background.
    ///
    /// Needs feature `coordination`.
    pub async fn serve_coordinated(&self, request: &[u8], platform: &Platform<'_>) -> Served {
        self.client.serve_coordinated(request, platform).await
    }

    /// Runs a coordinator's refresh ahead ([`Served::refresh_ahead`],
    /// [`ConfidentialClient::refresh_ahead`]); meant for the background.
    ///
    /// # Errors
    /// As [`ConfidentialClient::refresh_token_for_client`]; the cached token stays usable.
    ///
    /// Needs feature `coordination`.
    pub async fn refresh_ahead(
        &self,
        ahead: &RefreshAhead,
        platform: &Platform<'_>,
    ) -> Result<(), Error> {
        self.client.refresh_ahead(ahead, platform).await
    }
}

#[cfg(test)]
mod tests;
