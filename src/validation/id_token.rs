//! ID token validation (OIDC Core §3.1.3.7) for the authorization code flow, with the Microsoft
//! identity platform's multi-tenant issuers.
//!
//! [`validate_id_token`] runs, in order: parse ([`crate::validation::jwt::UnverifiedToken::parse`]) → `alg` equals the
//! configured algorithm → key lookup by `kid` ([`JwkSet::find`]) → signature
//! ([`JwsVerifier`]) → `typ` is not another kind's (`at+jwt`...) → string claim bounds → claims (`iss` /
//! `tid`, `aud`, `azp`, `exp` / `nbf` / `iat` and its age, `nonce`, `at_hash`, `sub`). Nothing
//! in the token is trusted before its signature verifies, and the token itself never appears
//! in an error.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::secret::{AccessToken, IdToken};
use crate::validation::jwks::JwkSet;
pub(crate) use crate::validation::jwt::IssuerRule;
use crate::validation::jwt::{
    audiences, check_claim_bounds, check_times, header_typ, is_explicitly_typed, optional_string,
    required_string, TokenError, CLAIM_BOUNDS, DEFAULT_LEEWAY_SECS, MAX_LEEWAY_SECS,
};
use crate::validation::verifier::{verify_signed_token, JwsVerifier, VerificationAlgorithm};

/// How long before `now` an ID token may have been issued (`iat`), in seconds, on top of the
/// leeway: one hour (OIDC Core §3.1.3.7 step 10 lets the client "limit the time range" of
/// `iat`). An ID token is validated when it is received, straight from the token endpoint,
/// so its `iat` is seconds old; an hour is also the lifetime of Entra ID tokens, so an older
/// one is a replayed or stored token, never a fresh answer.
pub(crate) const MAX_ID_TOKEN_AGE_SECS: u64 = 3600;

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
    pub algorithm: VerificationAlgorithm,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds; clamped to
    /// `crate::validation::jwt::MAX_LEEWAY_SECS`. Default `DEFAULT_LEEWAY_SECS` (300).
    pub leeway_secs: u64,
    /// The current time, Unix seconds.
    pub now: u64,
    /// The `nonce` sent in the authentication request (step 11): the token's must be equal.
    pub nonce: String,
    /// The access token issued with the ID token, in the same token response. When set and the
    /// ID token has `at_hash`, the hash must match it (OIDC Core §3.1.3.8 with §3.2.2.9; the
    /// hash is defined in §3.1.3.6 and §3.3.2.11). `None` by default: `at_hash` is then not
    /// checked.
    pub access_token: Option<AccessToken>,
    /// The token comes from a refresh response (OIDC Core §12.2): it need not carry `nonce`,
    /// and one it carries must equal [`IdTokenValidation::nonce`], the original ID token's.
    /// `false` by default (a sign-in: `nonce` required).
    pub refreshed: bool,
}

impl IdTokenValidation {
    /// Rules for tokens from `issuer` for `client_id`, signed with `algorithm`, answering the
    /// request that carried `nonce`, checked at `now` (Unix seconds), with the default leeway
    /// and no extra trusted audience.
    pub fn new(
        issuer: IssuerRule,
        client_id: impl Into<String>,
        algorithm: VerificationAlgorithm,
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
            access_token: None,
            refreshed: false,
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
/// Order: parse, `alg`, key, signature, then the header's `typ`: an explicitly typed JWT
/// (RFC 8725 §3.11), above all an access token (`at+jwt` or `application/at+jwt`, RFC 9068
/// §2.1, case-insensitive), is not an ID token. Then every string claim read is bounded
/// (`crate::validation::jwt::CLAIM_BOUNDS`: `sub` at most 255 printable ASCII characters, OIDC
/// Core §2), then the claims: `iss` (and `tid` for [`IssuerRule::EntraTemplate`]), `aud`,
/// `azp`, `exp` / `nbf` / `iat`, `iat` at most `MAX_ID_TOKEN_AGE_SECS` plus the leeway
/// before `now`, `nonce`, `at_hash` (when present and `rules.access_token` is set), `sub`.
///
/// # Errors
/// [`Error::InvalidToken`] with the rule that failed: [`TokenError::Malformed`] /
/// [`TokenError::TooLarge`], [`TokenError::AlgorithmNotAllowed`], [`TokenError::UnknownKey`]
/// (the only one worth a JWKS refetch, see `crate::validation::jwks::JwksCache`),
/// [`TokenError::UnusableKey`], [`TokenError::BadSignature`], [`TokenError::Issuer`],
/// [`TokenError::TenantNotAllowed`], [`TokenError::Audience`], [`TokenError::AuthorizedParty`],
/// [`TokenError::Expired`], [`TokenError::NotYetValid`], [`TokenError::IssuedInFuture`],
/// [`TokenError::Nonce`], [`TokenError::MissingClaim`], [`TokenError::TokenType`],
/// [`TokenError::IssuedTooLongAgo`], [`TokenError::AccessTokenHash`],
/// [`TokenError::ClaimValue`]. [`Error::Configuration`] for an empty
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
    if rules.nonce.is_empty() && !rules.refreshed {
        return Err(Error::configuration("the expected ID token nonce is empty"));
    }
    let claims =
        verify_signed_token(token.expose_secret(), rules.algorithm, keys, verifier).await?;
    if header_typ(token.expose_secret())?.is_some_and(|typ| is_explicitly_typed(&typ)) {
        return Err(TokenError::TokenType.into());
    }
    check_claim_bounds(&claims, CLAIM_BOUNDS)?;
    check_claims(claims, rules)
}

/// Whether `at_hash` is the hash of `access_token` (OIDC Core §3.1.3.6, §3.3.2.11): the
/// base64url encoding, without padding, of the left-most half of the hash of the access
/// token's ASCII octets, with the hash function of the ID token's JWS `alg` (SHA-256 for RS256,
/// PS256 and ES256, RFC 7518 §3.3, §3.5 and §3.4).
fn at_hash_matches(
    at_hash: &str,
    access_token: &AccessToken,
    algorithm: VerificationAlgorithm,
) -> bool {
    let digest = match algorithm {
        VerificationAlgorithm::Rs256
        | VerificationAlgorithm::Ps256
        | VerificationAlgorithm::Es256 => Sha256::digest(access_token.expose_secret().as_bytes()),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2]) == at_hash
}

/// The audience rules of a token issued to the client `client_id` (OIDC Core §3.1.3.7 steps
/// 3–5, which Back-Channel Logout 1.0 §2.6 applies to logout tokens too): `aud` contains
/// `client_id`, every other audience is one of `trusted_audiences`, and `azp`, when present,
/// is `client_id`. Returns the audiences.
///
/// # Errors
/// [`TokenError::MissingClaim`] (`aud`, or a non-string `azp`), [`TokenError::Audience`],
/// [`TokenError::AuthorizedParty`].
pub(crate) fn check_client_audience(
    claims: &Map<String, Value>,
    client_id: &str,
    trusted_audiences: &[String],
) -> Result<Vec<String>, TokenError> {
    let aud = audiences(claims)?;
    if !aud.iter().any(|a| a == client_id) {
        return Err(TokenError::Audience);
    }
    let untrusted = aud
        .iter()
        .any(|a| a != client_id && !trusted_audiences.contains(a));
    if untrusted {
        return Err(TokenError::Audience);
    }
    if let Some(azp) = optional_string(claims, "azp")? {
        if azp != client_id {
            return Err(TokenError::AuthorizedParty);
        }
    }
    Ok(aud)
}

fn check_claims(
    claims: Map<String, Value>,
    rules: &IdTokenValidation,
) -> Result<IdTokenClaims, Error> {
    rules.issuer.check(&claims)?;
    let aud = check_client_audience(&claims, &rules.client_id, &rules.trusted_audiences)?;
    let times = check_times(&claims, rules.now, rules.leeway_secs, true)?;
    let iat = times.iat.ok_or(TokenError::MissingClaim("iat"))?;
    let oldest = rules
        .now
        .saturating_sub(MAX_ID_TOKEN_AGE_SECS)
        .saturating_sub(rules.leeway_secs.min(MAX_LEEWAY_SECS));
    if iat < oldest {
        return Err(TokenError::IssuedTooLongAgo.into());
    }
    match optional_string(&claims, "nonce") {
        Ok(Some(nonce)) if nonce == rules.nonce => {}
        Ok(None) if rules.refreshed => {}
        _ => return Err(TokenError::Nonce.into()),
    }
    if let (Some(at_hash), Some(access_token)) =
        (optional_string(&claims, "at_hash")?, &rules.access_token)
    {
        if !at_hash_matches(at_hash, access_token, rules.algorithm) {
            return Err(TokenError::AccessTokenHash.into());
        }
    }
    let text = |name| optional_string(&claims, name).map(|v| v.map(String::from));
    Ok(IdTokenClaims {
        iss: required_string(&claims, "iss")?.to_string(),
        sub: required_string(&claims, "sub")?.to_string(),
        aud,
        exp: times.exp,
        iat,
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
