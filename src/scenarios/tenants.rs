//! Multi-tenant onboarding by admin consent, and the registry of onboarded tenants (Microsoft
//! identity platform "daemon app that calls web APIs": a multi-tenant daemon works in a customer
//! tenant only once that tenant's administrator has granted its application permissions;
//! "Request the permissions from a directory admin", the v2 admin consent endpoint).
//!
//! The flow, as the reference apps route it:
//! 1. The vendor sends the customer's administrator to `GET /tenants/consent` (optionally
//!    `?tenant={tenant id or domain}`; default `organizations`, any work tenant). The app
//!    answers `302` to `{instance}/{tenant}/v2.0/adminconsent?client_id=…&redirect_uri=…&scope=…&state=…`
//!    ([`TenantOnboarding::consent`]) with a fresh `state` sealed in the `__Host-` cookie
//!    [`CONSENT_COOKIE`] (10 minutes, single use), exactly as the web app's sign-in transaction.
//!    `redirect_uri` is the configured `ADMIN_CONSENT_REDIRECT_URI`, never derived from the
//!    request; `scope` is the daemon's `{resource}/.default`.
//! 2. The administrator signs in and sees the permissions the application asks for, then
//!    accepts or cancels.
//! 3. The provider redirects to `GET /tenants/callback` with `admin_consent=True&tenant={tid}&
//!    scope=…&state=…`, or `error=…&error_description=…&state=…`
//!    ([`TenantOnboarding::callback`]). The `state` must match the cookie's in constant time and
//!    must not have been used before. That redirect proves nothing by itself (whoever starts a
//!    consent holds a valid `state` and can name any tenant), so the consent is then confirmed
//!    with the provider: an app token in that tenant (the daemon does this; Entra refuses a
//!    tenant that did not consent). Only then is the tenant recorded (id, scopes, time) in the
//!    registry. A cancelled consent, a forged, replayed or missing `state`, a tenant the
//!    provider does not confirm: a 400 page in the app's words (provider text is never shown),
//!    nothing recorded.
//!
//! The registry is one sealed record in the shared store per (instance, client id)
//! ([`crate::seal::Purpose::TenantRegistry`], bound to its key). It also keeps the hashes of
//! the `state`s it consumed in the last 10 minutes, so a replayed callback is refused even if
//! its cookie was copied. Workers KV being eventually consistent, two tenants onboarded within
//! its propagation delay in two locations can lose one record (the administrator then consents
//! again); onboarding is rare, and listing shows what is recorded.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::future::Future;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use url::Url;

use crate::acquisition::cache::hashed_storage_key;
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::authority::{is_tenant_id, Authority};
use crate::protocol::scope::Scopes;
use crate::scenarios::web::{Page, SameSite, SetCookie, WebRequest, WebResponse};
use crate::seal::{Purpose, RootKeys, Sealer};

/// The cookie holding an admin consent in progress (its sealed `state`).
pub const CONSENT_COOKIE: &str = "__Host-edge-token-consent";

/// How long an admin consent may take, in seconds (10 minutes).
pub const CONSENT_LIFETIME_SECS: u64 = 600;

/// The most tenants the registry holds.
pub const MAX_TENANTS: usize = 1_000;

/// The longest sealed registry record read, in characters.
const MAX_REGISTRY_LEN: usize = 512 * 1024;

/// The longest `state` accepted back, in characters (it is 43).
const MAX_STATE_LEN: usize = 64;

/// An onboarded tenant, as the registry records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnboardedTenant {
    /// The tenant id (a GUID, lower-cased), as the provider's callback named it.
    pub tenant_id: String,
    /// The scopes consented to (`{resource}/.default`), space-separated.
    pub scopes: String,
    /// When the administrator consented, Unix seconds.
    pub consented_at: u64,
}

#[derive(Default, Serialize, Deserialize)]
struct RegistryRecord {
    tenants: Vec<OnboardedTenant>,
    /// base64url(SHA-256(state)) and when it was consumed, for 10 minutes.
    consumed: Vec<(String, u64)>,
}

#[derive(Serialize, Deserialize)]
struct ConsentTransaction {
    state: String,
    tenant: String,
}

/// Onboarding of customer tenants and their registry, for one multi-tenant registration.
pub struct TenantOnboarding {
    instance: String,
    client_id: String,
    redirect_uri: Url,
    scopes: Scopes,
    transactions: Sealer,
    registry: Sealer,
    registry_key: String,
}

impl core::fmt::Debug for TenantOnboarding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TenantOnboarding")
            .field("instance", &self.instance)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish_non_exhaustive()
    }
}

impl TenantOnboarding {
    /// Onboarding for `client_id` of `authority` (Entra ID; its tenant may be `organizations`),
    /// asking for `scopes` (one `{resource}/.default`), coming back to `redirect_uri`
    /// (`ADMIN_CONSENT_REDIRECT_URI`, registered for the app), with the cookie and registry
    /// sealed by `keys` (`TOKEN_CACHE_KEY`, else `COOKIE_KEY`).
    ///
    /// # Errors
    /// [`Error::Configuration`] for an authority other than Entra ID, a redirect URI that is not
    /// `https` (or `http` on loopback), or scopes other than one `{resource}/.default`.
    pub fn new(
        authority: &Authority,
        client_id: &str,
        redirect_uri: &str,
        scopes: Scopes,
        keys: &RootKeys,
    ) -> Result<Self, Error> {
        let instance = authority.entra_instance().ok_or_else(|| {
            Error::configuration(
                "ADMIN_CONSENT_REDIRECT_URI: admin consent needs an Entra ID authority (https://{host}/{tenant})",
            )
        })?;
        let redirect_uri =
            crate::protocol::authority::parse_url("ADMIN_CONSENT_REDIRECT_URI", redirect_uri)?;
        scopes.require_app_only()?;
        let canonical = serde_json::json!(["tenants", instance, client_id]).to_string();
        Ok(Self {
            instance: instance.to_string(),
            client_id: client_id.to_string(),
            redirect_uri,
            scopes,
            transactions: keys.sealer(Purpose::AdminConsent),
            registry: keys.sealer(Purpose::TenantRegistry),
            registry_key: hashed_storage_key("edge-token/v1/tenants/", &canonical),
        })
    }

    /// `GET /tenants/consent[?tenant=…]`: `302` to the v2 admin consent endpoint of `tenant`
    /// (a tenant id or verified domain; default `organizations`) with a fresh `state`, sealed
    /// in [`CONSENT_COOKIE`] for [`CONSENT_LIFETIME_SECS`]. A malformed `tenant`: 400 page.
    pub fn consent(&self, request: &WebRequest, platform: &Platform<'_>) -> WebResponse {
        let tenant = request.query_param("tenant").unwrap_or("organizations");
        if tenant != "organizations" && !is_tenant_id(tenant) {
            return failed("tenant must be a tenant id or a verified domain name");
        }
        let mut bytes = [0u8; 32];
        if let Err(error) = platform.entropy.fill(&mut bytes) {
            return unavailable(&error);
        }
        let transaction = ConsentTransaction {
            state: URL_SAFE_NO_PAD.encode(bytes),
            tenant: tenant.to_ascii_lowercase(),
        };
        let expires_at = platform
            .clock
            .now_unix_secs()
            .saturating_add(CONSENT_LIFETIME_SECS);
        let sealed = match self.transactions.seal(
            &transaction,
            expires_at,
            CONSENT_COOKIE.as_bytes(),
            platform.entropy,
        ) {
            Ok(sealed) => sealed,
            Err(error) => return unavailable(&error),
        };
        let mut location = match Url::parse(&alloc::format!(
            "{}/{}/v2.0/adminconsent",
            self.instance,
            transaction.tenant
        )) {
            Ok(url) => url,
            Err(_) => return failed("tenant must be a tenant id or a verified domain name"),
        };
        location
            .query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", self.redirect_uri.as_str())
            .append_pair("scope", &self.scopes.to_param())
            .append_pair("state", &transaction.state);
        WebResponse::redirect(location.as_str()).with_cookie(SetCookie {
            name: CONSENT_COOKIE.into(),
            value: sealed,
            max_age: Some(CONSENT_LIFETIME_SECS),
            same_site: SameSite::Lax,
        })
    }

    /// `GET /tenants/callback`: checks `state` against [`CONSENT_COOKIE`] (constant time, once),
    /// then has `verify` prove the consent for the tenant the answer names, then records it:
    /// `200` [`Page::TenantOnboarded`]. The answer's `admin_consent=True&tenant=…` is only a
    /// browser redirect, which anyone who starts a consent can write with their own valid
    /// `state`; so `verify` must check with the provider, e.g. acquire an app token in that
    /// tenant (Microsoft identity platform: once the administrator consented, the app's
    /// client credentials requests there succeed; before, Entra refuses them, AADSTS7000229).
    /// A cancelled consent (`error`), a missing, forged, expired or replayed `state`, an answer
    /// without `admin_consent=True` and a tenant id, or a tenant whose consent `verify`
    /// refuses: `400` [`Page::ConsentFailed`], nothing recorded. The cookie is deleted either
    /// way. A store failure, or `verify` failing for another reason than a refusal (the
    /// provider unreachable): `503` [`Page::Unavailable`].
    pub async fn callback<F, Fut>(
        &self,
        request: &WebRequest,
        platform: &Platform<'_>,
        verify: F,
    ) -> WebResponse
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<(), Error>>,
    {
        let response = match self.check_callback(request, platform) {
            Ok((tenant, state)) => {
                match verify(tenant.clone()).await {
                    Ok(()) => self.onboard(&tenant, &state, platform).await,
                    Err(error) if error.server_error().is_some() => {
                        log::warn!("admin consent for tenant {tenant} not confirmed by the provider: {error}");
                        failed("the identity provider does not confirm this tenant's consent")
                    }
                    Err(error) => unavailable(&error),
                }
            }
            Err(refusal) => refusal,
        };
        response.with_cookie(SetCookie::delete(CONSENT_COOKIE, SameSite::Lax))
    }

    /// The consenting tenant and the consumed `state` of a callback that belongs to this
    /// browser's consent, else the refusal page.
    fn check_callback(
        &self,
        request: &WebRequest,
        platform: &Platform<'_>,
    ) -> Result<(String, String), WebResponse> {
        let now = platform.clock.now_unix_secs();
        let Some(transaction) = request.cookie(CONSENT_COOKIE).and_then(|cookie| {
            self.transactions
                .open::<ConsentTransaction>(cookie, CONSENT_COOKIE.as_bytes(), now, 4096)
                .ok()
        }) else {
            return Err(failed("no admin consent is in progress in this browser (it expired or was already completed): start again"));
        };
        let state = request.query_param("state").unwrap_or_default();
        let matches = state.len() <= MAX_STATE_LEN
            && bool::from(state.as_bytes().ct_eq(transaction.state.as_bytes()));
        if !matches {
            log::warn!("admin consent callback with a state that is not this browser's");
            return Err(failed(
                "this answer does not belong to the admin consent started in this browser",
            ));
        }
        if request.query_param("error").is_some() {
            log::info!("admin consent not granted");
            return Err(failed("the administrator did not grant the permissions"));
        }
        let granted = request
            .query_param("admin_consent")
            .is_some_and(|value| value.eq_ignore_ascii_case("true"));
        let tenant = request.query_param("tenant").unwrap_or_default();
        if !granted || !is_tenant_id(tenant) {
            return Err(failed(
                "the identity provider's answer named no consenting tenant",
            ));
        }
        let tenant = tenant.to_ascii_lowercase();
        let requested = &transaction.tenant;
        if requested != "organizations" && is_guid(requested) && *requested != tenant {
            return Err(failed("another tenant consented than the one asked for"));
        }
        Ok((tenant, transaction.state))
    }

    async fn onboard(&self, tenant: &str, state: &str, platform: &Platform<'_>) -> WebResponse {
        let now = platform.clock.now_unix_secs();
        match self.record(tenant, state, now, platform).await {
            Ok(true) => WebResponse::page(
                200,
                Page::TenantOnboarded {
                    tenant: tenant.to_string(),
                },
            ),
            Ok(false) => failed("this admin consent answer was already used"),
            Err(error) => unavailable(&error),
        }
    }

    /// Records `tenant` unless `state` was consumed already; `Ok(false)` for a replay.
    async fn record(
        &self,
        tenant: &str,
        state: &str,
        now: u64,
        platform: &Platform<'_>,
    ) -> Result<bool, Error> {
        let mut record = self.load(platform).await?;
        let consumed = hashed_storage_key("", state);
        record
            .consumed
            .retain(|(_, at)| now.saturating_sub(*at) < CONSENT_LIFETIME_SECS);
        if record.consumed.iter().any(|(hash, _)| *hash == consumed) {
            log::warn!("admin consent callback replayed");
            return Ok(false);
        }
        record.consumed.push((consumed, now));
        record.tenants.retain(|t| t.tenant_id != tenant);
        if record.tenants.len() >= MAX_TENANTS {
            return Err(Error::Cache(alloc::format!(
                "the tenant registry is full ({MAX_TENANTS} tenants)"
            )));
        }
        record.tenants.push(OnboardedTenant {
            tenant_id: tenant.to_string(),
            scopes: self.scopes.to_param(),
            consented_at: now,
        });
        self.save(&record, platform).await?;
        log::info!("tenant {tenant} onboarded");
        Ok(true)
    }

    /// The onboarded tenants, oldest first.
    ///
    /// # Errors
    /// [`Error::Cache`] when the store fails. A record that does not open (tampered, planted,
    /// another key) is an empty registry, logged at `warn`.
    pub async fn tenants(&self, platform: &Platform<'_>) -> Result<Vec<OnboardedTenant>, Error> {
        Ok(self.load(platform).await?.tenants)
    }

    /// Whether `tenant` (compared lower-cased) is onboarded.
    ///
    /// # Errors
    /// As [`TenantOnboarding::tenants`].
    pub async fn is_onboarded(&self, tenant: &str, platform: &Platform<'_>) -> Result<bool, Error> {
        let tenant = tenant.to_ascii_lowercase();
        Ok(self
            .tenants(platform)
            .await?
            .iter()
            .any(|t| t.tenant_id == tenant))
    }

    /// Removes `tenant` from the registry (offboarding); `Ok(false)` when it was not there.
    /// Its cached tokens are the caller's to evict
    /// ([`crate::acquisition::ConfidentialClient::forget_tenant`] and the store entries).
    ///
    /// # Errors
    /// As [`TenantOnboarding::tenants`], for reading and writing.
    pub async fn offboard(&self, tenant: &str, platform: &Platform<'_>) -> Result<bool, Error> {
        let tenant = tenant.to_ascii_lowercase();
        let mut record = self.load(platform).await?;
        let before = record.tenants.len();
        record.tenants.retain(|t| t.tenant_id != tenant);
        if record.tenants.len() == before {
            return Ok(false);
        }
        self.save(&record, platform).await?;
        log::info!("tenant {tenant} offboarded");
        Ok(true)
    }

    /// The scopes onboarded tenants consented to.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    async fn load(&self, platform: &Platform<'_>) -> Result<RegistryRecord, Error> {
        let Some(bytes) = platform.store.get(&self.registry_key).await? else {
            return Ok(RegistryRecord::default());
        };
        let now = platform.clock.now_unix_secs();
        let opened = core::str::from_utf8(&bytes).ok().and_then(|text| {
            self.registry
                .open(text, self.registry_key.as_bytes(), now, MAX_REGISTRY_LEN)
                .ok()
        });
        Ok(opened.unwrap_or_else(|| {
            log::warn!("the tenant registry record does not open: treated as empty");
            RegistryRecord::default()
        }))
    }

    async fn save(&self, record: &RegistryRecord, platform: &Platform<'_>) -> Result<(), Error> {
        // Sealed values carry an expiry: ten years stands for "until offboarded".
        const KEPT_SECS: u64 = 10 * 365 * 24 * 3600;
        let now = platform.clock.now_unix_secs();
        let sealed = self.registry.seal(
            record,
            now.saturating_add(KEPT_SECS),
            self.registry_key.as_bytes(),
            platform.entropy,
        )?;
        platform
            .store
            .put(&self.registry_key, sealed.into_bytes(), KEPT_SECS)
            .await
    }
}

fn is_guid(text: &str) -> bool {
    text.len() == 36 && is_tenant_id(text) && !text.contains('.')
}

fn failed(reason: &str) -> WebResponse {
    WebResponse::page(
        400,
        Page::ConsentFailed {
            reason: reason.to_string(),
        },
    )
}

fn unavailable(error: &Error) -> WebResponse {
    log::warn!("admin consent: {error}");
    WebResponse::page(
        503,
        Page::Unavailable {
            reason: "the tenant registry is unavailable: try again".to_string(),
        },
    )
}

#[cfg(test)]
mod tests;
