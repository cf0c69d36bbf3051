//! The per-isolate first cache level: a hash table of tokens bounded by bytes, least recently
//! used out first.
//!
//! A hit is the hot path of every token acquisition, so it costs one probe with the hash the
//! [`CacheKey`] computed when it was made (no hashing, no allocation), a pointer comparison of
//! the key when the caller holds the key the entry was stored under (a prepared request), and a
//! shared copy of the token ([`crate::secret::AccessToken`] clones share their value). The
//! refresh jitter is drawn once, when an entry is stored.
//!
//! The bound is Microsoft.Identity.Web's in-memory token cache `SizeLimit` (bytes, with
//! least-recently-used eviction through `MemoryCache` compaction): each entry counts its key,
//! its storage key, its token and a fixed overhead. When a new entry would pass the limit,
//! expired entries go first; if that is not enough, the least recently used go, down to 90% of
//! the limit, so eviction runs once per many insertions.

use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use hashbrown::HashTable;

use super::{CacheKey, CachedToken, TokenState};

/// The default memory cache size limit, in bytes: 32 MiB, room for well over 10,000 app tokens
/// (an Entra access token is 1.5–2.5 KB; an entry is its token, its keys and
/// [`ENTRY_OVERHEAD_BYTES`]). Set by `MEMORY_CACHE_SIZE_LIMIT`
/// ([`crate::config::memory_cache_size_limit`]).
pub const DEFAULT_MEMORY_CACHE_SIZE_LIMIT: usize = 32 * 1024 * 1024;

/// What an entry costs besides its key and token text, in bytes: the table slot, the shared
/// headers of its key and token, and allocator rounding (an estimate, as Microsoft.Identity.Web's
/// sizes are).
pub const ENTRY_OVERHEAD_BYTES: usize = 192;

/// A cached token as memory holds it.
struct Entry {
    key: CacheKey,
    token: CachedToken,
    /// When callers are told a refresh is due (`refresh_on` less this isolate's jitter, drawn
    /// once at storage), Unix seconds.
    refresh_due_at: Option<u64>,
    /// The cache's use counter at the last hit (least recently used = smallest).
    last_used: Cell<u64>,
    /// What the entry counts against the size limit, in bytes.
    size: usize,
}

/// A token found in memory.
#[derive(Debug, Clone)]
pub(crate) struct MemoryHit {
    /// The entry (its access token shared, not copied).
    pub(crate) token: CachedToken,
    /// When callers are told a refresh is due, Unix seconds: `refresh_on` advanced by the
    /// entry's jitter.
    pub(crate) refresh_due_at: Option<u64>,
}

impl MemoryHit {
    /// Whether a refresh ahead of expiry is due at `now` (Unix seconds).
    pub(crate) fn refresh_due(&self, now: u64) -> bool {
        self.refresh_due_at.is_some_and(|due| now >= due)
    }
}

/// The memory tier: see the module documentation.
pub(crate) struct MemoryCache {
    table: RefCell<HashTable<Entry>>,
    /// The sum of the entries' sizes, in bytes.
    bytes: Cell<usize>,
    /// Counts hits and insertions: the recency of [`Entry::last_used`].
    uses: Cell<u64>,
    size_limit: Cell<usize>,
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self {
            table: RefCell::default(),
            bytes: Cell::new(0),
            uses: Cell::new(0),
            size_limit: Cell::new(DEFAULT_MEMORY_CACHE_SIZE_LIMIT),
        }
    }
}

impl core::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("entries", &self.len())
            .field("bytes", &self.bytes.get())
            .field("size_limit", &self.size_limit.get())
            .finish()
    }
}

impl MemoryCache {
    /// Sets the size limit, in bytes (entries already held stay until the next eviction).
    pub(crate) fn set_size_limit(&self, bytes: usize) {
        self.size_limit.set(bytes);
    }

    /// An empty cache with this one's size limit.
    pub(crate) fn with_same_limit(&self) -> Self {
        let cache = Self::default();
        cache.set_size_limit(self.size_limit.get());
        cache
    }

    /// The entry for `key`, in whatever state; marks it used.
    pub(crate) fn get(&self, key: &CacheKey) -> Option<MemoryHit> {
        let table = self.table.borrow();
        let entry = table.find(key.hash(), |entry| entry.key == *key)?;
        entry.last_used.set(self.next_use());
        Some(MemoryHit {
            token: entry.token.clone(),
            refresh_due_at: entry.refresh_due_at,
        })
    }

    /// Stores `token` if it is worth caching at `now` (see [`CachedToken::store_ttl`]), with
    /// its refresh advanced by `jitter_secs`; evicts to stay within the size limit.
    pub(crate) fn put(&self, key: CacheKey, token: CachedToken, now: u64, jitter_secs: u64) {
        if token.store_ttl(now).is_none() {
            return;
        }
        let size = key.canonical().len()
            + key.storage_key().len()
            + token.access_token.expose_secret().len()
            + ENTRY_OVERHEAD_BYTES;
        let entry = Entry {
            refresh_due_at: token
                .refresh_on
                .map(|refresh_on| refresh_on.saturating_sub(jitter_secs)),
            last_used: Cell::new(self.next_use()),
            size,
            key,
            token,
        };
        self.remove(&entry.key);
        if self.bytes.get().saturating_add(size) > self.size_limit.get() {
            self.evict(now, size);
        }
        if size > self.size_limit.get() {
            return;
        }
        self.bytes.set(self.bytes.get() + size);
        self.table
            .borrow_mut()
            .insert_unique(entry.key.hash(), entry, |entry| entry.key.hash());
    }

    /// Forgets `key`.
    pub(crate) fn remove(&self, key: &CacheKey) {
        let mut table = self.table.borrow_mut();
        if let Ok(found) = table.find_entry(key.hash(), |entry| entry.key == *key) {
            let (removed, _) = found.remove();
            self.bytes.set(self.bytes.get() - removed.size);
        }
    }

    /// How many entries are held.
    pub(crate) fn len(&self) -> usize {
        self.table.borrow().len()
    }

    #[cfg(test)]
    /// Whether nothing is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[cfg(test)]
    /// The sum of the entries' sizes, in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes.get()
    }

    fn next_use(&self) -> u64 {
        let use_ = self.uses.get().wrapping_add(1);
        self.uses.set(use_);
        use_
    }

    /// Makes room for `incoming` bytes: drops expired entries and, if that is not enough, the
    /// least recently used down to 90% of the limit (less `incoming`).
    fn evict(&self, now: u64, incoming: usize) {
        let mut table = self.table.borrow_mut();
        let mut bytes = self.bytes.get();
        table.retain(|entry| {
            let keep = entry.token.state(now) != TokenState::Expired;
            if !keep {
                bytes -= entry.size;
            }
            keep
        });
        let limit = self.size_limit.get();
        let target = (limit / 10 * 9).saturating_sub(incoming);
        if bytes.saturating_add(incoming) > limit {
            let mut by_use: Vec<(u64, usize)> = table
                .iter()
                .map(|entry| (entry.last_used.get(), entry.size))
                .collect();
            by_use.sort_unstable();
            // The recency below which entries go: the oldest ones until the rest fit.
            let mut threshold = 0;
            for (last_used, size) in by_use {
                if bytes <= target {
                    break;
                }
                bytes -= size;
                threshold = last_used;
            }
            table.retain(|entry| entry.last_used.get() > threshold);
        }
        self.bytes.set(bytes);
    }
}

#[cfg(test)]
mod tests;
