//! From the typed `AzureAd` section to flat setting names (see the table in the parent module).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use url::Url;
use zeroize::Zeroizing;

use super::json::error;
use super::{
    on_origin, AzureAdSection, CredentialDescription, DownstreamApiDescription, Loaded, AZURE_AD,
};
use crate::config::{optional, Settings};
use crate::error::Error;

type Defined = BTreeMap<&'static str, Zeroizing<String>>;
type Defaults = BTreeMap<&'static str, String>;

/// The flat settings that hold a client credential.
const CREDENTIAL_SETTINGS: [&str; 4] = [
    "CLIENT_SECRET",
    "CLIENT_CERTIFICATE",
    "CLIENT_PRIVATE_KEY",
    "CLIENT_ASSERTION",
];

/// Settings whose values are lists: compared as sets of words.
const LIST_SETTINGS: [&str; 7] = [
    "CLIENT_CAPABILITIES",
    "API_REQUIRED_SCOPE",
    "API_AUDIENCE",
    "DOWNSTREAM_SCOPES",
    "WEB_API_SCOPES",
    "API_DOWNSTREAM_SCOPES",
    "ALLOWED_TENANTS",
];

/// The three downstream pairs: URL setting, scopes setting, the flat setting naming the entry,
/// and whether its calls are made on behalf of the user only.
const DOWNSTREAM_PAIRS: [(&str, &str, &str, bool); 3] = [
    (
        "DOWNSTREAM_URL",
        "DOWNSTREAM_SCOPES",
        "DOWNSTREAM_API",
        false,
    ),
    ("WEB_API_URL", "WEB_API_SCOPES", "WEB_API", true),
    (
        "API_DOWNSTREAM_URL",
        "API_DOWNSTREAM_SCOPES",
        "API_DOWNSTREAM_API",
        true,
    ),
];

/// What `AZURE_AD` maps to: settings it defines, defaults it supplies, and a certificate it
/// holds already loaded (a `Base64Encoded` PKCS#12).
pub(super) type Mapped = (Defined, Defaults, Option<Loaded>);

pub(super) fn map(flat: &dyn Settings, section: &AzureAdSection) -> Result<Mapped, Error> {
    let mut defined = Defined::new();
    let mut defaults = Defaults::new();
    let mut loaded = None;
    let mut define = |name: &'static str, value: String| {
        defined.insert(name, Zeroizing::new(value));
    };

    match authority(section)? {
        Some(authority) => define("AUTHORITY", authority),
        None if optional(flat, "AUTHORITY").is_none() => {
            return Err(error(
                "AzureAd",
                "defines no authority: set Instance and TenantId (or Authority), or the setting AUTHORITY",
            ))
        }
        None => {}
    }
    if section.sign_up_sign_in_policy_id.is_some() {
        define("AUTHORITY_KIND", String::from("b2c"));
    }
    if let Some(region) = &section.azure_region {
        define("AZURE_REGION", region.trim().to_string());
    }
    match &section.client_id {
        Some(client_id) => {
            let client_id = client_id.trim().to_string();
            defaults.insert("API_AUDIENCE", format!("{client_id} api://{client_id}"));
            define("CLIENT_ID", client_id);
        }
        None if optional(flat, "CLIENT_ID").is_none() => {
            return Err(error(
                "AzureAd:ClientId",
                "is missing (and so is the setting CLIENT_ID)",
            ))
        }
        None => {}
    }

    match &section.credential {
        None => {}
        Some(CredentialDescription::ClientSecret(secret)) => {
            define("CLIENT_SECRET", secret.expose_secret().to_string());
        }
        Some(CredentialDescription::SignedAssertion(assertion)) => {
            define("CLIENT_ASSERTION", assertion.expose_secret().to_string());
        }
        // Without the feature `certificate`, the flat settings fail as flat ones would
        // (`crate::config::CERTIFICATE_FEATURE_MISSING`).
        Some(CredentialDescription::Pem {
            certificate,
            private_key,
        }) => {
            define("CLIENT_CERTIFICATE", certificate.clone());
            define(
                "CLIENT_PRIVATE_KEY",
                private_key.expose_secret().to_string(),
            );
        }
        Some(CredentialDescription::Base64Encoded { value, password }) => {
            loaded = Some(open_pfx(
                value.expose_secret(),
                password.as_ref().map_or("", |p| p.expose_secret()),
            )?);
        }
    }
    if let Some(send_x5c) = section.send_x5c {
        define("CLIENT_SEND_X5C", send_x5c.to_string());
    }
    if !section.client_capabilities.is_empty() {
        define("CLIENT_CAPABILITIES", section.client_capabilities.join(" "));
    }
    if let Some(mode) = &section.response_mode {
        define("RESPONSE_MODE", mode.trim().to_ascii_lowercase());
    }
    if !section.scopes.is_empty() {
        define("API_REQUIRED_SCOPE", section.scopes.join(" "));
    }
    if !section.audiences.is_empty() {
        define("API_AUDIENCE", section.audiences.join(" "));
    }

    // The redirect URI is configured, never derived from request headers: `CallbackPath` is only
    // checked against it, and `SignedOutCallbackPath` is placed on its origin.
    let redirect_uri = match &section.redirect_uri {
        Some(uri) => {
            let url = Url::parse(uri.trim())
                .map_err(|_| error("AzureAd:RedirectUri", "is not an absolute URL"))?;
            define("REDIRECT_URI", url.to_string());
            Some(url)
        }
        None => optional(flat, "REDIRECT_URI").and_then(|uri| Url::parse(uri.trim()).ok()),
    };
    if let (Some(path), Some(url)) = (&section.callback_path, &redirect_uri) {
        if url.path() != path.trim() {
            return Err(Error::configuration(
                "AzureAd:CallbackPath is not the path of the redirect URI (AzureAd:RedirectUri or REDIRECT_URI)",
            ));
        }
    }
    if let (Some(path), Some(url)) = (&section.signed_out_callback_path, &redirect_uri) {
        let uri = on_origin("AzureAd:SignedOutCallbackPath", url, path.trim())?;
        define("POST_LOGOUT_REDIRECT_URI", uri);
    }

    for (url_setting, scopes_setting, selector, delegated_only) in DOWNSTREAM_PAIRS {
        let chosen = match optional(flat, selector) {
            Some(name) => {
                let name = name.trim();
                let Some((_, api)) = section
                    .downstream_apis
                    .iter()
                    .find(|(known, _)| known.eq_ignore_ascii_case(name))
                else {
                    return Err(Error::configuration(format!(
                        "{AZURE_AD}: {selector} names a downstream API that DownstreamApis does not define"
                    )));
                };
                if delegated_only && api.request_app_token {
                    return Err(Error::configuration(format!(
                        "{AZURE_AD}: {selector} names a DownstreamApis entry with RequestAppToken true, but \
                         {url_setting} is called on behalf of the user"
                    )));
                }
                Some(api)
            }
            None => match section.downstream_apis.as_slice() {
                [(_, api)]
                    if selector != "WEB_API" && !(delegated_only && api.request_app_token) =>
                {
                    Some(api)
                }
                _ => None,
            },
        };
        if let Some(api) = chosen {
            define(url_setting, downstream_url(api));
            if !api.scopes.is_empty() {
                define(scopes_setting, api.scopes.join(" "));
            }
        }
    }
    Ok((defined, defaults, loaded))
}

/// `AUTHORITY` from `Authority`, `Instance` + `TenantId`, or the B2C `Instance` + `Domain` +
/// `SignUpSignInPolicyId`; `None` when the section has none of them.
fn authority(section: &AzureAdSection) -> Result<Option<String>, Error> {
    let trim = |url: &str| url.trim().trim_end_matches('/').to_string();
    let instance = section.instance.as_deref().map(trim);
    let derived = match (
        &instance,
        &section.tenant_id,
        &section.sign_up_sign_in_policy_id,
    ) {
        (Some(instance), _, Some(policy)) => {
            let domain = section.domain.as_deref().ok_or_else(|| {
                error(
                    "AzureAd:Domain",
                    "is missing (SignUpSignInPolicyId is set: Azure AD B2C)",
                )
            })?;
            Some(format!("{instance}/{}/{}", domain.trim(), policy.trim()))
        }
        (Some(instance), Some(tenant), None) => Some(format!("{instance}/{}", tenant.trim())),
        (Some(_), None, None) => {
            return Err(error("AzureAd:TenantId", "is missing (Instance is set)"));
        }
        (None, Some(_), _) | (None, None, Some(_)) => {
            return Err(error(
                "AzureAd:Instance",
                "is missing (TenantId or SignUpSignInPolicyId is set)",
            ));
        }
        (None, None, None) => None,
    };
    let explicit = section.authority.as_deref().map(|authority| {
        let authority = trim(authority);
        match authority.strip_suffix("/v2.0") {
            Some(v1) => v1.to_string(),
            None => authority,
        }
    });
    match (explicit, derived) {
        (Some(explicit), Some(derived)) if !explicit.eq_ignore_ascii_case(&derived) => {
            Err(Error::configuration(
                "AzureAd:Authority and AzureAd:Instance + TenantId name different authorities",
            ))
        }
        (Some(authority), _) | (None, Some(authority)) => Ok(Some(authority)),
        (None, None) => Ok(None),
    }
}

fn downstream_url(api: &DownstreamApiDescription) -> String {
    let base = api.base_url.trim();
    match api.relative_path.as_deref().map(str::trim) {
        Some(path) if !path.is_empty() => format!(
            "{}/{}",
            base.trim_end_matches('/'),
            path.trim_start_matches('/')
        ),
        _ => base.to_string(),
    }
}

#[cfg(feature = "pkcs12")]
fn open_pfx(base64: &str, password: &str) -> Result<Loaded, Error> {
    use base64::Engine as _;
    const SETTING: &str = "AzureAd:ClientCredentials Base64EncodedValue";
    let compact: Zeroizing<String> = Zeroizing::new(
        base64
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect(),
    );
    let der = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| Error::configuration(format!("{SETTING} is not base64")))?,
    );
    super::pfx::open(SETTING, &der, password)
}

#[cfg(not(feature = "pkcs12"))]
fn open_pfx(_: &str, _: &str) -> Result<Loaded, Error> {
    Err(Error::configuration(
        "AzureAd:ClientCredentials SourceType Base64Encoded needs edge-token's `pkcs12` feature",
    ))
}

/// Every name both places define must agree; a credential in the JSON excludes any flat one.
pub(super) fn check_contradictions(
    flat: &dyn Settings,
    defined: &Defined,
    loaded_certificate: bool,
) -> Result<(), Error> {
    for (name, value) in defined {
        if let Some(flat_value) = optional(flat, name) {
            if !same(name, value, &flat_value) {
                return Err(Error::configuration(format!(
                    "{AZURE_AD} and the setting {name} disagree: set {name} in one place"
                )));
            }
        }
    }
    if loaded_certificate
        || CREDENTIAL_SETTINGS
            .iter()
            .any(|name| defined.contains_key(name))
    {
        for name in CREDENTIAL_SETTINGS {
            if !defined.contains_key(name) && optional(flat, name).is_some() {
                return Err(Error::configuration(format!(
                    "{AZURE_AD} ClientCredentials and the setting {name} both configure the client \
                     credential: keep one"
                )));
            }
        }
    }
    Ok(())
}

fn same(name: &str, a: &str, b: &str) -> bool {
    if LIST_SETTINGS.contains(&name) {
        let words = |text: &str| {
            let mut words: Vec<String> = text
                .split([' ', ','])
                .filter(|word| !word.is_empty())
                .map(String::from)
                .collect();
            words.sort();
            words.dedup();
            words
        };
        words(a) == words(b)
    } else {
        let normal = |text: &str| text.trim().trim_end_matches('/').to_string();
        Zeroizing::new(normal(a)) == Zeroizing::new(normal(b))
    }
}
