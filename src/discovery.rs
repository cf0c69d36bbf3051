//! Provider metadata from a discovery document (OIDC Discovery 1.0 §3–4, RFC 8414 §2–3).

use alloc::string::String;

use serde_json::{Map, Value};
use url::Url;

use crate::authority::{require_secure_url, Authority, Issuer};
use crate::error::{Error, ResponseProblem};
use crate::http::{HttpRequest, HttpResponse};
use crate::response::{invalid, json_object};

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
    /// [`ProviderMetadata::parse`]; for an Entra authority the document's own `issuer` is kept
    /// (Entra names the tenant by GUID, or `{tenantid}` for the multi-tenant aliases, where the
    /// configured authority may name it by domain), provided it is an `https` URL on the
    /// authority's host.
    ///
    /// # Errors
    /// As [`ProviderMetadata::parse`].
    pub fn parse_for(authority: &Authority, response: &HttpResponse) -> Result<Self, Error> {
        match authority {
            Authority::Oidc(issuer) => Self::parse(issuer, response),
            Authority::Entra(entra) => {
                let host = Url::parse(entra.as_str())
                    .ok()
                    .and_then(|url| url.host_str().map(str::to_ascii_lowercase));
                Self::parse_document(response, |found| {
                    Url::parse(found).is_ok_and(|url| {
                        url.scheme() == "https"
                            && url.host_str().map(str::to_ascii_lowercase) == host
                    })
                })
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
