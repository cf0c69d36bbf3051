//! ID token validation (OIDC Core §3.1.3.7) for the authorization code flow, with the Microsoft
//! identity platform's multi-tenant issuers.
//!
//! [`validate_id_token`] runs, in order: parse ([`crate::validation::jwt::UnverifiedToken::parse`]) → `alg` equals the
//! configured algorithm → key lookup by `kid` ([`JwkSet::find`]) → signature
//! ([`JwsVerifier`]) → claims (`iss` / `tid`, `aud`, `azp`, `exp` / `nbf` / `iat`, `nonce`,
//! `sub`). Nothing in the token is trusted before its signature verifies, and the token itself
//! never appears in an error.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::secret::IdToken;
use crate::validation::jwks::JwkSet;
pub(crate) use crate::validation::jwt::IssuerRule;
use crate::validation::jwt::{
    audiences, check_times, optional_string, required_string, TokenError, DEFAULT_LEEWAY_SECS,
};
use crate::validation::verifier::{verify_signed_token, JwsAlgorithm, JwsVerifier};

/// What an ID token must satisfy. Build it with [`IdTokenValidation::new`], then adjust the
/// public fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdTokenValidation {
    /// The expected issuer (OIDC Core §3.1.3.7 step 2).
    pub issuer: IssuerRule,
    /// The client id: must be in `aud` (step 3) and equal `azp` when present (step 5).
    pub client_id: String,
    /// Other audiences accepted next to the client id in a multi-valued `aud` (step 3: a token
    /// with an audience the client does not trust is refused). Empty by default.
    pub trusted_audiences: Vec<String>,
    /// The signing algorithm, from configuration (steps 6–7): a token whose `alg` differs is
    /// refused, and `none` and HMAC algorithms are never accepted.
    pub algorithm: JwsAlgorithm,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds; clamped to
    /// `crate::validation::jwt::MAX_LEEWAY_SECS`. Default `DEFAULT_LEEWAY_SECS` (300).
    pub leeway_secs: u64,
    /// The current time, Unix seconds.
    pub now: u64,
    /// The `nonce` sent in the authentication request (step 11): the token's must be equal.
    pub nonce: String,
}

impl IdTokenValidation {
    /// Rules for tokens from `issuer` for `client_id`, signed with `algorithm`, answering the
    /// request that carried `nonce`, checked at `now` (Unix seconds), with the default leeway
    /// and no extra trusted audience.
    pub fn new(
        issuer: IssuerRule,
        client_id: impl Into<String>,
        algorithm: JwsAlgorithm,
        nonce: impl Into<String>,
        now: u64,
    ) -> Self {
        Self {
            issuer,
            client_id: client_id.into(),
            trusted_audiences: Vec::new(),
            algorithm,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            now,
            nonce: nonce.into(),
        }
    }
}

/// The claims of a validated ID token (OIDC Core §2, §5.1; Microsoft identity platform "ID token
/// claims reference"). Claims are not secrets: `Debug` and serde show them all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdTokenClaims {
    /// `iss`: the issuer.
    pub iss: String,
    /// `sub`: the subject, unique per issuer (on Entra, also per application).
    pub sub: String,
    /// `aud`: the audiences, the client id among them.
    pub aud: Vec<String>,
    /// `exp`: expiry, Unix seconds.
    pub exp: u64,
    /// `iat`: issue time, Unix seconds.
    pub iat: u64,
    /// `nonce`: equal to the expected nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// `tid` (Entra): the tenant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// `oid` (Entra): the user's object id, the same for every application in the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    /// `name`: display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `preferred_username`: a sign-in name, mutable and not unique: display only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// `email`: mutable and, on Entra, not verified: display only, never an identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Every claim of the token, as sent (e.g. for a `/me` endpoint).
    pub all: Map<String, Value>,
}

/// A user's stable identity, from [`IdTokenClaims::user_id`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum UserId {
    /// Entra: tenant id and object id (Microsoft's recommended key for a user's data).
    Entra {
        /// `tid`.
        tid: String,
        /// `oid`.
        oid: String,
    },
    /// Any OpenID Provider: issuer and subject (OIDC Core §5.7: the only stable pair).
    Subject {
        /// `iss`.
        iss: String,
        /// `sub`.
        sub: String,
    },
}

impl UserId {
    /// A canonical text form, usable as a storage key: the JSON array `["entra",tid,oid]` or
    /// `["oidc",iss,sub]` (JSON, so no separator can be forged by a claim's content).
    pub fn canonical(&self) -> String {
        let parts = match self {
            Self::Entra { tid, oid } => ["entra", tid.as_str(), oid.as_str()],
            Self::Subject { iss, sub } => ["oidc", iss.as_str(), sub.as_str()],
        };
        serde_json::Value::from(parts.as_slice()).to_string()
    }
}

impl IdTokenClaims {
    /// The user's stable identity: `(tid, oid)` when both are present and non-empty (Entra),
    /// else `(iss, sub)`. Never an email or username, which users and admins can change.
    pub fn user_id(&self) -> UserId {
        match (self.tid.as_deref(), self.oid.as_deref()) {
            (Some(tid), Some(oid)) if !tid.is_empty() && !oid.is_empty() => UserId::Entra {
                tid: tid.to_string(),
                oid: oid.to_string(),
            },
            _ => UserId::Subject {
                iss: self.iss.clone(),
                sub: self.sub.clone(),
            },
        }
    }
}

/// Validates an ID token (OIDC Core §3.1.3.7) against `rules`, with the issuer's signature keys
/// `keys` and a signature backend `verifier`, and returns its claims.
///
/// Order: parse, `alg`, key, signature, then the claims: `iss` (and `tid` for
/// [`IssuerRule::EntraTemplate`]), `aud`, `azp`, `exp` / `nbf` / `iat`, `nonce`, `sub`.
///
/// # Errors
/// [`Error::InvalidToken`] with the rule that failed: [`TokenError::Malformed`] /
/// [`TokenError::TooLarge`], [`TokenError::AlgorithmNotAllowed`], [`TokenError::UnknownKey`]
/// (the only one worth a JWKS refetch, see `crate::validation::jwks::JwksCache`),
/// [`TokenError::UnusableKey`], [`TokenError::BadSignature`], [`TokenError::Issuer`],
/// [`TokenError::TenantNotAllowed`], [`TokenError::Audience`], [`TokenError::AuthorizedParty`],
/// [`TokenError::Expired`], [`TokenError::NotYetValid`], [`TokenError::IssuedInFuture`],
/// [`TokenError::Nonce`], [`TokenError::MissingClaim`]. [`Error::Configuration`] for an empty
/// `client_id` or `nonce` in `rules` or an issuer template without `{tenantid}`;
/// [`Error::Platform`] when the verifier backend fails.
pub async fn validate_id_token(
    token: &IdToken,
    rules: &IdTokenValidation,
    keys: &JwkSet,
    verifier: &dyn JwsVerifier,
) -> Result<IdTokenClaims, Error> {
    if rules.client_id.is_empty() {
        return Err(Error::configuration("the ID token client_id is empty"));
    }
    if rules.nonce.is_empty() {
        return Err(Error::configuration("the expected ID token nonce is empty"));
    }
    let claims =
        verify_signed_token(token.expose_secret(), rules.algorithm, keys, verifier).await?;
    check_claims(claims, rules)
}

fn check_claims(
    claims: Map<String, Value>,
    rules: &IdTokenValidation,
) -> Result<IdTokenClaims, Error> {
    rules.issuer.check(&claims)?;
    let aud = audiences(&claims)?;
    if !aud.contains(&rules.client_id) {
        return Err(TokenError::Audience.into());
    }
    let untrusted = aud
        .iter()
        .any(|a| *a != rules.client_id && !rules.trusted_audiences.contains(a));
    if untrusted {
        return Err(TokenError::Audience.into());
    }
    if let Some(azp) = optional_string(&claims, "azp")? {
        if azp != rules.client_id {
            return Err(TokenError::AuthorizedParty.into());
        }
    }
    let times = check_times(&claims, rules.now, rules.leeway_secs, true)?;
    match optional_string(&claims, "nonce") {
        Ok(Some(nonce)) if nonce == rules.nonce => {}
        _ => return Err(TokenError::Nonce.into()),
    }
    let text = |name| optional_string(&claims, name).map(|v| v.map(String::from));
    Ok(IdTokenClaims {
        iss: required_string(&claims, "iss")?.to_string(),
        sub: required_string(&claims, "sub")?.to_string(),
        aud,
        exp: times.exp,
        iat: times.iat.ok_or(TokenError::MissingClaim("iat"))?,
        nonce: text("nonce")?,
        tid: text("tid")?,
        oid: text("oid")?,
        name: text("name")?,
        preferred_username: text("preferred_username")?,
        email: text("email")?,
        all: claims,
    })
}

#[cfg(all(test, feature = "rustcrypto"))]
mod tests;
