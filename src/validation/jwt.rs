//! Received tokens: compact JWS parsing (RFC 7515 §7.1) and the claim rules shared by every JWT
//! edge-token accepts (RFC 7519 §4.1, §7.2): time (`exp`, `nbf`, `iat`), issuer and audience.
//!
//! [`UnverifiedToken::parse`] only decodes: it checks the shape and size, never a signature.
//! [`crate::validation::id_token::validate_id_token`] combines it with a key from [`crate::validation::jwks`] and a
//! [`crate::validation::verifier::JwsVerifier`]; bearer access-token validation reuses the same pieces.
//!
//! Keys are never taken from the token: `jwk`, `jku`, `x5u` and `x5c` header members are ignored,
//! and the algorithm is the caller's configuration, compared with `alg` but never chosen by it.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

use crate::error::Error;
pub(crate) use crate::error::TokenError;
use crate::protocol::json::strict_object;

/// The longest compact token accepted, in bytes (16 KiB). Entra ID tokens are 1–3 KiB and switch
/// to a groups overage claim well below this; a longer token is refused as
/// [`TokenError::TooLarge`] before any decoding.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The default clock-skew allowance for time claims, in seconds (5 minutes, as
/// Microsoft.Identity.Web's `ClockSkew`).
pub(crate) const DEFAULT_LEEWAY_SECS: u64 = 300;

/// The largest leeway honoured, in seconds: a larger configured value is clamped to this, so a
/// configuration mistake cannot make expired tokens acceptable for long.
pub(crate) const MAX_LEEWAY_SECS: u64 = 300;

/// The JOSE header members edge-token reads (RFC 7515 §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JoseHeader {
    /// `alg`, exactly as sent (e.g. `RS256`, or `none` from an attacker).
    pub alg: String,
    /// `kid`: which key of the issuer's JWKS signed it.
    pub kid: Option<String>,
    /// `typ`: e.g. `JWT`, or `at+jwt` for RFC 9068 access tokens.
    pub typ: Option<String>,
}

/// A compact JWS decoded but **not verified**: nothing in it may be trusted before its
/// signature and claims are checked.
///
/// `Debug` shows the header, the claims and the signature's length, never the token itself.
#[derive(Clone, PartialEq, Eq)]
pub struct UnverifiedToken {
    header: JoseHeader,
    claims: Map<String, Value>,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

impl UnverifiedToken {
    /// Decodes `token`, a compact JWS (RFC 7515 §7.1): `BASE64URL(header) '.' BASE64URL(payload)
    /// '.' BASE64URL(signature)`, base64url without padding (RFC 7515 §2), header and payload
    /// JSON objects (RFC 7519 §7.2 steps 1–10, without the signature). The signature may be empty
    /// (as in `alg: none` tokens); the algorithm check refuses those later.
    ///
    /// # Errors
    /// [`TokenError::TooLarge`] above [`MAX_TOKEN_BYTES`]; [`TokenError::Malformed`] for any other
    /// shape problem (not three parts, bad base64url, non-object JSON, a member name repeated in
    /// the header or the claims at any depth, no string `alg`, a non-string `kid` / `typ`, a
    /// `crit` member).
    pub fn parse(token: &str) -> Result<Self, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge {
                limit: MAX_TOKEN_BYTES,
            });
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header = json_object_part(header_b64)?;
        let claims = json_object_part(payload_b64)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| TokenError::Malformed)?;

        if header.contains_key("crit") {
            return Err(TokenError::Malformed);
        }
        let alg = match header.get("alg") {
            Some(Value::String(alg)) => alg.clone(),
            _ => return Err(TokenError::Malformed),
        };
        let optional = |name: &str| match header.get(name) {
            None => Ok(None),
            Some(Value::String(value)) => Ok(Some(value.clone())),
            Some(_) => Err(TokenError::Malformed),
        };
        let header = JoseHeader {
            alg,
            kid: optional("kid")?,
            typ: optional("typ")?,
        };
        let signing_input = token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()].to_vec();
        Ok(Self {
            header,
            claims,
            signing_input,
            signature,
        })
    }

    /// The decoded JOSE header.
    pub fn header(&self) -> &JoseHeader {
        &self.header
    }

    /// The claims (the payload's members), unverified.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The JWS signing input (RFC 7515 §5.2 step 8): the first two parts and the dot between
    /// them, as sent.
    pub fn signing_input(&self) -> &[u8] {
        &self.signing_input
    }

    /// The decoded signature bytes (empty for an unsigned token).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The claims, consuming the token.
    pub fn into_claims(self) -> Map<String, Value> {
        self.claims
    }
}

impl fmt::Debug for UnverifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnverifiedToken")
            .field("header", &self.header)
            .field("claims", &self.claims)
            .field("signature_len", &self.signature.len())
            .finish()
    }
}

fn json_object_part(part: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)?;
    // Strict: a member named twice (`{"alg":"RS256","alg":"none"}`, two `sub`) is refused,
    // RFC 7515 §5.2 step 4 and RFC 7519 §7.2 step 10, not resolved as "the last one wins".
    strict_object(&bytes).map_err(|_| TokenError::Malformed)
}

/// What the issuer must be (RFC 7519 §4.1.1, OIDC Core §3.1.3.7 step 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerRule {
    /// `iss` equals this string exactly (no normalization: a trailing `/` matters).
    Exact(String),
    /// Entra multi-tenant apps (`common`, `organizations` authorities): the token's `tid` (a
    /// tenant id: ASCII letters, digits and `-`) replaces `{tenantid}` in `template` (e.g.
    /// `https://login.microsoftonline.com/{tenantid}/v2.0`), and `iss` must equal the result
    /// exactly. Then, when `allowed_tenants` is a non-empty list, `tid` must be one of them.
    EntraTemplate {
        /// The issuer with a `{tenantid}` placeholder.
        template: String,
        /// Tenant ids accepted; `None` or an empty list accepts every tenant.
        allowed_tenants: Option<Vec<String>>,
    },
}

/// The placeholder [`IssuerRule::EntraTemplate`] replaces with the token's `tid`.
pub(crate) const TENANT_PLACEHOLDER: &str = "{tenantid}";

impl IssuerRule {
    /// Checks `iss` (and, for [`IssuerRule::EntraTemplate`], `tid`) in `claims`.
    ///
    /// # Errors
    /// [`Error::InvalidToken`] with [`TokenError::MissingClaim`] (`iss`, or `tid` under a
    /// template), [`TokenError::Issuer`] or [`TokenError::TenantNotAllowed`];
    /// [`Error::Configuration`] when a template lacks `{tenantid}`.
    pub fn check(&self, claims: &Map<String, Value>) -> Result<(), Error> {
        let iss = required_string(claims, "iss")?;
        match self {
            Self::Exact(expected) => {
                if iss != expected {
                    return Err(TokenError::Issuer.into());
                }
            }
            Self::EntraTemplate {
                template,
                allowed_tenants,
            } => {
                if !template.contains(TENANT_PLACEHOLDER) {
                    return Err(Error::configuration(
                        "the issuer template has no {tenantid} placeholder",
                    ));
                }
                let tid = required_string(claims, "tid")?;
                let is_id = tid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
                if !is_id || template.replace(TENANT_PLACEHOLDER, tid) != iss {
                    return Err(TokenError::Issuer.into());
                }
                if let Some(allowed) = allowed_tenants {
                    if !allowed.is_empty() && !allowed.iter().any(|t| t == tid) {
                        return Err(TokenError::TenantNotAllowed.into());
                    }
                }
            }
        }
        Ok(())
    }
}

/// The time claims of a token that passed [`check_times`], Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) struct TimeClaims {
    /// `exp` (RFC 7519 §4.1.4).
    pub exp: u64,
    /// `iat` (RFC 7519 §4.1.6).
    pub iat: Option<u64>,
    /// `nbf` (RFC 7519 §4.1.5).
    pub nbf: Option<u64>,
}

/// Checks the time claims at `now` (Unix seconds) with `leeway_secs` of clock skew, clamped to
/// [`MAX_LEEWAY_SECS`]:
/// - `exp` is required and must be after `now - leeway` (RFC 7519 §4.1.4);
/// - `nbf`, when present, must be at or before `now + leeway` (§4.1.5);
/// - `iat` is required when `require_iat` (OIDC Core §2) and, when present, must be at or
///   before `now + leeway` (§4.1.6).
///
/// Values are NumericDates (RFC 7519 §2): non-negative JSON numbers; a fraction is truncated.
///
/// # Errors
/// [`TokenError::MissingClaim`] for a missing or non-numeric required claim (or a non-numeric
/// optional one), then [`TokenError::Expired`], [`TokenError::NotYetValid`],
/// [`TokenError::IssuedInFuture`].
pub(crate) fn check_times(
    claims: &Map<String, Value>,
    now: u64,
    leeway_secs: u64,
    require_iat: bool,
) -> Result<TimeClaims, TokenError> {
    let leeway = leeway_secs.min(MAX_LEEWAY_SECS);
    let exp = numeric_date(claims, "exp")?.ok_or(TokenError::MissingClaim("exp"))?;
    let iat = numeric_date(claims, "iat")?;
    if require_iat && iat.is_none() {
        return Err(TokenError::MissingClaim("iat"));
    }
    let nbf = numeric_date(claims, "nbf")?;
    if now >= exp.saturating_add(leeway) {
        return Err(TokenError::Expired);
    }
    let latest = now.saturating_add(leeway);
    if nbf.is_some_and(|nbf| nbf > latest) {
        return Err(TokenError::NotYetValid);
    }
    if iat.is_some_and(|iat| iat > latest) {
        return Err(TokenError::IssuedInFuture);
    }
    Ok(TimeClaims { exp, iat, nbf })
}

/// A NumericDate claim (RFC 7519 §2) in whole Unix seconds, `None` when absent.
///
/// # Errors
/// [`TokenError::MissingClaim`] naming the claim when it is not a non-negative number.
pub(crate) fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<u64>, TokenError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    if let Some(seconds) = value.as_u64() {
        return Ok(Some(seconds));
    }
    match value.as_f64() {
        // `as` truncates and saturates; the range check keeps out negatives, NaN and infinities.
        Some(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok(Some(seconds as u64)),
        _ => Err(TokenError::MissingClaim(name)),
    }
}

/// The audiences of `aud` (RFC 7519 §4.1.3): one string or an array of strings.
///
/// # Errors
/// [`TokenError::MissingClaim`]`("aud")` when it is missing, empty or not string(s).
pub(crate) fn audiences(claims: &Map<String, Value>) -> Result<Vec<String>, TokenError> {
    let missing = TokenError::MissingClaim("aud");
    let audiences: Vec<String> = match claims.get("aud") {
        Some(Value::String(one)) => alloc::vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .map(|aud| aud.as_str().map(String::from).ok_or(missing))
            .collect::<Result<_, _>>()?,
        _ => return Err(missing),
    };
    if audiences.is_empty() || audiences.iter().any(String::is_empty) {
        return Err(missing);
    }
    Ok(audiences)
}

/// A string claim, `None` when absent.
///
/// # Errors
/// [`TokenError::MissingClaim`] naming the claim when it is present but not a string.
pub(crate) fn optional_string<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, TokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(TokenError::MissingClaim(name)),
    }
}

/// A required, non-empty string claim.
///
/// # Errors
/// [`TokenError::MissingClaim`] naming the claim when it is absent, empty or not a string.
pub(crate) fn required_string<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, TokenError> {
    match optional_string(claims, name)? {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(TokenError::MissingClaim(name)),
    }
}

/// The longest `sub` accepted, in characters, all printable ASCII: "It MUST NOT exceed 255
/// ASCII characters in length" (OIDC Core §2). Entra's are 43 base64url characters.
pub(crate) const MAX_SUB_CHARS: usize = 255;

/// The longest URI-valued string claim accepted (`iss`, each `aud`), in bytes. Issuers and
/// Entra App ID URIs are well under 200 bytes; 2048 is the usual practical URL limit.
pub(crate) const MAX_URI_CLAIM_BYTES: usize = 2048;

/// The longest identifier claim accepted (`azp`, `appid`, `client_id`, `tid`, `oid`, `nonce`,
/// `at_hash`, each role), in bytes. Entra ids are 36-byte GUIDs, edge-token's nonces 43 bytes,
/// an `at_hash` at most 43 bytes (half of SHA-512, base64url).
pub(crate) const MAX_ID_CLAIM_BYTES: usize = 256;

/// The longest display claim accepted (`name`, `preferred_username`, `email`), in bytes: four
/// times RFC 5321's 254-byte address limit, room for any display name.
pub(crate) const MAX_TEXT_CLAIM_BYTES: usize = 1024;

/// The longest space-separated scope list accepted (`scp`, `scope`, RFC 9068 §2.2.3), in
/// bytes: half of [`MAX_TOKEN_BYTES`], far above the scopes a token request can name.
pub(crate) const MAX_SCOPE_CLAIM_BYTES: usize = 8 * 1024;

/// The bound on one string claim, applied by [`check_claim_bounds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClaimBound {
    /// The claim's name.
    pub name: &'static str,
    /// The longest value accepted, in bytes (for `sub`, printable ASCII, so also characters).
    pub max_bytes: usize,
    /// `true` when the value must be printable ASCII (`0x20..=0x7E`), as `sub` (OIDC Core §2).
    pub printable_ascii: bool,
}

const fn bound(name: &'static str, max_bytes: usize) -> ClaimBound {
    ClaimBound {
        name,
        max_bytes,
        printable_ascii: false,
    }
}

/// The string claims ID tokens and access tokens are read for, with their bounds. A string
/// claim, or each string of an array claim (`aud`, `roles`), longer than its bound is refused
/// as [`TokenError::ClaimValue`]; other claims are kept as sent, bounded only by
/// [`MAX_TOKEN_BYTES`].
pub(crate) const CLAIM_BOUNDS: &[ClaimBound] = &[
    ClaimBound {
        name: "sub",
        max_bytes: MAX_SUB_CHARS,
        printable_ascii: true,
    },
    bound("iss", MAX_URI_CLAIM_BYTES),
    bound("aud", MAX_URI_CLAIM_BYTES),
    bound("azp", MAX_ID_CLAIM_BYTES),
    bound("appid", MAX_ID_CLAIM_BYTES),
    bound("client_id", MAX_ID_CLAIM_BYTES),
    bound("tid", MAX_ID_CLAIM_BYTES),
    bound("oid", MAX_ID_CLAIM_BYTES),
    bound("nonce", MAX_ID_CLAIM_BYTES),
    bound("at_hash", MAX_ID_CLAIM_BYTES),
    bound("roles", MAX_ID_CLAIM_BYTES),
    bound("name", MAX_TEXT_CLAIM_BYTES),
    bound("preferred_username", MAX_TEXT_CLAIM_BYTES),
    bound("email", MAX_TEXT_CLAIM_BYTES),
    bound("scp", MAX_SCOPE_CLAIM_BYTES),
    bound("scope", MAX_SCOPE_CLAIM_BYTES),
];

/// Checks every claim named in `bounds` that is a string, or an array holding strings, against
/// its bound. Types are left to the rule that reads the claim (a number `sub` is still
/// [`TokenError::MissingClaim`] there).
///
/// # Errors
/// [`TokenError::ClaimValue`] naming the first claim out of bounds.
pub(crate) fn check_claim_bounds(
    claims: &Map<String, Value>,
    bounds: &[ClaimBound],
) -> Result<(), TokenError> {
    let fits = |bound: &ClaimBound, value: &Value| match value {
        Value::String(text) => {
            text.len() <= bound.max_bytes
                && (!bound.printable_ascii || text.bytes().all(|b| (0x20..=0x7e).contains(&b)))
        }
        _ => true,
    };
    for bound in bounds {
        let ok = match claims.get(bound.name) {
            None => true,
            Some(Value::Array(values)) => values.iter().all(|value| fits(bound, value)),
            Some(value) => fits(bound, value),
        };
        if !ok {
            return Err(TokenError::ClaimValue(bound.name));
        }
    }
    Ok(())
}

/// `true` for an explicitly typed JWT (RFC 8725 §3.11): a `typ` whose media type ends in
/// `+jwt` (`at+jwt`, `logout+jwt`, `dpop+jwt`, `secevent+jwt`...), with or without the
/// `application/` prefix, case-insensitive. Such a token is of another kind than an ID token,
/// which has no explicit type (OIDC Core §2).
pub(crate) fn is_explicitly_typed(typ: &str) -> bool {
    let media = strip_application(typ);
    media.len() > 4
        && media
            .get(media.len() - 4..)
            .is_some_and(|suffix| suffix.eq_ignore_ascii_case("+jwt"))
}

fn strip_application(typ: &str) -> &str {
    const PREFIX: &str = "application/";
    match typ.get(..PREFIX.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(PREFIX) => &typ[PREFIX.len()..],
        _ => typ,
    }
}

/// The `typ` of `token`'s JOSE header (RFC 7515 §4.1.9), decoded again after
/// [`crate::validation::verifier::verify_signed_token`] verified the token.
///
/// # Errors
/// As [`UnverifiedToken::parse`].
pub(crate) fn header_typ(token: &str) -> Result<Option<String>, TokenError> {
    Ok(UnverifiedToken::parse(token)?.header.typ)
}

#[cfg(test)]
mod tests;
