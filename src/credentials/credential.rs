//! Client credentials: how a confidential client authenticates to the token endpoint
//! (RFC 6749 §2.3, RFC 7521 §4.2, RFC 7523 §2.2; Microsoft identity platform "application
//! credentials": secret, certificate, federated assertion).

use alloc::boxed::Box;
use core::fmt;

use url::Url;

#[cfg(feature = "certificate")]
use crate::credentials::assertion::CertificateCredential;
use crate::error::Error;
use crate::platform::{LocalBoxFuture, Platform};
use crate::secret::{ClientAssertion, ClientSecret};

/// `client_assertion_type` for JWT client assertions (RFC 7523 §2.2), signed here from a
/// certificate or by someone else (federated).
pub(crate) const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How the client proves its identity. `Certificate` needs the feature `certificate`.
#[non_exhaustive]
pub enum ClientCredential {
    /// A client secret (RFC 6749 §2.3.1).
    Secret {
        /// The secret.
        secret: ClientSecret,
        /// Where it goes in the request.
        method: SecretMethod,
    },
    /// A certificate: edge-token signs an assertion (RFC 7523) and reuses it for the same token
    /// endpoint while more than half its lifetime is left, as MSAL does
    /// ([`CertificateCredential::assertion`]). Feature `certificate`.
    #[cfg(feature = "certificate")]
    Certificate(CertificateCredential),
    /// An assertion someone else signs, e.g. a workload identity federation token.
    Assertion(AssertionSource),
}

/// Where a client secret is sent (RFC 7591 §2 `token_endpoint_auth_method` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretMethod {
    /// `client_secret_post`: `client_id` and `client_secret` in the form body. What MSAL sends
    /// to Entra.
    #[default]
    Post,
    /// `client_secret_basic`: HTTP Basic authentication with the form-urlencoded client id and
    /// secret (RFC 6749 §2.3.1).
    Basic,
}

impl SecretMethod {
    /// Parses `client_secret_post` or `client_secret_basic`.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `setting` for any other value.
    pub fn parse(setting: &str, value: &str) -> Result<Self, Error> {
        match value {
            "client_secret_post" => Ok(Self::Post),
            "client_secret_basic" => Ok(Self::Basic),
            _ => Err(Error::configuration(alloc::format!(
                "{setting} must be client_secret_post or client_secret_basic"
            ))),
        }
    }
}

/// Where a caller-supplied client assertion comes from (workload identity federation: Entra
/// "federated identity credentials"; MSAL `WithClientAssertion`).
pub enum AssertionSource {
    /// The same assertion every time (the caller refreshes the whole client when it expires).
    Fixed(ClientAssertion),
    /// Asked for every token request, so short-lived assertions stay fresh. edge-token keeps
    /// nothing: the callback owns its caching (as with MSAL's `WithClientAssertion` delegate,
    /// which MSAL calls for every request).
    Callback(Box<dyn AssertionCallback>),
}

/// Produces a client assertion on demand.
pub trait AssertionCallback {
    /// Returns an assertion for `request`.
    ///
    /// # Errors
    /// Any [`Error`]; it fails the token request.
    fn assertion<'a>(
        &'a self,
        request: AssertionRequest<'a>,
    ) -> LocalBoxFuture<'a, Result<ClientAssertion, Error>>;
}

/// What an [`AssertionCallback`] is asked for (MSAL's `AssertionRequestOptions`).
#[derive(Debug, Clone, Copy)]
pub struct AssertionRequest<'a> {
    /// The client id the assertion must name.
    pub client_id: &'a str,
    /// The token endpoint the assertion is for (its `aud`).
    pub token_endpoint: &'a str,
}

/// The client authentication of one request, ready to put on the wire.
pub enum ClientAuthentication<'a> {
    /// `client_secret` in the body.
    SecretPost(&'a ClientSecret),
    /// HTTP Basic with the secret.
    SecretBasic(&'a ClientSecret),
    /// `client_assertion_type` + `client_assertion` in the body.
    Assertion(ClientAssertion),
}

impl ClientCredential {
    /// Resolves the credential for one request to `token_endpoint`: the certificate's assertion
    /// for that endpoint, reused or newly signed ([`CertificateCredential::assertion`]; `platform`'s
    /// clock must be the corrected one), or the callback's (federated); secrets are used as
    /// they are.
    ///
    /// # Errors
    /// [`Error::Signing`] from the signer, or whatever the assertion callback or the platform's
    /// entropy returns.
    pub async fn authenticate<'a>(
        &'a self,
        client_id: &str,
        token_endpoint: &Url,
        platform: &Platform<'_>,
    ) -> Result<ClientAuthentication<'a>, Error> {
        #[cfg(not(feature = "certificate"))]
        let _ = platform; // only certificates sign, with the platform's clock and entropy
        Ok(match self {
            Self::Secret {
                secret,
                method: SecretMethod::Post,
            } => ClientAuthentication::SecretPost(secret),
            Self::Secret {
                secret,
                method: SecretMethod::Basic,
            } => ClientAuthentication::SecretBasic(secret),
            #[cfg(feature = "certificate")]
            Self::Certificate(certificate) => ClientAuthentication::Assertion(
                certificate
                    .assertion(client_id, token_endpoint.as_str(), platform)
                    .await?,
            ),
            Self::Assertion(AssertionSource::Fixed(assertion)) => {
                ClientAuthentication::Assertion(assertion.clone())
            }
            Self::Assertion(AssertionSource::Callback(callback)) => {
                let request = AssertionRequest {
                    client_id,
                    token_endpoint: token_endpoint.as_str(),
                };
                ClientAuthentication::Assertion(callback.assertion(request).await?)
            }
        })
    }
}

impl fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Secret { method, .. } => f
                .debug_struct("Secret")
                .field("method", method)
                .finish_non_exhaustive(),
            #[cfg(feature = "certificate")]
            Self::Certificate(certificate) => certificate.fmt(f),
            Self::Assertion(AssertionSource::Fixed(_)) => {
                f.write_str("Assertion(Fixed([redacted]))")
            }
            Self::Assertion(AssertionSource::Callback(_)) => f.write_str("Assertion(Callback)"),
        }
    }
}

#[cfg(test)]
mod tests;
