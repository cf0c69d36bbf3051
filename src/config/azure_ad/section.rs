//! The `AzureAd` section's JSON, typed (feature `azure-ad`): what [`super::AzureAdSettings`]
//! maps onto the flat settings (the table in the parent module).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde_json::Value;
use url::Url;
use zeroize::Zeroizing;

use super::json::{error, Object};
use super::AZURE_AD;
use crate::error::Error;
use crate::secret::{ClientAssertion, ClientSecret};

/// A secret string (PEM key, base64 PFX, PFX password): `Debug` and `Display` print
/// `[redacted]`; zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The raw value; never format it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText([redacted])")
    }
}

impl fmt::Display for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The one client credential of a section (MIW's `CredentialDescription`, by `SourceType`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialDescription {
    /// `SourceType: ClientSecret` with `ClientSecret` (or MIW 1.x's top-level `ClientSecret`).
    ClientSecret(ClientSecret),
    /// `SourceType: Base64Encoded` with `Base64EncodedValue` (a PKCS#12/PFX, base64) and an
    /// optional `CertificatePassword`.
    Base64Encoded {
        /// `Base64EncodedValue`.
        value: SecretText,
        /// `CertificatePassword`.
        password: Option<SecretText>,
    },
    /// `SourceType: Pem` (edge-token extension) with `CertificatePem` (chain, leaf first) and
    /// `PrivateKeyPem` (PKCS#8 or PKCS#1 RSA).
    Pem {
        /// `CertificatePem`.
        certificate: String,
        /// `PrivateKeyPem`.
        private_key: SecretText,
    },
    /// `SourceType: SignedAssertion` (edge-token extension) with `SignedAssertion`.
    SignedAssertion(ClientAssertion),
}

/// One entry of MIW's `DownstreamApis` (`DownstreamApiOptions`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownstreamApiDescription {
    /// `BaseUrl`.
    pub base_url: String,
    /// `RelativePath`, appended to `BaseUrl` with one `/` between them.
    pub relative_path: Option<String>,
    /// `Scopes`: an array, or one space-separated string (MIW's older form).
    pub scopes: Vec<String>,
    /// `RequestAppToken`: app-only tokens (client credentials) rather than delegated ones.
    pub request_app_token: bool,
}

/// The `AzureAd` section, typed. Absent keys are `None` (or empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AzureAdSection {
    /// `Instance`, e.g. `https://login.microsoftonline.com/`.
    pub instance: Option<String>,
    /// `TenantId`: a GUID, a domain, `common`, `organizations` or `consumers`.
    pub tenant_id: Option<String>,
    /// `ClientId`.
    pub client_id: Option<String>,
    /// `Domain` (informative, except in B2C authorities).
    pub domain: Option<String>,
    /// `Authority`: a full authority, instead of `Instance` + `TenantId`.
    pub authority: Option<String>,
    /// `SignUpSignInPolicyId` (Azure AD B2C).
    pub sign_up_sign_in_policy_id: Option<String>,
    /// `AzureRegion` (MSAL's): the region of regional token endpoints, e.g. `westus2`.
    pub azure_region: Option<String>,
    /// The one credential not marked `Skip`.
    pub credential: Option<CredentialDescription>,
    /// `SendX5C`.
    pub send_x5c: Option<bool>,
    /// `ClientCapabilities`, e.g. `["cp1"]`.
    pub client_capabilities: Vec<String>,
    /// `RedirectUri` (MSAL's `ApplicationOptions.RedirectUri`).
    pub redirect_uri: Option<String>,
    /// `CallbackPath`, e.g. `/signin-oidc`.
    pub callback_path: Option<String>,
    /// `SignedOutCallbackPath`, e.g. `/signout-callback-oidc`.
    pub signed_out_callback_path: Option<String>,
    /// `ResponseMode`.
    pub response_mode: Option<String>,
    /// `Scopes`: the scopes a web API requires (`[RequiredScope]` reads `AzureAd:Scopes`).
    pub scopes: Vec<String>,
    /// `Audience` and `Audiences`.
    pub audiences: Vec<String>,
    /// `DownstreamApis` (from the section or its sibling), in the order given.
    pub downstream_apis: Vec<(String, DownstreamApiDescription)>,
}

/// Keys accepted and ignored (see the module documentation).
const IGNORED: &[&str] = &[
    "EnablePiiLogging",
    "LogLevel",
    "IsDefaultPlatformLoggingEnabled",
    "ClientName",
    "ClientVersion",
    "SaveTokens",
    "ErrorPath",
    "ResetPasswordPath",
    "EditProfilePolicyId",
    "ResetPasswordPolicyId",
];

/// MIW `SourceType`s that need a machine, a disk, Key Vault or a managed identity.
const MACHINE_SOURCES: &[&str] = &[
    "Certificate",
    "KeyVault",
    "Path",
    "StoreWithThumbprint",
    "StoreWithDistinguishedName",
    "SignedAssertionFromManagedIdentity",
    "SignedAssertionFilePath",
    "SignedAssertionFromVault",
    "AutoDecryptKeys",
    "CustomSignedAssertion",
];

impl AzureAdSection {
    /// Parses the JSON text of [`AZURE_AD`] (the section, or an object holding it under
    /// `AzureAd` with optional `DownstreamApis` / `DownstreamApi` siblings).
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the key: malformed JSON (with its line and column), a
    /// value of the wrong type, an unknown key, a key given twice in different cases, an
    /// unsupported or unknown `SourceType`, not exactly one credential.
    pub fn parse(json: &str) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(json).map_err(|e| {
            Error::configuration(format!(
                "{AZURE_AD} is not valid JSON (line {}, column {}); comments and trailing commas, \
                 which appsettings.json tolerates, must be removed",
                e.line(),
                e.column()
            ))
        })?;
        let mut top = Object::new("AzureAd", value)?;
        let Some(section) = top.take("AzureAd")? else {
            return Self::from_object(top, Vec::new());
        };
        let mut siblings = Vec::new();
        if let Some(apis) = top.take("DownstreamApis")? {
            siblings.extend(Object::new("DownstreamApis", apis)?.into_entries()?);
        }
        if let Some(api) = top.take("DownstreamApi")? {
            siblings.push((
                String::from("DownstreamApi"),
                Object::new("DownstreamApi", api)?,
            ));
        }
        top.ignore("Logging")?;
        top.ignore("AllowedHosts")?;
        top.finish()?;
        let section = Object::new("AzureAd", section)?;
        Self::from_object(section, siblings)
    }

    fn from_object(mut obj: Object, siblings: Vec<(String, Object)>) -> Result<Self, Error> {
        let mut section = Self {
            instance: obj.string("Instance")?,
            tenant_id: obj.string("TenantId")?,
            client_id: obj.string("ClientId")?,
            domain: obj.string("Domain")?,
            authority: obj.string("Authority")?,
            sign_up_sign_in_policy_id: obj.string("SignUpSignInPolicyId")?,
            azure_region: obj.string("AzureRegion")?,
            send_x5c: obj.boolean("SendX5C")?,
            client_capabilities: obj.words("ClientCapabilities")?.unwrap_or_default(),
            redirect_uri: obj.string("RedirectUri")?,
            callback_path: obj.string("CallbackPath")?,
            signed_out_callback_path: obj.string("SignedOutCallbackPath")?,
            response_mode: obj.string("ResponseMode")?,
            scopes: obj.words("Scopes")?.unwrap_or_default(),
            ..Self::default()
        };
        section.audiences = obj.words("Audience")?.unwrap_or_default();
        section
            .audiences
            .extend(obj.words("Audiences")?.unwrap_or_default());

        let mut credentials = Vec::new();
        if let Some(secret) = obj.string("ClientSecret")? {
            credentials.push(CredentialDescription::ClientSecret(ClientSecret::new(
                secret,
            )));
        }
        for list in ["ClientCredentials", "ClientCertificates"] {
            for (index, entry) in obj.array(list)?.into_iter().enumerate() {
                let path = format!("AzureAd:{list}[{index}]");
                if let Some(credential) = credential(Object::new(&path, entry)?)? {
                    credentials.push(credential);
                }
            }
        }
        if credentials.len() > 1 {
            return Err(Error::configuration(format!(
                "{AZURE_AD} defines {} client credentials: edge-token uses exactly one (it does not \
                 fall back through a list as Microsoft.Identity.Web does); remove the others or \
                 mark them \"Skip\": true",
                credentials.len()
            )));
        }
        section.credential = credentials.pop();

        let mut entries = siblings;
        if let Some(apis) = obj.object("DownstreamApis")? {
            entries.extend(apis.into_entries()?);
        }
        for (name, entry) in entries {
            if section
                .downstream_apis
                .iter()
                .any(|(known, _)| known.eq_ignore_ascii_case(&name))
            {
                return Err(error(
                    &format!("DownstreamApis:{name}"),
                    "is defined twice (names are case-insensitive)",
                ));
            }
            section.downstream_apis.push((name, downstream_api(entry)?));
        }

        for key in IGNORED {
            obj.ignore(key)?;
        }
        for key in ["AllowWebApiToBeAuthorizedByACL", "WithSpaAuthCode"] {
            if obj.boolean(key)? == Some(true) {
                return Err(error(
                    &obj.path_of(key),
                    "is not supported by edge-token (only false)",
                ));
            }
        }
        if !obj.array("TokenDecryptionCredentials")?.is_empty() {
            return Err(error(
                &obj.path_of("TokenDecryptionCredentials"),
                "is not supported: edge-token does not accept encrypted tokens",
            ));
        }
        obj.finish()?;
        Ok(section)
    }
}

/// One `ClientCredentials` entry; `None` when it is marked `Skip`.
fn credential(mut entry: Object) -> Result<Option<CredentialDescription>, Error> {
    if entry.boolean("Skip")? == Some(true) {
        return Ok(None);
    }
    let source = entry
        .string("SourceType")?
        .ok_or_else(|| error(&entry.path_of("SourceType"), "is missing"))?;
    let required = |entry: &mut Object, key: &str| {
        entry.string(key)?.ok_or_else(|| {
            error(
                &entry.path_of(key),
                &format!("is missing (SourceType {source})"),
            )
        })
    };
    let description = if source.eq_ignore_ascii_case("ClientSecret") {
        CredentialDescription::ClientSecret(ClientSecret::new(required(
            &mut entry,
            "ClientSecret",
        )?))
    } else if source.eq_ignore_ascii_case("Base64Encoded") {
        CredentialDescription::Base64Encoded {
            value: SecretText::new(required(&mut entry, "Base64EncodedValue")?),
            password: entry.string("CertificatePassword")?.map(SecretText::new),
        }
    } else if source.eq_ignore_ascii_case("Pem") {
        CredentialDescription::Pem {
            certificate: required(&mut entry, "CertificatePem")?,
            private_key: SecretText::new(required(&mut entry, "PrivateKeyPem")?),
        }
    } else if source.eq_ignore_ascii_case("SignedAssertion") {
        let assertion = required(&mut entry, "SignedAssertion")?;
        CredentialDescription::SignedAssertion(ClientAssertion::new(assertion.trim()))
    } else if MACHINE_SOURCES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(&source))
    {
        return Err(error(
            &entry.path_of("SourceType"),
            &format!(
                "`{source}` is not supported at the edge (no certificate store, disk, Key Vault or \
                 managed identity): use ClientSecret, Base64Encoded, Pem or SignedAssertion"
            ),
        ));
    } else {
        return Err(error(
            &entry.path_of("SourceType"),
            &format!(
                "`{source}` is unknown: use ClientSecret, Base64Encoded, Pem or SignedAssertion"
            ),
        ));
    };
    entry.finish()?;
    Ok(Some(description))
}

fn downstream_api(mut entry: Object) -> Result<DownstreamApiDescription, Error> {
    let base_url = entry
        .string("BaseUrl")?
        .ok_or_else(|| error(&entry.path_of("BaseUrl"), "is missing"))?;
    let api = DownstreamApiDescription {
        base_url,
        relative_path: entry.string("RelativePath")?,
        scopes: entry.words("Scopes")?.unwrap_or_default(),
        request_app_token: entry.boolean("RequestAppToken")?.unwrap_or(false),
    };
    if let Some(method) = entry.string("HttpMethod")? {
        if !method.eq_ignore_ascii_case("GET") {
            return Err(error(
                &entry.path_of("HttpMethod"),
                "must be GET (or absent)",
            ));
        }
    }
    entry.finish()?;
    Ok(api)
}

/// `path` (`/…`) on the origin of `base`.
pub(super) fn on_origin(key: &str, base: &Url, path: &str) -> Result<String, Error> {
    if !path.starts_with('/') || path.starts_with("//") {
        return Err(error(key, "must be a path starting with a single /"));
    }
    base.join(path)
        .map(|url| url.to_string())
        .map_err(|_| error(key, "is not a valid path"))
}
