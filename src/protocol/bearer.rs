//! Bearer tokens on the wire (RFC 6750): the `Authorization: Bearer` credentials a web API
//! receives (§2.1), and the `WWW-Authenticate: Bearer` challenges it sends (§3) or receives
//! from a downstream API, including the Microsoft identity platform's claims challenges
//! (continuous access evaluation: `error="insufficient_claims", claims="<base64 JSON>"`).
//!
//! Challenges are parsed with the grammar of RFC 9110 §11.6.1 (`auth-scheme` then `token68` or
//! comma-separated `auth-param`s, values a `token` or a `quoted-string`), several challenges per
//! field value allowed.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use crate::secret::AccessToken;
use crate::validation::jwt::MAX_TOKEN_BYTES;

/// Why an `Authorization` header carries no usable bearer token (RFC 6750 §2.1, §3.1).
///
/// No variant holds any part of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialsError {
    /// No `Authorization` header: the answer is a challenge without an error code (§3.1).
    Missing,
    /// Another scheme (e.g. `Basic`), no token, more than one token, or characters outside
    /// `b64token`.
    Malformed,
    /// The token is longer than [`crate::validation::MAX_TOKEN_BYTES`].
    TooLarge,
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "no bearer token",
            Self::Malformed => "the Authorization header is not `Bearer <token>`",
            Self::TooLarge => "the bearer token is too long",
        })
    }
}

/// The bearer token of an `Authorization` header value (RFC 6750 §2.1: `credentials = "Bearer"
/// 1*SP b64token`, the scheme case-insensitive per RFC 9110 §11.1; surrounding whitespace is
/// not part of a field value, RFC 9110 §5.5).
///
/// Only the syntax is checked here: validate the token with `crate::validation::access_token`.
///
/// # Errors
/// [`CredentialsError::Missing`] for `None`; [`CredentialsError::TooLarge`] above
/// [`crate::validation::MAX_TOKEN_BYTES`]; [`CredentialsError::Malformed`] otherwise.
///
/// ```
/// use edge_token::protocol::{bearer_token, CredentialsError};
/// assert_eq!(bearer_token(Some("Bearer abc.def.ghi"))?.expose_secret(), "abc.def.ghi");
/// assert_eq!(bearer_token(None), Err(CredentialsError::Missing));
/// assert!(bearer_token(Some("Basic dXNlcg==")).is_err());
/// # Ok::<(), CredentialsError>(())
/// ```
pub fn bearer_token(authorization: Option<&str>) -> Result<AccessToken, CredentialsError> {
    let value = authorization.ok_or(CredentialsError::Missing)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(CredentialsError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(CredentialsError::Malformed);
    }
    let token = token.trim_start_matches(' ');
    if token.len() > MAX_TOKEN_BYTES {
        return Err(CredentialsError::TooLarge);
    }
    if !is_b64token(token) {
        return Err(CredentialsError::Malformed);
    }
    Ok(AccessToken::new(token))
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (RFC 6750 §2.1).
fn is_b64token(value: &str) -> bool {
    let body = value.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// The `error` codes of a bearer challenge (RFC 6750 §3.1, and the Microsoft identity
/// platform's `insufficient_claims` for claims challenges).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerErrorCode {
    /// `invalid_request`: malformed request (§3.1: HTTP 400).
    InvalidRequest,
    /// `invalid_token`: expired, revoked, malformed or otherwise invalid (§3.1: HTTP 401).
    InvalidToken,
    /// `insufficient_scope`: the token lacks the required scope (§3.1: HTTP 403).
    InsufficientScope,
    /// `insufficient_claims`: the token lacks claims the resource demands; the challenge's
    /// `claims` says which (Microsoft identity platform "claims challenges"; HTTP 401).
    InsufficientClaims,
}

impl BearerErrorCode {
    /// The code as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InsufficientClaims => "insufficient_claims",
        }
    }

    fn parse(code: &str) -> Option<Self> {
        [
            Self::InvalidRequest,
            Self::InvalidToken,
            Self::InsufficientScope,
            Self::InsufficientClaims,
        ]
        .into_iter()
        .find(|known| known.as_str() == code)
    }
}

/// A `WWW-Authenticate: Bearer` challenge (RFC 6750 §3). Every member is optional; `claims`
/// holds the decoded claims challenge (JSON text), base64-encoded on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BearerChallenge {
    /// `realm` (RFC 9110 §11.5).
    pub realm: Option<String>,
    /// `error`; unknown codes are dropped when parsing.
    pub error: Option<BearerErrorCode>,
    /// `error_description`: human-readable, never a secret.
    pub error_description: Option<String>,
    /// `scope`: the scopes needed (§3), space-separated.
    pub scope: Option<String>,
    /// `authorization_uri` (Microsoft identity platform): where the client gets a token.
    pub authorization_uri: Option<String>,
    /// `claims`: the claims challenge, decoded (JSON text, OIDC Core §5.5 claims request).
    pub claims: Option<String>,
}

impl BearerChallenge {
    /// A challenge with `error` and a fixed `error_description`.
    pub fn error(code: BearerErrorCode, description: impl Into<String>) -> Self {
        Self {
            error: Some(code),
            error_description: Some(description.into()),
            ..Self::default()
        }
    }

    /// The header value: `Bearer` then the present members as `name="value"` pairs separated
    /// by `, ` (RFC 6750 §3), in the order realm, error, error_description, scope,
    /// authorization_uri, claims. Values are quoted strings with `"` and `\` escaped;
    /// characters RFC 6750 §3 excludes from `error_description` and `scope` (outside
    /// `%x20-21 / %x23-5B / %x5D-7E`) are dropped; `claims` is standard base64 with padding, as
    /// the Microsoft identity platform sends it.
    pub fn to_header_value(&self) -> String {
        let mut value = String::from("Bearer");
        let mut first = true;
        let mut param = |name: &str, text: &str| {
            value.push_str(if first { " " } else { ", " });
            first = false;
            value.push_str(name);
            value.push_str("=\"");
            for c in text.chars().filter(|c| matches!(c, ' '..='~')) {
                if c == '"' || c == '\\' {
                    value.push('\\');
                }
                value.push(c);
            }
            value.push('"');
        };
        let restricted = |text: &str| -> String { text.replace(['"', '\\'], "") };
        if let Some(realm) = &self.realm {
            param("realm", realm);
        }
        if let Some(error) = self.error {
            param("error", error.as_str());
        }
        if let Some(description) = &self.error_description {
            param("error_description", &restricted(description));
        }
        if let Some(scope) = &self.scope {
            param("scope", &restricted(scope));
        }
        if let Some(uri) = &self.authorization_uri {
            param("authorization_uri", uri);
        }
        if let Some(claims) = &self.claims {
            param(
                "claims",
                &base64::engine::general_purpose::STANDARD.encode(claims),
            );
        }
        value
    }

    /// The first `Bearer` challenge of a `WWW-Authenticate` field value (RFC 9110 §11.6.1),
    /// `None` when there is none or the value does not parse. A `claims` that is not base64
    /// (standard or URL-safe, padding optional) of a JSON object is dropped.
    pub fn from_header_value(value: &str) -> Option<Self> {
        let challenge = parse_challenges(value)?
            .into_iter()
            .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))?;
        let mut bearer = Self::default();
        for (name, value) in challenge.params {
            match name.to_ascii_lowercase().as_str() {
                "realm" => bearer.realm = Some(value),
                "error" => bearer.error = BearerErrorCode::parse(&value),
                "error_description" => bearer.error_description = Some(value),
                "scope" => bearer.scope = Some(value),
                "authorization_uri" => bearer.authorization_uri = Some(value),
                "claims" => bearer.claims = decode_claims(&value),
                _ => {}
            }
        }
        Some(bearer)
    }
}

/// Base64 (either alphabet, padding optional) of a JSON object → the JSON text.
fn decode_claims(encoded: &str) -> Option<String> {
    let config = GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let bytes = [alphabet::STANDARD, alphabet::URL_SAFE]
        .iter()
        .find_map(|alphabet| GeneralPurpose::new(alphabet, config).decode(encoded).ok())?;
    let text = String::from_utf8(bytes).ok()?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(_)) => Some(text),
        _ => None,
    }
}

/// One challenge of a `WWW-Authenticate` field: the scheme and its `auth-param`s (names as
/// sent, values unquoted). A `token68` form is kept as no parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Challenge {
    scheme: String,
    params: Vec<(String, String)>,
}

/// `tchar` (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses `#challenge` (RFC 9110 §11.6.1); `None` on a syntax error.
fn parse_challenges(value: &str) -> Option<Vec<Challenge>> {
    let mut cursor = Cursor {
        bytes: value.as_bytes(),
        at: 0,
    };
    let mut challenges: Vec<Challenge> = Vec::new();
    loop {
        cursor.skip_list_separators();
        if cursor.done() {
            return Some(challenges);
        }
        let scheme = cursor.token()?;
        let mut challenge = Challenge {
            scheme,
            params: Vec::new(),
        };
        loop {
            cursor.skip_whitespace();
            let start = cursor.at;
            let Some(name) = cursor.token() else {
                // A token68 (e.g. `Basic dXNlcg==`) or nothing.
                cursor.skip_token68();
                break;
            };
            cursor.skip_whitespace();
            if !cursor.eat(b'=') {
                // The next challenge's scheme, or a token68 without padding.
                cursor.at = start;
                if challenge.params.is_empty() {
                    cursor.skip_token68();
                }
                break;
            }
            cursor.skip_whitespace();
            if cursor.peek() == Some(b'=') {
                // token68 ending in `=` after all.
                cursor.skip_token68();
                break;
            }
            let param_value = if cursor.peek() == Some(b'"') {
                cursor.quoted_string()?
            } else {
                cursor.token()?
            };
            challenge.params.push((name, param_value));
            cursor.skip_whitespace();
            if !cursor.eat(b',') {
                break;
            }
        }
        challenges.push(challenge);
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        if found {
            self.at += 1;
        }
        found
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn skip_list_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.at += 1;
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.at;
        while self.peek().is_some_and(is_tchar) {
            self.at += 1;
        }
        (self.at > start).then(|| String::from_utf8_lossy(&self.bytes[start..self.at]).to_string())
    }

    fn skip_token68(&mut self) {
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
        {
            self.at += 1;
        }
    }

    /// `quoted-string` (RFC 9110 §5.6.4) with `quoted-pair`s unescaped.
    fn quoted_string(&mut self) -> Option<String> {
        if !self.eat(b'"') {
            return None;
        }
        let mut text = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return String::from_utf8(text).ok();
                }
                b'\\' => {
                    self.at += 1;
                    text.push(self.peek()?);
                    self.at += 1;
                }
                b => {
                    text.push(b);
                    self.at += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
