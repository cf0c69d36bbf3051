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
//! The isolates' side ([`DurableCoordinator`]) needs the crate feature `coordination`; the class
//! is exported with the feature `coordinator` (which implies `coordination`). A Worker with
//! `coordination` and without `coordinator` binds another script's coordinator
//! (`script_name`). A Worker built without `coordination` that has a `TOKEN_COORDINATOR`
//! binding refuses to get tokens ([`edge_token::Error::Configuration`] naming the feature):
//! running uncoordinated would defeat what the binding was meant for (one provider request per
//! key for the deployment, one redemption at a time per web-app session).

#[cfg(feature = "coordination")]
mod durable;
#[cfg(feature = "coordination")]
pub use durable::DurableCoordinator;
#[cfg(feature = "coordinator")]
mod object;
#[cfg(feature = "coordinator")]
pub use object::TokenCoordinator;
#[cfg(not(feature = "coordination"))]
mod refused;

/// The Durable Object namespace binding of the coordinator (`[[durable_objects.bindings]] name
/// = "TOKEN_COORDINATOR"`). Optional: without it, behaviour is per isolate. With it, the Worker
/// needs the feature `coordination` (or `coordinator`), else its token acquisitions fail with
/// a configuration error.
pub const TOKEN_COORDINATOR_BINDING: &str = "TOKEN_COORDINATOR";

/// What a [`crate::WorkerPlatform`] hands the core for a `TOKEN_COORDINATOR` binding: the
/// channel to it, or (without the feature `coordination`) its refusal.
#[cfg(feature = "coordination")]
pub(crate) type BoundCoordinator = DurableCoordinator;
/// What a [`crate::WorkerPlatform`] hands the core for a `TOKEN_COORDINATOR` binding: the
/// channel to it, or (without the feature `coordination`) its refusal.
#[cfg(not(feature = "coordination"))]
pub(crate) type BoundCoordinator = refused::RefusedCoordinator;
