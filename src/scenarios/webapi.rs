//! The web API scenario (Microsoft identity platform "protected web API" and "web API that
//! calls web APIs"): validate the caller's bearer token, then call a downstream API on behalf
//! of the caller (the on-behalf-of flow). Platform-free: an adapter routes requests here and
//! converts the plain [`WebRequest`] / [`WebResponse`] values.
//!
//! | operation | route in the reference apps |
//! |---|---|
//! | [`WebApi::authenticate`] | every protected route |
//! | [`WebApi::profile`] | `GET /api/profile` |
//!
//! Answers to callers (RFC 6750 §3):
//! - no token: 401, `WWW-Authenticate: Bearer` (no error code, §3.1), `{"error":"missing_token"}`;
//! - a malformed header or an invalid token: 401, `Bearer error="invalid_token",
//!   error_description="…"` naming the rule that failed (never the token);
//! - a valid token without the required scope or role: 403, `Bearer error="insufficient_scope",
//!   scope="…"`;
//! - the provider wants the user to satisfy a policy first (on-behalf-of answered
//!   `interaction_required`, or with a claims challenge): 401, `Bearer
//!   error="insufficient_claims", claims="<base64>"`, so the calling app can send its user back
//!   to the authorization endpoint with those claims (as Microsoft.Identity.Web does);
//! - the signing keys cannot be fetched: 503.
//!
//! Settings, besides [`crate::config`]'s (`CLIENT_ID` and the credential are the API's own, for
//! on-behalf-of): `API_AUDIENCE` (space-separated: the client id and/or App ID URI),
//! `API_REQUIRED_SCOPE` and/or `API_REQUIRED_ROLES` (any one suffices), `API_DOWNSTREAM_URL`
//! and `API_DOWNSTREAM_SCOPES` (the downstream API), optional `ALLOWED_TENANTS`,
//! `CLIENT_CAPABILITIES` (`cp1` for claims challenges) and `HTTP_TIMEOUT_MS`. Access tokens
//! must be signed with RS256 (as Entra signs them).

mod config;

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::future::Future;
use core::time::Duration;

use serde_json::json;

use crate::acquisition::client::{AcquiredToken, ConfidentialClient, TokenOptions};
use crate::credentials::certificate::PrivateKey;
use crate::credentials::signer::{JwsAlgorithm, JwsSigner};
use crate::error::Error;
use crate::platform::http::HttpRequest;
use crate::platform::Platform;
use crate::protocol::authority::MicrosoftAuthorityKind;
use crate::protocol::bearer::{bearer_token, BearerChallenge, BearerErrorCode, CredentialsError};
use crate::protocol::scope::Scopes;
use crate::scenarios::daemon::{error_reply, CallFailure};
use crate::scenarios::downstream::{call_api, DownstreamApi, DownstreamError};
use crate::scenarios::web::{WebRequest, WebResponse};
use crate::secret::AccessToken;
use crate::validation::access_token::{
    entra_issuers, validate_access_token, AccessTokenClaims, AccessTokenValidation,
    InsufficientScope, RequiredPermissions,
};
use crate::validation::issuer_keys::IssuerKeys;
use crate::validation::jwks::JwkSet;
use crate::validation::jwt::IssuerRule;
use crate::validation::verifier::JwsVerifier;
pub use config::WebApiConfig;

/// A caller whose token passed validation.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Caller {
    /// The token as received: the assertion for on-behalf-of.
    pub token: AccessToken,
    /// Its claims.
    pub claims: AccessTokenClaims,
}

/// Why a request is refused before any work is done for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No `Authorization` header, or a malformed one.
    Credentials(CredentialsError),
    /// The token failed validation ([`Error::InvalidToken`]).
    InvalidToken(Error),
    /// The token lacks the required scope or role.
    InsufficientScope(InsufficientScope),
    /// The provider's metadata or keys could not be fetched (not the caller's fault).
    Unavailable(Error),
}

impl Rejection {
    /// The answer to the caller (see the module documentation).
    pub fn response(&self) -> WebResponse {
        match self {
            Self::Credentials(CredentialsError::Missing) => {
                WebResponse::json(401, &json!({"error": "missing_token"}))
                    .with_header("www-authenticate", "Bearer")
            }
            Self::Credentials(problem) => invalid_token(&problem.to_string()),
            Self::InvalidToken(Error::InvalidToken(problem)) => invalid_token(&problem.to_string()),
            Self::InvalidToken(_) => invalid_token("the token could not be validated"),
            Self::InsufficientScope(InsufficientScope { required }) => {
                let challenge = BearerChallenge {
                    scope: Some(required.join(" ")),
                    ..BearerChallenge::error(
                        BearerErrorCode::InsufficientScope,
                        "the token lacks the required scope or role",
                    )
                };
                WebResponse::json(403, &json!({"error": "insufficient_scope"}))
                    .with_header("www-authenticate", &challenge.to_header_value())
            }
            Self::Unavailable(_) => WebResponse::json(
                503,
                &json!({
                    "error": "temporarily_unavailable",
                    "error_description": "the token issuer's keys could not be fetched",
                }),
            ),
        }
    }
}

fn invalid_token(description: &str) -> WebResponse {
    let challenge = BearerChallenge::error(BearerErrorCode::InvalidToken, description);
    WebResponse::json(
        401,
        &json!({"error": "invalid_token", "error_description": description}),
    )
    .with_header("www-authenticate", &challenge.to_header_value())
}

/// The web API. Build one per isolate: it keeps the client (memory cache of on-behalf-of
/// tokens, discovered metadata) and the issuer's signing keys.
pub struct WebApi {
    client: ConfidentialClient,
    audiences: Vec<String>,
    required: RequiredPermissions,
    allowed_tenants: Vec<String>,
    downstream: DownstreamApi,
    http_timeout: Duration,
    verifier: Box<dyn JwsVerifier>,
    keys: IssuerKeys,
}

impl core::fmt::Debug for WebApi {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebApi")
            .field("client", &self.client)
            .field("audiences", &self.audiences)
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

impl WebApi {
    /// Builds the web API from `config`; `signer` is the adapter's signer backend for a
    /// certificate's key and `verifier` its signature backend for access tokens.
    ///
    /// # Errors
    /// As [`crate::config::CredentialConfig::into_credential`].
    pub async fn build<F, Fut>(
        config: WebApiConfig,
        signer: F,
        verifier: Box<dyn JwsVerifier>,
    ) -> Result<Self, Error>
    where
        F: FnOnce(PrivateKey, JwsAlgorithm) -> Fut,
        Fut: Future<Output = Result<Box<dyn JwsSigner>, Error>>,
    {
        Ok(Self {
            client: config.client.into_client(signer).await?,
            audiences: config.audiences,
            required: config.required,
            allowed_tenants: config.allowed_tenants,
            downstream: config.downstream,
            http_timeout: config.http_timeout,
            verifier,
            keys: IssuerKeys::default(),
        })
    }

    /// The time limit for each outgoing request (`HTTP_TIMEOUT_MS`), for the adapter's transport.
    pub fn http_timeout(&self) -> Duration {
        self.http_timeout
    }

    /// Validates the caller's `Authorization` header: bearer syntax (RFC 6750 §2.1), then the
    /// token ([`validate_access_token`] against the authority's issuers and the configured
    /// audiences, RS256, keys from the discovered `jwks_uri`), then the required scopes or
    /// roles.
    ///
    /// # Errors
    /// A [`Rejection`]; [`Rejection::response`] is the answer to send.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        platform: &Platform<'_>,
    ) -> Result<Caller, Rejection> {
        let token = bearer_token(authorization).map_err(Rejection::Credentials)?;
        let metadata = self
            .client
            .metadata(platform)
            .await
            .map_err(Rejection::Unavailable)?;
        // Entra ID issues v1 and v2 tokens; B2C, External ID, AD FS and other providers name
        // one issuer in their discovery document (AD FS access tokens use another one: its
        // `access_token_issuer`, which edge-token does not read yet).
        let issuers = match self.client.authority().microsoft_kind() {
            Some(MicrosoftAuthorityKind::Aad) => {
                entra_issuers(&metadata.issuer, &self.allowed_tenants)
            }
            _ => vec![IssuerRule::Exact(metadata.issuer.clone())],
        };
        let rules = &AccessTokenValidation::new(
            issuers,
            self.audiences.clone(),
            JwsAlgorithm::Rs256,
            platform.clock.now_unix_secs(),
        );
        let jwks_uri = metadata.jwks_uri.as_ref().ok_or_else(|| {
            Rejection::Unavailable(Error::configuration("the provider publishes no jwks_uri"))
        })?;
        let verifier = self.verifier.as_ref();
        let token_ref = &token;
        let claims = self
            .keys
            .validate_with(jwks_uri, platform, |keys: JwkSet| async move {
                validate_access_token(token_ref, rules, &keys, verifier).await
            })
            .await
            .map_err(|error| match error {
                Error::InvalidToken(_) | Error::Configuration(_) => Rejection::InvalidToken(error),
                other => Rejection::Unavailable(other),
            })?;
        self.required
            .check(&claims)
            .map_err(Rejection::InsufficientScope)?;
        Ok(Caller { token, claims })
    }

    /// Acquires a token for `scopes` on behalf of `caller` (an [`WebApi::authenticate`]d
    /// bearer; OAuth 2.0 on-behalf-of, Microsoft identity platform docs): from memory, the
    /// store, else the provider, cached per incoming token
    /// ([`ConfidentialClient::acquire_token_on_behalf_of`]).
    ///
    /// # Errors
    /// As [`ConfidentialClient::acquire_token_on_behalf_of`]: notably [`Error::Server`] with
    /// `interaction_required` and a claims challenge for the caller's user to satisfy.
    pub async fn acquire_token_on_behalf_of(
        &self,
        caller: &Caller,
        scopes: &Scopes,
        platform: &Platform<'_>,
    ) -> Result<AcquiredToken, Error> {
        self.client
            .acquire_token_on_behalf_of(&caller.token, scopes, &TokenOptions::default(), platform)
            .await
    }

    /// `GET /api/profile`: authenticates the caller, acquires a token for the downstream API
    /// on the caller's behalf (cached per incoming token) and calls `API_DOWNSTREAM_URL` with
    /// it (claims challenges and `invalid_token` retried once, see `crate::scenarios::downstream`),
    /// answering with the downstream status, `content-type` and body plus
    /// `x-edge-token-source`, and a downstream 401's `WWW-Authenticate` (a claims challenge
    /// still unmet after the retry is the caller's to resolve with its user).
    pub async fn profile(&self, request: &WebRequest, platform: &Platform<'_>) -> WebResponse {
        let caller = match self
            .authenticate(request.authorization.as_deref(), platform)
            .await
        {
            Ok(caller) => caller,
            Err(rejection) => {
                log::info!("bearer token refused: {rejection:?}");
                return rejection.response();
            }
        };
        let scopes = &self.downstream.scopes;
        let assertion = &caller.token;
        let answer = call_api(
            &self.downstream,
            HttpRequest::get_json(self.downstream.base_url.clone()),
            |options| async move {
                self.client
                    .acquire_token_on_behalf_of(assertion, scopes, &options, platform)
                    .await
            },
            platform.transport,
        )
        .await;
        match answer {
            Ok(answer) => {
                let response = &answer.response;
                let mut relayed = WebResponse::relayed(response, answer.token_source.as_str());
                // A claims challenge the retry could not satisfy goes to the caller, whose user
                // can satisfy it (a new sign-in with those claims).
                if let (401, Some(challenge)) =
                    (response.status, response.header("www-authenticate"))
                {
                    relayed = relayed.with_header("www-authenticate", challenge);
                }
                relayed
            }
            Err(DownstreamError::Token(error)) => on_behalf_of_failure(error),
            Err(DownstreamError::Transport(error)) => failure(&CallFailure::Downstream(error)),
            Err(DownstreamError::OutsideBaseUrl) => failure(&CallFailure::Token(
                Error::configuration("API_DOWNSTREAM_URL is outside its own base URL"),
            )),
        }
    }
}

/// OAuth errors of an on-behalf-of request that only the user can resolve.
const INTERACTION_ERRORS: [&str; 3] =
    ["interaction_required", "consent_required", "login_required"];

/// The answer when on-behalf-of fails: the user must interact (401 with the claims
/// challenge), the provider refused the incoming token (`invalid_grant`: 401 invalid_token),
/// or anything else ([`error_reply`]).
fn on_behalf_of_failure(error: Error) -> WebResponse {
    log::warn!("on-behalf-of failed: {error}");
    let Some(server) = error.server_error() else {
        return failure(&CallFailure::Token(error));
    };
    if server.claims.is_some() || INTERACTION_ERRORS.contains(&server.error.as_str()) {
        let challenge = BearerChallenge {
            claims: server.claims.clone(),
            ..BearerChallenge::error(
                BearerErrorCode::InsufficientClaims,
                "the user must satisfy the identity provider's policy: request a new token with these claims",
            )
        };
        let body = json!({
            "error": server.error,
            "error_description": "the identity provider requires the user to interact",
            "error_codes": server.error_codes,
            "suberror": server.suberror,
            "claims": server.claims,
            "correlation_id": server.correlation_id,
            "trace_id": server.trace_id,
        });
        return WebResponse::json(401, &body)
            .with_header("www-authenticate", &challenge.to_header_value());
    }
    if server.error == "invalid_grant" {
        return invalid_token("the identity provider refused the token for on-behalf-of");
    }
    failure(&CallFailure::Token(error))
}

fn failure(failure: &CallFailure) -> WebResponse {
    let (status, body) = error_reply(failure);
    WebResponse::new(status, &[("content-type", "application/json")], body)
}

#[cfg(all(test, feature = "rustcrypto"))]
mod tests;
