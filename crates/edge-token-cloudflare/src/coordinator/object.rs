//! [`TokenCoordinator`]: the Durable Object class itself (crate feature `coordinator`).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use worker::{durable_object, DurableObject, Env, Request, Response, State, Storage};

use edge_token::acquisition::BuiltOnce;
use edge_token::config::AzureAdSettings;
use edge_token::error::Error;
use edge_token::platform::{LocalBoxFuture, Platform, TokenStore};
use edge_token::scenarios::AppTokens;

use crate::{
    install_console_logger, webcrypto_signer, EnvSettings, FetchTransport, WorkerClock,
    WorkerEntropy, WorkerSleep,
};

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
