//! Sleep, the poll loop and the per-request platform on Fastly (the clock and randomness are
//! the core's [`edge_token::platform::system`] ones).

use alloc::boxed::Box;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use edge_token::acquisition::WriteBehind;
use edge_token::platform::system::{SystemClock, SystemEntropy};
use edge_token::platform::{LocalBoxFuture, NoStore, Platform, Sleep};

use crate::{BackendTransport, FastlyKv, KvTokenStore};

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

/// Everything a [`Platform`] borrows on Fastly, for one request: backends with a time limit and
/// the KV Store as the shared store (none when the store is not linked), its writes deferred
/// until [`FastlyPlatform::flush`], after the response.
pub struct FastlyPlatform {
    transport: BackendTransport,
    store: Option<WriteBehind<KvTokenStore>>,
}

impl FastlyPlatform {
    /// The capabilities with the KV Store `kv_store` and `timeout` per request.
    pub fn new(kv_store: &str, timeout: Duration) -> Self {
        Self {
            transport: BackendTransport::new(timeout),
            store: FastlyKv::open(kv_store).map(|kv| WriteBehind::new(kv.into_token_store())),
        }
    }

    /// The [`Platform`] to pass to the core.
    pub fn platform(&self) -> Platform<'_> {
        Platform {
            clock: &SystemClock,
            sleep: &FastlySleep,
            entropy: &SystemEntropy,
            transport: &self.transport,
            store: match &self.store {
                Some(store) => store,
                None => &NoStore,
            },
        }
    }

    /// Performs the KV Store writes deferred during the request: call it after
    /// `send_to_client`.
    pub fn flush(&self) {
        if let Some(store) = &self.store {
            if block_on(store.flush()).is_none() {
                log::warn!("deferred KV Store writes did not complete");
            }
        }
    }
}
