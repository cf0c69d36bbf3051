//! Calls to APIs as the signed-in user: `GET /me/call` (the downstream API whose scopes are
//! asked at sign-in) and `GET /me/api` (a web API whose token is acquired silently later:
//! incremental consent), both through [`crate::scenarios::downstream::call_api`], so claims challenges
//! and `invalid_token` are retried once with a new token.

use alloc::string::{String, ToString};

use serde_json::{json, Value};

use super::{call_failure, not_signed_in, SilentFailure, WebApp, WebRequest, WebResponse};
use crate::error::Error;
use crate::platform::http::HttpRequest;
use crate::platform::Platform;
use crate::protocol::authorization::SignInOptions;
use crate::protocol::bearer::{BearerChallenge, BearerErrorCode};
use crate::scenarios::call_failure::CallFailure;
use crate::scenarios::downstream::{call_api, DownstreamApi, DownstreamError};
use crate::scenarios::session::{Session, SessionId};
use crate::scenarios::web::Page;

impl WebApp {
    /// `GET /me/call`: calls `DOWNSTREAM_URL` as the user; see [`WebApp::call_as_user`].
    pub async fn call_downstream(
        &self,
        request: &WebRequest,
        platform: &Platform<'_>,
    ) -> WebResponse {
        self.call_as_user(request, &self.downstream, "/me/call", platform)
            .await
    }

    /// `GET /me/api`: calls `WEB_API_URL` as the user (a token for `WEB_API_SCOPES`, acquired
    /// with the refresh token); see [`WebApp::call_as_user`]. Without `WEB_API_URL`, 500
    /// `configuration_error`.
    pub async fn call_web_api(&self, request: &WebRequest, platform: &Platform<'_>) -> WebResponse {
        match &self.web_api {
            Some(api) => self.call_as_user(request, api, "/me/api", platform).await,
            None => call_failure(CallFailure::Token(Error::configuration(
                "WEB_API_URL and WEB_API_SCOPES are not set",
            ))),
        }
    }

    /// Acquires a delegated token for `api`'s scopes silently and calls its base URL (`GET`),
    /// answering with the API's status, `content-type` and body plus `x-edge-token-source`.
    /// - No session: 401 `{"error":"not_signed_in"}`.
    /// - The user must interact (consent, a refresh token that no longer works, a claims
    ///   challenge the refresh token cannot satisfy): a redirect to the authorization endpoint
    ///   (with the claims), back to `return_path`.
    /// - The API still answers with a claims challenge after the one retry: 401
    ///   `{"error":"interaction_required","claims":…}`, so the page can offer a new sign-in
    ///   instead of looping through the authorization endpoint.
    pub async fn call_as_user(
        &self,
        request: &WebRequest,
        api: &DownstreamApi,
        return_path: &str,
        platform: &Platform<'_>,
    ) -> WebResponse {
        let (current, cookie) = self.current_session(request, platform).await;
        let Some((id, session)) = &current else {
            return super::with_session_cookie(not_signed_in(), cookie);
        };
        let response = self
            .call_in_session(request, api, return_path, id, session, platform)
            .await;
        super::with_session_cookie(response, cookie)
    }

    /// [`WebApp::call_as_user`] in session `id`.
    async fn call_in_session(
        &self,
        request: &WebRequest,
        api: &DownstreamApi,
        return_path: &str,
        id: &SessionId,
        session: &Session,
        platform: &Platform<'_>,
    ) -> WebResponse {
        let answer = call_api(
            api,
            HttpRequest::get_json(api.base_url.clone()),
            |options| async move {
                self.acquire_token_silent(id, session, &api.scopes, &options, platform)
                    .await
            },
            platform.transport,
        )
        .await;
        match answer {
            Ok(answer) => {
                let response = &answer.response;
                if let Some(claims) =
                    claims_challenge(response.status, response.header("www-authenticate"))
                {
                    return WebResponse::json(
                        401,
                        &json!({
                            "error": "interaction_required",
                            "error_description": "the API asks for claims a new sign-in must satisfy",
                            "claims": claims,
                        }),
                    );
                }
                WebResponse::relayed(response, answer.token_source.as_str())
            }
            Err(DownstreamError::Token(SilentFailure::InteractionRequired { .. }))
                if session.was_reauthorized_for(&api.scopes) =>
            {
                // The user went through the provider for exactly these scopes to start this
                // session, and the provider still wants them back: a second trip would loop.
                log::warn!("a call still needs the user after a re-authorization for its scopes");
                WebResponse::page(
                    403,
                    Page::AccessDenied {
                        reason: "The permissions this page needs were asked for and not granted. \
                                 An administrator may need to consent for your organization."
                            .into(),
                    },
                )
            }
            Err(DownstreamError::Token(SilentFailure::InteractionRequired { claims })) => {
                let options = SignInOptions {
                    claims,
                    login_hint: session
                        .claims
                        .get("preferred_username")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    ..SignInOptions::default()
                };
                // Exactly the failing call's scopes (and claims), back to the page that needed
                // them: what Microsoft.Identity.Web's `AuthorizeForScopes` challenge asks.
                self.challenge(
                    request,
                    return_path.to_string(),
                    &options,
                    &api.scopes,
                    true,
                    platform,
                )
                .await
            }
            Err(DownstreamError::Token(SilentFailure::Failed(error))) => {
                call_failure(CallFailure::Token(error))
            }
            Err(DownstreamError::Transport(error)) => call_failure(CallFailure::Downstream(error)),
            Err(DownstreamError::OutsideBaseUrl) => call_failure(CallFailure::Token(
                Error::configuration("the API's URL is outside its own base URL"),
            )),
        }
    }
}

/// The claims of a `401` with `WWW-Authenticate: Bearer error="insufficient_claims"`.
fn claims_challenge(status: u16, www_authenticate: Option<&str>) -> Option<String> {
    if status != 401 {
        return None;
    }
    let challenge = BearerChallenge::from_header_value(www_authenticate?)?;
    match challenge.error {
        Some(BearerErrorCode::InsufficientClaims) => challenge.claims,
        _ => None,
    }
}

#[cfg(test)]
mod tests;
