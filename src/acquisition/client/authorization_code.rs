//! The web app's sign-in: redeeming an authorization code (RFC 6749 §4.1.3) with its PKCE
//! verifier (RFC 7636 §4.5) (feature `webapp`).

use url::Url;

use super::{ConfidentialClient, ReceivedTokens};
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::pkce::PkceVerifier;
use crate::protocol::request::Grant;
use crate::protocol::scope::Scopes;

impl ConfidentialClient {
    /// Redeems an authorization code with its PKCE verifier (RFC 6749 §4.1.3, RFC 7636 §4.5;
    /// MSAL `AcquireTokenByAuthorizationCode`). Codes are single-use: this is never retried and
    /// never served from a cache.
    ///
    /// Needs feature `webapp`.
    ///
    /// # Errors
    /// As [`ConfidentialClient::acquire_token_for_client`]; `invalid_grant` when the code was
    /// already used, has expired, or the verifier or redirect URI differ.
    pub async fn redeem_authorization_code(
        &self,
        code: &str,
        redirect_uri: &Url,
        code_verifier: &PkceVerifier,
        scopes: &Scopes,
        platform: &Platform<'_>,
    ) -> Result<ReceivedTokens, Error> {
        let grant = Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
            scopes,
        };
        let clock = self.corrected_clock(platform);
        self.send_grant(grant, &platform.with_clock(&clock)).await
    }
}
