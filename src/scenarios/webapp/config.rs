//! The web app's settings (see the table in [`crate::scenarios::webapp`]).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;

use url::Url;

use super::redirect::RedirectUris;
use crate::config::{http_timeout, optional, required, ClientConfig, Settings};
use crate::error::Error;
use crate::protocol::authority::parse_url;
use crate::protocol::authorization::ResponseMode;
use crate::scenarios::downstream::DownstreamApi;
use crate::scenarios::session::SessionLifetime;
use crate::seal::RootKeys;
use crate::validation::VerificationAlgorithm;

/// The web app's configuration.
#[derive(Debug)]
#[non_exhaustive]
pub struct WebAppConfig {
    /// Who we are and how we authenticate.
    pub client: ClientConfig,
    /// `REDIRECT_URI`: one or more, exactly as registered, one per origin the app answers on;
    /// the request's origin picks one, never derived from request headers ([`RedirectUris`]).
    pub redirect_uris: RedirectUris,
    /// `COOKIE_KEY`: seals transaction cookies and session records (separate HKDF subkeys);
    /// several keys, newest first, to rotate it (sealed with the newest, opened with any).
    pub cookie_key: RootKeys,
    /// `POST_LOGOUT_REDIRECT_URI`.
    pub post_logout_redirect_uri: Option<Url>,
    /// `DOWNSTREAM_URL` + `DOWNSTREAM_SCOPES`: the API `/me/call` calls as the user; its
    /// delegated scopes are asked at sign-in.
    pub downstream: DownstreamApi,
    /// `WEB_API_URL` + `WEB_API_SCOPES` (optional, both or neither): the web API `/me/api`
    /// calls as the user (e.g. edge-token's web API, which calls on on-behalf-of the user).
    pub web_api: Option<DownstreamApi>,
    /// `RESPONSE_MODE`.
    pub response_mode: ResponseMode,
    /// `ID_TOKEN_SIGNING_ALG`: the only algorithm ID tokens may use (`RS256` default, `PS256`,
    /// `ES256`).
    pub id_token_algorithm: VerificationAlgorithm,
    /// `ALLOWED_TENANTS`: for Entra multi-tenant issuers, the tenants accepted (empty = any).
    pub allowed_tenants: Vec<String>,
    /// `HTTP_TIMEOUT_MS`.
    pub http_timeout: Duration,
    /// `SESSION_ABSOLUTE_TIMEOUT_SECS` and `SESSION_IDLE_TIMEOUT_SECS`.
    pub session_lifetime: SessionLifetime,
}

impl WebAppConfig {
    /// Reads and validates every web app setting.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the first bad setting (never its value). A missing or
    /// short `COOKIE_KEY` is an error, never replaced by a default.
    pub fn from_settings(settings: &dyn Settings) -> Result<Self, Error> {
        let client = ClientConfig::from_settings(settings)?;
        let redirect_uris =
            RedirectUris::parse("REDIRECT_URI", &required(settings, "REDIRECT_URI")?)?;
        let cookie_key = RootKeys::parse("COOKIE_KEY", &required(settings, "COOKIE_KEY")?)?;
        let post_logout_redirect_uri = optional(settings, "POST_LOGOUT_REDIRECT_URI")
            .map(|url| parse_url("POST_LOGOUT_REDIRECT_URI", &url))
            .transpose()?;
        let downstream =
            DownstreamApi::from_settings(settings, "DOWNSTREAM_URL", "DOWNSTREAM_SCOPES", false)?;
        let web_api = match (
            optional(settings, "WEB_API_URL"),
            optional(settings, "WEB_API_SCOPES"),
        ) {
            (None, None) => None,
            _ => Some(DownstreamApi::from_settings(
                settings,
                "WEB_API_URL",
                "WEB_API_SCOPES",
                false,
            )?),
        };
        let response_mode = optional(settings, "RESPONSE_MODE")
            .map(|mode| ResponseMode::parse("RESPONSE_MODE", &mode))
            .transpose()?
            .unwrap_or_default();
        let id_token_algorithm = optional(settings, "ID_TOKEN_SIGNING_ALG")
            .map(|alg| VerificationAlgorithm::parse("ID_TOKEN_SIGNING_ALG", alg.trim()))
            .transpose()?
            .unwrap_or(VerificationAlgorithm::Rs256);
        let allowed_tenants = optional(settings, "ALLOWED_TENANTS")
            .map(|list| {
                list.split([' ', ','])
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            client,
            redirect_uris,
            cookie_key,
            post_logout_redirect_uri,
            downstream,
            web_api,
            response_mode,
            id_token_algorithm,
            allowed_tenants,
            http_timeout: http_timeout(settings)?,
            session_lifetime: SessionLifetime::from_settings(settings)?,
        })
    }
}

/// Every setting [`WebAppConfig::from_settings`] may read, through
/// [`crate::config::azure_ad::AzureAdSettings`], besides
/// [`crate::config::CLIENT_SETTING_NAMES`]: for runtimes whose settings must be fetched by name
/// before they are parsed (Spin variables are read asynchronously).
pub const WEB_APP_SETTING_NAMES: &[&str] = &[
    "REDIRECT_URI",
    "POST_LOGOUT_REDIRECT_URI",
    "DOWNSTREAM_URL",
    "DOWNSTREAM_SCOPES",
    "WEB_API_URL",
    "WEB_API_SCOPES",
    "RESPONSE_MODE",
    "ID_TOKEN_SIGNING_ALG",
    "ALLOWED_TENANTS",
    "SESSION_ABSOLUTE_TIMEOUT_SECS",
    "SESSION_IDLE_TIMEOUT_SECS",
];

#[cfg(test)]
mod tests;
