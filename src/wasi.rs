//! WASI host capabilities shared by the Fastly and Spin adapters (features `fastly`, `spin`):
//! the wall clock and the random source. Both runtimes expose them through WASI, which std and
//! getrandom already speak, so the adapters differ only in transport, store and settings.

use crate::error::Error;
use crate::platform::{Clock, Entropy};

/// The host's wall clock: `std::time::SystemTime` (WASI `clock_time_get` on wasip1,
/// `wasi:clocks/wall-clock` on wasip2). A clock before 1970 reads as 0.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_secs(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs())
    }
}

/// The host's random source (WASI `random_get` / `wasi:random`), through getrandom.
#[derive(Debug, Default, Clone, Copy)]
pub struct WasiEntropy;

impl Entropy for WasiEntropy {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        getrandom::getrandom(dest).map_err(|_| Error::Platform("WASI random failed".into()))
    }
}
