//! A protected resource (Microsoft identity platform "protected web API"): the validation of a
//! caller's `Authorization: Bearer` access token, shared by every route that requires one (the
//! web API's `/api/profile`, the daemon's `/daemon/call`). Platform-free.
//!
//! The rule, in order, stopping at the first failure:
//! 1. bearer syntax (RFC 6750 §2.1) — before any IO, so a request without a token costs nothing;
//! 2. the provider's metadata (discovery, cached by the client) for the issuer and `jwks_uri`;
//! 3. the token ([`validate_access_token`]): issuer (Entra v1/v2 issuers with `ALLOWED_TENANTS`
//!    for an Entra authority, else the discovered issuer exactly), one of the configured
//!    audiences, `exp` / `nbf`, and a signature with the configured algorithm
//!    ([`AccessPolicy::algorithm`]: RS256 by default, `ACCESS_TOKEN_SIGNING_ALG`) by a key of
//!    the issuer's key set ([`IssuerKeys`]: cached, refetched once for an unknown `kid`);
//! 4. the required delegated scopes (`scp`) or app roles (`roles`): any one suffices
//!    (Microsoft identity platform "protected web API: verify scopes and app roles").
//!
//! A token that passed all four in this isolate is kept, by its SHA-256 digest, for at most 5
//! minutes and while the same key set is held ([`crate::validation::validated_tokens`]): the
//! same token again skips step 3's signature verification and claim parsing, while its
//! `exp` / `nbf` and step 4 are checked again on every request, so a hit refuses nothing less
//! than step 3 would at that moment.
//!
//! Answers to callers (RFC 6750 §3), [`Rejection::response`]:
//! - no token: 401, `WWW-Authenticate: Bearer` (no error code, §3.1), `{"error":"missing_token"}`;
//! - a malformed header or an invalid token: 401, `Bearer error="invalid_token",
//!   error_description="…"` naming the rule that failed (never the token);
//! - a valid token without the required scope or role: 403, `Bearer error="insufficient_scope",
//!   scope="…"` listing what would do;
//! - the provider's metadata or signing keys cannot be fetched: 503 (not the caller's fault).

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use serde_json::json;

use crate::acquisition::client::ConfidentialClient;
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::authority::MicrosoftAuthorityKind;
use crate::protocol::bearer::{bearer_token, BearerChallenge, BearerErrorCode, CredentialsError};
use crate::scenarios::web::WebResponse;
use crate::secret::AccessToken;
use crate::validation::access_token::{
    entra_issuers, validate_access_token, AccessTokenClaims, AccessTokenValidation,
    InsufficientScope, RequiredPermissions,
};
use crate::validation::issuer_keys::IssuerKeys;
use crate::validation::jwks::JwkSet;
use crate::validation::jwt::IssuerRule;
use crate::validation::validated_tokens::{Grounds, TokenDigest, ValidatedTokens};
use crate::validation::verifier::{JwsVerifier, VerificationAlgorithm};

/// A caller whose token passed validation.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Caller {
    /// The token as received: the assertion for on-behalf-of (its `Debug` shows no token).
    pub token: AccessToken,
    /// Its claims.
    pub claims: AccessTokenClaims,
}

/// Why a request is refused before any work is done for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No `Authorization` header, or a malformed one.
    Credentials(CredentialsError),
    /// The token failed validation ([`Error::InvalidToken`]).
    InvalidToken(Error),
    /// The token lacks the required scope or role.
    InsufficientScope(InsufficientScope),
    /// The provider's metadata or keys could not be fetched (not the caller's fault).
    Unavailable(Error),
}

impl fmt::Display for Rejection {
    /// One line for logs: which rule refused the caller (never the token).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Credentials(problem) => write!(f, "caller refused: {problem}"),
            Self::InvalidToken(error) => write!(f, "caller refused: {error}"),
            Self::InsufficientScope(InsufficientScope { required }) => write!(
                f,
                "caller refused: the token has none of the required scopes or roles ({})",
                required.join(" ")
            ),
            Self::Unavailable(error) => {
                write!(
                    f,
                    "caller not checked: the issuer's keys are unavailable: {error}"
                )
            }
        }
    }
}

impl Rejection {
    /// The answer to the caller (see the module documentation): 401 or 403 with an RFC 6750
    /// §3 `WWW-Authenticate: Bearer` challenge, or 503; a JSON body; `cache-control: no-store`.
    pub fn response(&self) -> WebResponse {
        match self {
            Self::Credentials(CredentialsError::Missing) => {
                WebResponse::json(401, &json!({"error": "missing_token"}))
                    .with_header("www-authenticate", "Bearer")
            }
            Self::Credentials(problem) => invalid_token(&problem.to_string()),
            Self::InvalidToken(Error::InvalidToken(problem)) => invalid_token(&problem.to_string()),
            Self::InvalidToken(_) => invalid_token("the token could not be validated"),
            Self::InsufficientScope(InsufficientScope { required }) => {
                let challenge = BearerChallenge {
                    scope: Some(required.join(" ")),
                    ..BearerChallenge::error(
                        BearerErrorCode::InsufficientScope,
                        "the token lacks the required scope or role",
                    )
                };
                WebResponse::json(403, &json!({"error": "insufficient_scope"}))
                    .with_header("www-authenticate", &challenge.to_header_value())
            }
            Self::Unavailable(_) => WebResponse::json(
                503,
                &json!({
                    "error": "temporarily_unavailable",
                    "error_description": "the token issuer's keys could not be fetched",
                }),
            ),
        }
    }
}

/// 401 `Bearer error="invalid_token"` with `description` (RFC 6750 §3.1).
pub(crate) fn invalid_token(description: &str) -> WebResponse {
    let challenge = BearerChallenge::error(BearerErrorCode::InvalidToken, description);
    WebResponse::json(
        401,
        &json!({"error": "invalid_token", "error_description": description}),
    )
    .with_header("www-authenticate", &challenge.to_header_value())
}

/// 403 with `Bearer error="insufficient_scope"` (RFC 6750 §3.1) and `description`: the caller
/// is who it says, but this resource does not serve callers of its kind.
#[cfg_attr(not(feature = "daemon"), allow(dead_code))]
pub(crate) fn insufficient_scope(description: &str) -> WebResponse {
    let challenge = BearerChallenge::error(BearerErrorCode::InsufficientScope, description);
    WebResponse::json(
        403,
        &json!({"error": "insufficient_scope", "error_description": description}),
    )
    .with_header("www-authenticate", &challenge.to_header_value())
}

/// Who may call a protected resource: the accepted audiences and the permissions a token must
/// carry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessPolicy {
    /// The audiences accepted in `aud` (the resource's client id and/or App ID URI); never empty.
    pub audiences: Vec<String>,
    /// The delegated scopes (`scp`) or app roles (`roles`), any one of which suffices; never
    /// empty (a resource that accepts any token for its audience is a mistake, not a default).
    pub required: RequiredPermissions,
    /// For an Entra multi-tenant authority (`{tenantid}` issuers), the tenants accepted
    /// (empty = any).
    pub allowed_tenants: Vec<String>,
    /// The only algorithm access tokens may be signed with (`ACCESS_TOKEN_SIGNING_ALG`; RS256
    /// unless [`AccessPolicy::with_algorithm`]): a token whose `alg` differs is refused.
    pub algorithm: VerificationAlgorithm,
}

impl AccessPolicy {
    /// A policy accepting tokens for one of `audiences` that carry one of `required`'s scopes
    /// or roles, from `allowed_tenants` (empty = any), signed with RS256.
    ///
    /// # Errors
    /// [`Error::Configuration`] when `audiences` or `required` is empty.
    pub fn new(
        audiences: Vec<String>,
        required: RequiredPermissions,
        allowed_tenants: Vec<String>,
    ) -> Result<Self, Error> {
        if audiences.iter().all(String::is_empty) {
            return Err(Error::configuration(
                "a protected resource needs at least one audience",
            ));
        }
        if required.is_empty() {
            return Err(Error::configuration(
                "a protected resource needs at least one required scope or role",
            ));
        }
        Ok(Self {
            audiences,
            required,
            allowed_tenants,
            algorithm: VerificationAlgorithm::Rs256,
        })
    }

    /// The same policy for tokens signed with `algorithm` instead.
    #[must_use]
    pub fn with_algorithm(mut self, algorithm: VerificationAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }
}

/// `ACCESS_TOKEN_SIGNING_ALG`: the algorithm of the access tokens a protected resource accepts
/// (`RS256` when absent, `PS256`, `ES256`).
///
/// # Errors
/// [`Error::Configuration`] for any other value.
#[cfg_attr(not(any(feature = "daemon", feature = "webapi")), allow(dead_code))]
pub(crate) fn access_token_algorithm(
    setting: Option<String>,
) -> Result<VerificationAlgorithm, Error> {
    setting
        .map(|alg| VerificationAlgorithm::parse("ACCESS_TOKEN_SIGNING_ALG", alg.trim()))
        .transpose()
        .map(|alg| alg.unwrap_or(VerificationAlgorithm::Rs256))
}

/// A setting holding names separated by spaces or commas (absent = none).
#[cfg_attr(not(any(feature = "daemon", feature = "webapi")), allow(dead_code))]
pub(crate) fn setting_list(setting: Option<String>) -> Vec<String> {
    setting
        .map(|value| {
            value
                .split([' ', ','])
                .filter(|item| !item.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// A protected resource: an [`AccessPolicy`], the adapter's signature backend, the issuer's
/// signing keys (fetched on first use, kept for the isolate) and the tokens it validated
/// (kept for the isolate, see the module documentation). Build one per isolate.
pub struct ProtectedResource {
    policy: AccessPolicy,
    verifier: Box<dyn JwsVerifier>,
    keys: IssuerKeys,
    validated: ValidatedTokens,
}

impl fmt::Debug for ProtectedResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectedResource")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl ProtectedResource {
    /// A resource enforcing `policy`, verifying signatures with `verifier` (WebCrypto on
    /// Workers, [`crate::validation::RustCryptoVerifier`] elsewhere).
    pub fn new(policy: AccessPolicy, verifier: Box<dyn JwsVerifier>) -> Self {
        Self {
            policy,
            verifier,
            keys: IssuerKeys::default(),
            validated: ValidatedTokens::default(),
        }
    }

    /// The policy enforced.
    pub fn policy(&self) -> &AccessPolicy {
        &self.policy
    }

    /// Validates the caller's `Authorization` header value (see the module documentation for
    /// the rule). `client` is the app's own client for the same authority: its discovered
    /// metadata names the issuer and `jwks_uri`; no token is requested through it.
    ///
    /// # Errors
    /// A [`Rejection`]; [`Rejection::response`] is the answer to send.
    pub async fn authenticate(
        &self,
        client: &ConfidentialClient,
        authorization: Option<&str>,
        platform: &Platform<'_>,
    ) -> Result<Caller, Rejection> {
        let token = bearer_token(authorization).map_err(Rejection::Credentials)?;
        let metadata = client
            .metadata(platform)
            .await
            .map_err(Rejection::Unavailable)?;
        // Entra ID issues v1 and v2 tokens; B2C, External ID, AD FS and other providers name
        // one issuer in their discovery document (AD FS access tokens use another one: its
        // `access_token_issuer`, which edge-token does not read yet).
        let issuers = match client.authority().microsoft_kind() {
            Some(MicrosoftAuthorityKind::Aad) => {
                entra_issuers(&metadata.issuer, &self.policy.allowed_tenants)
            }
            _ => vec![IssuerRule::Exact(metadata.issuer.clone())],
        };
        let now = platform.clock.now_unix_secs();
        let rules = &AccessTokenValidation::new(
            issuers,
            self.policy.audiences.clone(),
            self.policy.algorithm,
            now,
        );
        let jwks_uri = metadata.jwks_uri.as_ref().ok_or_else(|| {
            Rejection::Unavailable(Error::configuration("the provider publishes no jwks_uri"))
        })?;
        let digest = TokenDigest::of(&token);
        if let Some(key_set) = self.keys.current_generation(now) {
            let grounds = Grounds {
                rules,
                jwks_uri,
                key_set,
            };
            if let Some(held) = self.validated.get(&digest, &grounds, &self.policy.required) {
                let claims = held.map_err(Rejection::InsufficientScope)?;
                return Ok(Caller { token, claims });
            }
        }
        let verifier = self.verifier.as_ref();
        let token_ref = &token;
        let (claims, key_set) = self
            .keys
            .validate_noting_key_set(
                jwks_uri,
                client.document_sealer(),
                platform,
                |keys: JwkSet| async move {
                    validate_access_token(token_ref, rules, &keys, verifier).await
                },
            )
            .await
            .map_err(|error| match error {
                Error::InvalidToken(_) | Error::Configuration(_) => Rejection::InvalidToken(error),
                other => Rejection::Unavailable(other),
            })?;
        self.policy
            .required
            .check(&claims)
            .map_err(Rejection::InsufficientScope)?;
        let grounds = Grounds {
            rules,
            jwks_uri,
            key_set,
        };
        self.validated.put(digest, &claims, &grounds);
        Ok(Caller { token, claims })
    }
}

#[cfg(all(test, feature = "rustcrypto"))]
pub(crate) mod tests;
