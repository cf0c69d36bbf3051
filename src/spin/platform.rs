//! Clock, sleep, randomness and signer construction on Spin.

use alloc::boxed::Box;
use core::time::Duration;

use crate::certificate::PrivateKey;
use crate::error::Error;
use crate::platform::{Clock, Entropy, LocalBoxFuture, Sleep};
use crate::signer::rustcrypto::RustCryptoSigner;
use crate::signer::{JwsAlgorithm, JwsSigner};

/// The host's wall clock (`std::time::SystemTime`, `wasi:clocks/wall-clock`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_secs(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs())
    }
}

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

/// The host's random source (WASI random, through getrandom).
#[derive(Debug, Default, Clone, Copy)]
pub struct SpinEntropy;

impl Entropy for SpinEntropy {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        getrandom::getrandom(dest).map_err(|_| Error::Platform("WASI random failed".into()))
    }
}

/// The signer backend on Spin (no WebCrypto): the pure-Rust RSA signer. Pass it to
/// [`crate::daemon::Daemon::build`] or [`crate::config::ClientConfig::into_client`].
///
/// # Errors
/// [`Error::Signing`] when the key does not suit `algorithm`.
pub async fn rustcrypto_signer(
    key: PrivateKey,
    algorithm: JwsAlgorithm,
) -> Result<Box<dyn JwsSigner>, Error> {
    Ok(Box::new(RustCryptoSigner::new(&key, algorithm)?))
}
