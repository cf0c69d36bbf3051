//! Token requests (RFC 6749 §3.2, §4.1.3, §4.4.2, §6): a form-encoded POST to the token
//! endpoint, with the client authentication and the headers MSAL sends to the Microsoft identity
//! platform.

use alloc::format;
use alloc::string::String;
use alloc::vec;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use url::Url;

use crate::credentials::assertion::JWT_BEARER_ASSERTION_TYPE;
use crate::credentials::credential::ClientAuthentication;
use crate::platform::http::{header, HttpRequest, Method};
use crate::protocol::pkce::PkceVerifier;
use crate::protocol::scope::Scopes;
use crate::secret::{AccessToken, RefreshToken};

/// `x-client-SKU`: identifies the library to the provider's telemetry (as MSAL does).
pub(crate) const CLIENT_SKU: &str = "edge-token";
/// `x-client-Ver`: the library version.
pub(crate) const CLIENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A grant: what the client exchanges for a token.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub(crate) enum Grant<'a> {
    /// Client credentials (RFC 6749 §4.4): app-only, `grant_type=client_credentials`. On Entra
    /// the scopes are `{resource}/.default`.
    ClientCredentials {
        /// Requested scopes.
        scopes: &'a Scopes,
        /// A claims request (JSON text, OIDC Core §5.5): client capabilities and any claims
        /// challenge (see [`crate::protocol::claims::claims_parameter`]).
        claims: Option<&'a str>,
    },
    /// Authorization code redemption (RFC 6749 §4.1.3) with the PKCE verifier (RFC 7636 §4.5):
    /// `grant_type=authorization_code`, `code`, `redirect_uri` (identical to the authorization
    /// request's), `code_verifier`, and `scope` (the Microsoft identity platform wants the
    /// scopes again).
    AuthorizationCode {
        /// The code from the callback. Single-use: never retried.
        code: &'a str,
        /// The redirect URI the authorization request carried.
        redirect_uri: &'a Url,
        /// The PKCE verifier of the sign-in.
        code_verifier: &'a PkceVerifier,
        /// The scopes of the authorization request.
        scopes: &'a Scopes,
    },
    /// Refresh (RFC 6749 §6): `grant_type=refresh_token`, `refresh_token`, `scope`, and, when a
    /// resource demanded more (a claims challenge, OIDC Core §5.5), `claims`.
    RefreshToken {
        /// The refresh token.
        refresh_token: &'a RefreshToken,
        /// The scopes wanted (on Entra, those of one resource plus the OIDC scopes).
        scopes: &'a Scopes,
        /// A claims request or challenge (JSON text).
        claims: Option<&'a str>,
    },
    /// On-behalf-of (Microsoft identity platform "OAuth 2.0 on-behalf-of flow", on the JWT
    /// bearer grant of RFC 7523 §2.1): `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`,
    /// `assertion` (the access token the web API received), `requested_token_use=on_behalf_of`,
    /// `scope`, and `claims` when given.
    OnBehalfOf {
        /// The incoming access token, exactly as received.
        assertion: &'a AccessToken,
        /// The downstream API's scopes.
        scopes: &'a Scopes,
        /// A claims request (JSON text): client capabilities and any claims challenge.
        claims: Option<&'a str>,
    },
}

impl Grant<'_> {
    /// A short name for logs: `client_credentials`, `authorization_code`, `refresh_token`,
    /// `on_behalf_of`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::ClientCredentials { .. } => "client_credentials",
            Self::AuthorizationCode { .. } => "authorization_code",
            Self::RefreshToken { .. } => "refresh_token",
            Self::OnBehalfOf { .. } => "on_behalf_of",
        }
    }
}

/// `grant_type` of the on-behalf-of request (RFC 7523 §2.1).
pub(crate) const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Builds the token request: `grant_type` and the grant's parameters, `client_id` (except with
/// HTTP Basic, where it is in the header), then the client authentication (RFC 6749 §2.3.1,
/// RFC 7521 §4.2). Headers: `Content-Type`, `Accept`, `client-request-id` (a fresh GUID the
/// provider echoes as `correlation_id`), `return-client-request-id: true`, `x-client-SKU`,
/// `x-client-Ver`, and `x-ms-lib-capability: retry-after, h429` (MSAL's throttling contract).
pub(crate) fn token_request(
    token_endpoint: &Url,
    client_id: &str,
    grant: Grant<'_>,
    auth: &ClientAuthentication<'_>,
    client_request_id: &str,
) -> HttpRequest {
    let mut form = form_urlencoded::Serializer::new(String::new());
    match grant {
        Grant::ClientCredentials { scopes, claims } => {
            form.append_pair("grant_type", "client_credentials");
            append_client_id(&mut form, client_id, auth);
            form.append_pair("scope", &scopes.to_param());
            if let Some(claims) = claims {
                form.append_pair("claims", claims);
            }
        }
        Grant::OnBehalfOf {
            assertion,
            scopes,
            claims,
        } => {
            form.append_pair("grant_type", JWT_BEARER_GRANT_TYPE);
            append_client_id(&mut form, client_id, auth);
            form.append_pair("assertion", assertion.expose_secret());
            form.append_pair("requested_token_use", "on_behalf_of");
            form.append_pair("scope", &scopes.to_param());
            if let Some(claims) = claims {
                form.append_pair("claims", claims);
            }
        }
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
            scopes,
        } => {
            form.append_pair("grant_type", "authorization_code");
            append_client_id(&mut form, client_id, auth);
            form.append_pair("code", code);
            form.append_pair("redirect_uri", redirect_uri.as_str());
            form.append_pair("code_verifier", code_verifier.expose_secret());
            form.append_pair("scope", &scopes.to_param());
        }
        Grant::RefreshToken {
            refresh_token,
            scopes,
            claims,
        } => {
            form.append_pair("grant_type", "refresh_token");
            append_client_id(&mut form, client_id, auth);
            form.append_pair("refresh_token", refresh_token.expose_secret());
            form.append_pair("scope", &scopes.to_param());
            if let Some(claims) = claims {
                form.append_pair("claims", claims);
            }
        }
    }
    let mut headers = vec![
        header(
            "content-type",
            "application/x-www-form-urlencoded;charset=utf-8",
        ),
        header("accept", "application/json"),
        header("client-request-id", client_request_id),
        header("return-client-request-id", "true"),
        header("x-client-sku", CLIENT_SKU),
        header("x-client-ver", CLIENT_VERSION),
        header("x-ms-lib-capability", "retry-after, h429"),
    ];
    match auth {
        ClientAuthentication::SecretPost(secret) => {
            form.append_pair("client_secret", secret.expose_secret());
        }
        ClientAuthentication::SecretBasic(secret) => {
            let user: String = form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
            let password: String =
                form_urlencoded::byte_serialize(secret.expose_secret().as_bytes()).collect();
            headers.push(header(
                "authorization",
                &format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
            ));
        }
        ClientAuthentication::Assertion(assertion) => {
            form.append_pair("client_assertion_type", JWT_BEARER_ASSERTION_TYPE);
            form.append_pair("client_assertion", assertion.expose_secret());
        }
    }
    HttpRequest {
        method: Method::Post,
        url: token_endpoint.clone(),
        headers,
        body: form.finish().into_bytes(),
    }
}

fn append_client_id(
    form: &mut form_urlencoded::Serializer<'_, String>,
    client_id: &str,
    auth: &ClientAuthentication<'_>,
) {
    if !matches!(auth, ClientAuthentication::SecretBasic(_)) {
        form.append_pair("client_id", client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{ClientAssertion, ClientSecret};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const ENDPOINT: &str =
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
    const REQUEST_ID: &str = "6f0e9d8c-7b6a-4958-8374-65a4b3c2d1e0";

    fn build(auth: &ClientAuthentication<'_>) -> HttpRequest {
        let scopes = Scopes::parse("api://downstream/.default").unwrap();
        token_request(
            &Url::parse(ENDPOINT).unwrap(),
            "client 123",
            Grant::ClientCredentials {
                scopes: &scopes,
                claims: None,
            },
            auth,
            REQUEST_ID,
        )
    }

    fn body(request: &HttpRequest) -> String {
        String::from_utf8(request.body.clone()).unwrap()
    }

    #[test]
    fn client_secret_post_golden_body() {
        let secret = ClientSecret::new("s&cret=1 +x");
        let request = build(&ClientAuthentication::SecretPost(&secret));
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.url.as_str(), ENDPOINT);
        assert_eq!(
            body(&request),
            "grant_type=client_credentials&client_id=client+123&scope=api%3A%2F%2Fdownstream%2F.default&client_secret=s%26cret%3D1+%2Bx"
        );
        assert_eq!(request.header("authorization"), None);
        assert_eq!(
            request.header("Content-Type"),
            Some("application/x-www-form-urlencoded;charset=utf-8")
        );
        assert_eq!(request.header("client-request-id"), Some(REQUEST_ID));
        assert_eq!(request.header("return-client-request-id"), Some("true"));
        assert_eq!(request.header("x-client-SKU"), Some("edge-token"));
        assert_eq!(request.header("x-client-Ver"), Some(CLIENT_VERSION));
        assert_eq!(
            request.header("x-ms-lib-capability"),
            Some("retry-after, h429")
        );
    }

    #[test]
    fn client_secret_basic_golden_header_and_body() {
        let secret = ClientSecret::new("s&cret=1 +x");
        let request = build(&ClientAuthentication::SecretBasic(&secret));
        assert_eq!(
            body(&request),
            "grant_type=client_credentials&scope=api%3A%2F%2Fdownstream%2F.default"
        );
        // RFC 6749 §2.3.1: both parts form-urlencoded, then Basic (RFC 7617).
        let expected = STANDARD.encode("client+123:s%26cret%3D1+%2Bx");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Basic {expected}").as_str())
        );
    }

    #[test]
    fn client_assertion_golden_body() {
        let request = build(&ClientAuthentication::Assertion(ClientAssertion::new(
            "aaa.bbb.ccc",
        )));
        assert_eq!(
            body(&request),
            "grant_type=client_credentials&client_id=client+123&scope=api%3A%2F%2Fdownstream%2F.default\
             &client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=aaa.bbb.ccc"
        );
    }

    #[test]
    fn authorization_code_golden_body() {
        let secret = ClientSecret::new("pw");
        let scopes = Scopes::parse("openid profile offline_access api://a/.default").unwrap();
        let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        let redirect = Url::parse("https://app.example.com/auth/callback").unwrap();
        let request = token_request(
            &Url::parse(ENDPOINT).unwrap(),
            "webapp",
            Grant::AuthorizationCode {
                code: "c0de+/=",
                redirect_uri: &redirect,
                code_verifier: &verifier,
                scopes: &scopes,
            },
            &ClientAuthentication::SecretPost(&secret),
            REQUEST_ID,
        );
        assert_eq!(
            body(&request),
            "grant_type=authorization_code&client_id=webapp&code=c0de%2B%2F%3D\
             &redirect_uri=https%3A%2F%2Fapp.example.com%2Fauth%2Fcallback\
             &code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\
             &scope=api%3A%2F%2Fa%2F.default+offline_access+openid+profile&client_secret=pw"
        );
    }

    #[test]
    fn refresh_token_golden_body() {
        let scopes = Scopes::parse("openid api://a/.default").unwrap();
        let refresh_token = RefreshToken::new("rt-1");
        let grant = |claims| Grant::RefreshToken {
            refresh_token: &refresh_token,
            scopes: &scopes,
            claims,
        };
        let send = |grant| {
            body(&token_request(
                &Url::parse(ENDPOINT).unwrap(),
                "webapp",
                grant,
                &ClientAuthentication::Assertion(ClientAssertion::new("a.b.c")),
                REQUEST_ID,
            ))
        };
        let tail = "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c";
        assert_eq!(
            send(grant(None)),
            format!("grant_type=refresh_token&client_id=webapp&refresh_token=rt-1&scope=api%3A%2F%2Fa%2F.default+openid{tail}")
        );
        assert_eq!(
            send(grant(Some(r#"{"access_token":{}}"#))),
            format!("grant_type=refresh_token&client_id=webapp&refresh_token=rt-1&scope=api%3A%2F%2Fa%2F.default+openid\
                     &claims=%7B%22access_token%22%3A%7B%7D%7D{tail}")
        );
    }

    #[test]
    fn on_behalf_of_golden_body() {
        let scopes = Scopes::parse("api://downstream/user.read").unwrap();
        let assertion = AccessToken::new("eyJ.in.coming");
        let secret = ClientSecret::new("pw");
        let send = |claims| {
            let request = token_request(
                &Url::parse(ENDPOINT).unwrap(),
                "webapi",
                Grant::OnBehalfOf {
                    assertion: &assertion,
                    scopes: &scopes,
                    claims,
                },
                &ClientAuthentication::SecretPost(&secret),
                REQUEST_ID,
            );
            body(&request)
        };
        assert_eq!(
            send(None),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&client_id=webapi\
             &assertion=eyJ.in.coming&requested_token_use=on_behalf_of\
             &scope=api%3A%2F%2Fdownstream%2Fuser.read&client_secret=pw"
        );
        assert_eq!(
            send(Some(r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#)),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&client_id=webapi\
             &assertion=eyJ.in.coming&requested_token_use=on_behalf_of\
             &scope=api%3A%2F%2Fdownstream%2Fuser.read\
             &claims=%7B%22access_token%22%3A%7B%22xms_cc%22%3A%7B%22values%22%3A%5B%22cp1%22%5D%7D%7D%7D\
             &client_secret=pw"
        );
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let secret = ClientSecret::new("SENTINEL-secret");
        for request in [
            build(&ClientAuthentication::SecretPost(&secret)),
            build(&ClientAuthentication::SecretBasic(&secret)),
        ] {
            let debug = alloc::format!("{request:?}");
            assert!(
                !debug.contains("SENTINEL")
                    && !debug.contains(&STANDARD.encode("client+123:SENTINEL-secret")),
                "{debug}"
            );
            assert!(debug.contains("body_len"));
        }
    }
}
