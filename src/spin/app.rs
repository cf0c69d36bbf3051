//! The reference Spin component's routes: `GET /healthz` and `GET /daemon/call`, answering as
//! the reference Worker does ([`crate::daemon::call_reply`]).
//!
//! One daemon per component instance, built on first use (a WASI 0.3 host may reuse an
//! instance for many, also concurrent, requests: they then share its memory cache). A token
//! due for a proactive refresh is served at once and refreshed by a task that runs after the
//! response. Where the
//! settings and the shared token store come from is the one choice the caller makes
//! ([`Host`]): Spin variables and key-value in Spin ([`SpinHost`]); the environment and an
//! in-memory store under runtimes without Spin's interfaces ([`WasiHost`], `wasmtime serve`).

use alloc::boxed::Box;
use alloc::rc::Rc;
use core::cell::RefCell;

use bytes::Bytes;
use spin_sdk::http::FullBody;

use super::{
    rustcrypto_signer, EnvSettings, SpinKv, SpinSleep, SpinVariables, SystemClock,
    VariableSettings, WasiEntropy, WasiHttpTransport,
};
use crate::cache::expiring::{ExpiringStore, MemoryKv};
use crate::cache::{NoStore, TokenStore};
use crate::config::azure_ad::AzureAdSettings;
use crate::config::Settings;
use crate::daemon::{
    call_reply, daemon_route, healthz_reply, CallFailure, Daemon, DaemonAnswer, DaemonConfig,
    DaemonRoute, DAEMON_SETTING_NAMES,
};
use crate::error::Error;
use crate::http::HttpResponse;
use crate::platform::{LocalBoxFuture, Platform};

/// The Spin key-value store used as the token cache (`key_value_stores = ["default"]`).
pub const KEY_VALUE_STORE: &str = "default";

/// An in-memory token store for one component instance.
pub type MemoryTokenStore = ExpiringStore<MemoryKv, SystemClock>;

/// Where the component's settings and shared token store come from: the one choice a
/// component makes. Only the host passed to [`serve`] is compiled into the component, so a
/// [`WasiHost`] build does not import Spin's interfaces.
pub trait Host {
    /// The settings to build the daemon from.
    ///
    /// # Errors
    /// [`Error::Configuration`] when they cannot be read.
    fn settings(&self) -> LocalBoxFuture<'_, Result<Box<dyn Settings>, Error>>;
    /// The shared token store for one request.
    fn token_store(&self) -> LocalBoxFuture<'_, Rc<dyn TokenStore>>;
}

/// Spin: settings from Spin variables ([`SpinVariables`], names in lower case), tokens in the
/// key-value store [`KEY_VALUE_STORE`] (none, logged, if it cannot be opened).
#[derive(Debug, Default, Clone, Copy)]
pub struct SpinHost;

impl Host for SpinHost {
    fn settings(&self) -> LocalBoxFuture<'_, Result<Box<dyn Settings>, Error>> {
        Box::pin(async {
            let settings = VariableSettings::load(&SpinVariables, DAEMON_SETTING_NAMES).await?;
            Ok(Box::new(settings) as Box<dyn Settings>)
        })
    }

    fn token_store(&self) -> LocalBoxFuture<'_, Rc<dyn TokenStore>> {
        Box::pin(async {
            match SpinKv::open(KEY_VALUE_STORE).await {
                Ok(kv) => Rc::new(kv.into_token_store()) as Rc<dyn TokenStore>,
                Err(error) => {
                    std::eprintln!("{error}; running without a shared token store");
                    Rc::new(NoStore)
                }
            }
        })
    }
}

/// A plain WASI HTTP host such as `wasmtime serve`: settings from the environment
/// ([`EnvSettings`]), tokens in an in-memory store that lives as long as the instance.
#[derive(Debug, Default, Clone, Copy)]
pub struct WasiHost;

impl Host for WasiHost {
    fn settings(&self) -> LocalBoxFuture<'_, Result<Box<dyn Settings>, Error>> {
        Box::pin(core::future::ready(Ok(
            Box::new(EnvSettings) as Box<dyn Settings>
        )))
    }

    fn token_store(&self) -> LocalBoxFuture<'_, Rc<dyn TokenStore>> {
        let store = MEMORY_STORE.with(|store| -> Rc<dyn TokenStore> { store.clone() });
        Box::pin(core::future::ready(store))
    }
}

thread_local! {
    static DAEMON: RefCell<Option<Rc<Daemon>>> = const { RefCell::new(None) };
    static MEMORY_STORE: Rc<MemoryTokenStore> =
        Rc::new(ExpiringStore::new(MemoryKv::default(), SystemClock));
}

/// The reply to `method` `path` on `host`: the route's answer, 404/405 JSON for anything
/// else. Failures are logged to stderr (no secret: [`CallFailure`]'s `Display`).
pub async fn serve<H: Host>(host: &H, method: &str, path: &str) -> HttpResponse {
    match daemon_route(method, path) {
        Ok(DaemonRoute::Healthz) => healthz_reply(),
        Ok(DaemonRoute::Call) => {
            let outcome = call(host).await;
            if let Err(failure) = &outcome {
                std::eprintln!("{failure}");
            }
            call_reply(outcome)
        }
        Err(reply) => reply,
    }
}

/// This instance's daemon, built on first use. Concurrent first requests may each build one;
/// the first stored is kept and used by all.
async fn daemon<H: Host>(host: &H) -> Result<Rc<Daemon>, Error> {
    if let Some(daemon) = DAEMON.with(|slot| slot.borrow().clone()) {
        return Ok(daemon);
    }
    let settings = host.settings().await?;
    crate::wasi::install_stderr_logger(&*settings);
    let config = DaemonConfig::from_settings(&AzureAdSettings::new(&*settings)?)?;
    let built = Daemon::build(config, rustcrypto_signer).await?;
    Ok(DAEMON.with(|slot| Rc::clone(slot.borrow_mut().get_or_insert(Rc::new(built)))))
}

async fn call<H: Host>(host: &H) -> Result<DaemonAnswer, CallFailure> {
    let daemon = daemon(host).await.map_err(CallFailure::Token)?;
    let transport = WasiHttpTransport::new(daemon.http_timeout());
    let store = host.token_store().await;
    let answer = daemon.call(&platform(&transport, &*store)).await?;
    if answer.refresh_due {
        // Proactive refresh after the response: the task outlives the handler's return
        // (component-model async), so later requests find the new token without waiting.
        spin_sdk::wit_bindgen::spawn(async move {
            if let Err(error) = daemon.refresh(&platform(&transport, &*store)).await {
                std::eprintln!("token refresh after the response failed: {error}");
            }
        });
    }
    Ok(answer)
}

fn platform<'a>(transport: &'a WasiHttpTransport, store: &'a dyn TokenStore) -> Platform<'a> {
    Platform {
        clock: &SystemClock,
        sleep: &SpinSleep,
        entropy: &WasiEntropy,
        transport,
        store,
    }
}

/// The Spin SDK response for `reply` (a header the HTTP types refuse makes it a bare 500).
pub fn spin_response(reply: HttpResponse) -> spin_sdk::http::Response<FullBody<Bytes>> {
    let mut builder = spin_sdk::http::Response::<()>::builder().status(reply.status);
    for (name, value) in &reply.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(FullBody::new(Bytes::from(reply.body)))
        .unwrap_or_else(|_| {
            let mut response = spin_sdk::http::Response::new(FullBody::new(Bytes::new()));
            *response.status_mut() = spin_sdk::http::StatusCode::INTERNAL_SERVER_ERROR;
            response
        })
}
