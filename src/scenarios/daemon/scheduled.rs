//! Scheduled runs of the daemon (a cron trigger: Workers' `scheduled` handler): daemons mostly
//! run on a schedule, not per HTTP request (Microsoft identity platform "daemon app"). Each run
//! makes sure every tenant's app token is cached and fresh (acquired if missing, refreshed when
//! due), so the calls that follow find it, and optionally calls a batch endpoint
//! (`SCHEDULED_CALL_URL`) in each tenant with that tenant's token.
//!
//! Tenants: the configured authority's (unless it is a multi-tenant alias such as
//! `organizations`), then every onboarded tenant ([`crate::scenarios::tenants`]), at most
//! [`MAX_SCHEDULED_TENANTS`] per run. One tenant's failure is logged (with the provider's
//! correlation and trace ids) and reported, never stopping the others.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::Daemon;
use crate::acquisition::client::TokenSource;
use crate::error::Error;
use crate::platform::http::HttpRequest;
use crate::platform::Platform;
use crate::scenarios::downstream::{call_api, DownstreamError};

/// The most tenants one scheduled run works for (the configured one included); the rest wait
/// for a later run and are reported as skipped.
pub const MAX_SCHEDULED_TENANTS: usize = 100;

/// What a scheduled run did for one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduledOutcome {
    /// The tenant's token is cached and fresh: where it came from (`provider` when acquired or
    /// refreshed now), and the batch endpoint's status when one is configured.
    Done {
        /// Where the token came from.
        source: TokenSource,
        /// `SCHEDULED_CALL_URL`'s HTTP status, if called.
        call_status: Option<u16>,
    },
    /// No token (or the batch endpoint was unreachable): the error, logged.
    Failed(Error),
}

/// A scheduled run's outcome per tenant (`None`: the configured authority).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduledReport {
    /// Each tenant worked for, in order.
    pub tenants: Vec<(Option<String>, ScheduledOutcome)>,
    /// Onboarded tenants left for a later run (over [`MAX_SCHEDULED_TENANTS`]).
    pub skipped: usize,
}

impl ScheduledReport {
    /// How many tenants failed.
    pub fn failures(&self) -> usize {
        self.tenants
            .iter()
            .filter(|(_, outcome)| matches!(outcome, ScheduledOutcome::Failed(_)))
            .count()
    }
}

impl Daemon {
    /// One scheduled run (see the module documentation): for each tenant, the app token for
    /// `DOWNSTREAM_SCOPES` acquired if missing and refreshed when due, then
    /// `SCHEDULED_CALL_URL` called with it when configured. Never fails as a whole: read the
    /// report. An unreadable tenant registry is reported as one failure (tenant `None`) after
    /// the configured tenant's work.
    pub async fn run_scheduled(&self, platform: &Platform<'_>) -> ScheduledReport {
        let mut report = ScheduledReport::default();
        if self.client.tenant().is_none() && self.client.authority().requires_default_scope() {
            let own = self.schedule_tenant(None, platform).await;
            report.tenants.push((None, own));
        }
        let onboarded = match &self.onboarding {
            Some(onboarding) => match onboarding.tenants(platform).await {
                Ok(tenants) => tenants,
                Err(error) => {
                    log::warn!("scheduled run: the tenant registry is unreadable: {error}");
                    report.tenants.push((None, ScheduledOutcome::Failed(error)));
                    return report;
                }
            },
            None => Vec::new(),
        };
        let room = MAX_SCHEDULED_TENANTS.saturating_sub(report.tenants.len());
        report.skipped = onboarded.len().saturating_sub(room);
        for tenant in onboarded.into_iter().take(room) {
            let outcome = self
                .schedule_tenant(Some(&tenant.tenant_id), platform)
                .await;
            report.tenants.push((Some(tenant.tenant_id), outcome));
        }
        if report.skipped > 0 {
            log::warn!(
                "scheduled run: {} tenants left for a later run (at most {MAX_SCHEDULED_TENANTS} per run)",
                report.skipped
            );
        }
        report
    }

    async fn schedule_tenant(
        &self,
        tenant: Option<&str>,
        platform: &Platform<'_>,
    ) -> ScheduledOutcome {
        let outcome = self.try_schedule_tenant(tenant, platform).await;
        let name = tenant.unwrap_or("(configured)");
        match &outcome {
            ScheduledOutcome::Done {
                source,
                call_status,
            } => {
                log::info!(
                    "scheduled run: tenant {name}: token from {}, call {call_status:?}",
                    source.as_str()
                );
            }
            ScheduledOutcome::Failed(error) => {
                let server = error.server_error();
                log::warn!(
                    "scheduled run: tenant {name} failed: {error} (correlation id {:?}, trace id {:?})",
                    server.and_then(|s| s.correlation_id.as_deref()),
                    server.and_then(|s| s.trace_id.as_deref()),
                );
            }
        }
        outcome
    }

    async fn try_schedule_tenant(
        &self,
        tenant: Option<&str>,
        platform: &Platform<'_>,
    ) -> ScheduledOutcome {
        let tenant_client = match tenant.map(|tenant| self.client.tenant_client(tenant)) {
            Some(Ok(client)) => Some(client),
            Some(Err(error)) => return ScheduledOutcome::Failed(error),
            None => None,
        };
        let client = tenant_client.as_deref().unwrap_or(&self.client);
        let scopes = &self.downstream.scopes;
        let token = match client.acquire_token_for_client(scopes, platform).await {
            Ok(token) if token.refresh_due => {
                client.refresh_token_for_client(scopes, platform).await
            }
            other => other,
        };
        let source = match token {
            Ok(token) => token.source,
            Err(error) => return ScheduledOutcome::Failed(error),
        };
        let Some(batch) = &self.scheduled_call else {
            return ScheduledOutcome::Done {
                source,
                call_status: None,
            };
        };
        let called = call_api(
            batch,
            HttpRequest::get_json(batch.base_url.clone()),
            |options| async move {
                client
                    .acquire_token_for_client_with(scopes, &options, platform)
                    .await
            },
            platform.transport,
        )
        .await;
        match called {
            Ok(answer) => ScheduledOutcome::Done {
                source,
                call_status: Some(answer.response.status),
            },
            Err(DownstreamError::Token(error) | DownstreamError::Transport(error)) => {
                ScheduledOutcome::Failed(error)
            }
            Err(DownstreamError::OutsideBaseUrl) => ScheduledOutcome::Failed(Error::configuration(
                "SCHEDULED_CALL_URL is outside its own base URL".to_string(),
            )),
        }
    }
}
