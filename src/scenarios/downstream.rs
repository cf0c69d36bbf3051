//! Calling downstream web APIs with access tokens (Microsoft.Identity.Web's `DownstreamApi`):
//! named APIs from configuration (base URL, scopes, app-only or delegated), a token attached
//! only to requests under the API's base URL, and the two recoveries a resource can ask for:
//!
//! - `401` with `WWW-Authenticate: Bearer error="insufficient_claims", claims="…"` (a claims
//!   challenge: continuous access evaluation, conditional access): acquire a new token with
//!   those claims, bypassing the cache, and retry once (Microsoft identity platform "claims
//!   challenges"; the client declares `cp1`, see [`crate::protocol::claims`]);
//! - `401` with `error="invalid_token"` (RFC 6750 §3.1: e.g. revoked): evict the cached token,
//!   acquire a new one and retry once.
//!
//! At most one retry per call: a second refusal is the answer. Redirects are never followed
//! (the platform's transport returns a 3xx as it is), so the `Authorization` header never
//! travels to another origin.

use alloc::string::String;
use core::future::Future;

use url::Url;

use crate::acquisition::client::{AcquiredToken, TokenOptions, TokenSource};
use crate::config::{required, Settings};
use crate::error::Error;
use crate::platform::http::{HttpRequest, HttpResponse};
use crate::platform::HttpTransport;
use crate::protocol::authority::require_secure_url;
use crate::protocol::bearer::{BearerChallenge, BearerErrorCode};
use crate::protocol::scope::Scopes;

/// A downstream web API as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownstreamApi {
    /// The name the application knows it by (for logs and errors).
    pub name: String,
    /// Requests go to this URL or below it (same scheme, host and port; path under its path).
    pub base_url: Url,
    /// The scopes of its tokens (on Entra `{resource}/{scope}`, or `{resource}/.default`).
    pub scopes: Scopes,
    /// `true` for app-only tokens (client credentials, `RequestAppToken` in
    /// Microsoft.Identity.Web), `false` for tokens on behalf of the signed-in user or caller.
    pub app_only: bool,
}

impl DownstreamApi {
    /// An API named `name` at `base_url` (`https`, or `http` on loopback: bearer tokens travel
    /// only over TLS, RFC 6750 §5.3).
    ///
    /// # Errors
    /// [`Error::Configuration`] for another scheme or user info in the URL.
    pub fn new(
        name: impl Into<String>,
        base_url: Url,
        scopes: Scopes,
        app_only: bool,
    ) -> Result<Self, Error> {
        let name = name.into();
        require_secure_url(&name, &base_url)?;
        Ok(Self {
            name,
            base_url,
            scopes,
            app_only,
        })
    }

    /// The API from the settings `url_setting` (absolute URL) and `scopes_setting`
    /// (space-separated), named after `url_setting`.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the missing or malformed setting.
    pub fn from_settings(
        settings: &dyn Settings,
        url_setting: &str,
        scopes_setting: &str,
        app_only: bool,
    ) -> Result<Self, Error> {
        let url = Url::parse(&required(settings, url_setting)?).map_err(|_| {
            Error::configuration(alloc::format!("{url_setting} is not an absolute URL"))
        })?;
        let scopes = Scopes::parse(&required(settings, scopes_setting)?).map_err(|_| {
            Error::configuration(alloc::format!(
                "{scopes_setting} must be space-separated scopes"
            ))
        })?;
        Self::new(url_setting, url, scopes, app_only)
    }

    /// Whether `url` falls under the base URL: same scheme, host and port, no user info, and a
    /// path equal to the base path or below it on a segment boundary (`/api` covers `/api` and
    /// `/api/x`, not `/apix`). Only such requests get a token.
    pub fn covers(&self, url: &Url) -> bool {
        let base = &self.base_url;
        if url.scheme() != base.scheme()
            || url.host() != base.host()
            || url.port_or_known_default() != base.port_or_known_default()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return false;
        }
        let base_path = base.path().trim_end_matches('/');
        match url.path().strip_prefix(base_path) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }
}

/// Why a downstream call produced no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownstreamError<E> {
    /// The request's URL is not under the API's base URL: no token was attached, nothing sent.
    OutsideBaseUrl,
    /// No token: the token source's error.
    Token(E),
    /// The API could not be reached (its HTTP errors are answers, not failures).
    Transport(Error),
}

/// Why a call was retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// After a claims challenge, with a token requested with those claims.
    ClaimsChallenge,
    /// After `invalid_token`, with a new token.
    InvalidToken,
}

/// The API's final answer.
#[derive(Debug)]
#[non_exhaustive]
pub struct DownstreamAnswer {
    /// The response, as received (a 3xx included: never followed).
    pub response: HttpResponse,
    /// Where the last token used came from.
    pub token_source: TokenSource,
    /// Why the call was retried, if it was.
    pub retried: Option<Retry>,
    /// The token used is due for a proactive refresh ([`AcquiredToken::refresh_due`]).
    pub refresh_due: bool,
}

/// Sends `request` to `api` with a token from `acquire` (called with default options first,
/// then at most once more with [`TokenOptions::with_claims`] or
/// [`TokenOptions::force_refresh`] after a 401 as described in the module documentation).
/// Any `Authorization` header already in `request` is replaced.
///
/// # Errors
/// [`DownstreamError::OutsideBaseUrl`] before anything happens when `request.url` is not
/// covered by `api` ([`DownstreamApi::covers`]); [`DownstreamError::Token`] with `acquire`'s
/// error; [`DownstreamError::Transport`] when the API cannot be reached.
pub async fn call_api<E, F, Fut>(
    api: &DownstreamApi,
    request: HttpRequest,
    acquire: F,
    transport: &dyn HttpTransport,
) -> Result<DownstreamAnswer, DownstreamError<E>>
where
    F: Fn(TokenOptions) -> Fut,
    Fut: Future<Output = Result<AcquiredToken, E>>,
{
    if !api.covers(&request.url) {
        return Err(DownstreamError::OutsideBaseUrl);
    }
    let token = acquire(TokenOptions::default())
        .await
        .map_err(DownstreamError::Token)?;
    let response = send(&request, &token, transport).await?;
    let retry = match response.status {
        401 => response
            .header("www-authenticate")
            .and_then(BearerChallenge::from_header_value)
            .and_then(|challenge| match (challenge.error, challenge.claims) {
                (Some(BearerErrorCode::InsufficientClaims), Some(claims)) => {
                    Some((Retry::ClaimsChallenge, TokenOptions::with_claims(claims)))
                }
                (Some(BearerErrorCode::InvalidToken), _) => {
                    Some((Retry::InvalidToken, TokenOptions::force_refresh()))
                }
                _ => None,
            }),
        _ => None,
    };
    let Some((reason, options)) = retry else {
        return Ok(DownstreamAnswer {
            response,
            token_source: token.source,
            retried: None,
            refresh_due: token.refresh_due,
        });
    };
    let token = acquire(options).await.map_err(DownstreamError::Token)?;
    let response = send(&request, &token, transport).await?;
    Ok(DownstreamAnswer {
        response,
        token_source: token.source,
        retried: Some(reason),
        refresh_due: token.refresh_due,
    })
}

async fn send<E>(
    request: &HttpRequest,
    token: &AcquiredToken,
    transport: &dyn HttpTransport,
) -> Result<HttpResponse, DownstreamError<E>> {
    let mut request = request.clone();
    request
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
    let mut authorization = String::from("Bearer ");
    authorization.push_str(token.access_token.expose_secret());
    request
        .headers
        .push((String::from("authorization"), authorization));
    transport
        .send(request)
        .await
        .map_err(DownstreamError::Transport)
}

#[cfg(test)]
mod tests;
