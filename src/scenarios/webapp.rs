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
mod silent;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::future::Future;
use core::time::Duration;

use serde_json::{json, Value};
use url::Url;

use crate::acquisition::cache::{hashed_storage_key, MIN_STORE_TTL_SECS};
use crate::acquisition::client::{AcquiredToken, ConfidentialClient};
use crate::acquisition::single_flight::SingleFlight;
use crate::credentials::certificate::PrivateKey;
use crate::credentials::signer::{JwsAlgorithm, JwsSigner};
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::authorization::{
    transaction_id, AuthorizationResponse, CallbackError, ResponseMode, SignInOptions, Transaction,
    TRANSACTION_LIFETIME_SECS,
};
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::scope::Scopes;
use crate::scenarios::daemon::{error_reply, CallFailure};
use crate::scenarios::downstream::DownstreamApi;
use crate::scenarios::return_to::safe_return_to;
use crate::scenarios::session::{Session, SessionId, SessionLifetime, SessionStore};
use crate::scenarios::web::{Page, SameSite};
pub(crate) use crate::scenarios::web::{SetCookie, WebRequest, WebResponse};
use crate::seal::{Purpose, SealError, Sealer};
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

    /// `GET /auth/sign-in`: a new transaction cookie and a redirect to the authorization
    /// endpoint. `returnTo` is kept only if it is a same-origin path (`safe_return_to`);
    /// `login_hint`, `domain_hint` and a known `prompt` value are passed on.
    pub async fn sign_in(&self, request: &WebRequest, platform: &Platform<'_>) -> WebResponse {
        let hint = |name| {
            request
                .query_param(name)
                .filter(|v| !v.is_empty() && v.len() <= MAX_HINT_LEN)
                .map(str::to_string)
        };
        let options = SignInOptions {
            prompt: request
                .query_param("prompt")
                .filter(|p| PROMPT_VALUES.contains(p))
                .map(str::to_string),
            login_hint: hint("login_hint"),
            domain_hint: hint("domain_hint"),
            claims: None,
        };
        let return_to = safe_return_to(request.query_param("returnTo"));
        self.challenge(
            request,
            return_to,
            &options,
            &self.downstream.scopes,
            false,
            platform,
        )
        .await
    }

    /// Starts a sign-in that comes back to `return_to`: used by [`WebApp::sign_in`] and when a
    /// silent token acquisition needs the user (incremental consent, claims challenges).
    /// `scopes` are the delegated scopes the authorization request asks for (with the OIDC
    /// scopes): the downstream API's at sign-in, the failing call's on a re-authorization.
    /// `reauthorization` marks a re-authorization for a call (incremental consent, claims
    /// challenge), which the session then remembers ([`Session::reauthorized`]).
    async fn challenge(
        &self,
        request: &WebRequest,
        return_to: String,
        options: &SignInOptions,
        scopes: &Scopes,
        reauthorization: bool,
        platform: &Platform<'_>,
    ) -> WebResponse {
        let redirect_uri = match self.redirect_uris.for_request(request) {
            Ok(uri) => uri,
            Err(UnregisteredOrigin) => return unregistered_origin(),
        };
        let metadata = match self.client.metadata(platform).await {
            Ok(metadata) => metadata,
            Err(error) => return unavailable(&error),
        };
        let Some(endpoint) = &metadata.authorization_endpoint else {
            return unavailable(&Error::configuration(
                "the provider publishes no authorization_endpoint",
            ));
        };
        let now = platform.clock.now_unix_secs();
        let mut transaction = match Transaction::begin(
            &metadata.issuer,
            metadata.authorization_response_iss_parameter_supported,
            Some(scopes),
            return_to,
            self.response_mode,
            now,
            platform.entropy,
        ) {
            Ok(transaction) => transaction,
            Err(error) => return unavailable(&error),
        };
        transaction.reauthorization = reauthorization;
        transaction.redirect_uri = Some(redirect_uri.to_string());
        let name = format!("{TRANSACTION_COOKIE_PREFIX}{}", transaction.id());
        let sealed = match self.transactions.seal(
            &transaction,
            transaction.expires_at(),
            name.as_bytes(),
            platform.entropy,
        ) {
            Ok(sealed) => sealed,
            Err(error) => return unavailable(&error),
        };
        let entra = self.client.authority().supports_client_info();
        let location = transaction.authorization_url(
            endpoint,
            self.client.client_id(),
            redirect_uri,
            options,
            entra,
        );
        let mut response = WebResponse::redirect(location.as_str()).with_cookie(SetCookie {
            name,
            value: sealed,
            max_age: Some(TRANSACTION_LIFETIME_SECS),
            same_site: same_site(self.response_mode),
        });
        for stale in self.oldest_pending_sign_ins(&request.cookies, now) {
            response = response.with_cookie(SetCookie::delete(&stale, SameSite::Lax));
        }
        response
    }

    /// The transaction cookies to expire so that, with the one being added, at most
    /// [`MAX_PENDING_SIGN_INS`] remain: unreadable ones first (expired, forged, another key's),
    /// then the oldest by the time their sign-in began.
    fn oldest_pending_sign_ins(&self, cookies: &[(String, String)], now: u64) -> Vec<String> {
        let keep = MAX_PENDING_SIGN_INS.saturating_sub(1);
        let pending: Vec<&(String, String)> = cookies
            .iter()
            .filter(|(name, _)| name.starts_with(TRANSACTION_COOKIE_PREFIX))
            .collect();
        if pending.len() <= keep {
            return Vec::new();
        }
        // Only past the bound are the cookies opened, to order them by when they began.
        let mut began: Vec<(u64, &str)> = pending
            .into_iter()
            .map(|(name, sealed)| {
                let at = self
                    .transactions
                    .open::<Transaction>(sealed, name.as_bytes(), now, MAX_TRANSACTION_COOKIE_LEN)
                    .map_or(0, |transaction| transaction.created_at);
                (at, name.as_str())
            })
            .collect();
        began.sort_unstable();
        let excess = began.len() - keep;
        began
            .into_iter()
            .take(excess)
            .map(|(_, name)| name.to_string())
            .collect()
    }

    /// `GET|POST /auth/callback`: checks the answer against its transaction, redeems the code
    /// once, validates the ID token, and starts a new session (a new id, always).
    ///
    /// Every failure answers 400 with [`Page::SignInFailed`] and never calls the token
    /// endpoint twice for one transaction: a transaction is marked consumed in the store before
    /// its code is redeemed, and its cookie is deleted.
    pub async fn callback(&self, request: &WebRequest, platform: &Platform<'_>) -> WebResponse {
        let response = match AuthorizationResponse::parse(request.callback_params()) {
            Ok(response) => response,
            Err(_) => return failed("The sign-in response was malformed.", None),
        };
        let Some(state) = response.state() else {
            return failed("The sign-in response names no sign-in in progress.", None);
        };
        let name = format!("{TRANSACTION_COOKIE_PREFIX}{}", transaction_id(state));
        let Some(sealed) = request.cookie(&name) else {
            return failed(
                "This sign-in is unknown, has expired, or was already completed.",
                None,
            );
        };
        let now = platform.clock.now_unix_secs();
        let opened = self.transactions.open::<Transaction>(
            sealed,
            name.as_bytes(),
            now,
            MAX_TRANSACTION_COOKIE_LEN,
        );
        let clear = SetCookie::delete(&name, SameSite::Lax);
        let transaction = match opened {
            Ok(transaction) => transaction,
            Err(SealError::Expired) => return failed("The sign-in took too long.", Some(clear)),
            Err(_) => return failed("The sign-in could not be verified.", Some(clear)),
        };
        let clear = SetCookie::delete(&name, same_site(transaction.response_mode));
        // The code comes back the way the sign-in asked for it, and nowhere else: a query-mode
        // sign-in answered by a POST (or the reverse) is not this sign-in's answer.
        if request.is_post != (transaction.response_mode == ResponseMode::FormPost) {
            return failed(
                "The sign-in response does not match this sign-in.",
                Some(clear),
            );
        }
        // The destination was checked when the sign-in began; check it again before using it.
        if safe_return_to(Some(&transaction.return_to)) != transaction.return_to {
            return failed(
                "The sign-in response does not match this sign-in.",
                Some(clear),
            );
        }
        let code = match transaction.check_response(response) {
            Ok(code) => code,
            Err(CallbackError::Provider(error)) => {
                return provider_refused(&transaction, &error, clear);
            }
            Err(_) => {
                return failed(
                    "The sign-in response does not match this sign-in.",
                    Some(clear),
                )
            }
        };
        if !self.consume(&transaction, now, platform).await {
            return failed("This sign-in was already completed.", Some(clear));
        }
        match self
            .complete_sign_in(&transaction, &code, request, platform)
            .await
        {
            Ok(mut response) => {
                response.cookies.push(clear);
                response
            }
            Err(reason) => failed(reason, Some(clear)),
        }
    }

    /// Marks `transaction` consumed; `false` when it already was. A store that cannot answer
    /// does not block the sign-in: the deleted cookie and the single-use code still stand.
    async fn consume(&self, transaction: &Transaction, now: u64, platform: &Platform<'_>) -> bool {
        let canonical = json!([
            "consumed",
            self.client.authority().cache_identity(),
            self.client.client_id(),
            transaction.id()
        ]);
        let key = hashed_storage_key("edge-token/v1/consumed/", &canonical.to_string());
        if let Ok(Some(_)) = platform.store.get(&key).await {
            return false;
        }
        let ttl = transaction
            .expires_at()
            .saturating_sub(now)
            .max(MIN_STORE_TTL_SECS);
        let _ = platform.store.put(&key, b"1".to_vec(), ttl).await;
        true
    }

    async fn complete_sign_in(
        &self,
        transaction: &Transaction,
        code: &str,
        request: &WebRequest,
        platform: &Platform<'_>,
    ) -> Result<WebResponse, &'static str> {
        const REFUSED: &str = "The identity provider refused to complete the sign-in.";
        let scopes = Scopes::parse(&transaction.scopes).map_err(|_| REFUSED)?;
        // The code's access token is for the scopes asked besides the OIDC ones: the downstream
        // API's at sign-in, the failing call's on a re-authorization.
        let resource_scopes = transaction.resource_scopes().map_err(|_| REFUSED)?;
        // The code is redeemed with the redirect URI its authorization request named (RFC 6749
        // §4.1.3), which must still be configured; transactions from before several URIs name
        // none and used the first.
        let redirect_uri = match &transaction.redirect_uri {
            Some(uri) => self.redirect_uris.find(uri),
            None => self.redirect_uris.as_slice().first(),
        }
        .ok_or("This sign-in began at an address the web app no longer uses.")?;
        let received = self
            .client
            .redeem_authorization_code(
                code,
                redirect_uri,
                &transaction.code_verifier,
                &scopes,
                platform,
            )
            .await
            .map_err(|_| REFUSED)?;
        let id_token = received
            .response
            .id_token
            .clone()
            .ok_or("The identity provider sent no ID token.")?;
        let metadata = self.client.metadata(platform).await.map_err(|_| REFUSED)?;
        let claims = self
            .validate(
                &id_token,
                &transaction.nonce,
                false,
                &received.response.access_token,
                &metadata,
                platform,
            )
            .await
            .map_err(|_| "The ID token could not be validated.")?;
        let mut session = Session::begin(
            claims.all.clone(),
            claims.user_id().canonical(),
            id_token,
            &received.response,
            &resource_scopes,
            received.requested_at,
            &self.lifetime,
        );
        if transaction.reauthorization {
            session.reauthorized.push(resource_scopes.to_param());
        }
        let id = SessionId::generate(platform.entropy).map_err(|_| REFUSED)?;
        let sessions = self.session_store(platform);
        let now = platform.clock.now_unix_secs();
        sessions
            .save(&id, &session, now, platform.entropy)
            .await
            .map_err(|_| "The session could not be saved. Please try again.")?;
        // A session no logout can reach is not started (see `logout`).
        if self.index_session(&id, &session, platform).await.is_err() {
            let _ = sessions.delete(&id).await;
            return Err("The session could not be saved. Please try again.");
        }
        if self.lifetime.idle_secs.is_some() {
            // Without it the idle window counts from sign-in anyway (`created_at`).
            let _ = sessions
                .touch(&id, now, session.expires_at, platform.entropy)
                .await;
        }
        if let Some(previous) = request.cookie(SESSION_COOKIE).and_then(SessionId::parse) {
            let _ = sessions.delete(&previous).await;
        }
        Ok(
            WebResponse::redirect(&transaction.return_to).with_cookie(self.session_cookie(
                &id,
                session.expires_at,
                now,
            )),
        )
    }

    /// The session cookie for `id` at `now`, for a session ending at `expires_at`: `Max-Age`
    /// from [`SessionLifetime::cookie_max_age`].
    fn session_cookie(&self, id: &SessionId, expires_at: u64, now: u64) -> SetCookie {
        SetCookie {
            name: SESSION_COOKIE.to_string(),
            value: id.expose_secret().to_string(),
            max_age: self.lifetime.cookie_max_age(expires_at, now),
            same_site: SameSite::Lax,
        }
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

fn same_site(mode: ResponseMode) -> SameSite {
    match mode {
        ResponseMode::Query => SameSite::Lax,
        // The provider's auto-submitted form is a cross-site POST.
        ResponseMode::FormPost => SameSite::None,
    }
}

fn failed(reason: &str, clear: Option<SetCookie>) -> WebResponse {
    log::warn!("sign-in refused: {reason}");
    let response = WebResponse::page(
        400,
        Page::SignInFailed {
            reason: reason.into(),
        },
    );
    match clear {
        Some(cookie) => response.with_cookie(cookie),
        None => response,
    }
}

/// The callback's answer when the provider answered `error` instead of a code. A declined
/// re-authorization (`access_denied`, `consent_required`, `interaction_required`: OIDC Core
/// §3.1.2.6, RFC 6749 §4.1.2.1) is 403 [`Page::AccessDenied`], the end of that call's attempt:
/// the page that needed it is not retried, so nothing loops.
fn provider_refused(transaction: &Transaction, error: &str, clear: SetCookie) -> WebResponse {
    let declined = matches!(
        error,
        "access_denied" | "consent_required" | "interaction_required"
    );
    if transaction.reauthorization && declined {
        log::info!("re-authorization declined at the provider ({error})");
        return WebResponse::page(
            403,
            Page::AccessDenied {
                reason: "The permissions this page needs were not granted.".into(),
            },
        )
        .with_cookie(clear);
    }
    failed(
        "The identity provider did not complete the sign-in.",
        Some(clear),
    )
}

/// 400 for a sign-in requested at an origin none of the redirect URIs is on.
fn unregistered_origin() -> WebResponse {
    log::warn!("sign-in refused: {UnregisteredOrigin}");
    WebResponse::page(
        400,
        Page::SignInFailed {
            reason: "Sign-in is not available at this address: it is not a registered address of the web app."
                .into(),
        },
    )
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
