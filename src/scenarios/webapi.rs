//! The web API scenario (Microsoft identity platform "protected web API" and "web API that
//! calls web APIs"): validate the caller's bearer token, then call a downstream API on behalf
//! of the caller (the on-behalf-of flow), or, for an app-only caller (a daemon: no user to act
//! for; [`crate::validation::access_token::AccessTokenClaims::is_app_only`]) that holds a
//! required app role, with the API's own app token (client credentials), since the provider
//! refuses on-behalf-of for app-only tokens. Platform-free: an adapter routes requests here and
//! converts the plain [`WebRequest`] / [`WebResponse`] values.
//!
//! | operation | route in the reference apps |
//! |---|---|
//! | [`WebApi::authenticate`] | every protected route |
//! | [`WebApi::profile`] | `GET /api/profile` |
//!
//! Callers are validated by a [`ProtectedResource`] (`crate::scenarios::protected`, whose
//! documentation lists the answers to refused callers: 401 / 403 with RFC 6750 §3 challenges,
//! 503 when the keys are unreachable). Beside those, when the provider wants the user to satisfy
//! a policy first (on-behalf-of answered `interaction_required`, or with a claims challenge):
//! 401, `Bearer error="insufficient_claims", claims="<base64>"`, so the calling app can send its
//! user back to the authorization endpoint with those claims (as Microsoft.Identity.Web does).
//!
//! Settings, besides [`crate::config`]'s (`CLIENT_ID` and the credential are the API's own, for
//! on-behalf-of): `API_AUDIENCE` (space-separated: the client id and/or App ID URI),
//! `API_REQUIRED_SCOPE` and/or `API_REQUIRED_ROLES` (any one suffices; app-only callers need a
//! role), `API_DOWNSTREAM_URL` and `API_DOWNSTREAM_SCOPES` (the downstream API), optional
//! `API_DOWNSTREAM_APP_SCOPES` (for app-only callers; default `{resource}/.default` of
//! `API_DOWNSTREAM_SCOPES`), `ALLOWED_TENANTS`,
//! `CLIENT_CAPABILITIES` (`cp1` for claims challenges), `HTTP_TIMEOUT_MS` and
//! `ACCESS_TOKEN_SIGNING_ALG` (`RS256` default, as Entra signs access tokens; `PS256`, `ES256`):
//! the only algorithm callers' access tokens may be signed with.

mod config;
mod routes;

use alloc::boxed::Box;
use core::future::Future;
use core::time::Duration;

use serde_json::json;

use crate::acquisition::client::{AcquiredToken, ConfidentialClient, TokenOptions};
use crate::credentials::certificate::PrivateKey;
use crate::credentials::signer::{JwsAlgorithm, JwsSigner};
use crate::error::Error;
use crate::platform::http::HttpRequest;
use crate::platform::Platform;
use crate::protocol::bearer::{BearerChallenge, BearerErrorCode};
use crate::protocol::scope::Scopes;
use crate::scenarios::call_failure::{error_reply, CallFailure};
use crate::scenarios::downstream::{call_api, DownstreamApi, DownstreamError};
use crate::scenarios::protected::{
    insufficient_scope, invalid_token, AccessPolicy, Caller, ProtectedResource, Rejection,
};
use crate::scenarios::web::{WebRequest, WebResponse};
use crate::validation::verifier::JwsVerifier;
pub use config::{WebApiConfig, WEB_API_SETTING_NAMES};
pub use routes::WEB_API_PROFILE_PATH;

/// The web API. Build one per isolate: it keeps the client (memory cache of on-behalf-of
/// tokens, discovered metadata) and the issuer's signing keys.
pub struct WebApi {
    client: ConfidentialClient,
    resource: ProtectedResource,
    downstream: DownstreamApi,
    app_scopes: Option<Scopes>,
    http_timeout: Duration,
}

impl core::fmt::Debug for WebApi {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebApi")
            .field("client", &self.client)
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

impl WebApi {
    /// Builds the web API from `config`; `signer` is the adapter's signer backend for a
    /// certificate's key and `verifier` its signature backend for access tokens.
    ///
    /// # Errors
    /// As [`crate::config::CredentialConfig::into_credential`]; [`Error::Configuration`] for
    /// no audience or no required scope or role ([`AccessPolicy::new`]).
    pub async fn build<F, Fut>(
        config: WebApiConfig,
        signer: F,
        verifier: Box<dyn JwsVerifier>,
    ) -> Result<Self, Error>
    where
        F: FnOnce(PrivateKey, JwsAlgorithm) -> Fut,
        Fut: Future<Output = Result<Box<dyn JwsSigner>, Error>>,
    {
        let policy = AccessPolicy::new(config.audiences, config.required, config.allowed_tenants)?
            .with_algorithm(config.access_token_algorithm);
        Ok(Self {
            client: config.client.into_client(signer).await?,
            resource: ProtectedResource::new(policy, verifier),
            downstream: config.downstream,
            app_scopes: config.app_scopes,
            http_timeout: config.http_timeout,
        })
    }

    /// The time limit for each outgoing request (`HTTP_TIMEOUT_MS`), for the adapter's transport.
    pub fn http_timeout(&self) -> Duration {
        self.http_timeout
    }

    /// Validates the caller's `Authorization` header as the web API's protected resource
    /// ([`ProtectedResource::authenticate`]: bearer syntax, issuer, `API_AUDIENCE`, time, a
    /// signature with `ACCESS_TOKEN_SIGNING_ALG`, then `API_REQUIRED_SCOPE` / `API_REQUIRED_ROLES`).
    ///
    /// # Errors
    /// A [`Rejection`]; [`Rejection::response`] is the answer to send.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        platform: &Platform<'_>,
    ) -> Result<Caller, Rejection> {
        self.resource
            .authenticate(&self.client, authorization, platform)
            .await
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
    /// (on the caller's behalf, cached per incoming token; for an app-only caller, the API's
    /// own app token for `API_DOWNSTREAM_APP_SCOPES`) and calls `API_DOWNSTREAM_URL` with it
    /// (claims challenges and `invalid_token` retried once, see `crate::scenarios::downstream`),
    /// answering with the downstream status, `content-type` and body plus
    /// `x-edge-token-source`, and a downstream 401's `WWW-Authenticate` (a claims challenge
    /// still unmet after the retry is the caller's to resolve with its user). An app-only
    /// caller when no app scope is configured or derivable: 403 `insufficient_scope`.
    pub async fn profile(&self, request: &WebRequest, platform: &Platform<'_>) -> WebResponse {
        let caller = match self
            .authenticate(request.authorization.as_deref(), platform)
            .await
        {
            Ok(caller) => caller,
            Err(rejection) => {
                log::info!("{rejection}");
                return rejection.response();
            }
        };
        let app_only = caller.claims.is_app_only();
        let outgoing = HttpRequest::get_json(self.downstream.base_url.clone());
        let transport = platform.transport;
        let answer = if app_only {
            let Some(scopes) = &self.app_scopes else {
                return insufficient_scope(
                    "this API calls its downstream API on behalf of users only",
                );
            };
            call_api(
                &self.downstream,
                outgoing,
                |options| async move {
                    self.client
                        .acquire_token_for_client_with(scopes, &options, platform)
                        .await
                },
                transport,
            )
            .await
        } else {
            let (scopes, assertion) = (&self.downstream.scopes, &caller.token);
            call_api(
                &self.downstream,
                outgoing,
                |options| async move {
                    self.client
                        .acquire_token_on_behalf_of(assertion, scopes, &options, platform)
                        .await
                },
                transport,
            )
            .await
        };
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
            Err(DownstreamError::Token(error)) if app_only => {
                log::warn!("app token for an app-only caller failed: {error}");
                failure(&CallFailure::Token(error))
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
