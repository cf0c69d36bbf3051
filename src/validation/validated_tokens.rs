//! The access tokens a protected resource has already validated, kept per isolate so that a
//! caller sending the same token again is not signature-verified again on every request (at the
//! edge, verifying an RS256 signature is most of a cached request's CPU). The precedent is
//! Envoy's `jwt_authn` filter (`jwt_cache_config`: a per-worker cache of verified JWTs, keyed
//! by the token, bounded by a count of tokens, `jwt_cache_size`, 100 by default); ASP.NET
//! Core's JwtBearer handler validates every request.
//!
//! The rules, each kept on every lookup:
//! - **Key.** The SHA-256 digest of the whole token ([`TokenDigest`]); the table never holds the
//!   token's text. A hit compares the full 32 bytes (in constant time), so a token differing in
//!   any byte (a tampered signature, a changed claim) misses and is validated in full.
//! - **Only valid tokens enter.** An entry is stored after the full validation
//!   ([`crate::validation::validate_access_token`]) *and* the required scopes or roles passed;
//!   refusals are never stored, so invalid tokens cannot grow or flush the table.
//! - **Time.** A hit never accepts what the full validation would refuse for time reasons at
//!   that moment: `exp`, `nbf` and `iat` are checked again against the current clock with the
//!   same function and clock-skew allowance as the full validation
//!   (`crate::validation::jwt::check_times`, the rules' `leeway_secs`, RFC 7519 §4.1.4–4.1.6);
//!   an entry that fails is dropped and the token goes through the full validation, which gives
//!   the caller the same error it always did.
//! - **Permissions.** The required scopes or roles ([`RequiredPermissions::check`]) are checked
//!   on every hit (cheap).
//! - **Same rules.** Entries are kept for one set of rules: the accepted issuers (which follow
//!   the client's discovered issuer), audiences, algorithm and leeway, the `jwks_uri`, and the
//!   [`KeySetGeneration`] of the issuer's key set that verified them. A lookup under other
//!   rules misses; the first entry stored under new rules empties the table. The table belongs
//!   to one [`crate::scenarios::ProtectedResource`] (one policy), so no other configuration
//!   ever reads it.
//! - **Signing-key rotation.** A hit needs the isolate to hold, not stale, the very key set
//!   that verified the token ([`crate::validation::issuer_keys::IssuerKeys::current_generation`]): once the set is refetched
//!   (an unknown `kid`, the 24-hour refresh) or another isolate's newer stored set is adopted,
//!   the entries verified with the old set miss and the table is emptied at the next store. On
//!   top of that an entry lives at most [`VALIDATED_TOKEN_MAX_AGE_SECS`] (5 minutes) after its
//!   validation, the interval at which Microsoft's `ConfigurationManager` may refresh signing
//!   keys on demand (`DefaultRefreshInterval`, the "signing key rollover" guidance of the
//!   Microsoft identity platform; `JWKS_REFETCH_COOLDOWN_SECS` here): a token is verified again
//!   at least that often, so no entry outlives by more than that a key which this isolate
//!   stopped trusting.
//! - **Bound.** At most [`VALIDATED_TOKEN_CAPACITY`] entries. A store into a full table drops
//!   the entries that can no longer hit (expired, too old, another key set) first, then the
//!   oldest validated, down to 90% of the bound, so eviction runs once per many stores.
//!
//! Single-threaded like every per-isolate table of the core (`RefCell`, as `IssuerKeys` and the
//! memory token cache): the value is neither `Send` nor `Sync`.

use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::fmt;

use hashbrown::HashTable;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

use crate::secret::AccessToken;
use crate::validation::access_token::{
    AccessTokenClaims, AccessTokenValidation, InsufficientScope, RequiredPermissions,
};
use crate::validation::issuer_keys::KeySetGeneration;
use crate::validation::jwt::check_times;

/// How many validated tokens a protected resource keeps per isolate: 1,024 entries. Envoy's
/// `jwt_cache_size` defaults to 100; a resource at the edge sees more callers per isolate (one
/// token per calling app or signed-in user and hour). An entry is the token's claims (about
/// 1 KB for an Entra access token) and its digest, so the bound is about 1–2 MB.
pub(crate) const VALIDATED_TOKEN_CAPACITY: usize = 1024;

/// How long after its full validation a token is accepted from the table, in seconds: 300 (5
/// minutes), the on-demand signing-key refresh interval of Microsoft's `ConfigurationManager`
/// and `JWKS_REFETCH_COOLDOWN_SECS` (see the module documentation).
pub(crate) const VALIDATED_TOKEN_MAX_AGE_SECS: u64 = 300;

/// The SHA-256 digest of a whole token as received (FIPS 180-4): the table's key.
#[derive(Clone, Copy)]
pub(crate) struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// The digest of `token`'s text.
    pub(crate) fn of(token: &AccessToken) -> Self {
        Self(Sha256::digest(token.expose_secret().as_bytes()).into())
    }

    /// The table hash: the digest's first 8 bytes (already uniform).
    fn hash(&self) -> u64 {
        let mut first = [0; 8];
        first.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(first)
    }

    /// Whether both digests are equal, all 32 bytes compared in constant time.
    fn matches(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenDigest {
    /// Not the digest: it identifies the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenDigest(..)")
    }
}

/// What a validation depended on besides the token and the clock (see the module
/// documentation's "same rules").
pub(crate) struct Grounds<'a> {
    /// The rules the token was validated with; their `now` is the time of the lookup or
    /// validation, Unix seconds.
    pub(crate) rules: &'a AccessTokenValidation,
    /// Where the issuer's keys come from.
    pub(crate) jwks_uri: &'a Url,
    /// The key set that verified the token, or that a validation would use now.
    pub(crate) key_set: KeySetGeneration,
}

/// [`Grounds`] as the table keeps them (the rules' `now` is not compared).
struct Context {
    rules: AccessTokenValidation,
    jwks_uri: Url,
    key_set: KeySetGeneration,
}

impl Context {
    fn matches(&self, grounds: &Grounds<'_>) -> bool {
        // Every field named: a new rule cannot be forgotten here.
        let AccessTokenValidation {
            issuers,
            audiences,
            algorithm,
            leeway_secs,
            now: _,
        } = grounds.rules;
        self.key_set == grounds.key_set
            && self.rules.issuers == *issuers
            && self.rules.audiences == *audiences
            && self.rules.algorithm == *algorithm
            && self.rules.leeway_secs == *leeway_secs
            && self.jwks_uri == *grounds.jwks_uri
    }
}

/// A validated token: its digest and claims.
struct Entry {
    digest: TokenDigest,
    claims: AccessTokenClaims,
    /// When the token was validated, Unix seconds.
    validated_at: u64,
    /// The table's store counter when it was stored (oldest = smallest).
    stored: u64,
}

impl Entry {
    /// Whether the entry may still answer at `now` (Unix seconds) with `leeway_secs`: not past
    /// its maximum age, and its time claims still pass.
    fn is_current(&self, now: u64, leeway_secs: u64) -> bool {
        now.saturating_sub(self.validated_at) < VALIDATED_TOKEN_MAX_AGE_SECS
            && check_times(&self.claims.all, now, leeway_secs, false).is_ok()
    }
}

/// The table: see the module documentation.
pub(crate) struct ValidatedTokens {
    table: RefCell<HashTable<Entry>>,
    /// The grounds every entry was validated on; `None` before the first store.
    context: RefCell<Option<Context>>,
    /// Counts stores: the age order of [`Entry::stored`].
    stores: Cell<u64>,
    capacity: usize,
}

impl Default for ValidatedTokens {
    fn default() -> Self {
        Self::with_capacity(VALIDATED_TOKEN_CAPACITY)
    }
}

impl fmt::Debug for ValidatedTokens {
    /// The number of entries only: no digest, no claims.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatedTokens")
            .field("entries", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl ValidatedTokens {
    /// An empty table holding at most `capacity` entries (0: nothing is ever kept).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            table: RefCell::default(),
            context: RefCell::default(),
            stores: Cell::new(0),
            capacity,
        }
    }

    /// The claims of the token whose digest is `digest`, validated on `grounds` (at
    /// `grounds.rules.now`) within [`VALIDATED_TOKEN_MAX_AGE_SECS`], checked against
    /// `required`. `None` when the token must go through the full validation: not held, held
    /// on other grounds, too old, or its time claims no longer pass (the entry is dropped).
    ///
    /// # Errors
    /// `Some(Err(`[`InsufficientScope`]`))` when the held token lacks the scopes or roles of
    /// `required` (RFC 6750 §3.1).
    pub(crate) fn get(
        &self,
        digest: &TokenDigest,
        grounds: &Grounds<'_>,
        required: &RequiredPermissions,
    ) -> Option<Result<AccessTokenClaims, InsufficientScope>> {
        if !self
            .context
            .borrow()
            .as_ref()
            .is_some_and(|context| context.matches(grounds))
        {
            return None;
        }
        let mut table = self.table.borrow_mut();
        let found = table
            .find_entry(digest.hash(), |entry| entry.digest.matches(digest))
            .ok()?;
        let rules = grounds.rules;
        if !found.get().is_current(rules.now, rules.leeway_secs) {
            found.remove();
            return None;
        }
        let claims = &found.get().claims;
        Some(required.check(claims).map(|()| claims.clone()))
    }

    /// Keeps `claims`, those of the token whose digest is `digest`, fully validated on
    /// `grounds` at `grounds.rules.now` and carrying the required permissions. Grounds other
    /// than the held entries' empty the table first; a full table drops the entries that can
    /// no longer answer, then the oldest, down to 90% of the capacity.
    pub(crate) fn put(
        &self,
        digest: TokenDigest,
        claims: &AccessTokenClaims,
        grounds: &Grounds<'_>,
    ) {
        if self.capacity == 0 {
            return;
        }
        let mut table = self.table.borrow_mut();
        {
            let mut context = self.context.borrow_mut();
            if !context.as_ref().is_some_and(|held| held.matches(grounds)) {
                table.clear();
                *context = Some(Context {
                    rules: grounds.rules.clone(),
                    jwks_uri: grounds.jwks_uri.clone(),
                    key_set: grounds.key_set,
                });
            }
        }
        if let Ok(held) = table.find_entry(digest.hash(), |entry| entry.digest.matches(&digest)) {
            held.remove();
        }
        if table.len() >= self.capacity {
            self.evict(&mut table, grounds.rules);
        }
        let stored = self.stores.get().wrapping_add(1);
        self.stores.set(stored);
        let entry = Entry {
            digest,
            claims: claims.clone(),
            validated_at: grounds.rules.now,
            stored,
        };
        table.insert_unique(digest.hash(), entry, |entry| entry.digest.hash());
    }

    /// How many entries are held.
    pub(crate) fn len(&self) -> usize {
        self.table.borrow().len()
    }

    /// Drops the entries that can no longer answer at `rules.now`, then, if the table is
    /// still full, the oldest: a tenth of the capacity at least (rounded up), so the entry being
    /// stored fits.
    fn evict(&self, table: &mut HashTable<Entry>, rules: &AccessTokenValidation) {
        table.retain(|entry| entry.is_current(rules.now, rules.leeway_secs));
        if table.len() < self.capacity {
            return;
        }
        let keep = self.capacity - self.capacity.div_ceil(10);
        let mut order: Vec<u64> = table.iter().map(|entry| entry.stored).collect();
        order.sort_unstable();
        // The store counter at or below which entries go: the oldest, until `keep` remain.
        let threshold = order[order.len() - keep - 1];
        table.retain(|entry| entry.stored > threshold);
    }
}

#[cfg(all(test, feature = "rustcrypto"))]
mod tests;
