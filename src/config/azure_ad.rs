//! Microsoft.Identity.Web's `AzureAd` configuration section, as JSON in one setting.
//!
//! A team moving from Microsoft.Identity.Web (MIW) pastes the `AzureAd` section of its
//! `appsettings.json` into the setting [`AZURE_AD`] (a Worker secret), and edge-token behaves as
//! with the equivalent flat settings of [`crate::config`]. [`AzureAdSettings`] is a [`Settings`]
//! layer: it parses the JSON once, eagerly, and answers each flat name from it, falling back to
//! the flat settings for names the JSON does not define.
//!
//! The JSON needs the feature `azure-ad` (default in this crate, opt-in in the Workers adapter).
//! Without it, [`AzureAdSettings`] passes the flat settings through, and an `AZURE_AD` setting is
//! the error [`AZURE_AD_FEATURE_MISSING`], never ignored.
//!
//! The JSON is either the section itself (`{"Instance": …, "ClientId": …}`) or an object holding
//! it under `AzureAd`, optionally with MIW's sibling sections `DownstreamApis` (name → API) and
//! `DownstreamApi` (one API, named `DownstreamApi`); `Logging` and `AllowedHosts` are ignored
//! there. Keys are case-insensitive, as .NET's configuration binder reads them; `//` comments
//! are not JSON and are refused.
//!
//! | `AzureAd` key (MIW / MSAL name) | flat setting |
//! |---|---|
//! | `Instance` + `TenantId` | `AUTHORITY` = `{Instance}/{TenantId}` |
//! | `Authority` (a trailing `/v2.0` is dropped) | `AUTHORITY` |
//! | `Instance` + `Domain` + `SignUpSignInPolicyId` (B2C) | `AUTHORITY` = `{Instance}/{Domain}/{policy}`, `AUTHORITY_KIND` = `b2c` |
//! | `AzureRegion` (MSAL's) | `AZURE_REGION` |
//! | `ClientId` | `CLIENT_ID` |
//! | `ClientCredentials` (or MIW 1.x `ClientCertificates`, or a top-level `ClientSecret`) | one credential, below |
//! | `SendX5C` | `CLIENT_SEND_X5C` |
//! | `ClientCapabilities` | `CLIENT_CAPABILITIES` |
//! | `RedirectUri` (MSAL's; absolute) | `REDIRECT_URI` |
//! | `CallbackPath` | checked against the path of `REDIRECT_URI` |
//! | `SignedOutCallbackPath` | `POST_LOGOUT_REDIRECT_URI` = origin of `REDIRECT_URI` + path |
//! | `ResponseMode` | `RESPONSE_MODE` |
//! | `Scopes` (the web API's required scopes) | `API_REQUIRED_SCOPE` |
//! | `Audience`, `Audiences` (default: `{ClientId} api://{ClientId}`, as MIW) | `API_AUDIENCE` |
//! | `DownstreamApis` entries `{BaseUrl, RelativePath, Scopes, RequestAppToken}` | `DOWNSTREAM_*`, `WEB_API_*`, `API_DOWNSTREAM_*` |
//!
//! `ClientCredentials` entries, by `SourceType` (MIW's `CredentialDescription`):
//! - `ClientSecret` + `ClientSecret` → `CLIENT_SECRET`;
//! - `Base64Encoded` + `Base64EncodedValue` (a base64 PKCS#12/PFX with the certificate and its
//!   key; AES/PBES2 encryption) + optional `CertificatePassword` → a certificate loaded once,
//!   in place of `CLIENT_CERTIFICATE` + `CLIENT_PRIVATE_KEY` (feature `pkcs12`);
//! - `Pem` + `CertificatePem` + `PrivateKeyPem` (an edge-token extension) → the same (feature
//!   `certificate`: without it, a `Pem` entry is the error [`crate::config::CERTIFICATE_FEATURE_MISSING`]);
//! - `SignedAssertion` + `SignedAssertion` (an edge-token extension: a federated assertion)
//!   → `CLIENT_ASSERTION`.
//!
//! Exactly one entry is used: MIW's fallback through a list is not, so other entries must be
//! removed or carry `"Skip": true`. Sources that need a machine (`KeyVault`, `Path`,
//! `StoreWith…`, `SignedAssertionFromManagedIdentity`, `SignedAssertionFilePath`, …) are refused.
//!
//! A `DownstreamApis` entry feeds `DOWNSTREAM_URL`/`DOWNSTREAM_SCOPES` when the flat setting
//! `DOWNSTREAM_API` names it, `WEB_API_URL`/`WEB_API_SCOPES` when `WEB_API` does, and
//! `API_DOWNSTREAM_URL`/`API_DOWNSTREAM_SCOPES` when `API_DOWNSTREAM_API` does. Without those,
//! a single entry feeds `DOWNSTREAM_*` and (unless it has `RequestAppToken`) `API_DOWNSTREAM_*`.
//! `WEB_API_*` and `API_DOWNSTREAM_*` are called on behalf of the user, so an entry named for
//! them with `RequestAppToken: true` is a contradiction.
//!
//! Accepted and ignored (they configure MIW's own logging, UI pages or cookie, which have no
//! edge-token counterpart): `EnablePiiLogging`, `LogLevel`, `IsDefaultPlatformLoggingEnabled`,
//! `ClientName`, `ClientVersion`, `SaveTokens`, `ErrorPath`, `ResetPasswordPath`,
//! `EditProfilePolicyId`, `ResetPasswordPolicyId`; `Domain` outside B2C;
//! `AllowWebApiToBeAuthorizedByACL` and `WithSpaAuthCode` when `false`; an empty
//! `TokenDecryptionCredentials`. Any other key is an error.
//!
//! Errors ([`Error::Configuration`]) come from [`AzureAdSettings::new`], so at first use: bad
//! JSON, an unknown key, an unsupported `SourceType`, not exactly one credential, bad base64 or
//! PFX, and any flat setting that the JSON also defines with another value. They name keys and
//! settings, never values. Sources: MIW's "Application configuration" and
//! "Client credentials" docs, Microsoft.Identity.Abstractions' `CredentialDescription` and
//! `CredentialSource`, MSAL.NET's `ConfidentialClientApplicationOptions`.

#[cfg(feature = "azure-ad")]
use alloc::collections::BTreeMap;
#[cfg(feature = "azure-ad")]
use alloc::string::{String, ToString};
#[cfg(feature = "azure-ad")]
use alloc::vec::Vec;
use core::fmt;

#[cfg(feature = "azure-ad")]
use zeroize::Zeroizing;

use super::{optional, Settings};
#[cfg(feature = "certificate")]
use crate::credentials::certificate::ClientCertificate;
use crate::error::Error;

#[cfg(feature = "azure-ad")]
mod json;
#[cfg(feature = "azure-ad")]
mod mapping;
#[cfg(feature = "pkcs12")]
mod pfx;
#[cfg(feature = "azure-ad")]
mod section;
#[cfg(all(test, feature = "azure-ad"))]
mod tests;

#[cfg(feature = "azure-ad")]
use section::on_origin;
#[cfg(feature = "azure-ad")]
pub(crate) use section::{AzureAdSection, CredentialDescription, DownstreamApiDescription};

/// A certificate `AZURE_AD` holds already loaded (a `Base64Encoded` PKCS#12); none can exist
/// without the feature `certificate`.
#[cfg(all(feature = "azure-ad", feature = "certificate"))]
type Loaded = ClientCertificate;
#[cfg(all(feature = "azure-ad", not(feature = "certificate")))]
type Loaded = core::convert::Infallible;

/// The setting that holds the JSON.
pub(crate) const AZURE_AD: &str = "AZURE_AD";

/// The error for an `AZURE_AD` setting in a build without the feature `azure-ad`: the
/// `Error::Configuration` message, naming the setting and the feature (of edge-token, and of the
/// adapter that enables it, e.g. edge-token-cloudflare's `azure-ad`).
pub const AZURE_AD_FEATURE_MISSING: &str =
    "AZURE_AD (Microsoft.Identity.Web's AzureAd section) needs the `azure-ad` feature, which this \
     build leaves out: enable it (edge-token-cloudflare: features = [\"azure-ad\"]) or use the \
     flat settings (AUTHORITY, CLIENT_ID, CLIENT_SECRET, ...)";

/// A [`Settings`] layer over flat settings: the names `AZURE_AD` defines come from it, the
/// others from the flat settings, and MIW's defaults (`API_AUDIENCE`) come last.
///
/// Without the feature `azure-ad`, it answers every name from the flat settings, and an
/// `AZURE_AD` setting is an error ([`AZURE_AD_FEATURE_MISSING`]).
pub struct AzureAdSettings<'a> {
    flat: &'a dyn Settings,
    #[cfg(feature = "azure-ad")]
    defined: BTreeMap<&'static str, Zeroizing<String>>,
    #[cfg(feature = "azure-ad")]
    defaults: BTreeMap<&'static str, String>,
    #[cfg(all(feature = "azure-ad", feature = "certificate"))]
    certificate: Option<ClientCertificate>,
}

impl<'a> AzureAdSettings<'a> {
    /// Reads `AZURE_AD` from `flat`, if set, and checks it against the flat settings. Without
    /// it, every name is answered by `flat`. On Workers:
    /// `WebAppConfig::from_settings(&AzureAdSettings::new(&EnvSettings(env))?)`.
    ///
    /// # Errors
    /// As `AzureAdSection::parse` and `AzureAdSettings::with_section`; without the feature
    /// `azure-ad`, [`Error::Configuration`] ([`AZURE_AD_FEATURE_MISSING`]) when `AZURE_AD` is set.
    #[cfg(not(feature = "azure-ad"))]
    pub fn new(flat: &'a dyn Settings) -> Result<Self, Error> {
        match optional(flat, AZURE_AD) {
            None => Ok(Self { flat }),
            Some(_) => Err(Error::configuration(AZURE_AD_FEATURE_MISSING)),
        }
    }

    /// Reads `AZURE_AD` from `flat`, if set, and checks it against the flat settings. Without
    /// it, every name is answered by `flat`.
    ///
    /// # Errors
    /// As `AzureAdSection::parse` and `AzureAdSettings::with_section`.
    #[cfg(feature = "azure-ad")]
    pub fn new(flat: &'a dyn Settings) -> Result<Self, Error> {
        match optional(flat, AZURE_AD) {
            None => Ok(Self {
                flat,
                defined: BTreeMap::new(),
                defaults: BTreeMap::new(),
                #[cfg(feature = "certificate")]
                certificate: None,
            }),
            Some(json) => Self::with_section(flat, &AzureAdSection::parse(&json)?),
        }
    }

    /// The layer for an already parsed `section` over `flat`.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the key or setting: no authority or client id in either
    /// place, contradictory authority keys, a `CallbackPath` that is not the path of the
    /// redirect URI, bad base64 or PFX, a PFX key that does not match its certificate, a
    /// `DownstreamApis` entry named by a flat setting but not defined, and any setting defined
    /// by both the JSON and `flat` with different values (or two credentials across them).
    #[cfg(feature = "azure-ad")]
    pub fn with_section(flat: &'a dyn Settings, section: &AzureAdSection) -> Result<Self, Error> {
        let (defined, defaults, certificate) = mapping::map(flat, section)?;
        mapping::check_contradictions(flat, &defined, certificate.is_some())?;
        Ok(Self {
            flat,
            defined,
            defaults,
            #[cfg(feature = "certificate")]
            certificate,
        })
    }
}

impl Settings for AzureAdSettings<'_> {
    #[cfg(feature = "azure-ad")]
    fn get(&self, name: &str) -> Option<String> {
        if let Some(value) = self.defined.get(name) {
            return Some(value.to_string());
        }
        optional(self.flat, name).or_else(|| self.defaults.get(name).cloned())
    }

    #[cfg(not(feature = "azure-ad"))]
    fn get(&self, name: &str) -> Option<alloc::string::String> {
        optional(self.flat, name)
    }

    #[cfg(feature = "certificate")]
    fn client_certificate(&self) -> Option<ClientCertificate> {
        #[cfg(feature = "azure-ad")]
        if let Some(certificate) = &self.certificate {
            return Some(certificate.clone());
        }
        self.flat.client_certificate()
    }
}

impl fmt::Debug for AzureAdSettings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("AzureAdSettings");
        #[cfg(feature = "azure-ad")]
        debug
            .field("defined", &self.defined.keys().collect::<Vec<_>>())
            .field("defaults", &self.defaults.keys().collect::<Vec<_>>());
        debug.finish_non_exhaustive()
    }
}
