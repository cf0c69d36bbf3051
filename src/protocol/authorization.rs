//! The authorization request and response of the authorization code flow (RFC 6749 §4.1, OIDC
//! Core §3.1.2, RFC 7636 PKCE, RFC 9207 `iss`), and the sign-in transaction that links them.
//!
//! [`Transaction::begin`] draws `state`, `nonce` and the PKCE verifier from the platform's
//! randomness (256 bits each) and [`Transaction::authorization_url`] builds the redirect to the
//! authorization endpoint. The transaction is kept by the caller (sealed in a cookie by the web
//! app) and checked against the provider's answer by [`Transaction::check_response`].

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;
use url::Url;

use crate::error::Error;
use crate::platform::Entropy;
use crate::protocol::pkce::{PkceVerifier, CODE_CHALLENGE_METHOD, VERIFIER_ENTROPY_BYTES};
use crate::protocol::response::{description, is_error_code};
use crate::protocol::scope::Scopes;

/// Scopes every OpenID Connect sign-in asks for besides the application's own (MSAL adds the
/// same three): `openid` (an ID token), `profile` (name claims), `offline_access` (a refresh
/// token).
pub(crate) const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

/// How long a sign-in may take, in seconds (10 minutes): past it the transaction is refused.
pub(crate) const TRANSACTION_LIFETIME_SECS: u64 = 600;

/// Random bytes for `state` and `nonce` (256 bits each; RFC 6749 §10.10 asks for enough to
/// make guessing infeasible, OIDC Core §15.5.2 for a nonce bound to the session).
pub(crate) const STATE_ENTROPY_BYTES: usize = 32;

/// `response_mode` (OAuth 2.0 Multiple Response Type Encoding Practices; OAuth 2.0 Form Post
/// Response Mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// The code comes back in the redirect's query string (`GET`). The default.
    #[default]
    Query,
    /// The code comes back as an auto-submitted form (`POST`, `application/x-www-form-urlencoded`),
    /// which keeps it out of browser history and `Referer` headers.
    FormPost,
}

impl ResponseMode {
    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::FormPost => "form_post",
        }
    }

    /// Parses `query` or `form_post`.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `setting` for any other value.
    pub fn parse(setting: &str, value: &str) -> Result<Self, Error> {
        match value.trim() {
            "query" => Ok(Self::Query),
            "form_post" => Ok(Self::FormPost),
            _ => Err(Error::configuration(alloc::format!(
                "{setting} must be query or form_post"
            ))),
        }
    }
}

/// Optional parameters of one sign-in (OIDC Core §3.1.2.1; Microsoft identity platform).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) struct SignInOptions {
    /// `prompt`: `login`, `consent`, `select_account`, `none`.
    pub prompt: Option<String>,
    /// `login_hint`: the user's sign-in name, to skip the account picker.
    pub login_hint: Option<String>,
    /// `domain_hint` (Entra): the user's home realm, e.g. `contoso.com`.
    pub domain_hint: Option<String>,
    /// `claims` (OIDC Core §5.5): a claims request, or a claims challenge from a resource
    /// (continuous access evaluation, conditional access).
    pub claims: Option<String>,
}

/// What the sign-in needs to remember between the redirect and the callback. Secret fields are
/// redacted by `Debug`; the whole value travels sealed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Transaction {
    /// `state` (RFC 6749 §4.1.1): 256 random bits, base64url.
    pub state: String,
    /// `nonce` (OIDC Core §3.1.2.1): 256 random bits, base64url; the ID token must echo it.
    pub nonce: String,
    /// The PKCE `code_verifier` (RFC 7636 §4.1).
    pub code_verifier: PkceVerifier,
    /// The scopes asked for, including [`OIDC_SCOPES`], space-separated.
    pub scopes: String,
    /// Where to send the user afterwards (already checked by [`crate::scenarios::return_to`]).
    pub return_to: String,
    /// The issuer the authorization request went to (RFC 9207 mix-up defence).
    pub issuer: String,
    /// The issuer advertised `authorization_response_iss_parameter_supported`: the response
    /// must carry `iss` (RFC 9207 §2.4). Absent in transactions sealed before this field.
    #[serde(default)]
    pub iss_required: bool,
    /// How the code comes back.
    pub response_mode: ResponseMode,
    /// When the sign-in began, Unix seconds.
    pub created_at: u64,
    /// The sign-in is a re-authorization for a call that needed the user (incremental consent
    /// or a claims challenge for `scopes`), not the first sign-in: the session it starts
    /// remembers it, so a second failure for the same scopes ends the loop (see
    /// [`crate::scenarios::session::Session::reauthorized`]). Absent in older transactions.
    #[serde(default)]
    pub reauthorization: bool,
    /// The redirect URI the authorization request named (one of the configured ones, picked
    /// by the request's origin): the code is redeemed with exactly it (RFC 6749 §4.1.3).
    /// Absent in older transactions.
    #[serde(default)]
    pub redirect_uri: Option<String>,
}

impl fmt::Debug for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction")
            .field("id", &self.id())
            .field("scopes", &self.scopes)
            .field("return_to", &self.return_to)
            .field("issuer", &self.issuer)
            .field("response_mode", &self.response_mode)
            .field("created_at", &self.created_at)
            .field("reauthorization", &self.reauthorization)
            .finish_non_exhaustive()
    }
}

/// The provider's answer at the redirect URI (RFC 6749 §4.1.2 / §4.1.2.1).
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum AuthorizationResponse {
    /// Success: the code to redeem.
    Code {
        /// `code` (single-use, short-lived). Redacted by `Debug`.
        code: String,
        /// `state`, echoed.
        state: String,
        /// `iss` (RFC 9207), when the provider sends it.
        iss: Option<String>,
    },
    /// The provider refused: `error` (e.g. `access_denied`, `interaction_required`).
    Error {
        /// `error`.
        error: String,
        /// `error_description`: provider text, never to be reflected in HTML.
        error_description: Option<String>,
        /// `state`, echoed (absent when the request itself was malformed).
        state: Option<String>,
    },
}

impl fmt::Debug for AuthorizationResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Code { iss, .. } => f
                .debug_struct("Code")
                .field("code", &"[redacted]")
                .field("iss", iss)
                .finish_non_exhaustive(),
            Self::Error { error, .. } => f
                .debug_struct("Error")
                .field("error", error)
                .finish_non_exhaustive(),
        }
    }
}

/// Why an authorization response does not complete the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum CallbackError {
    /// Neither `code` nor `error`, or a parameter given twice.
    Malformed,
    /// `state` differs from the transaction's (CSRF, or a response for another sign-in).
    StateMismatch,
    /// `iss` names another issuer than the one the request went to (RFC 9207 §2.4).
    IssuerMismatch,
    /// The provider answered with an error; only its `error` code is kept.
    Provider(String),
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("malformed authorization response"),
            Self::StateMismatch => f.write_str("state does not match the sign-in"),
            Self::IssuerMismatch => f.write_str("iss does not match the sign-in's issuer"),
            Self::Provider(error) => write!(f, "the identity provider answered `{error}`"),
        }
    }
}

impl AuthorizationResponse {
    /// Reads the response parameters (query pairs for `query`, form pairs for `form_post`).
    ///
    /// # Errors
    /// [`CallbackError::Malformed`] when a parameter repeats (RFC 6749 §3.1), there is
    /// neither a non-empty `code` with a `state` nor an `error`, or `error` is not an OAuth
    /// error code (1 to 64 characters of RFC 6749 §5.2's set; `error_description` is cut and
    /// restricted likewise).
    pub(crate) fn parse<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, CallbackError> {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for (name, value) in params {
            if seen.iter().any(|(n, _)| *n == name) {
                return Err(CallbackError::Malformed);
            }
            seen.push((name, value));
        }
        let get = |name: &str| {
            seen.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_string())
                .filter(|v| !v.is_empty())
        };
        if let Some(error) = get("error") {
            // Provider text reaches logs: the same bounds as a token endpoint's error
            // (RFC 6749 §4.1.2.1 uses §5.2's character set).
            if !is_error_code(&error) {
                return Err(CallbackError::Malformed);
            }
            return Ok(Self::Error {
                error,
                error_description: get("error_description").map(|text| description(&text)),
                state: get("state"),
            });
        }
        match (get("code"), get("state")) {
            (Some(code), Some(state)) => Ok(Self::Code {
                code,
                state,
                iss: get("iss"),
            }),
            _ => Err(CallbackError::Malformed),
        }
    }

    /// The echoed `state`, if any: it names the transaction to load.
    pub(crate) fn state(&self) -> Option<&str> {
        match self {
            Self::Code { state, .. } => Some(state),
            Self::Error { state, .. } => state.as_deref(),
        }
    }
}

impl Transaction {
    /// Begins a sign-in at `now` (Unix seconds) for `scopes` (the application's; [`OIDC_SCOPES`]
    /// are added), returning to `return_to` afterwards.
    ///
    /// # Errors
    /// [`Error::Platform`] when the entropy source fails.
    pub(crate) fn begin(
        issuer: &str,
        iss_required: bool,
        scopes: Option<&Scopes>,
        return_to: String,
        response_mode: ResponseMode,
        now: u64,
        entropy: &dyn Entropy,
    ) -> Result<Self, Error> {
        let mut random = [0u8; STATE_ENTROPY_BYTES];
        entropy.fill(&mut random)?;
        let state = URL_SAFE_NO_PAD.encode(random);
        entropy.fill(&mut random)?;
        let nonce = URL_SAFE_NO_PAD.encode(random);
        let mut verifier = [0u8; VERIFIER_ENTROPY_BYTES];
        entropy.fill(&mut verifier)?;
        let code_verifier = PkceVerifier::from_random(&verifier);
        let mut all: Vec<&str> = OIDC_SCOPES.to_vec();
        all.extend(scopes.into_iter().flat_map(Scopes::iter));
        let scopes = Scopes::parse(&all.join(" "))?.to_param();
        Ok(Self {
            state,
            nonce,
            code_verifier,
            scopes,
            return_to,
            issuer: issuer.to_string(),
            iss_required,
            response_mode,
            created_at: now,
            reauthorization: false,
            redirect_uri: None,
        })
    }

    /// The scopes asked for besides [`OIDC_SCOPES`]: those of the access token the code
    /// redeems for (canonical order, as [`Scopes::to_param`]).
    ///
    /// # Errors
    /// [`Error::Configuration`] when the transaction asked for OIDC scopes only.
    pub(crate) fn resource_scopes(&self) -> Result<Scopes, Error> {
        let rest: Vec<&str> = self
            .scopes
            .split(' ')
            .filter(|scope| !scope.is_empty() && !OIDC_SCOPES.contains(scope))
            .collect();
        Scopes::parse(&rest.join(" "))
    }

    /// A short public name for this transaction, derived from `state` (the first 16
    /// characters of base64url(SHA-256(state))): it names the transaction's cookie, so
    /// parallel sign-ins in several tabs each keep their own, and the callback finds it from the
    /// echoed `state` alone.
    pub(crate) fn id(&self) -> String {
        transaction_id(&self.state)
    }

    /// When this transaction stops being accepted, Unix seconds.
    pub(crate) fn expires_at(&self) -> u64 {
        self.created_at.saturating_add(TRANSACTION_LIFETIME_SECS)
    }

    /// The authorization request URL (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636 §4.3):
    /// `client_id`, `response_type=code`, `redirect_uri`, `scope`, `state`, `nonce`,
    /// `code_challenge` + `code_challenge_method=S256`, `response_mode`, the options that are
    /// set, and `client_info=1` for Entra (MSAL asks for the home account id this way).
    pub(crate) fn authorization_url(
        &self,
        authorization_endpoint: &Url,
        client_id: &str,
        redirect_uri: &Url,
        options: &SignInOptions,
        entra: bool,
    ) -> Url {
        let mut url = authorization_endpoint.clone();
        let challenge = self.code_verifier.challenge();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", client_id)
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", redirect_uri.as_str())
                .append_pair("scope", &self.scopes)
                .append_pair("state", &self.state)
                .append_pair("nonce", &self.nonce)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", CODE_CHALLENGE_METHOD)
                .append_pair("response_mode", self.response_mode.as_str());
            for (name, value) in [
                ("prompt", &options.prompt),
                ("login_hint", &options.login_hint),
                ("domain_hint", &options.domain_hint),
                ("claims", &options.claims),
            ] {
                if let Some(value) = value {
                    query.append_pair(name, value);
                }
            }
            if entra {
                query.append_pair("client_info", "1");
            }
        }
        url
    }

    /// Checks the provider's answer against this transaction and returns the code.
    ///
    /// # Errors
    /// [`CallbackError::StateMismatch`] (compared in constant time), [`CallbackError::IssuerMismatch`]
    /// when `iss` differs, or is missing although the issuer advertised it (RFC 9207 §2.4),
    /// [`CallbackError::Provider`] for an error answer.
    pub(crate) fn check_response(
        &self,
        response: AuthorizationResponse,
    ) -> Result<String, CallbackError> {
        if !response
            .state()
            .is_some_and(|state| bool::from(state.as_bytes().ct_eq(self.state.as_bytes())))
        {
            return Err(CallbackError::StateMismatch);
        }
        match response {
            AuthorizationResponse::Error { error, .. } => Err(CallbackError::Provider(error)),
            AuthorizationResponse::Code { iss: Some(iss), .. } if iss != self.issuer => {
                Err(CallbackError::IssuerMismatch)
            }
            AuthorizationResponse::Code { iss: None, .. } if self.iss_required => {
                Err(CallbackError::IssuerMismatch)
            }
            AuthorizationResponse::Code { code, .. } => Ok(code),
        }
    }
}

/// The transaction id for an echoed `state` (see [`Transaction::id`]).
pub(crate) fn transaction_id(state: &str) -> String {
    let mut id = URL_SAFE_NO_PAD.encode(Sha256::digest(state.as_bytes()));
    id.truncate(16);
    id
}

#[cfg(test)]
mod tests;
