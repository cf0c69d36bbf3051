//! Sleep, the poll loop and the per-request platform on Fastly (the clock and randomness are
//! [`crate::wasi`]'s).

use alloc::boxed::Box;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use super::{BackendTransport, FastlyKv, KvTokenStore};
use crate::cache::NoStore;
use crate::platform::{LocalBoxFuture, Platform, Sleep};
use crate::wasi::{SystemClock, WasiEntropy};

/// A sleep that completes at once. The core sleeps only while a single-flight waiter waits for
/// another request's token request in the same instance; a Fastly instance serves one request,
/// so no such waiter exists, and an immediate recheck is correct should one ever appear.
#[derive(Debug, Default, Clone, Copy)]
pub struct ImmediateSleep;

impl Sleep for ImmediateSleep {
    fn sleep(&self, _millis: u32) -> LocalBoxFuture<'_, ()> {
        Box::pin(core::future::ready(()))
    }
}

/// How many times [`block_on`] polls before giving up.
const MAX_POLLS: usize = 1_000;

/// Runs `future` on the calling thread until it completes; `None` if it is still pending
/// after many polls. Meant for futures built on this adapter, which never wait: Fastly host
/// calls block and [`ImmediateSleep`] is ready at once, so they complete on the first poll.
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
/// the KV Store as the shared store (none when the store is not linked).
pub struct FastlyPlatform {
    transport: BackendTransport,
    store: Option<KvTokenStore>,
}

impl FastlyPlatform {
    /// The capabilities with the KV Store `kv_store` and `timeout` per request.
    pub fn new(kv_store: &str, timeout: Duration) -> Self {
        Self {
            transport: BackendTransport::new(timeout),
            store: FastlyKv::open(kv_store).map(FastlyKv::into_token_store),
        }
    }

    /// The [`Platform`] to pass to the core.
    pub fn platform(&self) -> Platform<'_> {
        Platform {
            clock: &SystemClock,
            sleep: &ImmediateSleep,
            entropy: &WasiEntropy,
            transport: &self.transport,
            store: match &self.store {
                Some(store) => store,
                None => &NoStore,
            },
        }
    }
}
