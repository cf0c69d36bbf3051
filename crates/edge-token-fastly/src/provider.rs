//! [`TokenProvider`]: the one object a Fastly app keeps for its instance to get tokens.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::time::Duration;

use edge_token::acquisition::{AcquiredToken, ConfidentialClient};
use edge_token::config::AzureAdSettings;
use edge_token::config::{http_timeout, ClientConfig};
use edge_token::credentials::rustcrypto_signer;
use edge_token::error::Error;
use edge_token::platform::http::HttpResponse;
use edge_token::platform::system::install_stderr_logger;
use edge_token::protocol::Scopes;
use edge_token::scenarios::{call_reply, CallFailure, Daemon, DaemonConfig};

use crate::{block_on, FastlyPlatform, StoreSettings, CONFIG_STORE, SECRET_STORE};

/// The KV Store linked to the service as the shared token cache.
pub const TOKEN_CACHE_STORE: &str = "token_cache";

/// The per-instance token provider. A Fastly instance serves one request: make one at the
/// start of `main`, answer with `send_to_client`, then call [`TokenProvider::after_response`],
/// which runs the proactive refreshes and KV Store writes deferred during the request.
///
/// Clients are built from the service's settings ([`StoreSettings`]: Config Store
/// [`CONFIG_STORE`], secrets from Secret Store [`SECRET_STORE`]; the same setting names and
/// `AZURE_AD` as on Workers) on first use. Tokens are cached in the KV Store
/// [`TOKEN_CACHE_STORE`] when it is linked.
pub struct TokenProvider {
    config_store: &'static str,
    secret_store: &'static str,
    kv_store: &'static str,
    app: RefCell<Option<Rc<Built<ConfidentialClient>>>>,
    daemon: RefCell<Option<Rc<Built<Daemon>>>>,
    deferred: RefCell<Vec<Deferred>>,
}

/// A client and the platform it uses for the rest of the instance's life.
struct Built<T> {
    value: T,
    platform: FastlyPlatform,
}

enum Deferred {
    AppRefresh(Rc<Built<ConfidentialClient>>, Scopes),
    DaemonRefresh(Rc<Built<Daemon>>),
}

impl core::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenProvider")
            .field("config_store", &self.config_store)
            .field("kv_store", &self.kv_store)
            .finish_non_exhaustive()
    }
}

impl Default for TokenProvider {
    fn default() -> Self {
        Self::with_stores(CONFIG_STORE, SECRET_STORE, TOKEN_CACHE_STORE)
    }
}

impl TokenProvider {
    /// A provider reading the Config Store `config_store`, the Secret Store `secret_store`
    /// and caching tokens in the KV Store `kv_store` (any of them may be absent).
    pub fn with_stores(
        config_store: &'static str,
        secret_store: &'static str,
        kv_store: &'static str,
    ) -> Self {
        Self {
            config_store,
            secret_store,
            kv_store,
            app: RefCell::new(None),
            daemon: RefCell::new(None),
            deferred: RefCell::new(Vec::new()),
        }
    }

    /// An app-only token (OAuth 2.0 client credentials, RFC 6749 §4.4) for `scopes`
    /// (space-separated; on Entra one `{resource}/.default` scope), from the KV Store or the
    /// provider. A token due for a proactive refresh is returned and refreshed in
    /// [`TokenProvider::after_response`].
    ///
    /// # Errors
    /// [`Error::Configuration`] naming a missing or bad setting; provider, transport and
    /// signing failures as [`ConfidentialClient::acquire_token_for_client`].
    pub fn app_token(&self, scopes: &str) -> Result<AcquiredToken, Error> {
        let scopes = Scopes::parse(scopes)?;
        let app = self.app()?;
        let token = block_on(
            app.value
                .acquire_token_for_client(&scopes, &app.platform.platform()),
        )
        .unwrap_or_else(|| Err(incomplete()))?;
        if token.refresh_due {
            self.deferred
                .borrow_mut()
                .push(Deferred::AppRefresh(app, scopes));
        }
        Ok(token)
    }

    /// The daemon scenario's answer: an app token for `DOWNSTREAM_SCOPES`, then `GET
    /// DOWNSTREAM_URL` with it, as the reply to send ([`call_reply`]). A due refresh runs in
    /// [`TokenProvider::after_response`].
    pub fn call_downstream(&self) -> HttpResponse {
        let daemon = match self.daemon() {
            Ok(daemon) => daemon,
            Err(error) => return failure(CallFailure::Token(error)),
        };
        let outcome = block_on(daemon.value.call(&daemon.platform.platform()))
            .unwrap_or_else(|| Err(CallFailure::Token(incomplete())));
        if matches!(&outcome, Ok(answer) if answer.refresh_due) {
            self.deferred
                .borrow_mut()
                .push(Deferred::DaemonRefresh(Rc::clone(&daemon)));
        }
        if let Err(failure) = &outcome {
            log::warn!("{failure}");
        }
        call_reply(outcome)
    }

    /// Runs the work deferred during the request: proactive refreshes, then the KV Store
    /// writes. Call it after `send_to_client`; failures are logged (no secret).
    pub fn after_response(&self) {
        for work in core::mem::take(&mut *self.deferred.borrow_mut()) {
            let outcome = match &work {
                Deferred::AppRefresh(app, scopes) => block_on(
                    app.value
                        .refresh_token_for_client(scopes, &app.platform.platform()),
                )
                .map(|result| result.map(drop)),
                Deferred::DaemonRefresh(daemon) => {
                    block_on(daemon.value.refresh(&daemon.platform.platform()))
                }
            };
            match outcome {
                Some(Ok(())) => {}
                Some(Err(error)) => log::warn!("token refresh after the response failed: {error}"),
                None => log::warn!("token refresh after the response did not complete"),
            }
        }
        if let Some(app) = self.app.borrow().as_ref() {
            app.platform.flush();
        }
        if let Some(daemon) = self.daemon.borrow().as_ref() {
            daemon.platform.flush();
        }
    }

    fn settings(&self) -> StoreSettings {
        let settings = StoreSettings::open(self.config_store, self.secret_store);
        install_stderr_logger(&settings);
        settings
    }

    fn app(&self) -> Result<Rc<Built<ConfidentialClient>>, Error> {
        if let Some(app) = self.app.borrow().as_ref() {
            return Ok(Rc::clone(app));
        }
        let settings = self.settings();
        let settings = AzureAdSettings::new(&settings)?;
        let timeout = http_timeout(&settings)?;
        let client =
            block_on(ClientConfig::from_settings(&settings)?.into_client(rustcrypto_signer))
                .unwrap_or_else(|| Err(incomplete()))?;
        let built = Rc::new(self.built(client, timeout));
        *self.app.borrow_mut() = Some(Rc::clone(&built));
        Ok(built)
    }

    fn daemon(&self) -> Result<Rc<Built<Daemon>>, Error> {
        if let Some(daemon) = self.daemon.borrow().as_ref() {
            return Ok(Rc::clone(daemon));
        }
        let settings = self.settings();
        let config = DaemonConfig::from_settings(&AzureAdSettings::new(&settings)?)?;
        let daemon = block_on(Daemon::build(config, rustcrypto_signer))
            .unwrap_or_else(|| Err(incomplete()))?;
        let timeout = daemon.http_timeout();
        let built = Rc::new(self.built(daemon, timeout));
        *self.daemon.borrow_mut() = Some(Rc::clone(&built));
        Ok(built)
    }

    fn built<T>(&self, value: T, timeout: Duration) -> Built<T> {
        Built {
            value,
            platform: FastlyPlatform::new(self.kv_store, timeout),
        }
    }
}

/// A future of this adapter that did not complete (none should: see [`block_on`]).
fn incomplete() -> Error {
    Error::Platform("the call did not complete".into())
}

fn failure(failure: CallFailure) -> HttpResponse {
    log::warn!("{failure}");
    call_reply(Err(failure))
}
