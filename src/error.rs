//! The library's one error type.
//!
//! [`Error`] is `#[non_exhaustive]`, `Clone` (single-flight hands one result to many waiters) and
//! implements [`core::error::Error`]. No variant ever holds a secret: configuration errors name
//! the setting, never its value; provider errors hold only the provider's error fields
//! (RFC 6749 §5.2 plus the Microsoft identity platform's extensions).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Every failure edge-token reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Missing, malformed or contradictory configuration. The message names the setting and
    /// what is wrong with it, never the setting's value.
    Configuration(String),
    /// The identity provider answered with an OAuth 2.0 error response (RFC 6749 §5.2).
    Server(Box<ServerError>),
    /// The identity provider's answer is not a valid response of the expected kind.
    InvalidResponse(InvalidResponse),
    /// Producing a signature (client assertion) failed.
    Signing(String),
    /// Sending a request or receiving its response failed.
    Transport(TransportError),
    /// Reading or writing the token cache failed. Callers treat it as a cache miss: a cache
    /// failure never fails token acquisition by itself.
    Cache(String),
    /// The platform could not provide a capability the core asked for (e.g. randomness).
    Platform(String),
    /// A token edge-token received and had to validate (an ID token, a bearer access token) was
    /// refused (OIDC Core §3.1.3.7, RFC 7519 §7.2).
    InvalidToken(TokenError),
    /// The provider throttled this exact request (a `429`, or a `5xx` with `Retry-After`) and
    /// the throttle has not ended: no request was sent (`crate::acquisition::throttle`; MSAL's
    /// `MsalThrottledServiceException`).
    Throttled {
        /// Seconds until the same request may be sent again.
        retry_after_secs: u64,
    },
}

impl Error {
    /// A configuration error; `message` must name the setting and must not contain its value.
    pub fn configuration(message: impl Into<String>) -> Self {
        Self::Configuration(message.into())
    }

    /// The provider's error response, when this is one.
    pub fn server_error(&self) -> Option<&ServerError> {
        match self {
            Self::Server(server) => Some(server),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Configuration(message) => write!(f, "configuration error: {message}"),
            Self::Server(server) => server.fmt(f),
            Self::InvalidResponse(invalid) => invalid.fmt(f),
            Self::Signing(message) => write!(f, "signing failed: {message}"),
            Self::Transport(transport) => transport.fmt(f),
            Self::Cache(message) => write!(f, "token cache error: {message}"),
            Self::Platform(message) => write!(f, "platform error: {message}"),
            Self::InvalidToken(problem) => write!(f, "invalid token: {problem}"),
            Self::Throttled { retry_after_secs } => write!(
                f,
                "throttled by the identity provider: retry in {retry_after_secs} s"
            ),
        }
    }
}

impl core::error::Error for Error {}

/// An OAuth 2.0 error response (RFC 6749 §5.2) with the Microsoft identity platform's extra
/// fields ("Microsoft identity platform error codes"; MSAL's `MsalServiceException`).
///
/// These are the provider's own words: safe to log, never containing a credential.
///
/// It serializes (serde) with these field names, so a coordinator can pass it on unchanged
/// ([`crate::acquisition::coordination`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ServerError {
    /// HTTP status of the response (usually 400 or 401).
    pub status: u16,
    /// `error`: the RFC 6749 §5.2 error code, e.g. `invalid_client`, `invalid_grant`.
    pub error: String,
    /// `error_description`: human-readable text. On Entra it starts with `AADSTSnnnnn:`.
    pub error_description: Option<String>,
    /// `error_uri`: a page about the error.
    pub error_uri: Option<String>,
    /// `error_codes` (Entra): the numeric AADSTS codes, e.g. `[700027]`.
    pub error_codes: Vec<u64>,
    /// `suberror` (Entra): e.g. `consent_required`, `basic_action`, `bad_token`.
    pub suberror: Option<String>,
    /// `claims` (Entra): a claims challenge (JSON text) to send with the next request.
    pub claims: Option<String>,
    /// `trace_id` (Entra): the server-side request id.
    pub trace_id: Option<String>,
    /// `correlation_id` (Entra): echoes the `client-request-id` the request carried.
    pub correlation_id: Option<String>,
    /// `timestamp` (Entra): when the error happened, as the provider formats it.
    pub timestamp: Option<String>,
}

impl ServerError {
    /// Whether only the user can resolve this error, by going through the authorization
    /// endpoint again: `invalid_grant`, `interaction_required`, `consent_required` or
    /// `login_required` (RFC 6749 §5.2, OIDC Core §3.1.2.6; MSAL's `MsalUiRequiredException`).
    pub fn requires_user_interaction(&self) -> bool {
        matches!(
            self.error.as_str(),
            "invalid_grant" | "interaction_required" | "consent_required" | "login_required"
        )
    }

    /// Whether this refusal of a refresh token grant is about the refresh token itself
    /// (expired, revoked, reused: RFC 6749 §5.2 `invalid_grant` with no Entra `suberror`, or
    /// `bad_token` / `token_expired`), so any later redemption of that token fails too. An
    /// `invalid_grant` naming what the user must do for the requested scopes (`suberror`
    /// `consent_required`, `basic_action`, ..., or a `claims` challenge: AADSTS65001, 50076)
    /// leaves the token good for other scopes, as MSAL keeps it.
    pub fn refuses_refresh_token(&self) -> bool {
        self.error == "invalid_grant"
            && self.claims.is_none()
            && matches!(
                self.suberror.as_deref(),
                None | Some("bad_token" | "token_expired")
            )
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "identity provider error `{}` (HTTP {})",
            self.error, self.status
        )?;
        if !self.error_codes.is_empty() {
            write!(f, ", error_codes {:?}", self.error_codes)?;
        }
        if let Some(suberror) = &self.suberror {
            write!(f, ", suberror `{suberror}`")?;
        }
        if let Some(correlation_id) = &self.correlation_id {
            write!(f, ", correlation_id {correlation_id}")?;
        }
        Ok(())
    }
}

/// A response that is not what the protocol requires, with the HTTP status it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidResponse {
    /// HTTP status of the response.
    pub status: u16,
    /// What is wrong with it.
    pub problem: ResponseProblem,
}

impl InvalidResponse {
    /// A response with `status` refused for `problem`.
    pub fn new(status: u16, problem: ResponseProblem) -> Self {
        Self { status, problem }
    }
}

impl fmt::Display for InvalidResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid response from the identity provider (HTTP {}): {}",
            self.status, self.problem
        )
    }
}

/// What made a response invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseProblem {
    /// A 3xx answer. Identity endpoints are never followed across redirects, so credentials are
    /// never re-sent to another URL (RFC 9700 §4.11).
    UnexpectedRedirect,
    /// The body exceeds the size limit, in bytes.
    BodyTooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// The body is an HTML page (a proxy or gateway error page, a sign-in page), not JSON.
    Html,
    /// The body is not valid JSON.
    NotJson,
    /// The body is JSON but not a JSON object.
    NotAnObject,
    /// A non-success status without an OAuth 2.0 error object.
    UnexpectedStatus,
    /// A required member is missing or empty.
    MissingField(&'static str),
    /// A member has the wrong type or an unacceptable value.
    InvalidField {
        /// The member's name.
        field: &'static str,
        /// Why it is unacceptable.
        reason: &'static str,
    },
    /// A discovery document's `issuer` differs from the configured issuer (OIDC Discovery §4.3,
    /// RFC 8414 §3.3).
    IssuerMismatch,
    /// A JSON object in the body names a member twice (at any depth). Which value counts would
    /// depend on the parser, so the body is refused rather than read (RFC 8259 §4).
    DuplicateMember,
    /// The deployment's token coordinator received the invalid response and reported it
    /// (`crate::acquisition::coordination`): its description of the problem.
    Relayed(String),
}

impl fmt::Display for ResponseProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedRedirect => f.write_str("unexpected redirect (not followed)"),
            Self::BodyTooLarge { limit } => write!(f, "body larger than {limit} bytes"),
            Self::Html => f.write_str("HTML page instead of JSON"),
            Self::NotJson => f.write_str("body is not JSON"),
            Self::NotAnObject => f.write_str("body is not a JSON object"),
            Self::UnexpectedStatus => f.write_str("error status without an OAuth 2.0 error object"),
            Self::MissingField(field) => write!(f, "`{field}` is missing or empty"),
            Self::InvalidField { field, reason } => write!(f, "`{field}` {reason}"),
            Self::IssuerMismatch => {
                f.write_str("discovery `issuer` differs from the configured issuer")
            }
            Self::DuplicateMember => f.write_str("a JSON object names a member twice"),
            Self::Relayed(problem) => write!(f, "{problem} (seen by the token coordinator)"),
        }
    }
}

/// A failure to exchange bytes with a server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportError {
    /// What kind of failure.
    pub kind: TransportErrorKind,
    /// Detail from the platform (never containing request bodies or headers).
    pub message: String,
}

impl TransportError {
    /// A transport failure of `kind`; `message` is the platform's detail, which must not
    /// contain request bodies or headers (they may hold secrets).
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl From<TransportError> for Error {
    fn from(error: TransportError) -> Self {
        Error::Transport(error)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TransportErrorKind::Timeout => write!(f, "request timed out: {}", self.message),
            TransportErrorKind::Network => write!(f, "network error: {}", self.message),
        }
    }
}

/// Kinds of [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No complete response within the adapter's time limit.
    Timeout,
    /// Connection refused or reset, DNS failure, or any other failure to exchange bytes.
    Network,
}

impl Error {
    /// Whether the same request may succeed if repeated later: transport failures and
    /// timeouts, HTTP 5xx, 408 and 429, and the OAuth errors `temporarily_unavailable` (RFC 6749
    /// §4.1.2.1) and `request_timeout` (Entra). MSAL treats these as retryable and serves a still
    /// valid cached token instead.
    pub fn is_retryable(&self) -> bool {
        let status_retryable = |status: u16| status >= 500 || status == 408 || status == 429;
        match self {
            Self::Transport(_) | Self::Throttled { .. } => true,
            Self::InvalidResponse(invalid) => status_retryable(invalid.status),
            Self::Server(server) => {
                status_retryable(server.status)
                    || matches!(
                        server.error.as_str(),
                        "temporarily_unavailable" | "request_timeout"
                    )
            }
            Self::Configuration(_)
            | Self::Signing(_)
            | Self::Cache(_)
            | Self::Platform(_)
            | Self::InvalidToken(_) => false,
        }
    }
}

/// Why a received token (ID token, bearer access token) was refused. Each rule of OIDC Core
/// §3.1.3.7 / RFC 7519 §4.1 has its own variant so callers and tests can tell them apart.
///
/// No variant holds any part of the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a compact JWS with three base64url (no padding) parts, a header or payload that is
    /// not a JSON object, a header without a string `alg`, or a header with `crit` (no
    /// extension is understood, RFC 7515 §4.1.11).
    Malformed,
    /// The token is longer than the limit, in bytes (`crate::validation::jwt::MAX_TOKEN_BYTES`).
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// `alg` is not the configured algorithm (`none` and HMAC algorithms are always refused).
    AlgorithmNotAllowed,
    /// No key in the issuer's JWKS matches the token's `kid`, even after a refetch. Callers
    /// refetch the key set once (see `crate::validation::jwks::JwksCache`) on this error only.
    UnknownKey,
    /// The key that matches the token cannot verify it: not a key of the configured
    /// algorithm's type (`RSA` for RS256/PS256, `EC` for ES256), a modulus outside 2048–8192
    /// bits, a malformed `n` / `e`, P-256 coordinates that are not 32 bytes or not a point on
    /// the curve, or an `alg` / `use` / `key_ops` that excludes the configured algorithm or
    /// verification.
    UnusableKey,
    /// ES256 is configured and the key that matches the token is an `EC` key on another curve
    /// (`crv` other than `P-256`, RFC 7518 §6.2.1.1): only P-256 is accepted.
    UnsupportedCurve,
    /// The signature does not verify with the issuer's key.
    BadSignature,
    /// `iss` differs from the expected issuer.
    Issuer,
    /// The token's tenant (`tid`) is not in the configured allow-list.
    TenantNotAllowed,
    /// `aud` does not contain the client id, or contains an untrusted audience.
    Audience,
    /// `azp` is present and is not the client id.
    AuthorizedParty,
    /// `exp` is in the past (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture,
    /// `nonce` is missing or differs from the one sent in the authorization request.
    Nonce,
    /// A required claim is missing or has the wrong type; holds the claim's name.
    MissingClaim(&'static str),
    /// The JOSE header's `typ` names another kind of token (RFC 8725 §3.11): an access token
    /// (`at+jwt`, RFC 9068 §2.1) offered as an ID token, or an access token whose `typ` is none
    /// of `JWT`, `at+jwt`, `application/at+jwt`.
    TokenType,
    /// `iat` is further in the past than an ID token may be when it is received (see
    /// `crate::validation::id_token::MAX_ID_TOKEN_AGE_SECS`).
    IssuedTooLongAgo,
    /// `at_hash` does not match the access token issued with the ID token (OIDC Core
    /// §3.1.3.6 / §3.3.2.11).
    AccessTokenHash,
    /// A string claim is longer than its bound or holds characters outside its set (e.g. `sub`
    /// over 255 ASCII characters, OIDC Core §2); holds the claim's name. The bounds are in
    /// `crate::validation::jwt`.
    ClaimValue(&'static str),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("not a well-formed compact JWS"),
            Self::TooLarge { limit } => write!(f, "token longer than {limit} bytes"),
            Self::AlgorithmNotAllowed => f.write_str("`alg` is not the configured algorithm"),
            Self::UnknownKey => f.write_str("no key of the issuer matches the token's `kid`"),
            Self::UnusableKey => f.write_str("the matching key cannot verify this algorithm"),
            Self::UnsupportedCurve => {
                f.write_str("the matching key is on a curve other than P-256 (ES256)")
            }
            Self::BadSignature => f.write_str("the signature does not verify"),
            Self::Issuer => f.write_str("`iss` is not the expected issuer"),
            Self::TenantNotAllowed => f.write_str("the tenant (`tid`) is not allowed"),
            Self::Audience => f.write_str("`aud` is not the expected audience"),
            Self::AuthorizedParty => f.write_str("`azp` is not the client id"),
            Self::Expired => f.write_str("the token has expired (`exp`)"),
            Self::NotYetValid => f.write_str("the token is not valid yet (`nbf`)"),
            Self::IssuedInFuture => f.write_str("the token is issued in the future (`iat`)"),
            Self::Nonce => f.write_str("`nonce` is missing or differs"),
            Self::MissingClaim(claim) => write!(f, "`{claim}` is missing or has the wrong type"),
            Self::TokenType => f.write_str("`typ` names another kind of token"),
            Self::IssuedTooLongAgo => f.write_str("the token was issued too long ago (`iat`)"),
            Self::AccessTokenHash => f.write_str("`at_hash` does not match the access token"),
            Self::ClaimValue(claim) => {
                write!(f, "`{claim}` is too long or holds forbidden characters")
            }
        }
    }
}

impl From<TokenError> for Error {
    fn from(problem: TokenError) -> Self {
        Error::InvalidToken(problem)
    }
}
