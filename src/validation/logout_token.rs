//! Logout token validation (OpenID Connect Back-Channel Logout 1.0 §2.4, §2.6): the JWT a
//! provider POSTs to the back-channel logout URI to end a user's sessions.
//!
//! [`validate_logout_token`] validates it "in the same way an ID Token is validated" (§2.6
//! step 3) with the ID token's pieces ([`crate::validation::verifier::verify_signed_token`],
//! [`IssuerRule`], [`check_client_audience`], the claim bounds), then the logout rules:
//! `events` names the back-channel logout event, no `nonce`, `sid` and/or `sub`, a `jti`.
//! Whether the `jti` was seen before is the caller's check (it needs the shared store:
//! `crate::scenarios::webapp::logout`); [`LogoutTokenClaims::accept_until`] says how long to
//! remember it. Nothing in the token is trusted before its signature verifies, and the token
//! itself never appears in an error.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::secret::LogoutToken;
use crate::validation::algorithm::VerificationAlgorithm;
use crate::validation::id_token::check_client_audience;
use crate::validation::jwks::JwkSet;
use crate::validation::jwt::{
    check_claim_bounds, header_typ, is_explicitly_typed, numeric_date, optional_string,
    required_string, ClaimBound, IssuerRule, TokenError, CLAIM_BOUNDS, DEFAULT_LEEWAY_SECS,
    MAX_ID_CLAIM_BYTES, MAX_LEEWAY_SECS,
};
use crate::validation::verifier::{verify_signed_token, JwsVerifier};

/// The member of the `events` claim that makes a JWT a logout token (Back-Channel Logout 1.0
/// §2.4; its value is a JSON object, typically empty).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The explicit type a logout token may carry (Back-Channel Logout 1.0 §2.4: `typ` SHOULD be
/// `logout+jwt`; RFC 8725 §3.11), compared case-insensitively, with or without `application/`.
const LOGOUT_TYP: &str = "logout+jwt";

/// How long before `now` a logout token may have been issued (`iat`), in seconds, on top of
/// the leeway: one hour, as an ID token ([`crate::validation::id_token`]). A provider sends it
/// when the user signs out; an older one is a stored or replayed token. It also bounds how long
/// a `jti` must be remembered ([`LogoutTokenClaims::accept_until`]) when the token has no `exp`.
pub(crate) const MAX_LOGOUT_TOKEN_AGE_SECS: u64 = 3600;

/// The longest `sid` and `jti` accepted, in bytes (identifiers: Entra's `sid` is a GUID,
/// oidc-provider's a 21-character nanoid).
const LOGOUT_CLAIM_BOUNDS: &[ClaimBound] = &[
    ClaimBound {
        name: "sid",
        max_bytes: MAX_ID_CLAIM_BYTES,
        printable_ascii: true,
    },
    ClaimBound {
        name: "jti",
        max_bytes: MAX_ID_CLAIM_BYTES,
        printable_ascii: true,
    },
];

/// What a logout token must satisfy. Build it with [`LogoutTokenValidation::new`], then adjust
/// the public fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogoutTokenValidation {
    /// The expected issuer (§2.6 step 3, as OIDC Core §3.1.3.7 step 2).
    pub issuer: IssuerRule,
    /// The client id: must be in `aud` and equal `azp` when present.
    pub client_id: String,
    /// Other audiences accepted next to the client id in a multi-valued `aud`. Empty by default.
    pub trusted_audiences: Vec<String>,
    /// The signing algorithm, from configuration (the ID token's, §2.6 step 2): a token whose
    /// `alg` differs is refused; `none` never verifies.
    pub algorithm: VerificationAlgorithm,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds; clamped to
    /// `crate::validation::jwt::MAX_LEEWAY_SECS`. Default 300.
    pub leeway_secs: u64,
    /// The current time, Unix seconds.
    pub now: u64,
}

impl LogoutTokenValidation {
    /// Rules for logout tokens from `issuer` to `client_id`, signed with `algorithm`, checked
    /// at `now` (Unix seconds), with the default leeway and no extra trusted audience.
    pub fn new(
        issuer: IssuerRule,
        client_id: impl Into<String>,
        algorithm: VerificationAlgorithm,
        now: u64,
    ) -> Self {
        Self {
            issuer,
            client_id: client_id.into(),
            trusted_audiences: Vec::new(),
            algorithm,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            now,
        }
    }
}

/// The claims of a validated logout token (Back-Channel Logout 1.0 §2.4). At least one of
/// `sid` and `sub` is present.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogoutTokenClaims {
    /// `iss`: the issuer.
    pub iss: String,
    /// `sub`: the subject whose sessions end when there is no `sid` (§2.7).
    pub sub: Option<String>,
    /// `sid`: the provider session whose sessions at this client end (§2.7).
    pub sid: Option<String>,
    /// `jti`: the token's unique id, for replay detection (§2.6 step 9).
    pub jti: String,
    /// `iat`: issue time, Unix seconds.
    pub iat: u64,
    /// `exp`: expiry, Unix seconds, when the token has one.
    pub exp: Option<u64>,
    /// The time, Unix seconds, from which the token is refused whatever else holds: `exp` plus
    /// the leeway, or `iat` plus one hour plus the leeway, whichever is
    /// sooner. Remembering its `jti` until then is enough to refuse every replay.
    pub accept_until: u64,
}

/// Validates a logout token (Back-Channel Logout 1.0 §2.6) against `rules`, with the issuer's
/// signature keys `keys` and a signature backend `verifier`, and returns its claims.
///
/// Order: parse, `alg`, key, signature (steps 2–3, as an ID token); the header's `typ` is
/// absent, `JWT` or `logout+jwt` (§2.4; any other explicit type, e.g. `at+jwt`, is another
/// kind of token); string claim bounds (the ID token's, plus `sid` and `jti`); `iss`, `aud` /
/// `azp` (step 3); `iat` required, not in the future and at most
/// one hour (`MAX_LOGOUT_TOKEN_AGE_SECS`) plus the leeway old, `exp` (when present) not past, `nbf` (when
/// present) not in the future; then the logout rules: `events` is an object whose member
/// [`BACKCHANNEL_LOGOUT_EVENT`] is an object (step 5), no `nonce` (step 7, so that an ID token
/// can never pass for a logout token), `sub` and/or `sid` (step 6), `jti` (§2.4).
///
/// # Errors
/// [`Error::InvalidToken`] with the rule that failed: [`TokenError::Malformed`] /
/// [`TokenError::TooLarge`], [`TokenError::AlgorithmNotAllowed`], [`TokenError::UnknownKey`],
/// [`TokenError::UnusableKey`], [`TokenError::BadSignature`], [`TokenError::TokenType`],
/// [`TokenError::ClaimValue`], [`TokenError::Issuer`], [`TokenError::TenantNotAllowed`],
/// [`TokenError::Audience`], [`TokenError::AuthorizedParty`], [`TokenError::MissingClaim`]
/// (`iat`, `events`, `sid` when neither `sid` nor `sub` is present, `jti`),
/// [`TokenError::IssuedInFuture`], [`TokenError::IssuedTooLongAgo`], [`TokenError::Expired`],
/// [`TokenError::NotYetValid`], [`TokenError::Nonce`] (a `nonce` is present).
/// [`Error::Configuration`] for an empty `client_id`; [`Error::Platform`] when the verifier
/// backend fails.
pub async fn validate_logout_token(
    token: &LogoutToken,
    rules: &LogoutTokenValidation,
    keys: &JwkSet,
    verifier: &dyn JwsVerifier,
) -> Result<LogoutTokenClaims, Error> {
    if rules.client_id.is_empty() {
        return Err(Error::configuration("the logout token client_id is empty"));
    }
    let claims =
        verify_signed_token(token.expose_secret(), rules.algorithm, keys, verifier).await?;
    if let Some(typ) = header_typ(token.expose_secret())? {
        if is_explicitly_typed(&typ) && !is_logout_typ(&typ) {
            return Err(TokenError::TokenType.into());
        }
    }
    check_claim_bounds(&claims, CLAIM_BOUNDS)?;
    check_claim_bounds(&claims, LOGOUT_CLAIM_BOUNDS)?;
    rules.issuer.check(&claims)?;
    check_client_audience(&claims, &rules.client_id, &rules.trusted_audiences)?;
    let (iat, exp, accept_until) = check_times(&claims, rules)?;
    check_logout_claims(&claims)?;
    let text = |name| optional_string(&claims, name).map(|v| v.map(String::from));
    Ok(LogoutTokenClaims {
        iss: required_string(&claims, "iss")?.to_string(),
        sub: text("sub")?.filter(|sub| !sub.is_empty()),
        sid: text("sid")?.filter(|sid| !sid.is_empty()),
        jti: required_string(&claims, "jti")?.to_string(),
        iat,
        exp,
        accept_until,
    })
}

/// `logout+jwt` or `application/logout+jwt`, case-insensitive.
fn is_logout_typ(typ: &str) -> bool {
    let media = typ
        .get(..12)
        .filter(|prefix| prefix.eq_ignore_ascii_case("application/"))
        .map_or(typ, |_| &typ[12..]);
    media.eq_ignore_ascii_case(LOGOUT_TYP)
}

/// The time rules (RFC 7519 §4.1.4–4.1.6 with `iat` required, Back-Channel Logout 1.0 §2.4,
/// `exp` optional as in its drafts): returns `iat`, `exp` and when the token stops being
/// acceptable (see [`LogoutTokenClaims::accept_until`]).
fn check_times(
    claims: &Map<String, Value>,
    rules: &LogoutTokenValidation,
) -> Result<(u64, Option<u64>, u64), TokenError> {
    let leeway = rules.leeway_secs.min(MAX_LEEWAY_SECS);
    let now = rules.now;
    let iat = numeric_date(claims, "iat")?.ok_or(TokenError::MissingClaim("iat"))?;
    let exp = numeric_date(claims, "exp")?;
    let nbf = numeric_date(claims, "nbf")?;
    let latest = now.saturating_add(leeway);
    if iat > latest {
        return Err(TokenError::IssuedInFuture);
    }
    let by_age = iat
        .saturating_add(MAX_LOGOUT_TOKEN_AGE_SECS)
        .saturating_add(leeway);
    let by_exp = exp.map_or(u64::MAX, |exp| exp.saturating_add(leeway));
    if now >= by_exp {
        return Err(TokenError::Expired);
    }
    if now >= by_age {
        return Err(TokenError::IssuedTooLongAgo);
    }
    if nbf.is_some_and(|nbf| nbf > latest) {
        return Err(TokenError::NotYetValid);
    }
    Ok((iat, exp, by_age.min(by_exp)))
}

/// Back-Channel Logout 1.0 §2.6 steps 4–7 and §2.4's `jti`.
fn check_logout_claims(claims: &Map<String, Value>) -> Result<(), TokenError> {
    let is_logout_event = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|events| events.get(BACKCHANNEL_LOGOUT_EVENT))
        .is_some_and(Value::is_object);
    if !is_logout_event {
        return Err(TokenError::MissingClaim("events"));
    }
    if claims.contains_key("nonce") {
        return Err(TokenError::Nonce);
    }
    let sub = optional_string(claims, "sub")?.filter(|sub| !sub.is_empty());
    let sid = optional_string(claims, "sid")?.filter(|sid| !sid.is_empty());
    if sub.is_none() && sid.is_none() {
        return Err(TokenError::MissingClaim("sid"));
    }
    required_string(claims, "jti")?;
    Ok(())
}

#[cfg(all(test, feature = "rustcrypto"))]
mod tests;
