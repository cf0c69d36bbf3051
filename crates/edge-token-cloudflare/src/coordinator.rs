//! The deployment's token coordinator on Workers: a Durable Object per cache key
//! ([`TokenCoordinator`]) and the isolates' channel to it ([`DurableCoordinator`]). The protocol
//! and every rule are the core's ([`edge_token::acquisition::coordination`]); this is transport
//! and storage.
//!
//! Bind it in `wrangler.toml` (the class lives in the Worker's own script):
//!
//! ```toml
//! [[durable_objects.bindings]]
//! name = "TOKEN_COORDINATOR"
//! class_name = "TokenCoordinator"
//!
//! [[migrations]]
//! tag = "v1"
//! new_sqlite_classes = ["TokenCoordinator"]
//! ```
//!
//! Without the binding, each isolate asks the provider itself (single-flight per isolate).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use futures_util::future::{select, Either};
use worker::{
    durable_object, DurableObject, Env, Method, ObjectNamespace, Request, RequestInit, Response,
    State, Storage,
};

use edge_token::acquisition::coordination::coordinator_time_limit;
use edge_token::acquisition::{BuiltOnce, Coordinator};
use edge_token::config::AzureAdSettings;
use edge_token::error::Error;
use edge_token::platform::{LocalBoxFuture, Platform, TokenStore};
use edge_token::scenarios::AppTokens;

use crate::{
    install_console_logger, webcrypto_signer, EnvSettings, FetchTransport, WorkerClock,
    WorkerEntropy, WorkerSleep,
};

/// The Durable Object namespace binding of the coordinator (`[[durable_objects.bindings]] name
/// = "TOKEN_COORDINATOR"`). Optional: without it, behaviour is per isolate.
pub const TOKEN_COORDINATOR_BINDING: &str = "TOKEN_COORDINATOR";

/// The isolates' channel to the coordinator: one Durable Object per cache key, addressed with
/// `idFromName` over the key's storage name (a hash: the raw key never leaves the isolate).
/// Each exchange is bounded by [`coordinator_time_limit`] (the core's rule); a coordinator that is stopped,
/// killed or slower is an error, and the core then acquires in the isolate.
pub struct DurableCoordinator {
    namespace: ObjectNamespace,
    timeout: Duration,
}

impl DurableCoordinator {
    /// The coordinator bound as [`TOKEN_COORDINATOR_BINDING`] in `env`, if any, for clients
    /// whose requests have the time limit `http_timeout`.
    pub fn from_env(env: &Env, http_timeout: Duration) -> Option<Self> {
        env.durable_object(TOKEN_COORDINATOR_BINDING)
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

/// The token coordinator, a Durable Object: one instance per coordination key for the whole
/// deployment (an app token's or on-behalf-of token's cache key; a web-app session, whose
/// refresh-token redemptions it serialises). It runs the Worker's own client (the same
/// settings: `AUTHORITY`, `CLIENT_ID`, the credential, `TOKEN_CACHE_KEY` else `COOKIE_KEY`),
/// with its memory tier, single-flight and throttle table, and its durable storage as the store
/// tier (entries sealed as in KV; without a key, memory only and no session records), and
/// answers the isolates through [`AppTokens::serve_coordinated`]. A refresh ahead of expiry
/// runs once, in the object, after the answer. An alarm at the last stored entry's expiry
/// deletes the object's storage, so objects of ended sessions leave nothing behind.
#[durable_object(alarm)]
pub struct TokenCoordinator {
    state: State,
    env: Env,
    tokens: BuiltOnce<AppTokens>,
}

impl DurableObject for TokenCoordinator {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            tokens: BuiltOnce::default(),
        }
    }

    async fn fetch(&self, mut request: Request) -> worker::Result<Response> {
        install_console_logger(&EnvSettings(&self.env));
        let body = request.bytes().await?;
        let tokens = self
            .tokens
            .get(
                || async {
                    let settings = EnvSettings(&self.env);
                    AppTokens::build(&AzureAdSettings::new(&settings)?, webcrypto_signer).await
                },
                &WorkerSleep,
            )
            .await;
        let tokens = match tokens {
            Ok(tokens) => tokens,
            Err(error) => {
                // The isolate acquires itself; the reason is logged on both sides.
                log::warn!("token coordinator not configured: {error}");
                let answer =
                    edge_token::acquisition::coordination::CoordinatedAnswer::Unavailable {
                        reason: error.to_string(),
                    };
                return Response::from_bytes(answer.to_json());
            }
        };
        let storage = ObjectStorage(self.state.storage());
        let transport = FetchTransport::new(tokens.http_timeout());
        let served = tokens
            .serve_coordinated(&body, &platform(&transport, &storage))
            .await;
        if let Some(ahead) = served.refresh_ahead {
            let storage = ObjectStorage(self.state.storage());
            self.state.wait_until(async move {
                let transport = FetchTransport::new(tokens.http_timeout());
                if let Err(error) = tokens
                    .refresh_ahead(&ahead, &platform(&transport, &storage))
                    .await
                {
                    log::warn!("coordinator's refresh ahead failed: {error}");
                }
            });
        }
        Response::from_bytes(served.answer)
    }

    /// Every stored entry has expired (the alarm is set at the latest expiry): delete them all.
    async fn alarm(&self) -> worker::Result<Response> {
        self.state.storage().delete_all().await?;
        Response::ok("")
    }
}

fn platform<'a>(transport: &'a FetchTransport, storage: &'a ObjectStorage) -> Platform<'a> {
    Platform {
        clock: &WorkerClock,
        sleep: &WorkerSleep,
        entropy: &WorkerEntropy,
        transport,
        store: storage,
        coordinator: None,
    }
}

/// A Durable Object's storage as the coordinator's store tier. Values are the core's sealed
/// entries (ASCII); the sealed envelope carries the expiry (an expired entry is a miss and is
/// overwritten), and each put moves the object's alarm to its expiry if that is later, so the
/// storage is deleted once everything in it has expired.
struct ObjectStorage(Storage);

fn storage_error(operation: &str, error: &worker::Error) -> Error {
    Error::Cache(format!("Durable Object storage {operation}: {error}"))
}

impl TokenStore for ObjectStorage {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        Box::pin(async move {
            let value: Option<String> = self
                .0
                .get(key)
                .await
                .map_err(|error| storage_error("get", &error))?;
            Ok(value.map(String::into_bytes))
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl_secs: u64,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let value = String::from_utf8(value)
                .map_err(|_| Error::Cache("a stored value is not text".into()))?;
            self.0
                .put(key, value)
                .await
                .map_err(|error| storage_error("put", &error))?;
            // Milliseconds since the epoch, as the alarm API counts.
            let expires_at = js_sys::Date::now() as i64
                + i64::try_from(ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX / 2);
            let alarm = self
                .0
                .get_alarm()
                .await
                .map_err(|error| storage_error("get alarm", &error))?;
            if alarm.is_none_or(|at| at < expires_at) {
                self.0
                    .set_alarm(expires_at)
                    .await
                    .map_err(|error| storage_error("set alarm", &error))?;
            }
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.0
                .delete(key)
                .await
                .map(drop)
                .map_err(|error| storage_error("delete", &error))
        })
    }
}
