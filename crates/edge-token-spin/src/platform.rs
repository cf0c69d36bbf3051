//! The timer on Spin (the clock and randomness are [`edge_token::platform::system`]'s).

use alloc::boxed::Box;
use core::time::Duration;

use edge_token::platform::{LocalBoxFuture, Sleep};

/// The host's monotonic timer (`spin_sdk::time::sleep`): a waiting request keeps its own timer
/// in flight while concurrent requests of the same instance run.
#[derive(Debug, Default, Clone, Copy)]
pub struct SpinSleep;

impl Sleep for SpinSleep {
    fn sleep(&self, millis: u32) -> LocalBoxFuture<'_, ()> {
        Box::pin(spin_sdk::time::sleep(Duration::from_millis(u64::from(
            millis,
        ))))
    }
}
