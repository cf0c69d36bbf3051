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
mod tests {
    use super::*;
    use alloc::vec::Vec;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn parses_the_endpoints_of_a_matching_document() {
        let issuer = Issuer::parse("http://127.0.0.1:9400").unwrap();
        assert_eq!(
            ProviderMetadata::request(&issuer).url.as_str(),
            "http://127.0.0.1:9400/.well-known/openid-configuration"
        );
        let metadata = ProviderMetadata::parse(
            &issuer,
            &response(200, r#"{"issuer":"http://127.0.0.1:9400","token_endpoint":"http://127.0.0.1:9400/token","jwks_uri":"http://127.0.0.1:9400/jwks"}"#),
        )
        .unwrap();
        assert_eq!(
            metadata.token_endpoint.as_str(),
            "http://127.0.0.1:9400/token"
        );
        assert_eq!(
            metadata.jwks_uri.unwrap().as_str(),
            "http://127.0.0.1:9400/jwks"
        );
        assert!(metadata.authorization_endpoint.is_none());
    }

    #[test]
    fn issuer_must_match_exactly() {
        let issuer = Issuer::parse("https://id.example.com").unwrap();
        for other in [
            "https://id.example.com/",
            "https://ID.example.com",
            "https://evil.example.com",
        ] {
            let body = alloc::format!(
                r#"{{"issuer":"{other}","token_endpoint":"https://id.example.com/token"}}"#
            );
            let err = ProviderMetadata::parse(&issuer, &response(200, &body)).unwrap_err();
            assert!(
                matches!(err, Error::InvalidResponse(ref r) if r.problem == ResponseProblem::IssuerMismatch),
                "{other}"
            );
        }
    }

    #[test]
    fn entra_documents_keep_their_issuer_on_the_authority_host() {
        let authority = Authority::parse(
            "https://login.microsoftonline.com/contoso.onmicrosoft.com",
            None,
        )
        .unwrap();
        let doc = |issuer: &str| {
            alloc::format!(
                r#"{{"issuer":"{issuer}","token_endpoint":"https://login.microsoftonline.com/t/oauth2/v2.0/token","end_session_endpoint":"https://login.microsoftonline.com/t/oauth2/v2.0/logout"}}"#
            )
        };
        let guid = "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0";
        let metadata = ProviderMetadata::parse_for(&authority, &response(200, &doc(guid))).unwrap();
        assert_eq!(metadata.issuer, guid);
        assert!(metadata.end_session_endpoint.is_some());
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert!(ProviderMetadata::parse_for(&authority, &response(200, &doc(template))).is_ok());
        for foreign in [
            "https://evil.test/tid/v2.0",
            "http://login.microsoftonline.com/t/v2.0",
            "not a url",
        ] {
            assert!(
                ProviderMetadata::parse_for(&authority, &response(200, &doc(foreign))).is_err(),
                "{foreign}"
            );
        }
    }

    fn microsoft_doc(issuer: &str) -> alloc::string::String {
        alloc::format!(
            r#"{{"issuer":"{issuer}","token_endpoint":"https://login.example/t/oauth2/v2.0/token"}}"#
        )
    }

    fn accepts(authority: &str, kind: Option<crate::AuthorityKind>, issuer: &str) -> bool {
        let authority = Authority::parse(authority, kind).unwrap();
        match ProviderMetadata::parse_for(&authority, &response(200, &microsoft_doc(issuer))) {
            Ok(metadata) => {
                assert_eq!(metadata.issuer, issuer);
                true
            }
            Err(err) => {
                assert!(
                    matches!(err, Error::InvalidResponse(ref r) if r.problem == ResponseProblem::IssuerMismatch),
                    "{issuer}: {err:?}"
                );
                false
            }
        }
    }

    #[test]
    fn b2c_documents_keep_their_tenant_id_issuer_on_the_authority_host() {
        let authority =
            "https://contosob2c.b2clogin.com/contosob2c.onmicrosoft.com/B2C_1_signupsignin1";
        for issuer in [
            "https://contosob2c.b2clogin.com/775527ff-9a37-4307-8b3d-cc311f58d925/v2.0/",
            "https://contosob2c.b2clogin.com/tfp/775527ff-9a37-4307-8b3d-cc311f58d925/B2C_1_signupsignin1/v2.0/",
        ] {
            assert!(accepts(authority, None, issuer), "{issuer}");
        }
        for issuer in [
            "https://login.microsoftonline.com/775527ff-9a37-4307-8b3d-cc311f58d925/v2.0/",
            "https://fabrikamb2c.b2clogin.com/775527ff-9a37-4307-8b3d-cc311f58d925/v2.0/",
            "http://contosob2c.b2clogin.com/775527ff-9a37-4307-8b3d-cc311f58d925/v2.0/",
        ] {
            assert!(!accepts(authority, None, issuer), "{issuer}");
        }
        let custom = "https://login.contoso.com/contosob2c.onmicrosoft.com/B2C_1A_signin";
        assert!(accepts(
            custom,
            Some(crate::AuthorityKind::B2c),
            "https://login.contoso.com/775527ff-9a37-4307-8b3d-cc311f58d925/v2.0/"
        ));
    }

    #[test]
    fn ciam_documents_name_the_tenant_by_id_on_its_own_host() {
        let tid = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490";
        let issuer = alloc::format!("https://{tid}.ciamlogin.com/{tid}/v2.0");
        for (authority, kind) in [
            (
                "https://contoso.ciamlogin.com/contoso.onmicrosoft.com",
                None,
            ),
            ("https://contoso.ciamlogin.com/", None),
            (
                "https://login.contoso.com/contoso.onmicrosoft.com",
                Some(crate::AuthorityKind::Ciam),
            ),
        ] {
            assert!(accepts(authority, kind, &issuer), "{authority}");
        }
        let authority = "https://contoso.ciamlogin.com/";
        assert!(accepts(
            authority,
            None,
            &alloc::format!("https://contoso.ciamlogin.com/{tid}/v2.0")
        ));
        for other in [
            alloc::format!("https://{tid}.ciamlogin.com/00000000-0000-0000-0000-000000000000/v2.0"),
            alloc::format!("https://{tid}.ciamlogin.com.evil.test/{tid}/v2.0"),
            alloc::format!("https://{tid}.evil.test/{tid}/v2.0"),
            alloc::format!("https://ciamlogin.com/{tid}/v2.0"),
        ] {
            assert!(!accepts(authority, None, &other), "{other}");
        }
        // Entra ID authorities do not take the CIAM form.
        assert!(!accepts(
            "https://login.microsoftonline.com/contoso.onmicrosoft.com",
            None,
            &issuer
        ));
    }

    #[test]
    fn adfs_documents_have_the_adfs_issuer() {
        let authority = "https://sts.contoso.com/adfs";
        assert!(accepts(authority, None, "https://sts.contoso.com/adfs"));
        for issuer in [
            "https://sts.contoso.com/",
            "https://sts.contoso.com/adfs/services/trust",
            "https://evil.test/adfs",
            "https://sts.contoso.com:8443/adfs",
        ] {
            assert!(!accepts(authority, None, issuer), "{issuer}");
        }
    }

    #[test]
    fn rejects_bad_documents() {
        let issuer = Issuer::parse("https://id.example.com").unwrap();
        let cases = [
            (200, "<html>hi</html>", ResponseProblem::Html),
            (200, "[1]", ResponseProblem::NotAnObject),
            (
                200,
                r#"{"issuer":"https://id.example.com"}"#,
                ResponseProblem::MissingField("token_endpoint"),
            ),
            (
                200,
                r#"{"token_endpoint":"https://id.example.com/t"}"#,
                ResponseProblem::MissingField("issuer"),
            ),
            (404, "{}", ResponseProblem::UnexpectedStatus),
        ];
        for (status, body, problem) in cases {
            let err = ProviderMetadata::parse(&issuer, &response(status, body)).unwrap_err();
            assert_eq!(
                err,
                Error::InvalidResponse(crate::error::InvalidResponse { status, problem }),
                "{body}"
            );
        }
        let plain_http =
            r#"{"issuer":"https://id.example.com","token_endpoint":"http://id.example.com/token"}"#;
        assert!(matches!(
            ProviderMetadata::parse(&issuer, &response(200, plain_http)),
            Err(Error::Configuration(_))
        ));
    }
}
