//! Logout that reaches every session: OpenID Connect Front-Channel Logout 1.0 and Back-Channel
//! Logout 1.0 for the web app. When the user signs out at the provider (from this app, another
//! app or another browser), the provider tells this app which provider session (`sid`) or user
//! (`sub`) ended, and every session of this app begun in it ends: its record is deleted from
//! the shared store, so a later request with its cookie is signed out.
//!
//! | operation | route in the reference apps | what an Entra app registration calls it |
//! |---|---|---|
//! | [`WebApp::front_channel_logout`] | `GET /auth/frontchannel-logout?iss=…&sid=…` | front-channel logout URL |
//! | [`WebApp::back_channel_logout`] | `POST /auth/backchannel-logout` (`logout_token`) | (OIDC `backchannel_logout_uri`) |
//!
//! Sessions are found through the session index ([`crate::scenarios::session::index`]): at
//! sign-in each session is added to its (issuer, `sid`) and (issuer, `sub`) records, at
//! sign-out removed; see there for the limits of an index kept in an eventually consistent
//! store. A `sid` is the provider's secret-ish handle of one of its sessions (it is in the
//! user's ID tokens and the provider's logout requests): whoever knows it can end that
//! session's sessions here through the front channel, which asks for nothing else (Front-Channel
//! Logout 1.0 §4); that ends sessions, never starts or reveals one.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{json, Map, Value};

use super::{unavailable, WebApp, SESSION_COOKIE};
use crate::acquisition::cache::{hashed_storage_key, MIN_STORE_TTL_SECS};
use crate::error::Error;
use crate::platform::Platform;
use crate::scenarios::session::index::{IndexKey, SessionIndex};
use crate::scenarios::session::{Session, SessionId};
use crate::scenarios::web::{SameSite, SetCookie, WebRequest, WebResponse};
use crate::secret::LogoutToken;
use crate::validation::jwks::JwkSet;
use crate::validation::jwt::{
    IssuerRule, MAX_ID_CLAIM_BYTES, MAX_URI_CLAIM_BYTES, TENANT_PLACEHOLDER,
};
use crate::validation::logout_token::{
    validate_logout_token, LogoutTokenClaims, LogoutTokenValidation,
};

/// The form field of a back-channel logout request (Back-Channel Logout 1.0 §2.5).
pub(crate) const LOGOUT_TOKEN_FIELD: &str = "logout_token";

impl WebApp {
    /// `GET /auth/frontchannel-logout?iss=…&sid=…` (OpenID Connect Front-Channel Logout 1.0
    /// §2, §3): the provider's logout page loads this URL in an iframe; every session of this
    /// client begun in the provider session `sid` of issuer `iss` ends.
    ///
    /// - `iss` must equal the provider's issuer exactly (§3: the RP "MUST verify" them when it
    ///   registered `frontchannel_logout_session_required`); for an Entra multi-tenant
    ///   authority, the issuer template with an allowed tenant. `sid` is required too. Either
    ///   missing, repeated, too long or wrong: 400, nothing ended.
    /// - The sessions of (`iss`, `sid`) in the session index end (records deleted), and so does
    ///   the session whose cookie the request carries when its ID token names the same `iss`
    ///   and `sid` (the cookie is then expired); a cookie of another provider session is left
    ///   alone. A provider on another site (Entra's `login.microsoftonline.com`) loads the
    ///   iframe cross-site, where the browser sends no `SameSite=Lax` cookie: the index is what
    ///   reaches the sessions, the cookie only helps on the same site.
    /// - The answer must be allowed in a frame: an app that sends `X-Frame-Options` or a CSP
    ///   `frame-ancestors` must exempt this route for the provider's origin.
    /// - Answers 200, `cache-control: no-store` (§3: "SHOULD" not be cached) and a short plain
    ///   text body (it is rendered in an invisible iframe). 503 when the provider's issuer
    ///   cannot be discovered or the store fails (nothing is known to have ended).
    pub async fn front_channel_logout(
        &self,
        request: &WebRequest,
        platform: &Platform<'_>,
    ) -> WebResponse {
        let (Some(iss), Some(sid)) = (
            single(&request.query, "iss", MAX_URI_CLAIM_BYTES),
            single(&request.query, "sid", MAX_ID_CLAIM_BYTES),
        ) else {
            log::info!("front-channel logout refused: iss or sid missing or malformed");
            return WebResponse::new(
                400,
                &[("content-type", "text/plain; charset=utf-8")],
                b"Bad logout request.".to_vec(),
            );
        };
        let metadata = match self.client.metadata(platform).await {
            Ok(metadata) => metadata,
            Err(error) => return unavailable(&error),
        };
        if !issuer_matches(&self.issuer_rule(&metadata), iss) {
            log::info!("front-channel logout refused: iss is not the provider's issuer");
            return WebResponse::new(
                400,
                &[("content-type", "text/plain; charset=utf-8")],
                b"Bad logout request.".to_vec(),
            );
        }
        // The browser's own session, read before the index ends it (it may be missing from
        // the index: see `crate::scenarios::session::index`).
        let own = self
            .current_session(request, platform)
            .await
            .0
            .filter(|(_, session)| {
                let claim = |name| session.claims.get(name).and_then(Value::as_str);
                claim("iss") == Some(iss) && claim("sid") == Some(sid)
            });
        let mut ended = match self
            .end_sessions(IndexKey::Sid { iss, sid }, platform)
            .await
        {
            Ok(ended) => ended,
            Err(error) => return unavailable(&error),
        };
        let mut response = WebResponse::new(
            200,
            &[("content-type", "text/plain; charset=utf-8")],
            b"Signed out.".to_vec(),
        );
        if let Some((id, session)) = own {
            if let Err(error) = self.session_store(platform).delete(&id).await {
                return unavailable(&error);
            }
            self.unindex_session(&id, &session, platform).await;
            ended = ended.max(1);
            response = response.with_cookie(SetCookie::delete(SESSION_COOKIE, SameSite::Lax));
        }
        log::info!("front-channel logout: {ended} session(s) ended");
        response
    }

    /// `POST /auth/backchannel-logout` with form field `logout_token` (OpenID Connect
    /// Back-Channel Logout 1.0 §2.5): the provider ends this client's sessions of a provider
    /// session or a user directly, without the browser.
    ///
    /// - The logout token is validated with the provider's keys and the ID token algorithm
    ///   ([`validate_logout_token`], §2.6: signature, `iss`, `aud`, `iat`, `exp`, `events`,
    ///   no `nonce`, `sid` and/or `sub`, `jti`).
    /// - A `jti` already accepted from this issuer is refused (§2.6 step 9): accepted `jti`s
    ///   are remembered in the shared store, as a hash, until the token could no longer be
    ///   accepted anyway ([`LogoutTokenClaims::accept_until`], at most an hour and the leeway).
    ///   The store is eventually consistent, so the same token delivered twice within its
    ///   propagation delay may be accepted twice: it ends the same sessions again.
    /// - With a `sid`, the sessions of (`iss`, `sid`) end; with only a `sub`, every session of
    ///   (`iss`, `sub`) (§2.7). The `jti` is recorded only once they have.
    /// - Answers 200 with `cache-control: no-store` (§2.8). Anything else, a refused token, a
    ///   replay, a provider or store that fails, answers 400 `{"error":"invalid_request"}`
    ///   (§2.8) with `cache-control: no-store`; the reason is logged without the token's content.
    pub async fn back_channel_logout(
        &self,
        request: &WebRequest,
        platform: &Platform<'_>,
    ) -> WebResponse {
        match self.accept_logout_token(request, platform).await {
            Ok(ended) => {
                log::info!("back-channel logout: {ended} session(s) ended");
                WebResponse::new(200, &[], Vec::new())
            }
            Err(reason) => {
                log::warn!("back-channel logout refused: {reason}");
                WebResponse::json(400, &json!({"error": "invalid_request"}))
            }
        }
    }

    /// Validates the request's logout token, refuses a replay, ends its sessions and records
    /// its `jti`; returns how many sessions ended, or why it was refused (for the log).
    async fn accept_logout_token(
        &self,
        request: &WebRequest,
        platform: &Platform<'_>,
    ) -> Result<usize, String> {
        if !request.is_post {
            return Err("not a POST".into());
        }
        let mut fields = request
            .form
            .iter()
            .filter(|(name, _)| name == LOGOUT_TOKEN_FIELD);
        let token = match (fields.next(), fields.next()) {
            (Some((_, token)), None) if !token.is_empty() => LogoutToken::new(token.as_str()),
            _ => return Err("no single logout_token form field".into()),
        };
        let claims = self
            .validate_logout(&token, platform)
            .await
            .map_err(|error| error.to_string())?;
        let now = platform.clock.now_unix_secs();
        let replay_key = self.jti_storage_key(&claims);
        if platform
            .store
            .get(&replay_key)
            .await
            .map_err(|error| error.to_string())?
            .is_some()
        {
            return Err("the logout token's jti was already accepted".into());
        }
        let key = match (&claims.sid, &claims.sub) {
            (Some(sid), _) => IndexKey::Sid {
                iss: &claims.iss,
                sid,
            },
            (None, Some(sub)) => IndexKey::Sub {
                iss: &claims.iss,
                sub,
            },
            (None, None) => return Err("neither sid nor sub".into()),
        };
        let ended = self
            .end_sessions(key, platform)
            .await
            .map_err(|error| error.to_string())?;
        let ttl = claims
            .accept_until
            .saturating_sub(now)
            .max(MIN_STORE_TTL_SECS);
        platform
            .store
            .put(&replay_key, b"1".to_vec(), ttl)
            .await
            .map_err(|error| error.to_string())?;
        Ok(ended)
    }

    /// Validates `token` with the provider's keys (refetched once per cooldown when it names
    /// an unknown key), as [`WebApp::validate`] does ID tokens.
    async fn validate_logout(
        &self,
        token: &LogoutToken,
        platform: &Platform<'_>,
    ) -> Result<LogoutTokenClaims, Error> {
        let metadata = self.client.metadata(platform).await?;
        let rules = &LogoutTokenValidation::new(
            self.issuer_rule(&metadata),
            self.client.client_id(),
            self.id_token_algorithm,
            platform.clock.now_unix_secs(),
        );
        let jwks_uri = metadata
            .jwks_uri
            .as_ref()
            .ok_or_else(|| Error::configuration("the provider publishes no jwks_uri"))?;
        let verifier = self.verifier.as_ref();
        self.keys
            .validate_with(
                jwks_uri,
                self.client.document_sealer(),
                platform,
                |keys: JwkSet| async move {
                    validate_logout_token(token, rules, &keys, verifier).await
                },
            )
            .await
    }

    /// Where an accepted logout token's `jti` is remembered: a hash of (authority, client id,
    /// issuer, `jti`), value `1`.
    fn jti_storage_key(&self, claims: &LogoutTokenClaims) -> String {
        let canonical = json!([
            "logout-jti",
            self.client.authority().cache_identity(),
            self.client.client_id(),
            claims.iss,
            claims.jti
        ]);
        hashed_storage_key("edge-token/v1/logout-jti/", &canonical.to_string())
    }

    /// Ends every session `key` indexes: their records are deleted, then the index record
    /// (kept when a deletion fails, so a retry finds them). Returns how many there were.
    async fn end_sessions(
        &self,
        key: IndexKey<'_>,
        platform: &Platform<'_>,
    ) -> Result<usize, Error> {
        let now = platform.clock.now_unix_secs();
        let index = self.session_index(platform);
        let ids = index.sessions(key, now).await?;
        let sessions = self.session_store(platform);
        for id in &ids {
            sessions.delete(id).await?;
        }
        index.forget(key).await?;
        Ok(ids.len())
    }

    /// Adds the new session `id` to the index records of its ID token's (`iss`, `sid`) and
    /// (`iss`, `sub`) (a token without `sid` is indexed by `sub` only), at sign-in.
    ///
    /// # Errors
    /// As [`SessionIndex::add`]: the caller then ends the session, which no logout could reach.
    pub(super) async fn index_session(
        &self,
        id: &SessionId,
        session: &Session,
        platform: &Platform<'_>,
    ) -> Result<(), Error> {
        let index = self.session_index(platform);
        let now = platform.clock.now_unix_secs();
        for key in index_keys(&session.claims) {
            index
                .add(key, id, session.expires_at, now, platform.entropy)
                .await?;
        }
        Ok(())
    }

    /// Removes session `id` from its index records, at sign-out. Failures are logged only: the
    /// session record is gone, and an entry left behind ends with the session's lifetime.
    pub(super) async fn unindex_session(
        &self,
        id: &SessionId,
        session: &Session,
        platform: &Platform<'_>,
    ) {
        let index = self.session_index(platform);
        let now = platform.clock.now_unix_secs();
        for key in index_keys(&session.claims) {
            if let Err(error) = index.remove(key, id, now, platform.entropy).await {
                log::debug!("session index entry not removed: {error}");
            }
        }
    }

    fn session_index<'a>(&'a self, platform: &Platform<'a>) -> SessionIndex<'a> {
        SessionIndex {
            store: platform.store,
            sealer: &self.session_index,
            authority: self.client.authority(),
            client_id: self.client.client_id(),
        }
    }
}

/// The index records a session with these ID token `claims` belongs to: (`iss`, `sid`) when
/// the token has a `sid`, and (`iss`, `sub`).
fn index_keys(claims: &Map<String, Value>) -> Vec<IndexKey<'_>> {
    let text = |name| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let Some(iss) = text("iss") else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    if let Some(sid) = text("sid") {
        keys.push(IndexKey::Sid { iss, sid });
    }
    if let Some(sub) = text("sub") {
        keys.push(IndexKey::Sub { iss, sub });
    }
    keys
}

/// The one non-empty value of query parameter `name`, at most `max_bytes` of printable ASCII;
/// `None` when it is absent, repeated, empty or out of bounds.
fn single<'a>(pairs: &'a [(String, String)], name: &str, max_bytes: usize) -> Option<&'a str> {
    let mut named = pairs.iter().filter(|(n, _)| n == name);
    match (named.next(), named.next()) {
        (Some((_, value)), None)
            if !value.is_empty()
                && value.len() <= max_bytes
                && value.bytes().all(|b| (0x20..=0x7e).contains(&b)) =>
        {
            Some(value)
        }
        _ => None,
    }
}

/// Whether a front-channel `iss` names the provider's issuer under `rule` (Front-Channel Logout
/// 1.0 §3): equal to it exactly, or, for an Entra template, equal to the template with a
/// tenant id (the tenant then read from `iss` itself and checked against the allowed tenants).
fn issuer_matches(rule: &IssuerRule, iss: &str) -> bool {
    let mut claims = Map::new();
    claims.insert("iss".into(), Value::from(iss));
    if let IssuerRule::EntraTemplate { template, .. } = rule {
        let Some((prefix, suffix)) = template.split_once(TENANT_PLACEHOLDER) else {
            return false;
        };
        let Some(tid) = iss
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
        else {
            return false;
        };
        claims.insert("tid".into(), Value::from(tid));
    }
    rule.check(&claims).is_ok()
}

#[cfg(test)]
mod tests;
