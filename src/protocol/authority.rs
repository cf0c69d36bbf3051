//! Authorities: who issues tokens, and where its endpoints are.
//!
//! Two kinds of [`Authority`]:
//! - [`EntraAuthority`]: a Microsoft authority whose endpoints are derived without a network
//!   call. Its [`MicrosoftAuthorityKind`] (MSAL's `AuthorityType`) says which layout applies:
//!
//!   | kind | configured as | token endpoint | discovery document |
//!   |---|---|---|---|
//!   | Entra ID (`Aad`) | `https://{host}/{tenant}` | `{authority}/oauth2/v2.0/token` | `{authority}/v2.0/.well-known/openid-configuration` |
//!   | Azure AD B2C | `https://{tenant}.b2clogin.com/{tenant}.onmicrosoft.com/{policy}` | `{authority}/oauth2/v2.0/token` | `{authority}/v2.0/.well-known/openid-configuration` |
//!   | External ID (CIAM) | `https://{tenant}.ciamlogin.com/[{tenant}.onmicrosoft.com]` | `{authority}/oauth2/v2.0/token` | `{authority}/v2.0/.well-known/openid-configuration` |
//!   | AD FS | `https://{host}/adfs` | `{authority}/oauth2/token` | `{authority}/.well-known/openid-configuration` |
//!
//!   The authorize endpoint is the token endpoint with `authorize` for `token`. Sources:
//!   "Microsoft identity platform and OAuth 2.0 protocols", "National clouds", Azure AD B2C
//!   "Set redirect URLs to b2clogin.com", External ID "OpenID Connect on the Microsoft identity
//!   platform" (external tenants), AD FS "OpenID Connect/OAuth flows and application scenarios",
//!   and MSAL.NET's `AuthorityInfo`, `B2CAuthority`, `CiamAuthority`, `AdfsAuthority`.
//! - [`Issuer`]: any OpenID Provider / OAuth 2.0 authorization server; its endpoints come from its
//!   discovery document (OIDC Discovery §4, RFC 8414 §3), see [`crate::protocol::discovery`].
//!
//! Entra ID authorities also offer regional token endpoints ([`Region`],
//! [`EntraAuthority::regional_token_endpoint`]) and authority validation through instance
//! discovery ([`EntraAuthority::instance_discovery_request`]).
//!
//! Every URL must be `https`, except on a loopback host (`127.0.0.0/8`, `::1`, `localhost`),
//! where `http` is allowed for local development and tests (RFC 8252 §8.3 reasoning; RFC 9700
//! §2.6 requires TLS elsewhere).

use alloc::format;
use alloc::string::{String, ToString};

use url::{Host, Url};

use crate::error::Error;

mod instance_discovery;
#[cfg(test)]
use instance_discovery::{InstanceDiscoveryResponse, InstanceMetadata};
mod microsoft;
mod region;

pub use microsoft::is_tenant_id;
pub(crate) use microsoft::{EntraAuthority, MicrosoftAuthorityKind, RETIRED_HOSTS};
pub use region::Region;

/// Microsoft Entra hosts recognised as Entra ID authorities when no kind is configured: the
/// public cloud and its aliases, US Government (`login.microsoftonline.us`, alias
/// `login.usgovcloudapi.net`), China operated by 21Vianet (`login.partner.microsoftonline.cn`,
/// alias `login.chinacloudapi.cn`), plus the hosts MSAL.NET's `KnownMetadataProvider` lists
/// (`login-us.microsoftonline.com` and the `login.sovcloud-identity.*` sovereign clouds).
/// `login.microsoftonline.de` (Microsoft Cloud Germany) closed on 29 October 2021 and is refused:
/// see [`RETIRED_HOSTS`].
pub(crate) const ENTRA_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.microsoft.com",
    "login.windows.net",
    "login.microsoftonline.us",
    "login.usgovcloudapi.net",
    "login-us.microsoftonline.com",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
    "login.sovcloud-identity.fr",
    "login.sovcloud-identity.de",
    "login.sovcloud-identity.sg",
];

/// Host suffixes of Azure AD B2C (`{tenant}.b2clogin.com`; `b2clogin.cn` in the cloud operated
/// by 21Vianet). B2C custom domains need `AUTHORITY_KIND=b2c`.
pub(crate) const B2C_HOST_SUFFIXES: &[&str] = &[".b2clogin.com", ".b2clogin.cn"];

/// Host suffix of Microsoft Entra External ID (CIAM): `{tenant}.ciamlogin.com`. Custom URL
/// domains need `AUTHORITY_KIND=ciam`.
pub(crate) const CIAM_HOST_SUFFIX: &str = ".ciamlogin.com";

/// Which kind of authority a configured URL is (the `AUTHORITY_KIND` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorityKind {
    /// `entra`: a Microsoft Entra ID authority `https://{host}/{tenant}`.
    Entra,
    /// `b2c`: an Azure AD B2C authority `https://{host}/{tenant}/{policy}`.
    B2c,
    /// `ciam`: a Microsoft Entra External ID authority `https://{host}/{tenant}`, or
    /// `https://{tenant}.ciamlogin.com/`.
    Ciam,
    /// `adfs`: an AD FS authority `https://{host}/adfs`.
    Adfs,
    /// `oidc`: a generic OpenID Connect issuer, resolved through discovery.
    Oidc,
}

impl AuthorityKind {
    /// Parses `entra`, `b2c`, `ciam`, `adfs` or `oidc`.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `setting` for any other value (never echoing it).
    pub fn parse(setting: &str, value: &str) -> Result<Self, Error> {
        match value.trim() {
            "entra" => Ok(Self::Entra),
            "b2c" => Ok(Self::B2c),
            "ciam" => Ok(Self::Ciam),
            "adfs" => Ok(Self::Adfs),
            "oidc" => Ok(Self::Oidc),
            _ => Err(Error::configuration(format!(
                "{setting} must be entra, b2c, ciam, adfs or oidc"
            ))),
        }
    }

    /// The kind a URL has when none is configured, as MSAL.NET's `AuthorityInfo` guesses it:
    /// a `*.b2clogin.com` / `*.b2clogin.cn` host or a first path segment `tfp` is B2C, a
    /// `*.ciamlogin.com` host External ID, a first path segment `adfs` AD FS, a host in
    /// `ENTRA_HOSTS` Entra ID, anything else a generic OIDC issuer.
    pub fn infer(url: &Url) -> Self {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let first_segment = url
            .path_segments()
            .into_iter()
            .flatten()
            .find(|segment| !segment.is_empty())
            .unwrap_or_default();
        if B2C_HOST_SUFFIXES
            .iter()
            .any(|suffix| host.ends_with(suffix))
            || first_segment.eq_ignore_ascii_case("tfp")
        {
            Self::B2c
        } else if host.ends_with(CIAM_HOST_SUFFIX) {
            Self::Ciam
        } else if first_segment.eq_ignore_ascii_case("adfs") {
            Self::Adfs
        } else if ENTRA_HOSTS.contains(&host.as_str()) || RETIRED_HOSTS.contains(&host.as_str()) {
            Self::Entra
        } else {
            Self::Oidc
        }
    }
}

/// Where tokens come from: a Microsoft authority (Entra ID, B2C, External ID, AD FS) or a
/// generic OIDC issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authority {
    /// A Microsoft authority, endpoints derived locally; see `EntraAuthority::kind`.
    Entra(EntraAuthority),
    /// Any standards-compliant issuer (endpoints from discovery).
    Oidc(Issuer),
}

impl Authority {
    /// Parses an authority URL. With `kind` `None` the kind is inferred from the URL
    /// ([`AuthorityKind::infer`]).
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `AUTHORITY` when the URL is not absolute, not `https` on a
    /// non-loopback host, carries user info, a query or a fragment, names a retired cloud
    /// (`RETIRED_HOSTS`), or its path does not fit the kind: Entra ID exactly one tenant
    /// segment, B2C a tenant and a policy (optionally after `tfp`), External ID at most one
    /// tenant segment (none only on a `{tenant}.ciamlogin.com` host), AD FS exactly `/adfs`.
    pub fn parse(url: &str, kind: Option<AuthorityKind>) -> Result<Self, Error> {
        let parsed = parse_url("AUTHORITY", url)?;
        match kind.unwrap_or_else(|| AuthorityKind::infer(&parsed)) {
            AuthorityKind::Oidc => Issuer::from_parsed(url, &parsed).map(Self::Oidc),
            microsoft => EntraAuthority::from_url(&parsed, microsoft).map(Self::Entra),
        }
    }

    /// A stable text identifying the authority, used in cache keys: the Microsoft authority
    /// (`EntraAuthority::as_str`) or the issuer exactly as configured.
    pub fn cache_identity(&self) -> &str {
        match self {
            Self::Entra(entra) => entra.as_str(),
            Self::Oidc(issuer) => issuer.as_str(),
        }
    }

    /// The Microsoft authority kind, `None` for a generic issuer.
    pub fn microsoft_kind(&self) -> Option<&MicrosoftAuthorityKind> {
        match self {
            Self::Entra(entra) => Some(entra.kind()),
            Self::Oidc(_) => None,
        }
    }

    /// Whether requests to this authority ask for `client_info` (`client_info=1`): Entra ID,
    /// B2C and External ID do; AD FS and generic issuers do not (MSAL.NET
    /// `AuthorityInfo.IsClientInfoSupported`).
    pub fn supports_client_info(&self) -> bool {
        matches!(self, Self::Entra(entra) if !matches!(entra.kind(), MicrosoftAuthorityKind::Adfs))
    }

    /// The instance of an Entra ID authority, `{scheme}://{host}[:port]`
    /// (`EntraAuthority::instance`); `None` for other authorities.
    pub fn entra_instance(&self) -> Option<&str> {
        match self {
            Self::Entra(entra) => entra.instance(),
            Self::Oidc(_) => None,
        }
    }

    /// This authority for one given tenant (`EntraAuthority::with_tenant`; MSAL's
    /// `WithTenantId`): how a multi-tenant Entra app acts in a customer's tenant.
    ///
    /// # Errors
    /// [`Error::Configuration`] for a generic issuer or a Microsoft authority other than Entra
    /// ID, and for a `tenant` that is not a tenant id or verified domain.
    pub fn for_tenant(&self, tenant: &str) -> Result<Self, Error> {
        match self {
            Self::Entra(entra) => Ok(Self::Entra(entra.with_tenant(tenant)?)),
            Self::Oidc(_) => Err(Error::configuration(
                "per-tenant tokens need an Entra ID authority (AUTHORITY_KIND=entra)",
            )),
        }
    }

    /// Whether app-only (client credentials) requests must ask for exactly one
    /// `{resource}/.default` scope ([`crate::protocol::scope::Scopes::require_app_only`]): on
    /// the Microsoft identity platform (Entra ID, B2C, External ID), not AD FS or generic
    /// issuers, whose scopes are free.
    pub fn requires_default_scope(&self) -> bool {
        self.supports_client_info()
    }

    /// Whether a certificate's client assertion must be `RS256` with an `x5t` (SHA-1)
    /// thumbprint: AD FS accepts no `PS256` / `x5t#S256` assertion (MSAL.NET
    /// `AuthorityInfo.IsSha2CredentialSupported` is false for AD FS; MSAL also uses RS256 for
    /// generic authorities, which edge-token leaves to `CLIENT_ASSERTION_ALG`).
    pub fn requires_rs256_assertion(&self) -> bool {
        matches!(self.microsoft_kind(), Some(MicrosoftAuthorityKind::Adfs))
    }

    /// The regional (ESTS-R) token endpoint in `region`: see
    /// `EntraAuthority::regional_token_endpoint`.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `AZURE_REGION` for a generic issuer, and as
    /// `EntraAuthority::regional_token_endpoint`.
    pub fn regional_token_endpoint(&self, region: &Region) -> Result<Url, Error> {
        match self {
            Self::Entra(entra) => entra.regional_token_endpoint(region),
            Self::Oidc(_) => Err(Error::configuration(
                "AZURE_REGION applies to Microsoft Entra ID authorities only, not to a generic OIDC issuer",
            )),
        }
    }
}

/// A generic issuer identifier (OIDC Core §2 `iss`, RFC 8414 §2 `issuer`): compared exactly,
/// character for character, with the discovery document's `issuer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// Exactly as configured: issuers are compared as strings, not as normalised URLs.
    issuer: String,
    discovery_url: Url,
}

impl Issuer {
    /// Parses an issuer URL, keeping the configured text exactly (trailing slash included).
    ///
    /// # Errors
    /// [`Error::Configuration`] as for [`Authority::parse`].
    pub fn parse(url: &str) -> Result<Self, Error> {
        Self::from_parsed(url, &parse_url("AUTHORITY", url)?)
    }

    fn from_parsed(text: &str, parsed: &Url) -> Result<Self, Error> {
        let base = parsed.as_str().trim_end_matches('/');
        let discovery_url = Url::parse(&format!("{base}/.well-known/openid-configuration"))
            .map_err(|_| Error::configuration("AUTHORITY: cannot derive the discovery URL"))?;
        Ok(Self {
            issuer: text.to_string(),
            discovery_url,
        })
    }

    /// The issuer exactly as configured.
    pub fn as_str(&self) -> &str {
        &self.issuer
    }

    /// `{issuer}/.well-known/openid-configuration`, any trailing `/` of the issuer removed first
    /// (OIDC Discovery §4).
    pub fn discovery_url(&self) -> &Url {
        &self.discovery_url
    }
}

/// Parses `url` and checks the transport rule: `https`, or `http` on a loopback host only; no
/// query, fragment or user info. `setting` names the configuration setting in errors.
///
/// # Errors
/// [`Error::Configuration`] naming `setting` (never echoing the URL, which may be secret-bearing
/// in odd configurations).
pub(crate) fn parse_url(setting: &str, url: &str) -> Result<Url, Error> {
    let parsed = Url::parse(url)
        .map_err(|_| Error::configuration(format!("{setting} is not an absolute URL")))?;
    require_secure_url(setting, &parsed)?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::configuration(format!(
            "{setting} must not have a query or fragment"
        )));
    }
    Ok(parsed)
}

/// Checks that `url` is `https`, or `http` on a loopback host, without user info.
///
/// # Errors
/// [`Error::Configuration`] naming `what`.
pub(crate) fn require_secure_url(what: &str, url: &Url) -> Result<(), Error> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::configuration(format!(
            "{what} must not contain user info"
        )));
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(Error::configuration(format!(
            "{what} must use https (http is allowed on loopback hosts only)"
        ))),
        _ => Err(Error::configuration(format!("{what} must be an https URL"))),
    }
}

/// Whether the URL's host is `localhost`, an IPv4 loopback address (`127.0.0.0/8`) or `::1`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests;
