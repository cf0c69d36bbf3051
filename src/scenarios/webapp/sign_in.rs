//! Sign-in (OpenID Connect authorization code flow with PKCE, OIDC Core §3.1; RFC 7636): the
//! authorization request and its sealed transaction cookie, the callback that checks the
//! answer against it and redeems the code once, and the new session. Also the
//! re-authorizations a call needs (incremental consent, claims challenges), which are sign-ins
//! for that call's scopes.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::json;

use super::{
    unavailable, WebApp, MAX_HINT_LEN, MAX_PENDING_SIGN_INS, MAX_TRANSACTION_COOKIE_LEN,
    PROMPT_VALUES, SESSION_COOKIE, TRANSACTION_COOKIE_PREFIX,
};
use crate::acquisition::cache::{hashed_storage_key, MIN_STORE_TTL_SECS};
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::authorization::{
    transaction_id, AuthorizationResponse, CallbackError, ResponseMode, SignInOptions, Transaction,
    TRANSACTION_LIFETIME_SECS,
};
use crate::protocol::scope::Scopes;
use crate::scenarios::return_to::safe_return_to;
use crate::scenarios::session::{Session, SessionId};
use crate::scenarios::web::{Page, SameSite, SetCookie, WebRequest, WebResponse};
use crate::seal::SealError;

use super::redirect::UnregisteredOrigin;

impl WebApp {
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
    pub(super) async fn challenge(
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
    pub(super) fn session_cookie(&self, id: &SessionId, expires_at: u64, now: u64) -> SetCookie {
        SetCookie {
            name: SESSION_COOKIE.to_string(),
            value: id.expose_secret().to_string(),
            max_age: self.lifetime.cookie_max_age(expires_at, now),
            same_site: SameSite::Lax,
        }
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
