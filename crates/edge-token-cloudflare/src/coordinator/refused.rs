//! Without the feature `coordination`: a `TOKEN_COORDINATOR` binding is refused, never
//! bypassed in silence (see [`super`]).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::time::Duration;

use worker::Env;

use edge_token::acquisition::Coordinator;
use edge_token::error::Error;
use edge_token::platform::LocalBoxFuture;

/// What this build makes of a `TOKEN_COORDINATOR` binding: a coordinator the core refuses
/// ([`edge_token::Error::Configuration`], core feature `coordination` off) and, should the
/// core have the feature through another crate, whose every exchange fails with the same
/// error.
pub(crate) struct RefusedCoordinator;

impl RefusedCoordinator {
    /// `Some` when `env` has the binding.
    pub(crate) fn from_env(env: &Env, _http_timeout: Duration) -> Option<Self> {
        env.durable_object(super::TOKEN_COORDINATOR_BINDING)
            .is_ok()
            .then_some(Self)
    }
}

impl Coordinator for RefusedCoordinator {
    fn exchange<'a>(
        &'a self,
        _key: &'a str,
        _request: Vec<u8>,
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(core::future::ready(Err(Error::configuration(
            "TOKEN_COORDINATOR is bound, but edge-token-cloudflare is built without its feature `coordination`: enable it, or remove the binding",
        ))))
    }
}
