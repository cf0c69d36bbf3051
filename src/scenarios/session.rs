//! Server-side sessions of the web app: a random session id in a cookie, everything else in the
//! shared store, sealed.
//!
//! - The cookie holds only a [`SessionId`] (256 random bits), re-issued at every sign-in so a
//!   planted id can never become a signed-in session (OWASP session fixation).
//! - The [`Session`] record (validated ID token claims, the ID token for `id_token_hint`, the
//!   refresh token, delegated access tokens by scope set) is sealed with the session subkey
//!   ([`crate::seal::Purpose::Session`]) and bound to its storage key, so a record copied under
//!   another key fails to open.
//! - The storage key is a hash of (authority, client id, session id): the store's key list never
//!   reveals a usable session id.
//! - Records live until the session's absolute end ([`SessionLifetime`]); the store's TTL
//!   removes them afterwards. With an idle timeout, the last activity is a second small sealed
//!   record ([`SessionStore::touch`]).

mod lifetime;

pub use lifetime::{SessionLifetime, DEFAULT_SESSION_ABSOLUTE_TIMEOUT_SECS};

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::acquisition::cache::{hashed_storage_key, CachedToken, TokenState};
use crate::error::Error;
use crate::platform::Entropy;
use crate::platform::TokenStore;
use crate::protocol::authority::Authority;
use crate::protocol::response::TokenResponse;
use crate::protocol::scope::Scopes;
use crate::seal::Sealer;
use crate::secret::{IdToken, RefreshToken};

pub(crate) mod index;

/// Delegated tokens a session keeps at most (one per scope set); the soonest-expiring go first.
pub(crate) const MAX_SESSION_TOKENS: usize = 16;

/// The longest sealed record accepted from the store, in characters (256 KiB).
pub(crate) const MAX_SESSION_RECORD_LEN: usize = 256 * 1024;

const SESSION_ID_BYTES: usize = 32;

/// The longest sealed activity record accepted, in characters (one timestamp sealed: ~100).
const MAX_ACTIVITY_RECORD_LEN: usize = 512;

/// A session id: 32 random bytes, base64url (43 characters). `Debug`/`Display` redact it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId(String);

impl SessionId {
    /// A fresh id from the platform's randomness.
    ///
    /// # Errors
    /// [`Error::Platform`] when the entropy source fails.
    pub fn generate(entropy: &dyn Entropy) -> Result<Self, Error> {
        let mut bytes = [0u8; SESSION_ID_BYTES];
        entropy.fill(&mut bytes)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Reads a cookie value; `None` unless it has the shape of an id (43 base64url characters).
    pub fn parse(cookie_value: &str) -> Option<Self> {
        let decoded = URL_SAFE_NO_PAD.decode(cookie_value).ok()?;
        (decoded.len() == SESSION_ID_BYTES).then(|| Self(cookie_value.to_string()))
    }

    /// The cookie value.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The storage key of this session's record for `client_id` of `authority`:
    /// `edge-token/v1/session/` + base64url(SHA-256(canonical JSON of the three)).
    pub fn storage_key(&self, authority: &Authority, client_id: &str) -> String {
        let canonical =
            serde_json::json!(["session", authority.cache_identity(), client_id, self.0])
                .to_string();
        hashed_storage_key("edge-token/v1/session/", &canonical)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId([redacted])")
    }
}

/// A delegated access token for one set of scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopedToken {
    /// The scopes, canonical ([`Scopes::to_param`]).
    pub scopes: String,
    /// The token and its times.
    #[serde(flatten)]
    pub token: CachedToken,
}

/// A signed-in user's session record.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The validated ID token's claims (OIDC Core §2, §5.1).
    pub claims: Map<String, Value>,
    /// The user's stable identity: `tid`/`oid` on Entra, `iss`/`sub` elsewhere.
    pub user_id: String,
    /// The ID token, kept for `id_token_hint` at sign-out (OIDC RP-Initiated Logout §2).
    pub id_token: IdToken,
    /// The current refresh token (RFC 6749 §1.5); replaced whenever the provider rotates it.
    pub refresh_token: Option<RefreshToken>,
    /// How many times the refresh token was redeemed since sign-in: tells the session's token
    /// coordinator whether this record's refresh token is older than its own
    /// ([`crate::acquisition::coordination::RefreshRedemption`]).
    #[serde(default)]
    pub refresh_generation: u64,
    /// Delegated access tokens by scope set.
    pub tokens: Vec<ScopedToken>,
    /// Sign-in time, Unix seconds.
    pub created_at: u64,
    /// End of the session, Unix seconds.
    pub expires_at: u64,
    /// The scope sets (canonical, [`Scopes::to_param`]) this session's sign-in was a
    /// re-authorization for (incremental consent or a claims challenge): when a silent
    /// acquisition for one of them needs the user again, the web app answers 403 instead of
    /// sending the user to the provider once more, which would loop (Microsoft.Identity.Web
    /// leaves this to the app; OAuth 2.0 Security BCP, RFC 9700 §4.11, on open-ended redirects).
    #[serde(default)]
    pub reauthorized: Vec<String>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user_id)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("tokens", &self.tokens.len())
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The session begun by a code redemption at `now` (Unix seconds): claims from the
    /// validated ID token, the refresh token, and the access token for `scopes`; it ends at
    /// `lifetime`'s absolute end.
    pub fn begin(
        claims: Map<String, Value>,
        user_id: String,
        id_token: IdToken,
        response: &TokenResponse,
        scopes: &Scopes,
        now: u64,
        lifetime: &SessionLifetime,
    ) -> Self {
        let mut session = Self {
            claims,
            user_id,
            id_token,
            refresh_token: response.refresh_token.clone(),
            refresh_generation: 0,
            tokens: Vec::new(),
            created_at: now,
            expires_at: lifetime.ends_at(now),
            reauthorized: Vec::new(),
        };
        session.put_token(scopes, CachedToken::from_response(response, now), now);
        session
    }

    /// Whether this session's sign-in was a re-authorization for `scopes` (compared as sets).
    pub fn was_reauthorized_for(&self, scopes: &Scopes) -> bool {
        let wanted = scopes.to_param();
        self.reauthorized.contains(&wanted)
    }

    /// The display name: `name`, else `preferred_username`, else `sub`.
    pub fn display_name(&self) -> &str {
        ["name", "preferred_username", "sub"]
            .iter()
            .find_map(|claim| self.claims.get(*claim).and_then(Value::as_str))
            .unwrap_or("")
    }

    /// The token held for exactly `scopes` (compared as sets), whatever its state.
    pub fn token_for(&self, scopes: &Scopes) -> Option<&CachedToken> {
        let wanted = scopes.to_param();
        self.tokens
            .iter()
            .find(|entry| entry.scopes == wanted)
            .map(|entry| &entry.token)
    }

    /// Records a refresh response received at `now`: a rotated refresh token replaces the old
    /// one, an absent one keeps it (RFC 6749 §6: the provider MAY issue a new one), and the
    /// access token is stored for `scopes`.
    pub fn apply_refresh(&mut self, response: &TokenResponse, scopes: &Scopes, now: u64) {
        if let Some(rotated) = &response.refresh_token {
            self.refresh_token = Some(rotated.clone());
        }
        self.put_token(scopes, CachedToken::from_response(response, now), now);
    }

    /// Stores `token` for `scopes`, replacing the previous one, dropping expired entries and,
    /// past [`MAX_SESSION_TOKENS`], the soonest-expiring.
    pub fn put_token(&mut self, scopes: &Scopes, token: CachedToken, now: u64) {
        let scopes = scopes.to_param();
        self.tokens.retain(|entry| {
            entry.scopes != scopes && entry.token.state(now) != TokenState::Expired
        });
        self.tokens.push(ScopedToken { scopes, token });
        while self.tokens.len() > MAX_SESSION_TOKENS {
            let soonest = self
                .tokens
                .iter()
                .enumerate()
                .min_by_key(|(_, entry)| entry.token.expires_on)
                .map(|(index, _)| index);
            if let Some(index) = soonest {
                self.tokens.remove(index);
            }
        }
    }

    /// Drops the token held for `scopes` (e.g. after a resource refused it).
    pub fn forget_token(&mut self, scopes: &Scopes) {
        let scopes = scopes.to_param();
        self.tokens.retain(|entry| entry.scopes != scopes);
    }
}

/// Where sessions of one web app live: the shared store, sealed with the session subkey.
pub(crate) struct SessionStore<'a> {
    /// The shared store.
    pub store: &'a dyn TokenStore,
    /// The session sealer ([`crate::seal::Purpose::Session`]).
    pub sealer: &'a Sealer,
    /// The app's authority (part of the storage key).
    pub authority: &'a Authority,
    /// The app's client id (part of the storage key).
    pub client_id: &'a str,
}

impl SessionStore<'_> {
    /// The session `id` names, if it exists, opens and has not ended at `now`.
    ///
    /// # Errors
    /// [`Error::Cache`] when the store fails. A record that does not open (tampered, moved,
    /// another key) or has expired is no session: `Ok(None)`.
    pub(crate) async fn load(&self, id: &SessionId, now: u64) -> Result<Option<Session>, Error> {
        let key = id.storage_key(self.authority, self.client_id);
        let Some(bytes) = self.store.get(&key).await? else {
            return Ok(None);
        };
        let Ok(sealed) = core::str::from_utf8(&bytes) else {
            return Ok(None);
        };
        Ok(self
            .sealer
            .open::<Session>(sealed, key.as_bytes(), now, MAX_SESSION_RECORD_LEN)
            .ok())
    }

    /// Writes `session` under `id` until the session ends.
    ///
    /// # Errors
    /// [`Error::Cache`] when the store fails or the session has ended;
    /// [`Error::Platform`] when the entropy source fails.
    pub(crate) async fn save(
        &self,
        id: &SessionId,
        session: &Session,
        now: u64,
        entropy: &dyn Entropy,
    ) -> Result<(), Error> {
        if session.expires_at <= now {
            return Err(Error::Cache("the session has ended".into()));
        }
        // The sealed expiry ends the record; the store's TTL has a floor (Workers KV: 60 s).
        let ttl = (session.expires_at - now).max(crate::acquisition::cache::MIN_STORE_TTL_SECS);
        let key = id.storage_key(self.authority, self.client_id);
        let sealed = self
            .sealer
            .seal(session, session.expires_at, key.as_bytes(), entropy)?;
        self.store.put(&key, sealed.into_bytes(), ttl).await
    }

    /// Removes the session `id` names, and its activity record.
    ///
    /// # Errors
    /// [`Error::Cache`] when the store fails.
    pub(crate) async fn delete(&self, id: &SessionId) -> Result<(), Error> {
        let _ = self.store.delete(&self.activity_key(id)).await;
        self.store
            .delete(&id.storage_key(self.authority, self.client_id))
            .await
    }

    /// When session `id` was last recorded active (Unix seconds), if a record opens: see
    /// [`SessionLifetime`]. A store failure or a record that does not open is `None`.
    pub(crate) async fn last_active(&self, id: &SessionId, now: u64) -> Option<u64> {
        let key = self.activity_key(id);
        let bytes = self.store.get(&key).await.ok()??;
        let sealed = core::str::from_utf8(&bytes).ok()?;
        self.sealer
            .open::<u64>(sealed, key.as_bytes(), now, MAX_ACTIVITY_RECORD_LEN)
            .ok()
    }

    /// Records session `id` active at `now`, until the session's absolute end `expires_at`:
    /// its own record, so the session record (and a refresh token rotated meanwhile by another
    /// request) is never rewritten for it.
    ///
    /// # Errors
    /// [`Error::Cache`] when the store fails; [`Error::Platform`] when the entropy source fails.
    pub(crate) async fn touch(
        &self,
        id: &SessionId,
        now: u64,
        expires_at: u64,
        entropy: &dyn Entropy,
    ) -> Result<(), Error> {
        if expires_at <= now {
            return Ok(());
        }
        let ttl = (expires_at - now).max(crate::acquisition::cache::MIN_STORE_TTL_SECS);
        let key = self.activity_key(id);
        let sealed = self
            .sealer
            .seal(&now, expires_at, key.as_bytes(), entropy)?;
        self.store.put(&key, sealed.into_bytes(), ttl).await
    }

    /// `edge-token/v1/session-activity/` + base64url(SHA-256(canonical JSON of authority,
    /// client id and session id)).
    fn activity_key(&self, id: &SessionId) -> String {
        let canonical = serde_json::json!([
            "session-activity",
            self.authority.cache_identity(),
            self.client_id,
            id.0
        ])
        .to_string();
        hashed_storage_key("edge-token/v1/session-activity/", &canonical)
    }
}

#[cfg(test)]
mod tests;
