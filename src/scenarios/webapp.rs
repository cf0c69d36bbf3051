//! The web app scenario (Microsoft identity platform "web app that signs in users" and "web app
//! that calls web APIs"): OpenID Connect sign-in with the authorization code flow and PKCE, a
//! server-side session, and delegated tokens acquired silently with the refresh token.
//! Platform-free: an adapter routes requests to these operations and converts the plain
//! [`WebRequest`] / [`WebResponse`] values.
//!
//! | operation | route in the reference apps |
//! |---|---|
//! | [`WebApp::home`] | `GET /` |
//! | [`WebApp::sign_in`] | `GET /auth/sign-in?returnTo=/path` (+ `login_hint`, `domain_hint`, `prompt`) |
//! | [`WebApp::callback`] | `GET` or `POST /auth/callback` |
//! | [`WebApp::sign_out`] | `GET /auth/sign-out` |
//! | [`WebApp::front_channel_logout`] | `GET /auth/frontchannel-logout` (module `logout`) |
//! | [`WebApp::back_channel_logout`] | `POST /auth/backchannel-logout` (module `logout`) |
//! | [`WebApp::me`] | `GET /me` |
//! | [`WebApp::call_downstream`] | `GET /me/call` |
//! | [`WebApp::call_web_api`] | `GET /me/api` |
//!
//! Settings, besides [`crate::config`]'s: `REDIRECT_URI` (absolute URL of the callback, as
//! registered; several, space or comma separated, one per origin the app answers on: the
//! request's origin picks one, see [`RedirectUris`]), `COOKIE_KEY` (secret: base64url of 32 random bytes; several, newest first and
//! comma-separated, to rotate it), optional
//! `POST_LOGOUT_REDIRECT_URI`, `RESPONSE_MODE` (`query` | `form_post`), `ID_TOKEN_SIGNING_ALG`
//! (`RS256` default | `PS256` | `ES256`), `ALLOWED_TENANTS` (Entra multi-tenant: tenant ids, space or
//! comma separated), the downstream API's `DOWNSTREAM_URL` / `DOWNSTREAM_SCOPES` (delegated, asked at
//! sign-in), and optionally a web API's `WEB_API_URL` / `WEB_API_SCOPES` (delegated, acquired
//! silently with the refresh token: incremental consent).

mod calls;
mod config;
mod keys;
mod logout;
mod redirect;
mod routes;
mod sign_in;
mod silent;

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::future::Future;
use core::time::Duration;

use serde_json::{json, Value};
use url::Url;

use crate::acquisition::client::{AcquiredToken, ConfidentialClient};
use crate::acquisition::single_flight::SingleFlight;
use crate::credentials::certificate::PrivateKey;
use crate::credentials::signer::{JwsAlgorithm, JwsSigner};
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::authorization::ResponseMode;
use crate::protocol::discovery::ProviderMetadata;
use crate::scenarios::call_failure::{error_reply, CallFailure};
use crate::scenarios::downstream::DownstreamApi;
use crate::scenarios::session::{Session, SessionId, SessionLifetime, SessionStore};
use crate::scenarios::web::{Page, SameSite};
pub(crate) use crate::scenarios::web::{SetCookie, WebRequest, WebResponse};
use crate::seal::{Purpose, Sealer};
use crate::validation::issuer_keys::IssuerKeys;
use crate::validation::verifier::{JwsVerifier, VerificationAlgorithm};
pub use config::{WebAppConfig, WEB_APP_SETTING_NAMES};
pub use redirect::{RedirectUris, UnregisteredOrigin};
pub use routes::WebAppRoute;
pub(crate) use silent::SilentFailure;

/// Name prefix of transaction cookies; the rest is the transaction id, so parallel sign-ins
/// (several tabs) each have their own cookie.
pub(crate) const TRANSACTION_COOKIE_PREFIX: &str = "__Host-edge-token-tx-";

/// Name of the session cookie (it holds only the session id).
pub(crate) const SESSION_COOKIE: &str = "__Host-edge-token-session";

/// The longest transaction cookie value accepted, in characters. A sealed transaction is about
/// 700 characters; browsers cap a cookie at 4096 bytes with its name.
pub(crate) const MAX_TRANSACTION_COOKIE_LEN: usize = 3072;

/// `prompt` values passed through from `/auth/sign-in` (OIDC Core §3.1.2.1; `create` from
/// OpenID Connect Prompt Create 1.0, as Entra External ID accepts).
pub(crate) const PROMPT_VALUES: [&str; 5] =
    ["none", "login", "consent", "select_account", "create"];

/// Longest `login_hint` / `domain_hint` passed through, in bytes.
pub(crate) const MAX_HINT_LEN: usize = 256;

/// The most sign-ins a browser may have in progress (one transaction cookie each, ~550 bytes):
/// a new sign-in past this expires the oldest, so repeated attempts cannot grow the request
/// headers without bound (each cookie lives `TRANSACTION_LIFETIME_SECS` otherwise).
pub(crate) const MAX_PENDING_SIGN_INS: usize = 3;

/// The web app. Build one per isolate: it keeps the client (memory cache, discovered
/// metadata), the provider's signing keys and the refresh single-flight table.
pub struct WebApp {
    client: ConfidentialClient,
    redirect_uris: RedirectUris,
    post_logout_redirect_uri: Option<Url>,
    downstream: DownstreamApi,
    web_api: Option<DownstreamApi>,
    response_mode: ResponseMode,
    id_token_algorithm: VerificationAlgorithm,
    allowed_tenants: Vec<String>,
    http_timeout: Duration,
    lifetime: SessionLifetime,
    transactions: Sealer,
    sessions: Sealer,
    session_index: Sealer,
    verifier: Box<dyn JwsVerifier>,
    keys: IssuerKeys,
    refreshes: SingleFlight<String, Result<AcquiredToken, SilentFailure>>,
}

impl core::fmt::Debug for WebApp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebApp")
            .field("client", &self.client)
            .field("redirect_uris", &self.redirect_uris)
            .field("response_mode", &self.response_mode)
            .finish_non_exhaustive()
    }
}

impl WebApp {
    /// Builds the web app from `config`; `signer` is the adapter's signer backend for a
    /// certificate's key (see [`crate::config::CredentialConfig::into_credential`]) and
    /// `verifier` its signature backend for ID tokens.
    ///
    /// # Errors
    /// As [`crate::config::CredentialConfig::into_credential`].
    pub async fn build<F, Fut>(
        config: WebAppConfig,
        signer: F,
        verifier: Box<dyn JwsVerifier>,
    ) -> Result<Self, Error>
    where
        F: FnOnce(PrivateKey, JwsAlgorithm) -> Fut,
        Fut: Future<Output = Result<Box<dyn JwsSigner>, Error>>,
    {
        let client = config.client.into_client(signer).await?;
        Ok(Self {
            client,
            redirect_uris: config.redirect_uris,
            post_logout_redirect_uri: config.post_logout_redirect_uri,
            downstream: config.downstream,
            web_api: config.web_api,
            response_mode: config.response_mode,
            id_token_algorithm: config.id_token_algorithm,
            allowed_tenants: config.allowed_tenants,
            http_timeout: config.http_timeout,
            lifetime: config.session_lifetime,
            transactions: config.cookie_key.sealer(Purpose::Transaction),
            sessions: config.cookie_key.sealer(Purpose::Session),
            session_index: config.cookie_key.sealer(Purpose::SessionIndex),
            verifier,
            keys: IssuerKeys::default(),
            refreshes: SingleFlight::default(),
        })
    }

    /// The time limit for each outgoing request, for the adapter's transport.
    pub fn http_timeout(&self) -> Duration {
        self.http_timeout
    }

    /// `GET /`: the signed-in user's name and links, or a sign-in link.
    pub async fn home(&self, request: &WebRequest, platform: &Platform<'_>) -> WebResponse {
        let (current, cookie) = self.current_session(request, platform).await;
        let response = match current {
            Some((_, session)) => WebResponse::page(
                200,
                Page::SignedIn {
                    name: session.display_name().into(),
                },
            ),
            None => clear_ambiguous_session(request, WebResponse::page(200, Page::SignedOut)),
        };
        with_session_cookie(response, cookie)
    }

    /// `GET /me`: the validated ID token claims as JSON; 401 `{"error":"not_signed_in"}`
    /// without a session.
    pub async fn me(&self, request: &WebRequest, platform: &Platform<'_>) -> WebResponse {
        let (current, cookie) = self.current_session(request, platform).await;
        let response = match current {
            Some((_, session)) => WebResponse::json(200, &Value::Object(session.claims)),
            None => clear_ambiguous_session(request, not_signed_in()),
        };
        with_session_cookie(response, cookie)
    }

    /// `GET /auth/sign-out`: ends the local session (record deleted, cookie expired), then
    /// sends the browser to the provider's `end_session_endpoint` (OIDC RP-Initiated Logout
    /// §2: `id_token_hint`, `client_id`, `post_logout_redirect_uri`) when it has one, else to
    /// `POST_LOGOUT_REDIRECT_URI` or `/`.
    pub async fn sign_out(&self, request: &WebRequest, platform: &Platform<'_>) -> WebResponse {
        let (session, _) = self.current_session(request, platform).await;
        if let Some((id, ended)) = &session {
            let _ = self.session_store(platform).delete(id).await;
            self.unindex_session(id, ended, platform).await;
        }
        let fallback = self
            .post_logout_redirect_uri
            .as_ref()
            .map_or("/", Url::as_str)
            .to_string();
        let location = match self.client.metadata(platform).await {
            Ok(ProviderMetadata {
                end_session_endpoint: Some(mut endpoint),
                ..
            }) => {
                {
                    let mut query = endpoint.query_pairs_mut();
                    if let Some((_, session)) = &session {
                        query.append_pair("id_token_hint", session.id_token.expose_secret());
                    }
                    query.append_pair("client_id", self.client.client_id());
                    if let Some(uri) = &self.post_logout_redirect_uri {
                        query.append_pair("post_logout_redirect_uri", uri.as_str());
                    }
                }
                endpoint.to_string()
            }
            _ => fallback,
        };
        WebResponse::redirect(&location)
            .with_cookie(SetCookie::delete(SESSION_COOKIE, SameSite::Lax))
    }

    /// The session the request's cookie names, if it exists, opens and has not ended
    /// ([`SessionLifetime`]: the absolute end is the record's own expiry; past the idle
    /// timeout the session is deleted), and the session cookie to set with the answer: renewed
    /// when activity was recorded (sliding expiration), deleted when the session ended idle.
    /// A record not found leaves the cookie alone: in an eventually consistent store a session
    /// just begun elsewhere may not be visible yet.
    async fn current_session(
        &self,
        request: &WebRequest,
        platform: &Platform<'_>,
    ) -> (Option<(SessionId, Session)>, Option<SetCookie>) {
        let Some(id) = request.cookie(SESSION_COOKIE).and_then(SessionId::parse) else {
            return (None, None);
        };
        let now = platform.clock.now_unix_secs();
        let sessions = self.session_store(platform);
        let Ok(Some(session)) = sessions.load(&id, now).await else {
            return (None, None);
        };
        if self.lifetime.idle_secs.is_none() {
            return (Some((id, session)), None);
        }
        let last_active = sessions
            .last_active(&id, now)
            .await
            .map_or(session.created_at, |at| at.max(session.created_at));
        if self.lifetime.is_idle(last_active, now) {
            log::info!("session ended after its idle timeout");
            let _ = sessions.delete(&id).await;
            return (None, Some(SetCookie::delete(SESSION_COOKIE, SameSite::Lax)));
        }
        let mut renewal = None;
        if self.lifetime.renewal_due(last_active, now)
            && sessions
                .touch(&id, now, session.expires_at, platform.entropy)
                .await
                .is_ok()
        {
            renewal = Some(self.session_cookie(&id, session.expires_at, now));
        }
        (Some((id, session)), renewal)
    }

    fn session_store<'a>(&'a self, platform: &Platform<'a>) -> SessionStore<'a> {
        SessionStore {
            store: platform.store,
            sealer: &self.sessions,
            authority: self.client.authority(),
            client_id: self.client.client_id(),
        }
    }
}

/// `response` for a visitor without a usable session, expiring the session cookie when the
/// request carried two of them (neither is trusted, see [`WebRequest::cookie`]): every copy
/// this origin can reach is cleared, and the next sign-in starts clean.
fn clear_ambiguous_session(request: &WebRequest, response: WebResponse) -> WebResponse {
    if request.has_ambiguous_cookie(SESSION_COOKIE) {
        log::info!("two session cookies: treated as signed out, both cleared");
        response.with_cookie(SetCookie::delete(SESSION_COOKIE, SameSite::Lax))
    } else {
        response
    }
}

/// `response` with the session `cookie` [`WebApp::current_session`] asked for, if any.
fn with_session_cookie(response: WebResponse, cookie: Option<SetCookie>) -> WebResponse {
    match cookie {
        Some(cookie) => response.with_cookie(cookie),
        None => response,
    }
}

fn unavailable(error: &Error) -> WebResponse {
    log::warn!("web app unavailable: {error}");
    let status = if matches!(error, Error::Configuration(_)) {
        500
    } else {
        503
    };
    let reason = match error {
        Error::Configuration(_) => "The web app is not configured correctly.",
        _ => "The identity provider cannot be reached right now. Please try again shortly.",
    };
    WebResponse::page(
        status,
        Page::Unavailable {
            reason: reason.into(),
        },
    )
}

fn not_signed_in() -> WebResponse {
    WebResponse::json(401, &json!({"error": "not_signed_in"}))
}

fn call_failure(failure: CallFailure) -> WebResponse {
    let (status, body) = error_reply(&failure);
    WebResponse::new(status, &[("content-type", "application/json")], body)
}

#[cfg(test)]
mod tests;
