//! Microsoft authorities: Entra ID, Azure AD B2C, Entra External ID (CIAM) and AD FS, with
//! their endpoints derived from the configured URL (MSAL.NET `AuthorityInfo`, `AadAuthority`,
//! `B2CAuthority`, `CiamAuthority`, `AdfsAuthority`).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use url::Url;

use super::{AuthorityKind, CIAM_HOST_SUFFIX};
use crate::error::Error;

/// Hosts of closed Microsoft clouds, refused with a configuration error:
/// `login.microsoftonline.de` (Microsoft Cloud Germany, closed on 29 October 2021: "National
/// clouds", Microsoft identity platform docs).
pub(crate) const RETIRED_HOSTS: &[&str] = &["login.microsoftonline.de"];

/// Which Microsoft authority layout applies (MSAL's `AuthorityType`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MicrosoftAuthorityKind {
    /// Microsoft Entra ID (workforce tenants, any cloud): `https://{host}/{tenant}`.
    Aad,
    /// Azure AD B2C: `https://{host}/{tenant}/{policy}` (or `…/tfp/{tenant}/{policy}`).
    B2c {
        /// The user flow or custom policy, e.g. `B2C_1_signupsignin1`.
        policy: String,
    },
    /// Microsoft Entra External ID for customers (CIAM): `https://{host}/{tenant}`.
    Ciam,
    /// Active Directory Federation Services: `https://{host}/adfs`.
    Adfs,
}

/// A Microsoft authority: Entra ID `https://{host}/{tenant}`, Azure AD B2C, Entra External ID or
/// AD FS (see [`EntraAuthority::kind`] and the table in [`crate::protocol::authority`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraAuthority {
    /// `{scheme}://{host}[:port]/{path}` without a trailing slash, host lower-cased.
    base: String,
    tenant: String,
    kind: MicrosoftAuthorityKind,
    /// Boxed: an [`super::Authority`] stays small next to a generic issuer.
    endpoints: Box<Endpoints>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoints {
    token: Url,
    authorization: Url,
    discovery: Url,
}

impl Endpoints {
    fn new(
        base: &str,
        token: &str,
        authorization: &str,
        discovery: &str,
    ) -> Result<Box<Self>, Error> {
        Ok(Box::new(Self {
            token: endpoint(base, token)?,
            authorization: endpoint(base, authorization)?,
            discovery: endpoint(base, discovery)?,
        }))
    }
}

impl EntraAuthority {
    /// Parses an Entra ID authority `https://{host}/{tenant}` (a trailing slash is allowed).
    ///
    /// # Errors
    /// [`Error::Configuration`] as for [`super::Authority::parse`].
    pub fn parse(url: &str) -> Result<Self, Error> {
        Self::from_url(&super::parse_url("AUTHORITY", url)?, AuthorityKind::Entra)
    }

    /// Parses a Microsoft authority of `kind` ([`AuthorityKind::Oidc`] is read as Entra ID).
    ///
    /// # Errors
    /// [`Error::Configuration`] as for [`super::Authority::parse`].
    pub fn parse_kind(url: &str, kind: AuthorityKind) -> Result<Self, Error> {
        Self::from_url(&super::parse_url("AUTHORITY", url)?, kind)
    }

    pub(super) fn from_url(url: &Url, kind: AuthorityKind) -> Result<Self, Error> {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if RETIRED_HOSTS.contains(&host.as_str()) {
            return Err(Error::configuration(
                "AUTHORITY: login.microsoftonline.de (Microsoft Cloud Germany) closed on 29 October 2021; use the global cloud, https://login.microsoftonline.com/{tenant}",
            ));
        }
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let origin = format!("{}://{host}{port}", url.scheme());
        let segments: Vec<&str> = url
            .path_segments()
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        match kind {
            AuthorityKind::B2c => Self::b2c(&origin, &segments),
            AuthorityKind::Ciam => Self::ciam(&origin, &host, &segments),
            AuthorityKind::Adfs => Self::adfs(&origin, &segments),
            _ => Self::aad(&origin, &segments),
        }
    }

    fn aad(origin: &str, segments: &[&str]) -> Result<Self, Error> {
        let [tenant] = segments else {
            return Err(Error::configuration(
                "AUTHORITY: an Entra authority is https://{host}/{tenant} with exactly one path segment (Azure AD B2C: AUTHORITY_KIND=b2c)",
            ));
        };
        let base = format!("{origin}/{tenant}");
        Self::v2(base, tenant.to_string(), MicrosoftAuthorityKind::Aad)
    }

    fn b2c(origin: &str, segments: &[&str]) -> Result<Self, Error> {
        let (prefix, rest) = match segments {
            [first, rest @ ..] if first.eq_ignore_ascii_case("tfp") => ("/tfp", rest),
            _ => ("", segments),
        };
        let [tenant, policy] = rest else {
            return Err(Error::configuration(
                "AUTHORITY: an Azure AD B2C authority is https://{tenant}.b2clogin.com/{tenant}.onmicrosoft.com/{policy}: a tenant and a policy (user flow) segment, nothing more",
            ));
        };
        let base = format!("{origin}{prefix}/{tenant}/{policy}");
        let kind = MicrosoftAuthorityKind::B2c {
            policy: policy.to_string(),
        };
        Self::v2(base, tenant.to_string(), kind)
    }

    fn ciam(origin: &str, host: &str, segments: &[&str]) -> Result<Self, Error> {
        let tenant = match segments {
            [tenant] => tenant.to_string(),
            // MSAL.NET `CiamAuthority.TransformAuthority`: https://{tenant}.ciamlogin.com/ is
            // https://{tenant}.ciamlogin.com/{tenant}.onmicrosoft.com.
            [] => match host.strip_suffix(CIAM_HOST_SUFFIX) {
                Some(label) if is_dns_label(label) => format!("{label}.onmicrosoft.com"),
                _ => {
                    return Err(Error::configuration(
                        "AUTHORITY: an External ID authority without a tenant segment must be https://{tenant}.ciamlogin.com/ (one label before ciamlogin.com); otherwise give the tenant: https://{host}/{tenant}",
                    ))
                }
            },
            _ => {
                return Err(Error::configuration(
                    "AUTHORITY: an External ID authority is https://{tenant}.ciamlogin.com/{tenant}.onmicrosoft.com with at most one path segment",
                ))
            }
        };
        let base = format!("{origin}/{tenant}");
        Self::v2(base, tenant, MicrosoftAuthorityKind::Ciam)
    }

    fn adfs(origin: &str, segments: &[&str]) -> Result<Self, Error> {
        if !matches!(segments, [adfs] if adfs.eq_ignore_ascii_case("adfs")) {
            return Err(Error::configuration(
                "AUTHORITY: an AD FS authority is https://{host}/adfs with no further path",
            ));
        }
        let base = format!("{origin}/adfs");
        Ok(Self {
            endpoints: Endpoints::new(
                &base,
                "/oauth2/token",
                "/oauth2/authorize",
                "/.well-known/openid-configuration",
            )?,
            base,
            tenant: "adfs".to_string(),
            kind: MicrosoftAuthorityKind::Adfs,
        })
    }

    /// The v2.0 layout shared by Entra ID, B2C and External ID.
    fn v2(base: String, tenant: String, kind: MicrosoftAuthorityKind) -> Result<Self, Error> {
        Ok(Self {
            endpoints: Endpoints::new(
                &base,
                "/oauth2/v2.0/token",
                "/oauth2/v2.0/authorize",
                "/v2.0/.well-known/openid-configuration",
            )?,
            base,
            tenant,
            kind,
        })
    }

    /// The same Entra ID authority for one given tenant (MSAL's `WithTenantId`):
    /// `{scheme}://{host}/{tenant}`, for a multi-tenant app acting in a customer's tenant. The
    /// tenant is lower-cased (GUIDs and domain names compare case-insensitively), so one
    /// tenant has one cache partition.
    ///
    /// # Errors
    /// [`Error::Configuration`] unless this is an Entra ID authority and `tenant` a tenant id
    /// (GUID) or verified domain name ([`is_tenant_id`]): the aliases `common`,
    /// `organizations` and `consumers` name no tenant.
    pub fn with_tenant(&self, tenant: &str) -> Result<Self, Error> {
        if self.kind != MicrosoftAuthorityKind::Aad {
            return Err(Error::configuration(
                "per-tenant tokens need an Entra ID authority (https://{host}/{tenant})",
            ));
        }
        if !is_tenant_id(tenant) {
            return Err(Error::configuration(
                "a tenant is a tenant id (GUID) or a verified domain name",
            ));
        }
        let origin = self
            .instance()
            .ok_or_else(|| Error::configuration("AUTHORITY: no tenant segment"))?;
        Self::aad(origin, &[tenant.to_ascii_lowercase().as_str()])
    }

    /// The instance of an Entra ID authority: `{scheme}://{host}[:port]`, the authority without
    /// its tenant (where the v2 admin consent endpoint `{instance}/{tenant}/v2.0/adminconsent`
    /// lives); `None` for other kinds.
    pub fn instance(&self) -> Option<&str> {
        if self.kind != MicrosoftAuthorityKind::Aad {
            return None;
        }
        self.base
            .strip_suffix(self.tenant.as_str())
            .and_then(|rest| rest.strip_suffix('/'))
    }

    /// Which Microsoft authority this is (MSAL's `AuthorityType`).
    pub fn kind(&self) -> &MicrosoftAuthorityKind {
        &self.kind
    }

    /// The tenant segment: a GUID, a verified domain, or `common` / `organizations` /
    /// `consumers` (Entra ID); the tenant domain (B2C, External ID); `adfs` for AD FS, which
    /// has no tenants.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The host, lower-cased.
    pub fn host(&self) -> &str {
        self.endpoints.token.host_str().unwrap_or_default()
    }

    /// Whether the tenant is one of the multi-tenant aliases `common`, `organizations` or
    /// `consumers`, which name no single tenant. Client credentials and on-behalf-of need a
    /// tenant-specific authority (Microsoft identity platform docs, "client credentials flow").
    /// Never true for B2C or AD FS.
    pub fn is_tenantless(&self) -> bool {
        matches!(
            self.kind,
            MicrosoftAuthorityKind::Aad | MicrosoftAuthorityKind::Ciam
        ) && ["common", "organizations", "consumers"]
            .iter()
            .any(|t| self.tenant.eq_ignore_ascii_case(t))
    }

    /// The authority, host lower-cased, no trailing slash: `https://{host}/{tenant}` (Entra ID,
    /// External ID), `https://{host}[/tfp]/{tenant}/{policy}` (B2C), `https://{host}/adfs`.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// `{authority}/oauth2/v2.0/token` (AD FS: `{authority}/oauth2/token`).
    pub fn token_endpoint(&self) -> &Url {
        &self.endpoints.token
    }

    /// `{authority}/oauth2/v2.0/authorize` (AD FS: `{authority}/oauth2/authorize`).
    pub fn authorization_endpoint(&self) -> &Url {
        &self.endpoints.authorization
    }

    /// `{authority}/v2.0/.well-known/openid-configuration` (AD FS:
    /// `{authority}/.well-known/openid-configuration`).
    pub fn discovery_url(&self) -> &Url {
        &self.endpoints.discovery
    }
}

fn endpoint(base: &str, path: &str) -> Result<Url, Error> {
    Url::parse(&format!("{base}{path}"))
        .map_err(|_| Error::configuration("AUTHORITY: invalid path segment"))
}

/// Whether `text` names one Entra tenant: a tenant id (a GUID, `8-4-4-4-12` hex digits) or a
/// verified domain name (two or more DNS labels, at most 253 characters), and not one of the
/// multi-tenant aliases (`common`, `organizations`, `consumers`), which are single labels.
///
/// ```
/// use edge_token::protocol::is_tenant_id;
/// assert!(is_tenant_id("72f988bf-86f1-41af-91ab-2d7cd011db47"));
/// assert!(is_tenant_id("contoso.onmicrosoft.com"));
/// assert!(!is_tenant_id("organizations"));
/// assert!(!is_tenant_id("../contoso"));
/// ```
pub fn is_tenant_id(text: &str) -> bool {
    let guid = text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    let domain = text.len() <= 253
        && text.split('.').count() >= 2
        && text.split('.').all(is_dns_label)
        && !text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    guid || domain
}

/// A DNS label as Entra tenant names use it: 1–63 ASCII letters, digits or hyphens, not starting
/// or ending with a hyphen.
pub(super) fn is_dns_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}
