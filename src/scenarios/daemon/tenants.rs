//! The daemon's tenant routes (multi-tenant onboarding, [`crate::scenarios::tenants`]):
//! `GET /tenants/consent` and `GET /tenants/callback` for the customer's administrator, and
//! `GET /tenants` and `DELETE /tenants/{tid}` for the vendor, which require the caller
//! authentication of `/daemon/call` (never open, even with `DAEMON_PUBLIC=true`). All answer
//! 404 unless `ADMIN_CONSENT_REDIRECT_URI` is set.

use alloc::rc::Rc;
use alloc::string::String;

use serde_json::json;

use super::{CallFailure, Daemon};
use crate::acquisition::client::ConfidentialClient;
use crate::platform::Platform;
use crate::protocol::authority::is_tenant_id;
use crate::scenarios::protected::insufficient_scope;
use crate::scenarios::tenants::TenantOnboarding;
use crate::scenarios::web::{WebRequest, WebResponse};

/// The `tenant` parameter of a request's query (`/daemon/call?tenant={tid}`; the query without
/// its `?`, form-decoded), the first when repeated; `None` when absent or empty. For adapters
/// whose request types give only the raw query.
pub fn tenant_parameter(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "tenant")
        .map(|(_, value)| value.into_owned())
        .filter(|tenant| !tenant.is_empty())
}

impl Daemon {
    /// The client of `tenant` for a call, once the registry (when on) says it is onboarded.
    pub(super) async fn onboarded_client(
        &self,
        tenant: &str,
        platform: &Platform<'_>,
    ) -> Result<Rc<ConfidentialClient>, CallFailure> {
        if !is_tenant_id(tenant) {
            return Err(CallFailure::UnknownTenant(tenant.into()));
        }
        if let Some(onboarding) = &self.onboarding {
            let onboarded = onboarding
                .is_onboarded(tenant, platform)
                .await
                .map_err(CallFailure::Token)?;
            if !onboarded {
                log::info!("call for tenant {tenant}, which is not onboarded: refused");
                return Err(CallFailure::UnknownTenant(tenant.into()));
            }
        }
        self.client
            .tenant_client(tenant)
            .map_err(CallFailure::Token)
    }

    /// Whether `path` (without query) is one of the tenant routes (`/tenants` or below it),
    /// whatever the method: adapters ask before they build the [`Daemon`] or read the body.
    pub fn serves_tenants(path: &str) -> bool {
        path.strip_prefix("/tenants")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// Routes a request for `path` under `/tenants` (`method` as sent, e.g. `GET`): `GET
    /// /tenants/consent`, `GET /tenants/callback`, `GET /tenants`, `DELETE /tenants/{tenant}`
    /// (the caller's bearer token in [`WebRequest::authorization`]); another method on those
    /// paths is 405, another `/tenants/…` path 404. `None` for paths outside `/tenants`: the
    /// app's other routes. Every adapter's reference app routes through this.
    pub async fn tenant_route(
        &self,
        method: &str,
        path: &str,
        request: &WebRequest,
        platform: &Platform<'_>,
    ) -> Option<WebResponse> {
        let tenant = match path.strip_prefix("/tenants") {
            Some("") => None,
            Some(rest) => Some(rest.strip_prefix('/')?),
            None => return None,
        };
        let authorization = request.authorization.as_deref();
        Some(match (method, tenant) {
            ("GET", Some("consent")) => self.tenant_consent(request, platform),
            ("GET", Some("callback")) => self.tenant_callback(request, platform).await,
            ("GET", None) => self.list_tenants(authorization, platform).await,
            ("DELETE", Some(tenant)) if !matches!(tenant, "consent" | "callback" | "") => {
                self.offboard_tenant(authorization, tenant, platform).await
            }
            (_, Some("consent" | "callback") | None) => WebResponse::method_not_allowed(),
            _ => not_found(),
        })
    }

    /// Whether tenant onboarding is configured (`ADMIN_CONSENT_REDIRECT_URI`).
    pub fn onboarding(&self) -> Option<&TenantOnboarding> {
        self.onboarding.as_ref()
    }

    /// `GET /tenants/consent`: [`TenantOnboarding::consent`], or 404 without onboarding.
    pub fn tenant_consent(&self, request: &WebRequest, platform: &Platform<'_>) -> WebResponse {
        match &self.onboarding {
            Some(onboarding) => onboarding.consent(request, platform),
            None => not_found(),
        }
    }

    /// `GET /tenants/callback`: [`TenantOnboarding::callback`], the consent confirmed by an app
    /// token for `DOWNSTREAM_SCOPES` from the tenant (which then serves its first call), or 404
    /// without onboarding.
    pub async fn tenant_callback(
        &self,
        request: &WebRequest,
        platform: &Platform<'_>,
    ) -> WebResponse {
        let Some(onboarding) = &self.onboarding else {
            return not_found();
        };
        let scopes = &self.downstream.scopes;
        onboarding
            .callback(request, platform, |tenant| async move {
                self.client
                    .tenant_client(&tenant)?
                    .acquire_token_for_client(scopes, platform)
                    .await
                    .map(drop)
            })
            .await
    }

    /// `GET /tenants`: the onboarded tenants as JSON
    /// `{"tenants":[{"tenant_id","scopes","consented_at"}]}`, for an authenticated caller.
    pub async fn list_tenants(
        &self,
        authorization: Option<&str>,
        platform: &Platform<'_>,
    ) -> WebResponse {
        let onboarding = match self.manager(authorization, platform).await {
            Ok(onboarding) => onboarding,
            Err(refusal) => return refusal,
        };
        match onboarding.tenants(platform).await {
            Ok(tenants) => WebResponse::json(200, &json!({ "tenants": tenants })),
            Err(error) => unavailable(&error),
        }
    }

    /// `DELETE /tenants/{tenant}`: offboards `tenant` (removed from the registry, its app token
    /// evicted from this isolate and the shared store), for an authenticated caller: 200
    /// `{"offboarded": tenant}`, or 404 when it was not onboarded.
    pub async fn offboard_tenant(
        &self,
        authorization: Option<&str>,
        tenant: &str,
        platform: &Platform<'_>,
    ) -> WebResponse {
        let onboarding = match self.manager(authorization, platform).await {
            Ok(onboarding) => onboarding,
            Err(refusal) => return refusal,
        };
        if !is_tenant_id(tenant) {
            return not_onboarded();
        }
        match onboarding.offboard(tenant, platform).await {
            Ok(true) => {
                if let Ok(client) = self.client.tenant_client(tenant) {
                    client
                        .evict_app_token(&self.downstream.scopes, platform)
                        .await;
                }
                self.client.forget_tenant(tenant);
                WebResponse::json(200, &json!({ "offboarded": tenant.to_ascii_lowercase() }))
            }
            Ok(false) => not_onboarded(),
            Err(error) => unavailable(&error),
        }
    }

    /// The registry, for a caller allowed to manage it.
    async fn manager(
        &self,
        authorization: Option<&str>,
        platform: &Platform<'_>,
    ) -> Result<&TenantOnboarding, WebResponse> {
        let Some(onboarding) = &self.onboarding else {
            return Err(not_found());
        };
        let Some(callers) = &self.callers else {
            return Err(insufficient_scope(
                "tenant management needs DAEMON_API_AUDIENCE and DAEMON_CALLER_ROLES",
            ));
        };
        callers
            .authenticate(&self.client, authorization, platform)
            .await
            .map_err(|rejection| {
                log::info!("{rejection}");
                rejection.response()
            })?;
        Ok(onboarding)
    }
}

fn not_found() -> WebResponse {
    WebResponse::json(404, &json!({ "error": "not_found" }))
}

fn not_onboarded() -> WebResponse {
    WebResponse::json(404, &json!({ "error": "tenant_not_onboarded" }))
}

fn unavailable(error: &crate::error::Error) -> WebResponse {
    log::warn!("tenant registry: {error}");
    WebResponse::json(
        503,
        &json!({ "error": "temporarily_unavailable", "error_description": "the tenant registry is unavailable" }),
    )
}

#[cfg(test)]
mod tests;
