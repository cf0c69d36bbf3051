//! Regional token endpoints (ESTS-R) for client credentials: MSAL's `WithAzureRegion`
//! (MSAL.NET `RegionAndMtlsDiscoveryProvider`; Microsoft identity platform "Use regional
//! endpoints": app-only tokens from the Entra service in the app's Azure region).

use alloc::format;
use alloc::string::String;

use url::{Host, Url};

use super::instance_discovery::{known_cloud, PUBLIC_CLOUD_ALIASES};
use super::{EntraAuthority, MicrosoftAuthorityKind};
use crate::error::Error;

/// The host suffix of the public cloud's regional endpoints: `{region}.login.microsoft.com`
/// (MSAL.NET `RegionAndMtlsDiscoveryProvider.PublicEnvForRegional`).
pub(super) const PUBLIC_REGIONAL_HOST: &str = "login.microsoft.com";

/// An Azure region name as the `AZURE_REGION` setting gives it, e.g. `westus2`, `eastus`,
/// `usgovvirginia`: 1–40 ASCII letters and digits, stored lower-cased (Azure region names, as
/// `az account list-locations` prints them, have no other characters). Automatic detection
/// (MSAL's `TryAutoDetect`, which asks the Azure instance metadata service) does not exist at
/// the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region(String);

impl Region {
    /// Parses a region name; surrounding whitespace is ignored.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `setting` for an empty value, any character other than
    /// ASCII letters and digits, more than 40 characters, or `TryAutoDetect`.
    pub fn parse(setting: &str, value: &str) -> Result<Self, Error> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("TryAutoDetect") {
            return Err(Error::configuration(format!(
                "{setting}: automatic region detection needs the Azure instance metadata service, which edge runtimes do not have; give the region name, e.g. westus2"
            )));
        }
        if !(1..=40).contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::configuration(format!(
                "{setting} must be an Azure region name such as westus2 (letters and digits only)"
            )));
        }
        Ok(Self(value.to_ascii_lowercase()))
    }

    /// The region name, lower-cased.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl EntraAuthority {
    /// The regional (ESTS-R) token endpoint in `region`, for client credentials only:
    /// - public cloud hosts (`login.microsoftonline.com`, `login.windows.net`,
    ///   `login.microsoft.com`): `https://{region}.login.microsoft.com/{tenant}/oauth2/v2.0/token`;
    /// - other known clouds: `{region}.` before the cloud's preferred network host, e.g.
    ///   `https://{region}.login.microsoftonline.us/{tenant}/oauth2/v2.0/token` (US Government),
    ///   `https://{region}.login.partner.microsoftonline.cn/…` (China, also for
    ///   `login.chinacloudapi.cn`);
    /// - any other host: `{region}.{host}`; a host already starting with `{region}.` is kept.
    ///
    /// This is MSAL.NET's `RegionAndMtlsDiscoveryProvider.GetRegionalizedEnvironment`. Only the
    /// token endpoint is regional: discovery, authorize and the cache identity stay on the
    /// configured host.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `AZURE_REGION` when the authority is not an Entra ID one
    /// (B2C, External ID and AD FS have no regional endpoints) or its host is an IP address or
    /// `localhost`.
    pub fn regional_token_endpoint(&self, region: &Region) -> Result<Url, Error> {
        if *self.kind() != MicrosoftAuthorityKind::Aad {
            return Err(Error::configuration(
                "AZURE_REGION applies to Microsoft Entra ID authorities only (not B2C, External ID or AD FS)",
            ));
        }
        let mut url = self.token_endpoint().clone();
        let host = match url.host() {
            Some(Host::Domain(host)) if !host.eq_ignore_ascii_case("localhost") => {
                host.to_ascii_lowercase()
            }
            _ => {
                return Err(Error::configuration(
                    "AZURE_REGION needs an authority with a DNS host name (not an IP address or localhost)",
                ))
            }
        };
        let region = region.as_str();
        let regional = if host.starts_with(&format!("{region}.")) {
            host
        } else if PUBLIC_CLOUD_ALIASES.contains(&host.as_str()) {
            format!("{region}.{PUBLIC_REGIONAL_HOST}")
        } else if let Some(cloud) = known_cloud(&host) {
            format!("{region}.{}", cloud.preferred_network)
        } else {
            format!("{region}.{host}")
        };
        url.set_host(Some(&regional)).map_err(|_| {
            Error::configuration("AZURE_REGION does not make a valid regional host name")
        })?;
        Ok(url)
    }
}
