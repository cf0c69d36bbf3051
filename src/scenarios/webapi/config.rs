//! The web API's settings (see the table in [`crate::scenarios::webapi`]).

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use crate::config::{http_timeout, optional, required, ClientConfig, Settings};
use crate::error::Error;
use crate::protocol::scope::Scopes;
use crate::scenarios::downstream::DownstreamApi;
use crate::scenarios::protected::{access_token_algorithm, setting_list};
use crate::validation::access_token::RequiredPermissions;
use crate::validation::verifier::VerificationAlgorithm;

/// The web API's configuration.
#[derive(Debug)]
#[non_exhaustive]
pub struct WebApiConfig {
    /// Who the API is (its own app registration) and how it authenticates for on-behalf-of.
    pub client: ClientConfig,
    /// `API_AUDIENCE`: the audiences accepted in `aud` (client id and/or App ID URI).
    pub audiences: Vec<String>,
    /// `API_REQUIRED_SCOPE` / `API_REQUIRED_ROLES`: any one of them is enough.
    pub required: RequiredPermissions,
    /// `ALLOWED_TENANTS`: for a multi-tenant API (Entra `{tenantid}` issuers), the tenants
    /// accepted (empty = any).
    pub allowed_tenants: Vec<String>,
    /// `ACCESS_TOKEN_SIGNING_ALG`: the only algorithm callers' access tokens may be signed
    /// with (`RS256` default, `PS256`, `ES256`).
    pub access_token_algorithm: VerificationAlgorithm,
    /// `API_DOWNSTREAM_URL` + `API_DOWNSTREAM_SCOPES`: what `/api/profile` calls on behalf of
    /// the caller.
    pub downstream: DownstreamApi,
    /// `API_DOWNSTREAM_APP_SCOPES`, else `{resource}/.default` of `API_DOWNSTREAM_SCOPES`
    /// ([`Scopes::app_only_default`]): the scopes of the API's own app token, with which it calls
    /// the downstream for app-only callers (daemons), which have no user to act for. `None`
    /// when neither gives one: app-only callers are then refused.
    pub app_scopes: Option<Scopes>,
    /// `HTTP_TIMEOUT_MS`.
    pub http_timeout: Duration,
}

impl WebApiConfig {
    /// Reads and validates every web API setting.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the first missing or bad setting; also when neither
    /// `API_REQUIRED_SCOPE` nor `API_REQUIRED_ROLES` is set (an API that accepts any token
    /// for its audience is a mistake, not a default).
    pub fn from_settings(settings: &dyn Settings) -> Result<Self, Error> {
        let client = ClientConfig::from_settings(settings)?;
        let audiences = setting_list(Some(required(settings, "API_AUDIENCE")?));
        let required = RequiredPermissions::new(
            setting_list(optional(settings, "API_REQUIRED_SCOPE")),
            setting_list(optional(settings, "API_REQUIRED_ROLES")),
        );
        if required.is_empty() {
            return Err(Error::configuration(
                "set API_REQUIRED_SCOPE (delegated scopes) or API_REQUIRED_ROLES (app roles)",
            ));
        }
        let downstream = DownstreamApi::from_settings(
            settings,
            "API_DOWNSTREAM_URL",
            "API_DOWNSTREAM_SCOPES",
            false,
        )?;
        let app_scopes = match optional(settings, "API_DOWNSTREAM_APP_SCOPES") {
            Some(text) => Some(Scopes::parse(&text).map_err(|_| {
                Error::configuration("API_DOWNSTREAM_APP_SCOPES must be space-separated scopes")
            })?),
            None => downstream.scopes.app_only_default(),
        };
        if let Some(scopes) = &app_scopes {
            if client.authority.requires_default_scope() {
                scopes.require_app_only().map_err(|_| {
                    Error::configuration(
                        "API_DOWNSTREAM_APP_SCOPES: one `{resource}/.default` scope (IDW10404/IDW10405)",
                    )
                })?;
            }
        }
        Ok(Self {
            client,
            audiences,
            required,
            allowed_tenants: setting_list(optional(settings, "ALLOWED_TENANTS")),
            access_token_algorithm: access_token_algorithm(optional(
                settings,
                "ACCESS_TOKEN_SIGNING_ALG",
            ))?,
            downstream,
            app_scopes,
            http_timeout: http_timeout(settings)?,
        })
    }
}

/// Every setting [`WebApiConfig::from_settings`] may read, through
/// [`crate::config::azure_ad::AzureAdSettings`], besides
/// [`crate::config::CLIENT_SETTING_NAMES`]: for runtimes whose settings must be fetched by name
/// before they are parsed (Spin variables are read asynchronously).
pub const WEB_API_SETTING_NAMES: &[&str] = &[
    "API_AUDIENCE",
    "API_REQUIRED_SCOPE",
    "API_REQUIRED_ROLES",
    "API_DOWNSTREAM_URL",
    "API_DOWNSTREAM_SCOPES",
    "API_DOWNSTREAM_APP_SCOPES",
    "ALLOWED_TENANTS",
    "ACCESS_TOKEN_SIGNING_ALG",
];

#[cfg(test)]
mod tests;
