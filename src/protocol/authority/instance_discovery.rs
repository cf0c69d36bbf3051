//! Authority validation through Entra instance discovery (MSAL's `WithAuthority(…,
//! validateAuthority: true)`; MSAL.NET `AadAuthorityValidator`, `NetworkMetadataProvider`,
//! `KnownMetadataProvider`).
//!
//! Sans-IO: [`EntraAuthority::instance_discovery_request`] says whether a call is needed and
//! builds it, [`EntraAuthority::validate_instance`] parses the answer
//! ([`InstanceDiscoveryResponse`]) and decides. Hosts of the known clouds need no call.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};
use url::Url;

use super::{is_loopback, require_secure_url, EntraAuthority, MicrosoftAuthorityKind};
use crate::error::{Error, ResponseProblem};
use crate::platform::http::{HttpRequest, HttpResponse};
use crate::protocol::response::{error_response, invalid, json_object};

/// Where hosts that are not known are validated (MSAL.NET `AadAuthority.DefaultTrustedHost`).
pub(crate) const INSTANCE_DISCOVERY_ENDPOINT: &str =
    "https://login.microsoftonline.com/common/discovery/instance";

/// The `api-version` of instance discovery requests, as MSAL sends it.
pub(crate) const INSTANCE_DISCOVERY_API_VERSION: &str = "1.1";

/// A cloud MSAL knows without asking (MSAL.NET `KnownMetadataProvider`); Microsoft Cloud
/// Germany is left out: it closed in 2021.
pub(super) struct KnownCloud {
    pub(super) aliases: &'static [&'static str],
    pub(super) preferred_network: &'static str,
    pub(super) preferred_cache: &'static str,
}

/// The public cloud's aliases (MSAL.NET `KnownMetadataProvider.IsPublicEnvironment`).
pub(super) const PUBLIC_CLOUD_ALIASES: &[&str] = &[
    "login.microsoftonline.com",
    "login.windows.net",
    "login.microsoft.com",
    "sts.windows.net",
];

const fn cloud(
    aliases: &'static [&'static str],
    preferred_network: &'static str,
    preferred_cache: &'static str,
) -> KnownCloud {
    KnownCloud {
        aliases,
        preferred_network,
        preferred_cache,
    }
}

const KNOWN_CLOUDS: &[KnownCloud] = &[
    cloud(
        PUBLIC_CLOUD_ALIASES,
        "login.microsoftonline.com",
        "login.windows.net",
    ),
    cloud(
        &["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"],
        "login.partner.microsoftonline.cn",
        "login.partner.microsoftonline.cn",
    ),
    cloud(
        &["login.microsoftonline.us", "login.usgovcloudapi.net"],
        "login.microsoftonline.us",
        "login.microsoftonline.us",
    ),
    cloud(
        &["login-us.microsoftonline.com"],
        "login-us.microsoftonline.com",
        "login-us.microsoftonline.com",
    ),
    cloud(
        &["login.sovcloud-identity.fr"],
        "login.sovcloud-identity.fr",
        "login.sovcloud-identity.fr",
    ),
    cloud(
        &["login.sovcloud-identity.de"],
        "login.sovcloud-identity.de",
        "login.sovcloud-identity.de",
    ),
    cloud(
        &["login.sovcloud-identity.sg"],
        "login.sovcloud-identity.sg",
        "login.sovcloud-identity.sg",
    ),
];

/// The known cloud `host` (lower-case) belongs to.
pub(super) fn known_cloud(host: &str) -> Option<&'static KnownCloud> {
    KNOWN_CLOUDS
        .iter()
        .find(|cloud| cloud.aliases.contains(&host))
}

/// One cloud's entry of instance discovery metadata: the host to send requests to, the host to
/// key caches by, and every host that names the same cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstanceMetadata {
    /// `preferred_network`: the host requests go to.
    pub preferred_network: String,
    /// `preferred_cache`: the host caches are keyed by.
    pub preferred_cache: String,
    /// `aliases`: every host of this cloud.
    pub aliases: Vec<String>,
}

impl InstanceMetadata {
    /// The built-in entry for a host of a known cloud (case-insensitive), without a network
    /// call.
    pub fn known(host: &str) -> Option<Self> {
        known_cloud(&host.to_ascii_lowercase()).map(|cloud| Self {
            preferred_network: cloud.preferred_network.to_string(),
            preferred_cache: cloud.preferred_cache.to_string(),
            aliases: cloud.aliases.iter().map(ToString::to_string).collect(),
        })
    }

    /// Whether `host` is one of the aliases (case-insensitive).
    pub fn has_alias(&self, host: &str) -> bool {
        self.aliases
            .iter()
            .any(|alias| alias.eq_ignore_ascii_case(host))
    }

    fn single(host: &str) -> Self {
        Self {
            preferred_network: host.to_string(),
            preferred_cache: host.to_string(),
            aliases: alloc::vec![host.to_string()],
        }
    }
}

/// A parsed instance discovery answer:
/// `{"tenant_discovery_endpoint": "…", "api-version": "1.1", "metadata": [{"preferred_network",
/// "preferred_cache", "aliases": […]}, …]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) struct InstanceDiscoveryResponse {
    /// `tenant_discovery_endpoint`: the authority's OpenID configuration URL.
    pub tenant_discovery_endpoint: Url,
    /// `metadata`: one entry per cloud (absent is empty).
    pub metadata: Vec<InstanceMetadata>,
}

impl InstanceDiscoveryResponse {
    /// Parses an instance discovery response.
    ///
    /// # Errors
    /// - [`Error::Configuration`] naming `AUTHORITY` when the service answers `invalid_instance`
    ///   (AADSTS50049, "unknown or invalid instance"): the host is not a Microsoft Entra one;
    /// - [`Error::Server`] for any other OAuth 2.0 error object, [`Error::InvalidResponse`] for
    ///   another non-200 answer, a body that is not a JSON object, a missing or non-URL
    ///   `tenant_discovery_endpoint`, or a malformed `metadata` entry;
    /// - [`Error::Configuration`] when `tenant_discovery_endpoint` is plain `http` off loopback.
    pub(crate) fn parse(response: &HttpResponse) -> Result<Self, Error> {
        let status = response.status;
        if status != 200 {
            return Err(match error_response(response) {
                Error::Server(server) if server.error == "invalid_instance" => {
                    Error::configuration(
                        "AUTHORITY: instance discovery answered invalid_instance: the host is not a Microsoft Entra authority host (authority validation)",
                    )
                }
                other => other,
            });
        }
        let body = json_object(response)?;
        let endpoint = match body.get("tenant_discovery_endpoint") {
            Some(Value::String(text)) if !text.is_empty() => text,
            _ => {
                return Err(invalid(
                    status,
                    ResponseProblem::MissingField("tenant_discovery_endpoint"),
                ))
            }
        };
        let tenant_discovery_endpoint = Url::parse(endpoint).map_err(|_| {
            invalid(
                status,
                ResponseProblem::InvalidField {
                    field: "tenant_discovery_endpoint",
                    reason: "is not an absolute URL",
                },
            )
        })?;
        require_secure_url("tenant_discovery_endpoint", &tenant_discovery_endpoint)?;
        let metadata = match body.get("metadata") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(entries)) => entries
                .iter()
                .map(|entry| metadata_entry(entry, status))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(bad_metadata(status, "is not an array")),
        };
        Ok(Self {
            tenant_discovery_endpoint,
            metadata,
        })
    }

    /// The entry whose aliases include `host` (case-insensitive).
    pub(crate) fn metadata_for(&self, host: &str) -> Option<&InstanceMetadata> {
        self.metadata.iter().find(|entry| entry.has_alias(host))
    }
}

fn metadata_entry(entry: &Value, status: u16) -> Result<InstanceMetadata, Error> {
    let entry = entry
        .as_object()
        .ok_or_else(|| bad_metadata(status, "has an entry that is not an object"))?;
    let text = |entry: &Map<String, Value>, field: &str| match entry.get(field) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        _ => Err(bad_metadata(
            status,
            "has an entry without preferred_network or preferred_cache",
        )),
    };
    let aliases = match entry.get("aliases") {
        Some(Value::Array(aliases)) => aliases
            .iter()
            .map(|alias| {
                alias
                    .as_str()
                    .map(ToString::to_string)
                    .ok_or_else(|| bad_metadata(status, "has an alias that is not a string"))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(bad_metadata(status, "has an entry without aliases")),
    };
    Ok(InstanceMetadata {
        preferred_network: text(entry, "preferred_network")?,
        preferred_cache: text(entry, "preferred_cache")?,
        aliases,
    })
}

fn bad_metadata(status: u16, reason: &'static str) -> Error {
    invalid(
        status,
        ResponseProblem::InvalidField {
            field: "metadata",
            reason,
        },
    )
}

impl EntraAuthority {
    /// The built-in instance metadata of this authority's host when it belongs to a known cloud
    /// (no network call needed).
    pub fn known_instance_metadata(&self) -> Option<InstanceMetadata> {
        InstanceMetadata::known(self.host())
    }

    /// The instance discovery request that validates this authority, or `None` when none is
    /// needed: the host belongs to a known cloud, is a loopback host (local development), or the
    /// authority is not an Entra ID one (MSAL validates only `AuthorityType.Aad`; B2C, External
    /// ID and AD FS authorities are taken as configured).
    ///
    /// `GET https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&
    /// authorization_endpoint=https://{host}/{tenant}/oauth2/v2.0/authorize`, with `Accept:
    /// application/json`. Send it once per client and keep the result.
    pub fn instance_discovery_request(&self) -> Option<HttpRequest> {
        if *self.kind() != MicrosoftAuthorityKind::Aad
            || self.known_instance_metadata().is_some()
            || is_loopback(self.token_endpoint())
        {
            return None;
        }
        // A constant URL: parsing cannot fail (the tests send this request).
        let mut url = Url::parse(INSTANCE_DISCOVERY_ENDPOINT).ok()?;
        url.query_pairs_mut()
            .append_pair("api-version", INSTANCE_DISCOVERY_API_VERSION)
            .append_pair(
                "authorization_endpoint",
                self.authorization_endpoint().as_str(),
            );
        Some(HttpRequest::get_json(url))
    }

    /// Decides on the answer to [`EntraAuthority::instance_discovery_request`]: the host is a
    /// valid authority when the answer lists it among a cloud's `aliases` (that entry is
    /// returned), or when the service answered for it without listing it (its
    /// `tenant_discovery_endpoint` is on this host: MSAL then treats the host as its own single
    /// alias, and so does this).
    ///
    /// # Errors
    /// As [`InstanceDiscoveryResponse::parse`], and [`Error::Configuration`] naming `AUTHORITY`
    /// when the answer vouches for neither this host nor its discovery endpoint.
    pub fn validate_instance(&self, response: &HttpResponse) -> Result<InstanceMetadata, Error> {
        let answer = InstanceDiscoveryResponse::parse(response)?;
        if let Some(entry) = answer.metadata_for(self.host()) {
            return Ok(entry.clone());
        }
        let discovery_host = answer
            .tenant_discovery_endpoint
            .host_str()
            .unwrap_or_default();
        if discovery_host.eq_ignore_ascii_case(self.host()) {
            return Ok(InstanceMetadata::single(self.host()));
        }
        Err(Error::configuration(
            "AUTHORITY: instance discovery does not list the authority's host (authority validation failed)",
        ))
    }
}
