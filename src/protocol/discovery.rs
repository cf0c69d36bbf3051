//! Provider metadata from a discovery document (OIDC Discovery 1.0 §3–4, RFC 8414 §2–3).

use alloc::string::String;

use serde_json::{Map, Value};
use url::Url;

use crate::error::{Error, ResponseProblem};
use crate::platform::http::{HttpRequest, HttpResponse};
use crate::protocol::authority::{
    require_secure_url, Authority, EntraAuthority, Issuer, MicrosoftAuthorityKind, CIAM_HOST_SUFFIX,
};
use crate::protocol::response::{invalid, json_object};

/// The endpoints edge-token uses, from a validated discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// `issuer`: for an OIDC issuer equal character for character to the configured one; for
    /// Entra the document's own (see [`ProviderMetadata::parse_for`]).
    pub issuer: String,
    /// `token_endpoint` (RFC 8414 §2: required unless only the implicit grant is supported).
    pub token_endpoint: Url,
    /// `authorization_endpoint`.
    pub authorization_endpoint: Option<Url>,
    /// `jwks_uri`: the provider's signing keys.
    pub jwks_uri: Option<Url>,
    /// `end_session_endpoint` (OIDC RP-Initiated Logout §2.1).
    pub end_session_endpoint: Option<Url>,
    /// `authorization_response_iss_parameter_supported` (RFC 9207 §3): the provider sends `iss`
    /// with every authorization response, so a response without it is refused (§2.4).
    pub authorization_response_iss_parameter_supported: bool,
}

impl ProviderMetadata {
    /// The GET request for `issuer`'s discovery document.
    pub fn request(issuer: &Issuer) -> HttpRequest {
        HttpRequest::get_json(issuer.discovery_url().clone())
    }

    /// Parses and validates the discovery response for `issuer`.
    ///
    /// # Errors
    /// [`Error::InvalidResponse`] for a non-200 status, a body that is not a JSON object, an
    /// `issuer` that differs from `issuer` ([`ResponseProblem::IssuerMismatch`], OIDC Discovery
    /// §4.3), or a missing / non-URL `token_endpoint`; [`Error::Configuration`] when an endpoint
    /// is plain `http` on a non-loopback host.
    pub fn parse(issuer: &Issuer, response: &HttpResponse) -> Result<Self, Error> {
        Self::parse_document(response, |found| found == issuer.as_str())
    }

    /// Parses the discovery response of `authority`'s kind: for an OIDC issuer as
    /// [`ProviderMetadata::parse`]; for a Microsoft authority the document's own `issuer` is kept
    /// (Entra names the tenant by GUID, or `{tenantid}` for the multi-tenant aliases, where the
    /// configured authority may name it by domain), provided it belongs to the authority (see
    /// `microsoft_issuer_matches`).
    ///
    /// # Errors
    /// As [`ProviderMetadata::parse`].
    pub fn parse_for(authority: &Authority, response: &HttpResponse) -> Result<Self, Error> {
        match authority {
            Authority::Oidc(issuer) => Self::parse(issuer, response),
            Authority::Entra(entra) => {
                Self::parse_document(response, |found| microsoft_issuer_matches(entra, found))
            }
        }
    }

    fn parse_document(
        response: &HttpResponse,
        issuer_matches: impl Fn(&str) -> bool,
    ) -> Result<Self, Error> {
        if response.status != 200 {
            return Err(invalid(response.status, ResponseProblem::UnexpectedStatus));
        }
        let document = json_object(response)?;
        let issuer = match document.get("issuer") {
            Some(Value::String(found)) if issuer_matches(found) => found.clone(),
            Some(Value::String(_)) => {
                return Err(invalid(response.status, ResponseProblem::IssuerMismatch))
            }
            _ => {
                return Err(invalid(
                    response.status,
                    ResponseProblem::MissingField("issuer"),
                ))
            }
        };
        let token_endpoint =
            endpoint(&document, "token_endpoint", response.status)?.ok_or_else(|| {
                invalid(
                    response.status,
                    ResponseProblem::MissingField("token_endpoint"),
                )
            })?;
        Ok(Self {
            issuer,
            token_endpoint,
            authorization_endpoint: endpoint(&document, "authorization_endpoint", response.status)?,
            jwks_uri: endpoint(&document, "jwks_uri", response.status)?,
            end_session_endpoint: endpoint(&document, "end_session_endpoint", response.status)?,
            authorization_response_iss_parameter_supported: document
                .get("authorization_response_iss_parameter_supported")
                == Some(&Value::Bool(true)),
        })
    }
}

/// Whether `issuer`, from a Microsoft authority's discovery document, belongs to `authority`.
/// It must use the authority's scheme and:
/// - Entra ID and B2C: be on the authority's host (Entra `https://{host}/{tenant-id}/v2.0` or
///   `https://{host}/{tenantid}/v2.0`; B2C `https://{host}/{tenant-id}/v2.0/` or
///   `https://{host}/tfp/{tenant-id}/{policy}/v2.0/`, custom domains included: Azure AD B2C
///   "token compatibility settings");
/// - External ID: be on the authority's host, or be `https://{tenant-id}.ciamlogin.com/
///   {tenant-id}/v2.0`, the issuer external tenants publish whatever host the authority uses
///   (Microsoft identity platform docs, external tenants: "OpenID Connect metadata");
/// - AD FS: be `https://{host}/adfs` (AD FS "OpenID Connect discovery").
pub(crate) fn microsoft_issuer_matches(authority: &EntraAuthority, issuer: &str) -> bool {
    let Ok(url) = Url::parse(issuer) else {
        return false;
    };
    let authority_scheme = authority.token_endpoint().scheme();
    if url.scheme() != authority_scheme || url.query().is_some() || url.fragment().is_some() {
        return false;
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let same_host = host == authority.host() && url.port() == authority.token_endpoint().port();
    match authority.kind() {
        MicrosoftAuthorityKind::Adfs => {
            same_host
                && url
                    .path()
                    .trim_end_matches('/')
                    .eq_ignore_ascii_case("/adfs")
        }
        MicrosoftAuthorityKind::Ciam => {
            let tenant_host = host.strip_suffix(CIAM_HOST_SUFFIX).is_some_and(|label| {
                url.path_segments()
                    .and_then(|mut segments| segments.next())
                    .is_some_and(|tenant| tenant.eq_ignore_ascii_case(label))
            });
            same_host || tenant_host
        }
        _ => same_host,
    }
}

fn endpoint(
    document: &Map<String, Value>,
    field: &'static str,
    status: u16,
) -> Result<Option<Url>, Error> {
    let Some(value) = document.get(field) else {
        return Ok(None);
    };
    let text = value.as_str().ok_or_else(|| {
        invalid(
            status,
            ResponseProblem::InvalidField {
                field,
                reason: "is not a string",
            },
        )
    })?;
    let url = Url::parse(text).map_err(|_| {
        invalid(
            status,
            ResponseProblem::InvalidField {
                field,
                reason: "is not an absolute URL",
            },
        )
    })?;
    require_secure_url(field, &url)?;
    Ok(Some(url))
}

#[cfg(test)]
mod tests;
