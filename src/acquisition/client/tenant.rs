//! A multi-tenant Entra app acting in its customers' tenants (Microsoft identity platform
//! "daemon app": an independent software vendor's daemon gets each customer tenant's admin
//! consent, then app tokens from that tenant; MSAL's `WithTenantId`).
//!
//! [`ConfidentialClient::tenant_client`] gives the client of one tenant: the same
//! registration and credential (shared, never copied), the authority
//! `{instance}/{tenant}`, and caches of its own. Cache keys and storage keys name the
//! authority, so each tenant's tokens live in their own partition, as in MSAL's app token
//! cache. Clients are made once per isolate and tenant and kept in a bounded table.

use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::string::String;
use core::cell::RefCell;

use super::ConfidentialClient;
use crate::acquisition::clock::ClockOffset;
use crate::acquisition::single_flight::SingleFlight;
use crate::acquisition::throttle::ThrottleTable;
use crate::error::Error;

/// The most tenants' clients an isolate keeps; past it, the table is emptied (each client is
/// cheap to make again: its tokens stay in the shared store).
pub const MAX_TENANT_CLIENTS: usize = 256;

/// Clients by tenant (lower-cased), per isolate.
#[derive(Default)]
pub(super) struct TenantClients {
    clients: RefCell<BTreeMap<String, Rc<ConfidentialClient>>>,
}

impl ConfidentialClient {
    /// This client in `tenant` (a tenant id or verified domain name), for a multi-tenant Entra
    /// app: the authority `{instance}/{tenant}` and the same client id, credential,
    /// capabilities, region and cache keys, with its own memory cache, single-flight and
    /// throttles. Made once per isolate and tenant, then shared. The client of this very
    /// client's tenant is a new one too: callers that mean the configured tenant use `self`.
    ///
    /// # Errors
    /// [`Error::Configuration`] unless the authority is Entra ID and `tenant` names one tenant
    /// ([`crate::protocol::authority::Authority::for_tenant`]).
    pub fn tenant_client(&self, tenant: &str) -> Result<Rc<Self>, Error> {
        let tenant = tenant.to_ascii_lowercase();
        if let Some(client) = self.tenants.clients.borrow().get(&tenant) {
            return Ok(Rc::clone(client));
        }
        let client = Rc::new(self.for_tenant(&tenant)?);
        let mut clients = self.tenants.clients.borrow_mut();
        if clients.len() >= MAX_TENANT_CLIENTS {
            clients.clear();
        }
        clients.insert(tenant, Rc::clone(&client));
        Ok(client)
    }

    /// Forgets `tenant`'s client in this isolate (offboarding); its tokens in the shared store
    /// are the caller's to delete.
    pub fn forget_tenant(&self, tenant: &str) {
        self.tenants
            .clients
            .borrow_mut()
            .remove(&tenant.to_ascii_lowercase());
    }

    /// Evicts the app token for `scopes` from this isolate's memory and from the shared store
    /// (offboarding a tenant; a compromised token). Other isolates' memory keeps theirs until
    /// it expires.
    pub async fn evict_app_token(
        &self,
        scopes: &crate::protocol::scope::Scopes,
        platform: &crate::platform::Platform<'_>,
    ) {
        let key = crate::acquisition::cache::CacheKey::app_token(
            &self.authority,
            &self.client_id,
            scopes,
        );
        self.memory.remove(&key);
        self.forget_stored(key.storage_key(), platform).await;
    }

    /// The tenant this client was made for by [`ConfidentialClient::tenant_client`]; `None`
    /// for a configured client.
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    fn for_tenant(&self, tenant: &str) -> Result<Self, Error> {
        Ok(Self {
            id: super::next_client_id(),
            authority: self.authority.for_tenant(tenant)?,
            client_id: self.client_id.clone(),
            credential: Rc::clone(&self.credential),
            capabilities: self.capabilities.clone(),
            metadata: RefCell::default(),
            memory: self.memory.with_same_limit(),
            prepared: super::PreparedRequests::default(),
            flights: SingleFlight::default(),
            #[cfg(all(feature = "webapp", feature = "coordination"))]
            redemptions: SingleFlight::default(),
            throttles: ThrottleTable::default(),
            clock_offset: ClockOffset::default(),
            region: self.region.clone(),
            instance_validated: core::cell::Cell::new(false),
            store_sealer: self.store_sealer.clone(),
            document_sealer: self.document_sealer.clone(),
            tenant: Some(String::from(tenant)),
            tenants: TenantClients::default(),
        })
    }
}

#[cfg(test)]
mod tests;
