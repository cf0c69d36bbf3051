//! The isolates' channel to the coordinator (feature `coordination`).

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use core::time::Duration;

use futures_util::future::{select, Either};
use worker::{Env, Method, ObjectNamespace, Request, RequestInit};

use edge_token::acquisition::coordination::coordinator_time_limit;
use edge_token::acquisition::Coordinator;
use edge_token::error::Error;
use edge_token::platform::LocalBoxFuture;

/// The isolates' channel to the coordinator: one Durable Object per cache key, addressed with
/// `idFromName` over the key's storage name (a hash: the raw key never leaves the isolate).
/// Each exchange is bounded by [`coordinator_time_limit`] (the core's rule); a coordinator that is stopped,
/// killed or slower is an error, and the core then acquires in the isolate.
pub struct DurableCoordinator {
    namespace: ObjectNamespace,
    timeout: Duration,
}

impl DurableCoordinator {
    /// The coordinator bound as [`super::TOKEN_COORDINATOR_BINDING`] in `env`, if any, for clients
    /// whose requests have the time limit `http_timeout`.
    pub fn from_env(env: &Env, http_timeout: Duration) -> Option<Self> {
        env.durable_object(super::TOKEN_COORDINATOR_BINDING)
            .ok()
            .map(|namespace| Self {
                namespace,
                timeout: coordinator_time_limit(http_timeout),
            })
    }

    async fn send(&self, key: &str, body: Vec<u8>) -> Result<Vec<u8>, Error> {
        let failed = |error: worker::Error| Error::Platform(format!("token coordinator: {error}"));
        let stub = self
            .namespace
            .id_from_name(key)
            .and_then(|id| id.get_stub())
            .map_err(failed)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
        let request =
            Request::new_with_init("https://token-coordinator/acquire", &init).map_err(failed)?;
        let mut response = stub.fetch_with_request(request).await.map_err(failed)?;
        if response.status_code() != 200 {
            return Err(Error::Platform(format!(
                "token coordinator answered HTTP {}",
                response.status_code()
            )));
        }
        response.bytes().await.map_err(failed)
    }
}

impl Coordinator for DurableCoordinator {
    fn exchange<'a>(
        &'a self,
        key: &'a str,
        request: Vec<u8>,
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            let exchange = Box::pin(self.send(key, request));
            let limit = Box::pin(worker::Delay::from(self.timeout));
            match select(exchange, limit).await {
                Either::Left((answer, _)) => answer,
                Either::Right(_) => Err(Error::Platform(format!(
                    "token coordinator: no answer within {} ms",
                    self.timeout.as_millis()
                ))),
            }
        })
    }
}
