//! Authorities: who issues tokens, and where its endpoints are.
//!
//! Two kinds:
//! - [`EntraAuthority`]: a Microsoft identity platform authority `https://{host}/{tenant}`. Its
//!   v2.0 endpoints are derived without a network call ("Microsoft identity platform and OAuth 2.0
//!   protocols": `{authority}/oauth2/v2.0/token`, `…/authorize`, `{authority}/v2.0/.well-known/
//!   openid-configuration`). Any host is accepted, so national clouds work.
//! - [`Issuer`]: any OpenID Provider / OAuth 2.0 authorization server; its endpoints come from its
//!   discovery document (OIDC Discovery §4, RFC 8414 §3), see [`crate::discovery`].
//!
//! Every URL must be `https`, except on a loopback host (`127.0.0.0/8`, `::1`, `localhost`),
//! where `http` is allowed for local development and tests (RFC 8252 §8.3 reasoning; RFC 9700
//! §2.6 requires TLS elsewhere).

use alloc::format;
use alloc::string::{String, ToString};

use url::{Host, Url};

use crate::error::Error;

/// Microsoft Entra hosts recognised as Entra authorities when no kind is configured: the public
/// cloud, US Government and China (21Vianet) clouds ("National clouds", Microsoft identity
/// platform docs), plus `login.microsoft.com` (regional and CIAM front door).
pub const ENTRA_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.microsoft.com",
    "login.windows.net",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
];

/// Which kind of authority a configured URL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorityKind {
    /// A Microsoft identity platform authority `https://{host}/{tenant}`.
    Entra,
    /// A generic OpenID Connect issuer, resolved through discovery.
    Oidc,
}

/// Where tokens come from: an Entra authority or a generic OIDC issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authority {
    /// Microsoft identity platform (v2.0 endpoints derived locally).
    Entra(EntraAuthority),
    /// Any standards-compliant issuer (endpoints from discovery).
    Oidc(Issuer),
}

impl Authority {
    /// Parses an authority URL. With `kind` `None`, a host in [`ENTRA_HOSTS`] means Entra and
    /// anything else a generic issuer.
    ///
    /// # Errors
    /// [`Error::Configuration`] when the URL is not absolute, not `https` on a non-loopback host,
    /// carries a query or fragment, or (Entra) its path is not exactly one tenant segment.
    pub fn parse(url: &str, kind: Option<AuthorityKind>) -> Result<Self, Error> {
        let parsed = parse_url("AUTHORITY", url)?;
        let kind = kind.unwrap_or_else(|| match parsed.host_str() {
            Some(host) if ENTRA_HOSTS.iter().any(|h| host.eq_ignore_ascii_case(h)) => {
                AuthorityKind::Entra
            }
            _ => AuthorityKind::Oidc,
        });
        match kind {
            AuthorityKind::Entra => EntraAuthority::from_url(&parsed).map(Self::Entra),
            AuthorityKind::Oidc => Issuer::from_parsed(url, &parsed).map(Self::Oidc),
        }
    }

    /// A stable text identifying the authority, used in cache keys: the Entra authority
    /// `https://{host}/{tenant}` (host lower-cased) or the issuer exactly as configured.
    pub fn cache_identity(&self) -> &str {
        match self {
            Self::Entra(entra) => &entra.base,
            Self::Oidc(issuer) => issuer.as_str(),
        }
    }
}

/// A Microsoft identity platform authority, `https://{host}/{tenant}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraAuthority {
    /// `https://{host}/{tenant}` without a trailing slash.
    base: String,
    tenant: String,
    token_endpoint: Url,
    authorization_endpoint: Url,
    discovery_url: Url,
}

impl EntraAuthority {
    /// Parses `https://{host}/{tenant}` (a trailing slash is allowed).
    ///
    /// # Errors
    /// [`Error::Configuration`] as for [`Authority::parse`].
    pub fn parse(url: &str) -> Result<Self, Error> {
        Self::from_url(&parse_url("AUTHORITY", url)?)
    }

    fn from_url(url: &Url) -> Result<Self, Error> {
        let mut segments = url
            .path_segments()
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty());
        let (Some(tenant), None) = (segments.next(), segments.next()) else {
            return Err(Error::configuration(
                "AUTHORITY: an Entra authority is https://{host}/{tenant} with exactly one path segment",
            ));
        };
        let tenant = tenant.to_string();
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let base = format!("{}://{host}{port}/{tenant}", url.scheme());
        let endpoint = |path: &str| {
            Url::parse(&format!("{base}{path}"))
                .map_err(|_| Error::configuration("AUTHORITY: invalid tenant segment"))
        };
        Ok(Self {
            token_endpoint: endpoint("/oauth2/v2.0/token")?,
            authorization_endpoint: endpoint("/oauth2/v2.0/authorize")?,
            discovery_url: endpoint("/v2.0/.well-known/openid-configuration")?,
            base,
            tenant,
        })
    }

    /// The tenant segment: a GUID, a verified domain, or `common` / `organizations` /
    /// `consumers`.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Whether the tenant is one of the multi-tenant aliases `common`, `organizations` or
    /// `consumers`, which name no single tenant. Client credentials and on-behalf-of need a
    /// tenant-specific authority (Microsoft identity platform docs, "client credentials flow").
    pub fn is_tenantless(&self) -> bool {
        ["common", "organizations", "consumers"]
            .iter()
            .any(|t| self.tenant.eq_ignore_ascii_case(t))
    }

    /// `https://{host}/{tenant}`: host lower-cased, no trailing slash.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// `{authority}/oauth2/v2.0/token`.
    pub fn token_endpoint(&self) -> &Url {
        &self.token_endpoint
    }

    /// `{authority}/oauth2/v2.0/authorize`.
    pub fn authorization_endpoint(&self) -> &Url {
        &self.authorization_endpoint
    }

    /// `{authority}/v2.0/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> &Url {
        &self.discovery_url
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
pub fn parse_url(setting: &str, url: &str) -> Result<Url, Error> {
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
pub fn require_secure_url(what: &str, url: &Url) -> Result<(), Error> {
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
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn entra_endpoints_follow_the_v2_layout_on_any_cloud() {
        for (url, token) in [
            ("https://login.microsoftonline.com/contoso.onmicrosoft.com", "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"),
            ("https://login.microsoftonline.us/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/", "https://login.microsoftonline.us/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/oauth2/v2.0/token"),
            ("https://LOGIN.chinacloudapi.cn/contoso.partner.onmschina.cn", "https://login.chinacloudapi.cn/contoso.partner.onmschina.cn/oauth2/v2.0/token"),
        ] {
            let Authority::Entra(entra) = Authority::parse(url, None).unwrap() else { panic!("{url} is Entra") };
            assert_eq!(entra.token_endpoint().as_str(), token);
        }
        let entra = EntraAuthority::parse("https://login.microsoftonline.com/contoso.com").unwrap();
        assert_eq!(
            entra.authorization_endpoint().as_str(),
            "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/authorize"
        );
        assert_eq!(
            entra.discovery_url().as_str(),
            "https://login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration"
        );
        assert_eq!(entra.tenant(), "contoso.com");
        assert!(!entra.is_tenantless());
    }

    #[test]
    fn an_explicit_kind_makes_any_host_an_entra_authority() {
        let authority = Authority::parse(
            "https://login.example.sovcloud/tenant-a",
            Some(AuthorityKind::Entra),
        )
        .unwrap();
        let Authority::Entra(entra) = authority else {
            panic!("Entra")
        };
        assert_eq!(
            entra.token_endpoint().as_str(),
            "https://login.example.sovcloud/tenant-a/oauth2/v2.0/token"
        );
    }

    #[test]
    fn multi_tenant_aliases_are_tenantless() {
        for tenant in ["common", "organizations", "Consumers"] {
            let entra = EntraAuthority::parse(&alloc::format!(
                "https://login.microsoftonline.com/{tenant}"
            ))
            .unwrap();
            assert!(entra.is_tenantless(), "{tenant}");
        }
    }

    #[test]
    fn entra_authority_needs_exactly_one_tenant_segment() {
        for url in [
            "https://login.microsoftonline.com",
            "https://login.microsoftonline.com/a/b",
        ] {
            assert!(
                matches!(Authority::parse(url, None), Err(Error::Configuration(_))),
                "{url}"
            );
        }
    }

    #[test]
    fn issuer_keeps_its_exact_text_and_derives_discovery() {
        let Authority::Oidc(issuer) =
            Authority::parse("https://id.example.com/realms/a/", None).unwrap()
        else {
            panic!("generic issuer")
        };
        assert_eq!(issuer.as_str(), "https://id.example.com/realms/a/");
        assert_eq!(
            issuer.discovery_url().as_str(),
            "https://id.example.com/realms/a/.well-known/openid-configuration"
        );
    }

    #[test]
    fn http_is_refused_except_on_loopback() {
        for ok in [
            "http://127.0.0.1:9400",
            "http://localhost:8080/issuer",
            "http://[::1]:1234",
            "http://127.8.9.1",
        ] {
            assert!(Authority::parse(ok, None).is_ok(), "{ok}");
        }
        for bad in [
            "http://id.example.com",
            "http://127.0.0.1.nip.io",
            "ftp://id.example.com",
            "https://user:pw@id.example.com",
            "https://id.example.com/?a=b",
            "https://id.example.com/#frag",
            "not a url",
        ] {
            let err = Authority::parse(bad, None).unwrap_err();
            assert!(matches!(err, Error::Configuration(_)), "{bad}");
            assert!(!alloc::format!("{err}").contains("pw"), "{bad}");
        }
    }
}
