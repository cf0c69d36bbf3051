//! Token requests (RFC 6749 §3.2, §4.1.3, §4.4.2, §6): a form-encoded POST to the token
//! endpoint, with the client authentication and the headers MSAL sends to the Microsoft identity
//! platform.

use alloc::format;
use alloc::string::String;
use alloc::vec;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use url::Url;

use crate::credentials::credential::ClientAuthentication;
use crate::credentials::credential::JWT_BEARER_ASSERTION_TYPE;
use crate::platform::http::{header, HttpRequest, Method};
#[cfg(feature = "webapp")]
use crate::protocol::pkce::PkceVerifier;
use crate::protocol::scope::Scopes;
#[cfg(feature = "webapi")]
use crate::secret::AccessToken;
#[cfg(feature = "webapp")]
use crate::secret::RefreshToken;

/// `x-client-SKU`: identifies the library to the provider's telemetry (as MSAL does).
pub(crate) const CLIENT_SKU: &str = "edge-token";
/// `x-client-Ver`: the library version.
pub(crate) const CLIENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A grant: what the client exchanges for a token. The user grants are there with the
/// scenario that uses them: authorization code and refresh token with feature `webapp`,
/// on-behalf-of with feature `webapi`.
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
    #[cfg(feature = "webapp")]
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
    #[cfg(feature = "webapp")]
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
    #[cfg(feature = "webapi")]
    OnBehalfOf {
        /// The incoming access token, exactly as received.
        assertion: &'a AccessToken,
        /// The downstream API's scopes.
        scopes: &'a Scopes,
        /// A claims request (JSON text): client capabilities and any claims challenge.
        claims: Option<&'a str>,
    },
}

impl<'a> Grant<'a> {
    /// A short name for logs: `client_credentials`, `authorization_code`, `refresh_token`,
    /// `on_behalf_of`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::ClientCredentials { .. } => "client_credentials",
            #[cfg(feature = "webapp")]
            Self::AuthorizationCode { .. } => "authorization_code",
            #[cfg(feature = "webapp")]
            Self::RefreshToken { .. } => "refresh_token",
            #[cfg(feature = "webapi")]
            Self::OnBehalfOf { .. } => "on_behalf_of",
        }
    }

    /// What identifies a repeatable request besides the client: the user's secret (the
    /// refresh token or the incoming assertion; `None` for an app token), the scopes and the
    /// claims. `None` for an authorization code, which is single-use (never repeated).
    pub(crate) fn identity(&self) -> Option<(Option<&'a str>, &'a Scopes, Option<&'a str>)> {
        match *self {
            Self::ClientCredentials { scopes, claims } => Some((None, scopes, claims)),
            #[cfg(feature = "webapp")]
            Self::AuthorizationCode { .. } => None,
            #[cfg(feature = "webapp")]
            Self::RefreshToken {
                refresh_token,
                scopes,
                claims,
            } => Some((Some(refresh_token.expose_secret()), scopes, claims)),
            #[cfg(feature = "webapi")]
            Self::OnBehalfOf {
                assertion,
                scopes,
                claims,
            } => Some((Some(assertion.expose_secret()), scopes, claims)),
        }
    }

    /// A grant of the user's (refresh token, on-behalf-of): an answer only the user can
    /// resolve is remembered for it (`crate::acquisition::throttle::requires_user`).
    pub(crate) fn is_users(&self) -> bool {
        match self {
            Self::ClientCredentials { .. } => false,
            #[cfg(feature = "webapp")]
            Self::AuthorizationCode { .. } => false,
            #[cfg(feature = "webapp")]
            Self::RefreshToken { .. } => true,
            #[cfg(feature = "webapi")]
            Self::OnBehalfOf { .. } => true,
        }
    }

    /// Whether a failed attempt may be sent again. A code is single-use, and a refresh token
    /// may be rotated by the redemption whose answer was lost: sending either again would be a
    /// reuse, which providers that detect reuse answer by revoking the grant (RFC 9700
    /// §4.14.2).
    pub(crate) fn may_retry(&self) -> bool {
        match self {
            Self::ClientCredentials { .. } => true,
            #[cfg(feature = "webapp")]
            Self::AuthorizationCode { .. } | Self::RefreshToken { .. } => false,
            #[cfg(feature = "webapi")]
            Self::OnBehalfOf { .. } => true,
        }
    }
}

/// `grant_type` of the on-behalf-of request (RFC 7523 §2.1).
#[cfg(feature = "webapi")]
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
        #[cfg(feature = "webapi")]
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
        #[cfg(feature = "webapp")]
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
        #[cfg(feature = "webapp")]
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
mod tests;
