//! Which of the web app's sessions belong to a provider session (`sid`) or to a subject
//! (`sub`): the index Front-Channel Logout 1.0 §3 and Back-Channel Logout 1.0 §2.7 need to end
//! *every* session of a logout, not only the browser that asked.
//!
//! - One record per (issuer, `sid`) and per (issuer, `sub`) for this client, in the shared
//!   store under a hashed key ([`IndexKey::storage_key`]: the authority, the client id, the
//!   issuer and the value; the store's key list reveals none of them).
//! - The record lists session ids, so it is sealed like session records, with its own subkey
//!   ([`crate::seal::Purpose::SessionIndex`]) and bound to its storage key.
//! - It holds at most [`MAX_INDEX_ENTRIES`] sessions (the newest); entries of ended sessions
//!   are dropped when the record is written. It lives as long as its longest-lived session
//!   (at most the absolute session timeout, `SESSION_ABSOLUTE_TIMEOUT_SECS`), then the store's
//!   TTL removes it.
//!
//! Limits: a record is read, changed and written back, and the shared store (Workers KV, Fastly
//! KV, Spin key-value) has no compare-and-swap and is eventually consistent. Two sign-ins of
//! one `sid` or `sub` that write within the store's propagation delay (up to ~60 s on Workers
//! KV) may each overwrite the other's entry. A lost entry means a logout of that `sid` / `sub`
//! misses that session, which then ends only at its own sign-out or expiry (its absolute
//! timeout, 24 h by default, or its idle timeout). It is bounded: it takes two sign-ins of the same provider session (or user)
//! racing within that delay; each session is in two records (its `sid`'s and its `sub`'s), so
//! a `sub`-only logout still finds it when only its `sid` entry was lost; and a front-channel
//! logout also ends the session whose cookie its request carries. Past [`MAX_INDEX_ENTRIES`]
//! sessions of one `sid` / `sub`, the oldest are dropped from the index in the same way. An
//! entry carries its session's end as at sign-in: a session whose end moves later must be
//! added again ([`SessionIndex::add`] replaces its entry), or the index forgets it at the
//! earlier time.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::acquisition::cache::{hashed_storage_key, MIN_STORE_TTL_SECS};
use crate::error::Error;
use crate::platform::{Entropy, TokenStore};
use crate::protocol::authority::Authority;
use crate::scenarios::session::SessionId;
use crate::seal::Sealer;

/// The most sessions one index record keeps (one per sign-in of that `sid` / `sub` still
/// alive); past it the soonest-ending entries are dropped (see the module documentation).
pub(crate) const MAX_INDEX_ENTRIES: usize = 32;

/// The longest sealed index record accepted from the store, in characters (a full record is
/// about 4 KiB).
const MAX_INDEX_RECORD_LEN: usize = 16 * 1024;

/// What an index record is for: a provider session or a subject, both of one issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IndexKey<'a> {
    /// The `sid` claim of the ID token (Front-Channel Logout 1.0 §2, Back-Channel Logout 1.0
    /// §2.1) issued by `iss`.
    Sid {
        /// The issuer.
        iss: &'a str,
        /// The provider's session id for this client.
        sid: &'a str,
    },
    /// The `sub` claim of the ID token issued by `iss` (unique per issuer, OIDC Core §2).
    Sub {
        /// The issuer.
        iss: &'a str,
        /// The subject.
        sub: &'a str,
    },
}

impl IndexKey<'_> {
    /// The record's storage key for `client_id` of `authority`: `edge-token/v1/session-index/` +
    /// base64url(SHA-256(canonical JSON of the authority, client id, kind, issuer and value))).
    pub(crate) fn storage_key(&self, authority: &Authority, client_id: &str) -> String {
        let (kind, iss, value) = match self {
            Self::Sid { iss, sid } => ("sid", iss, sid),
            Self::Sub { iss, sub } => ("sub", iss, sub),
        };
        let canonical = serde_json::json!([
            "session-index",
            authority.cache_identity(),
            client_id,
            kind,
            iss,
            value
        ])
        .to_string();
        hashed_storage_key("edge-token/v1/session-index/", &canonical)
    }
}

/// One indexed session: its id and when it ends (Unix seconds).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
struct IndexEntry {
    /// The session id (the cookie value): a secret, only ever stored sealed.
    session: String,
    /// The session's end, Unix seconds.
    expires_at: u64,
}

/// A sealed index record.
#[derive(Clone, Default, Serialize, Deserialize)]
struct IndexRecord {
    entries: Vec<IndexEntry>,
}

/// The index of one web app's sessions in the shared store.
pub(crate) struct SessionIndex<'a> {
    /// The shared store.
    pub store: &'a dyn TokenStore,
    /// The index sealer ([`crate::seal::Purpose::SessionIndex`]).
    pub sealer: &'a Sealer,
    /// The app's authority (part of the storage key).
    pub authority: &'a Authority,
    /// The app's client id (part of the storage key).
    pub client_id: &'a str,
}

impl SessionIndex<'_> {
    /// Adds session `id`, ending at `expires_at` (Unix seconds), to `key`'s record at `now`:
    /// ended entries are dropped, and past [`MAX_INDEX_ENTRIES`] the soonest-ending.
    ///
    /// # Errors
    /// [`Error::Cache`] when the store fails; [`Error::Platform`] when the entropy source fails.
    pub(crate) async fn add(
        &self,
        key: IndexKey<'_>,
        id: &SessionId,
        expires_at: u64,
        now: u64,
        entropy: &dyn Entropy,
    ) -> Result<(), Error> {
        let storage_key = key.storage_key(self.authority, self.client_id);
        let mut record = self.read(&storage_key, now).await?;
        record
            .entries
            .retain(|entry| entry.session != id.expose_secret() && entry.expires_at > now);
        record.entries.push(IndexEntry {
            session: id.expose_secret().into(),
            expires_at,
        });
        if record.entries.len() > MAX_INDEX_ENTRIES {
            record
                .entries
                .sort_unstable_by_key(|entry| core::cmp::Reverse(entry.expires_at));
            record.entries.truncate(MAX_INDEX_ENTRIES);
        }
        self.write(&storage_key, &record, now, entropy).await
    }

    /// Removes session `id` from `key`'s record at `now` (a sign-out); the record goes when it
    /// is left empty.
    ///
    /// # Errors
    /// [`Error::Cache`] when the store fails; [`Error::Platform`] when the entropy source fails.
    pub(crate) async fn remove(
        &self,
        key: IndexKey<'_>,
        id: &SessionId,
        now: u64,
        entropy: &dyn Entropy,
    ) -> Result<(), Error> {
        let storage_key = key.storage_key(self.authority, self.client_id);
        let mut record = self.read(&storage_key, now).await?;
        let before = record.entries.len();
        record
            .entries
            .retain(|entry| entry.session != id.expose_secret() && entry.expires_at > now);
        if record.entries.len() == before {
            return Ok(());
        }
        self.write(&storage_key, &record, now, entropy).await
    }

    /// The sessions of `key` still alive at `now` (a logout is about to end them).
    ///
    /// # Errors
    /// [`Error::Cache`] when the store fails.
    pub(crate) async fn sessions(
        &self,
        key: IndexKey<'_>,
        now: u64,
    ) -> Result<Vec<SessionId>, Error> {
        let storage_key = key.storage_key(self.authority, self.client_id);
        let record = self.read(&storage_key, now).await?;
        Ok(record
            .entries
            .into_iter()
            .filter(|entry| entry.expires_at > now)
            .filter_map(|entry| SessionId::parse(&entry.session))
            .collect())
    }

    /// Removes `key`'s record (its sessions have ended).
    ///
    /// # Errors
    /// [`Error::Cache`] when the store fails.
    pub(crate) async fn forget(&self, key: IndexKey<'_>) -> Result<(), Error> {
        self.store
            .delete(&key.storage_key(self.authority, self.client_id))
            .await
    }

    /// The record under `storage_key`; an absent, tampered, moved or expired one is empty.
    async fn read(&self, storage_key: &str, now: u64) -> Result<IndexRecord, Error> {
        let Some(bytes) = self.store.get(storage_key).await? else {
            return Ok(IndexRecord::default());
        };
        let opened = core::str::from_utf8(&bytes).ok().and_then(|sealed| {
            self.sealer
                .open::<IndexRecord>(sealed, storage_key.as_bytes(), now, MAX_INDEX_RECORD_LEN)
                .ok()
        });
        if opened.is_none() {
            log::warn!("session index record {storage_key} refused: treated as empty");
        }
        Ok(opened.unwrap_or_default())
    }

    /// Writes `record` until its last session ends; an empty one is deleted.
    async fn write(
        &self,
        storage_key: &str,
        record: &IndexRecord,
        now: u64,
        entropy: &dyn Entropy,
    ) -> Result<(), Error> {
        let Some(expires_at) = record.entries.iter().map(|entry| entry.expires_at).max() else {
            return self.store.delete(storage_key).await;
        };
        // The sealed expiry is what counts; the store keeps it at least its minimum TTL.
        let ttl = expires_at.saturating_sub(now).max(MIN_STORE_TTL_SECS);
        let sealed = self
            .sealer
            .seal(record, expires_at, storage_key.as_bytes(), entropy)?;
        self.store.put(storage_key, sealed.into_bytes(), ttl).await
    }
}

#[cfg(test)]
mod tests;
