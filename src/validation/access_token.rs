//! Validation of the access tokens a web API receives (the equivalent of ASP.NET Core's
//! JwtBearer handler with Microsoft.Identity.Web): JWT access tokens (RFC 9068, Microsoft
//! identity platform "access tokens") checked for signature, issuer, audience and time, then
//! for the delegated scopes (`scp`) or app roles (`roles`) an endpoint requires.
//!
//! [`validate_access_token`] runs, in order: parse → `alg` equals the configured algorithm →
//! key by `kid` → signature → `typ`, when present, is an access token's
//! (`ACCESS_TOKEN_TYPES`) → string claim bounds (`crate::validation::jwt::CLAIM_BOUNDS`) →
//! `iss` (one of the accepted issuers: Entra v2
//! `https://login.microsoftonline.com/{tid}/v2.0` and v1 `https://sts.windows.net/{tid}/`, see
//! [`entra_issuers`]) → `aud` (one of the API's audiences: its client id or App ID URI) →
//! `exp` / `nbf` with bounded leeway. [`RequiredPermissions::check`] then decides between 200
//! and 403 (RFC 6750 §3.1 `insufficient_scope`).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::secret::AccessToken;
use crate::validation::jwks::JwkSet;
use crate::validation::jwt::{
    audiences, check_claim_bounds, check_times, header_typ, optional_string, required_string,
    IssuerRule, TokenError, CLAIM_BOUNDS, DEFAULT_LEEWAY_SECS, TENANT_PLACEHOLDER,
};

use crate::validation::verifier::{verify_signed_token, JwsVerifier, VerificationAlgorithm};

/// The JOSE header `typ` values accepted on an access token, compared case-insensitively: `JWT`
/// (what Entra v1 and v2 access tokens carry) and RFC 9068 §2.1's `at+jwt`, also in its full
/// media type form `application/at+jwt` (RFC 7515 §4.1.9). A token without `typ` is accepted
/// (RFC 9068 §4 step 1 requires `at+jwt`, but Entra and most providers do not send it); a token
/// explicitly typed as something else (RFC 8725 §3.11: e.g. `logout+jwt`, `dpop+jwt`, or an ID
/// token typed `id_token+jwt`) is refused.
pub(crate) const ACCESS_TOKEN_TYPES: [&str; 3] = ["JWT", "at+jwt", "application/at+jwt"];

/// What an incoming access token must satisfy. Build it with [`AccessTokenValidation::new`],
/// then adjust the public fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessTokenValidation {
    /// The accepted issuers: the token's `iss` must satisfy one (RFC 9068 §4 step 3).
    pub issuers: Vec<IssuerRule>,
    /// The accepted audiences: one of them must be in `aud` (RFC 9068 §4 step 4). On Entra, the
    /// API's client id (v2 tokens) and App ID URI (v1 tokens, or v2 when requested so).
    pub audiences: Vec<String>,
    /// The signing algorithm: a token whose `alg` differs is refused (RFC 9068 §4 step 6;
    /// Entra signs access tokens with RS256; other issuers may use PS256 or ES256).
    pub algorithm: VerificationAlgorithm,
    /// Clock skew allowed on `exp` and `nbf`, in seconds; clamped to
    /// `crate::validation::jwt::MAX_LEEWAY_SECS`. Default `DEFAULT_LEEWAY_SECS` (300).
    pub leeway_secs: u64,
    /// The current time, Unix seconds.
    pub now: u64,
}

impl AccessTokenValidation {
    /// Rules for tokens from any of `issuers`, for any of `audiences`, signed with `algorithm`,
    /// checked at `now` (Unix seconds) with the default leeway.
    pub fn new(
        issuers: Vec<IssuerRule>,
        audiences: Vec<String>,
        algorithm: VerificationAlgorithm,
        now: u64,
    ) -> Self {
        Self {
            issuers,
            audiences,
            algorithm,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            now,
        }
    }
}

/// The accepted issuers of an Entra tenant (or, with `{tenantid}`, of any tenant) whose v2.0
/// discovery document names `v2_issuer`: that issuer (v2 tokens) and its v1 counterpart (v1
/// tokens, the default for APIs whose manifest keeps `accessTokenAcceptedVersion` null):
/// `https://sts.windows.net/{tid}/` on the public cloud, `https://{host}/{tid}/` on national
/// clouds (Microsoft identity platform "access tokens", "national clouds"). A `v2_issuer` that
/// is not an Entra v2 issuer (`https://{host}/{tenant}/v2.0`) is accepted exactly, alone.
///
/// With a `{tenantid}` placeholder the rules are [`IssuerRule::EntraTemplate`] with
/// `allowed_tenants`, else [`IssuerRule::Exact`].
pub(crate) fn entra_issuers(v2_issuer: &str, allowed_tenants: &[String]) -> Vec<IssuerRule> {
    let rule = |issuer: String| {
        if issuer.contains(TENANT_PLACEHOLDER) {
            IssuerRule::EntraTemplate {
                template: issuer,
                allowed_tenants: Some(allowed_tenants.to_vec()),
            }
        } else {
            IssuerRule::Exact(issuer)
        }
    };
    let mut rules = Vec::from([rule(v2_issuer.to_string())]);
    let v1 = v2_issuer
        .strip_prefix("https://")
        .and_then(|rest| rest.strip_suffix("/v2.0"))
        .and_then(|rest| rest.split_once('/'))
        .filter(|(_, tenant)| !tenant.is_empty() && !tenant.contains('/'))
        .map(|(host, tenant)| {
            let v1_host = match host {
                "login.microsoftonline.com" => "sts.windows.net",
                "login.chinacloudapi.cn" => "sts.chinacloudapi.cn",
                other => other,
            };
            alloc::format!("https://{v1_host}/{tenant}/")
        });
    if let Some(v1) = v1 {
        rules.push(rule(v1));
    }
    rules
}

/// The claims of a validated access token (RFC 9068 §2.2, Microsoft identity platform "access
/// token claims reference"). Not secrets: `Debug` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessTokenClaims {
    /// `iss`.
    pub iss: String,
    /// `sub`: the user (delegated tokens) or the calling app's service principal (app tokens).
    pub sub: String,
    /// `aud`.
    pub aud: Vec<String>,
    /// `exp`, Unix seconds.
    pub exp: u64,
    /// Delegated scopes: `scp` (Entra) or `scope` (RFC 9068 §2.2.3), space-separated; empty for
    /// app-only tokens.
    pub scopes: Vec<String>,
    /// App roles (`roles`, RFC 7643 via RFC 9068 §2.2.3.1): permissions granted to the calling
    /// app (app-only tokens) or to the user.
    pub roles: Vec<String>,
    /// `tid` (Entra): the tenant.
    pub tid: Option<String>,
    /// `oid` (Entra): the user's or service principal's object id.
    pub oid: Option<String>,
    /// The calling client: `azp` (v2), `appid` (v1) or `client_id` (RFC 9068).
    pub client_id: Option<String>,
    /// Every claim, as sent.
    pub all: Map<String, Value>,
}

impl AccessTokenClaims {
    /// `true` for a token issued to a user (it carries delegated scopes), `false` for an
    /// app-only token.
    pub fn is_delegated(&self) -> bool {
        !self.scopes.is_empty()
    }

    /// `true` for an app-only token: a daemon calling with its own identity (client
    /// credentials), never a user. Entra says so in `idtyp` (`app`; `user` for a user) when the
    /// app asks for that optional claim; otherwise an app-only token has app roles (`roles`),
    /// no delegated scopes, and names the calling app's service principal as both `oid` and
    /// `sub` (Microsoft identity platform "Protected web API: verify scopes and app roles",
    /// "access token claims reference"), or, without `oid` (RFC 9068 §2.2), the client itself
    /// as `sub`.
    pub fn is_app_only(&self) -> bool {
        match self.all.get("idtyp").and_then(Value::as_str) {
            Some(idtyp) => idtyp == "app",
            None => {
                let own_subject = match &self.oid {
                    Some(oid) => *oid == self.sub,
                    None => self.client_id.as_deref() == Some(self.sub.as_str()),
                };
                self.scopes.is_empty() && !self.roles.is_empty() && own_subject
            }
        }
    }
}

/// Validates a bearer access token against `rules`, with the issuer's signature keys `keys` and
/// a signature backend `verifier`, and returns its claims.
///
/// # Errors
/// [`Error::InvalidToken`] with the rule that failed ([`TokenError::Malformed`],
/// [`TokenError::TooLarge`], [`TokenError::AlgorithmNotAllowed`], [`TokenError::UnknownKey`],
/// [`TokenError::UnusableKey`], [`TokenError::BadSignature`], [`TokenError::Issuer`],
/// [`TokenError::TenantNotAllowed`], [`TokenError::Audience`], [`TokenError::Expired`],
/// [`TokenError::NotYetValid`], [`TokenError::MissingClaim`], [`TokenError::TokenType`] for a
/// `typ` outside `ACCESS_TOKEN_TYPES`, [`TokenError::ClaimValue`] for a string claim over its
/// bound, e.g. a `sub` over 255 ASCII characters); [`Error::Configuration`] when
/// `rules` has no issuer or no audience; [`Error::Platform`] when the verifier fails.
pub async fn validate_access_token(
    token: &AccessToken,
    rules: &AccessTokenValidation,
    keys: &JwkSet,
    verifier: &dyn JwsVerifier,
) -> Result<AccessTokenClaims, Error> {
    if rules.issuers.is_empty() || rules.audiences.iter().all(String::is_empty) {
        return Err(Error::configuration(
            "access token validation needs an issuer and an audience",
        ));
    }
    let claims =
        verify_signed_token(token.expose_secret(), rules.algorithm, keys, verifier).await?;
    if let Some(typ) = header_typ(token.expose_secret())? {
        if !ACCESS_TOKEN_TYPES
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&typ))
        {
            return Err(TokenError::TokenType.into());
        }
    }
    check_claim_bounds(&claims, CLAIM_BOUNDS)?;
    check_claims(claims, rules)
}

fn check_claims(
    claims: Map<String, Value>,
    rules: &AccessTokenValidation,
) -> Result<AccessTokenClaims, Error> {
    // The error of the last rule tried: with one rule, exactly its error.
    let mut issuer = Err(Error::from(TokenError::Issuer));
    for rule in &rules.issuers {
        issuer = rule.check(&claims);
        if issuer.is_ok() {
            break;
        }
    }
    issuer?;
    let aud = audiences(&claims)?;
    if !aud.iter().any(|a| rules.audiences.contains(a)) {
        return Err(TokenError::Audience.into());
    }
    let times = check_times(&claims, rules.now, rules.leeway_secs, false)?;
    let text = |name| optional_string(&claims, name).map(|v| v.map(String::from));
    let scopes = match (text("scp")?, text("scope")?) {
        (Some(scp), _) | (None, Some(scp)) => scp
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        (None, None) => Vec::new(),
    };
    let roles = match claims.get("roles") {
        None => Vec::new(),
        Some(Value::Array(roles)) => roles
            .iter()
            .map(|r| r.as_str().map(String::from))
            .collect::<Option<Vec<_>>>()
            .ok_or(TokenError::MissingClaim("roles"))?,
        Some(_) => return Err(TokenError::MissingClaim("roles").into()),
    };
    let client_id = match text("azp")? {
        Some(azp) => Some(azp),
        None => match text("appid")? {
            Some(appid) => Some(appid),
            None => text("client_id")?,
        },
    };
    Ok(AccessTokenClaims {
        iss: required_string(&claims, "iss")?.to_string(),
        sub: required_string(&claims, "sub")?.to_string(),
        aud,
        exp: times.exp,
        scopes,
        roles,
        tid: text("tid")?,
        oid: text("oid")?,
        client_id,
        all: claims,
    })
}

/// The permissions an endpoint requires (Microsoft.Identity.Web's
/// `RequiredScopeOrAppPermission`): the token passes when it carries **any** of `scopes` in
/// its delegated scopes or **any** of `roles` in its app roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequiredPermissions {
    /// Delegated scopes, short names as in `scp` (e.g. `access_as_user`).
    pub scopes: Vec<String>,
    /// App roles (e.g. `Profile.Read.All`).
    pub roles: Vec<String>,
}

impl RequiredPermissions {
    /// Requires any of `scopes` or any of `roles`.
    pub fn new(scopes: Vec<String>, roles: Vec<String>) -> Self {
        Self { scopes, roles }
    }

    /// `true` when nothing is required (a configuration that should not reach production: the
    /// web API's configuration refuses it).
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty() && self.roles.is_empty()
    }

    /// Checks `claims`.
    ///
    /// # Errors
    /// [`InsufficientScope`] naming what was required (for the `scope` of the 403 challenge,
    /// RFC 6750 §3.1).
    pub fn check(&self, claims: &AccessTokenClaims) -> Result<(), InsufficientScope> {
        let has_scope = self.scopes.iter().any(|s| claims.scopes.contains(s));
        let has_role = self.roles.iter().any(|r| claims.roles.contains(r));
        if self.is_empty() || has_scope || has_role {
            Ok(())
        } else {
            Err(InsufficientScope {
                required: self.scopes.iter().chain(&self.roles).cloned().collect(),
            })
        }
    }
}

/// A valid token without the required scope or role (RFC 6750 §3.1: HTTP 403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsufficientScope {
    /// Any one of these would do.
    pub required: Vec<String>,
}

#[cfg(all(test, feature = "rustcrypto"))]
mod tests;
