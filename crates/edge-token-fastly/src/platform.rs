//! Sleep, the poll loop and the per-request platform on Fastly (the clock and randomness are
//! the core's [`edge_token::platform::system`] ones).

use alloc::boxed::Box;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use edge_token::acquisition::WriteBehind;
use edge_token::platform::system::{SystemClock, SystemEntropy};
use edge_token::platform::{LocalBoxFuture, Platform, Sleep};

use crate::{BackendTransport, CollapsingStore, FastlyKv, KvTokenStore};

/// A blocking sleep (`std::thread::sleep`, WASI `poll_oneoff` on a clock): the core's retry
/// delay after a 5xx or a transport failure (1 s plus jitter) really waits. A Fastly instance
/// serves one request, so blocking it delays nothing else; the future is ready when first
/// polled, after the wait.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastlySleep;

impl Sleep for FastlySleep {
    fn sleep(&self, millis: u32) -> LocalBoxFuture<'_, ()> {
        std::thread::sleep(Duration::from_millis(u64::from(millis)));
        Box::pin(core::future::ready(()))
    }
}

/// How many times [`block_on`] polls before giving up.
const MAX_POLLS: usize = 1_000;

/// Runs `future` on the calling thread until it completes; `None` if it is still pending
/// after many polls. Meant for futures built on this adapter, which never wait: Fastly host
/// calls block and [`FastlySleep`] is ready once it has slept, so they complete on the first
/// poll.
pub fn block_on<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..MAX_POLLS {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return Some(output);
        }
    }
    None
}

/// How much longer than one outgoing request's time limit an instance waits for another
/// instance filling the same cache key (the core's retry delay after a failed request is 1 s).
pub const COLLAPSED_WAIT_MARGIN: Duration = Duration::from_secs(2);

/// Everything a [`Platform`] borrows on Fastly, for one request: backends with a time limit and
/// the shared store: the POP's Core Cache with request collapsing ([`CollapsingStore`]) in
/// front of the KV Store (when linked), whose writes are deferred until
/// [`FastlyPlatform::flush`], after the response.
pub struct FastlyPlatform {
    transport: BackendTransport,
    store: CollapsingStore<WriteBehind<KvTokenStore>>,
}

impl FastlyPlatform {
    /// The capabilities with the KV Store `kv_store` and `timeout` per request; an instance
    /// waits at most `timeout` + [`COLLAPSED_WAIT_MARGIN`] for another one's cache fill.
    pub fn new(kv_store: &str, timeout: Duration) -> Self {
        let kv = FastlyKv::open(kv_store).map(|kv| WriteBehind::new(kv.into_token_store()));
        Self {
            transport: BackendTransport::new(timeout),
            store: CollapsingStore::new(kv, timeout.saturating_add(COLLAPSED_WAIT_MARGIN)),
        }
    }

    /// The [`Platform`] to pass to the core.
    pub fn platform(&self) -> Platform<'_> {
        Platform {
            clock: &SystemClock,
            sleep: &FastlySleep,
            entropy: &SystemEntropy,
            transport: &self.transport,
            store: &self.store,
            coordinator: None,
        }
    }

    /// Cancels the cache fills this instance took on and did not complete (the core call
    /// failed before storing): another instance waiting for the key takes over. Call it after
    /// each core call.
    pub fn release(&self) {
        self.store.release();
    }

    /// Performs the KV Store writes deferred during the request: call it after
    /// `send_to_client`.
    pub fn flush(&self) {
        self.release();
        if let Some(kv) = self.store.inner() {
            if block_on(kv.flush()).is_none() {
                log::warn!("deferred KV Store writes did not complete");
            }
        }
    }
}
