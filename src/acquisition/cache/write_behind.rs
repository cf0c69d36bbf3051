//! [`WriteBehind`]: a [`TokenStore`] whose writes wait until after the response.
//!
//! On runtimes whose background mechanism is "after the response" (Fastly's
//! `send_to_client`, a task spawned on Spin), the adapter wraps its store in this, answers the
//! request, then calls [`WriteBehind::flush`]: a store write is never on the response path.
//! Reads go to the inner store (a token written in this request is in the memory cache
//! already). Deletes are not deferred: an eviction must take effect before the next read.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::error::Error;
use crate::platform::{LocalBoxFuture, TokenStore};

/// Defers `put`s of an inner store until [`WriteBehind::flush`].
///
/// ```
/// use edge_token::acquisition::{ExpiringStore, MemoryKv, WriteBehind};
/// use edge_token::platform::{Clock, TokenStore};
/// use futures::executor::block_on;
///
/// struct Fixed;
/// impl Clock for Fixed {
///     fn now_unix_secs(&self) -> u64 { 1_800_000_000 }
/// }
///
/// let store = WriteBehind::new(ExpiringStore::new(MemoryKv::default(), Fixed));
/// block_on(store.put("key", b"sealed entry".to_vec(), 3600))?; // returns at once
/// assert_eq!(block_on(store.get("key"))?, None); // not written yet
/// // ... the response is sent ...
/// block_on(store.flush());
/// assert_eq!(block_on(store.get("key"))?, Some(b"sealed entry".to_vec()));
/// # Ok::<(), edge_token::Error>(())
/// ```
pub struct WriteBehind<S> {
    inner: S,
    pending: RefCell<Vec<(String, Vec<u8>, u64)>>,
}

impl<S> core::fmt::Debug for WriteBehind<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WriteBehind")
            .field("pending", &self.pending.borrow().len())
            .finish_non_exhaustive()
    }
}

impl<S: TokenStore> WriteBehind<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            pending: RefCell::new(Vec::new()),
        }
    }

    /// How many writes wait for [`WriteBehind::flush`].
    pub fn pending(&self) -> usize {
        self.pending.borrow().len()
    }

    /// Performs the deferred writes in order (a later write of a key wins), each one's failure
    /// logged and skipped: a lost write only costs a later miss.
    pub async fn flush(&self) {
        let pending = core::mem::take(&mut *self.pending.borrow_mut());
        for (key, value, ttl_secs) in pending {
            if let Err(error) = self.inner.put(&key, value, ttl_secs).await {
                log::warn!("deferred token store write failed: {error}");
            }
        }
    }
}

impl<S: TokenStore> TokenStore for WriteBehind<S> {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        self.inner.get(key)
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        self.pending
            .borrow_mut()
            .push((key.to_string(), value, ttl_secs));
        Box::pin(core::future::ready(Ok(())))
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        self.pending
            .borrow_mut()
            .retain(|(pending, _, _)| pending != key);
        self.inner.delete(key)
    }
}

#[cfg(test)]
mod tests;
