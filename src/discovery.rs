//! Provider metadata from a discovery document (OIDC Discovery 1.0 §3–4, RFC 8414 §2–3).

use alloc::string::{String, ToString};

use serde_json::{Map, Value};
use url::Url;

use crate::authority::{require_secure_url, Issuer};
use crate::error::{Error, ResponseProblem};
use crate::http::{HttpRequest, HttpResponse};
use crate::response::{invalid, json_object};

/// The endpoints edge-token uses, from a validated discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// `issuer`, equal character for character to the configured issuer.
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
        if response.status != 200 {
            return Err(invalid(response.status, ResponseProblem::UnexpectedStatus));
        }
        let document = json_object(response)?;
        match document.get("issuer") {
            Some(Value::String(found)) if found == issuer.as_str() => {}
            Some(Value::String(_)) => {
                return Err(invalid(response.status, ResponseProblem::IssuerMismatch))
            }
            _ => {
                return Err(invalid(
                    response.status,
                    ResponseProblem::MissingField("issuer"),
                ))
            }
        }
        let token_endpoint =
            endpoint(&document, "token_endpoint", response.status)?.ok_or_else(|| {
                invalid(
                    response.status,
                    ResponseProblem::MissingField("token_endpoint"),
                )
            })?;
        Ok(Self {
            issuer: issuer.as_str().to_string(),
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
