//! WASI host capabilities shared by the Fastly and Spin adapters (features `fastly`, `spin`):
//! the wall clock, the random source and stderr for the core's log records. Both runtimes expose
//! them through WASI, which std and getrandom already speak, so the adapters differ only in
//! transport, store and settings.

use log::{Log, Metadata, Record};

use crate::config::{log_level, Settings};
use crate::error::Error;
use crate::platform::{Clock, Entropy};

/// Writes the core's `log` records to stderr (Fastly's log tailing, Spin's and wasmtime's
/// console), one line each: `[edge-token] LEVEL target: message`. Records never carry a secret.
struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            std::eprintln!(
                "[edge-token] {} {}: {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Installs the stderr logger (once per instance) at `LOG_LEVEL` ([`log_level`]).
pub fn install_stderr_logger(settings: &dyn Settings) {
    // Only the first call installs; later ones find it in place.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log_level(settings));
}

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

/// The host's random source through getrandom (WASI `random_get` / `wasi:random`, or the OS).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemEntropy;

impl Entropy for SystemEntropy {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        getrandom::getrandom(dest).map_err(|_| Error::Platform("WASI random failed".into()))
    }
}
