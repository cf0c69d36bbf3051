//! Sending one grant to the token endpoint: throttles, the one retry, clock learning and
//! logging ([`crate::acquisition::throttle`], [`crate::acquisition::clock`]).

use super::{ConfidentialClient, ReceivedTokens};
use crate::acquisition::throttle::{
    request_key, requires_user, verdict, Verdict, RETRY_DELAY_MS, RETRY_JITTER_MS,
    SERVER_ERROR_THROTTLE_SECS, UI_REQUIRED_THROTTLE_SECS,
};
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::request::{token_request, Grant};
use crate::protocol::response::parse_token_response;

impl ConfidentialClient {
    /// Sends `grant` to the token endpoint with the throttling and retry rules of
    /// [`crate::acquisition::throttle`]: a throttled request fails fast (with the remembered
    /// error when the user must act), a `429` (or `5xx` with `Retry-After`) records a throttle,
    /// a `5xx` without it or a transport failure is retried once (never a code or refresh token
    /// redemption) and a `5xx` still failing then records a short throttle; an error that needs
    /// the user is remembered for the same refresh token or assertion. Each attempt has its own
    /// `client-request-id` and asks the credential for its client assertion (a certificate's is
    /// reused per token endpoint, `crate::credentials::assertion_cache`); each response's `Date`
    /// corrects the clock ([`crate::acquisition::clock`]).
    /// `platform`'s clock must already be the corrected one ([`Self::corrected_clock`]).
    pub(super) async fn send_grant(
        &self,
        grant: Grant<'_>,
        platform: &Platform<'_>,
    ) -> Result<ReceivedTokens, Error> {
        let endpoint = match (&self.region, &grant) {
            (Some(region), Grant::ClientCredentials { .. }) => {
                self.validate_instance(platform).await?;
                self.authority.regional_token_endpoint(region)?
            }
            _ => self.token_endpoint(platform).await?,
        };
        let throttle_key = request_key(&self.authority, &self.client_id, &grant);
        let name = grant.name();
        if let Some(key) = &throttle_key {
            if let Some(refusal) = self.throttles.refusal(key, platform.clock.now_unix_secs()) {
                log::warn!("{name} request not sent, throttled: {refusal}");
                return Err(refusal);
            }
        }
        // A code or a refresh token is never sent twice (`Grant::may_retry`).
        let retries = u8::from(grant.may_retry());
        let mut attempt = 0;
        loop {
            let auth = self
                .credential
                .authenticate(&self.client_id, &endpoint, platform)
                .await?;
            let client_request_id = platform.random_uuid()?;
            let request =
                token_request(&endpoint, &self.client_id, grant, &auth, &client_request_id);
            // Lifetimes count from before the request: the token was issued no earlier.
            let requested_at = platform.clock.now_unix_secs();
            let id = &client_request_id;
            log::debug!("{name} request sent, client-request-id {id}");
            let result = platform.transport.send(request).await;
            let local_now = platform
                .clock
                .now_unix_secs()
                .saturating_add_signed(-self.clock_offset.secs());
            let next = match &result {
                Ok(response) => {
                    if let Some(offset) = self.clock_offset.learn(response, local_now) {
                        log::info!("clock offset from the provider's Date header: {offset} s");
                    }
                    verdict(response, platform.clock.now_unix_secs())
                }
                Err(error) if error.is_retryable() => Verdict::Retry,
                Err(_) => Verdict::Accept,
            };
            match next {
                Verdict::Retry if attempt < retries => {
                    attempt += 1;
                    let jitter = random_below(platform, RETRY_JITTER_MS);
                    let delay = RETRY_DELAY_MS + u32::from(jitter);
                    log::warn!(
                        "{name} request failed (client-request-id {id}); retry in {delay} ms"
                    );
                    platform.sleep.sleep(delay).await;
                    continue;
                }
                Verdict::Throttle { secs } => {
                    self.throttle(throttle_key.as_deref(), secs, platform);
                    log::warn!("{name} request throttled for {secs} s (client-request-id {id})");
                }
                // Out of retries: a server still failing is left alone for a while.
                Verdict::Retry if result.as_ref().is_ok_and(|r| r.status >= 500) => {
                    let secs = SERVER_ERROR_THROTTLE_SECS;
                    self.throttle(throttle_key.as_deref(), secs, platform);
                    log::warn!("{name} request failed again (client-request-id {id}): throttled for {secs} s");
                }
                Verdict::Retry | Verdict::Accept => {}
            }
            let parsed = result.and_then(|response| parse_token_response(&response));
            if let (Err(error), Some(key)) = (&parsed, &throttle_key) {
                if requires_user(&grant, error) {
                    let now = platform.clock.now_unix_secs();
                    self.throttles
                        .remember(key, UI_REQUIRED_THROTTLE_SECS, error.clone(), now);
                }
            }
            match &parsed {
                Ok(_) => log::info!("{name} token received (client-request-id {id})"),
                Err(error) => log::warn!("{name} request failed (client-request-id {id}): {error}"),
            }
            return Ok(ReceivedTokens {
                response: parsed?,
                requested_at,
            });
        }
    }
}

impl ConfidentialClient {
    /// Records a throttle of `secs` on `key` (a request that is never throttled has none).
    fn throttle(&self, key: Option<&str>, secs: u64, platform: &Platform<'_>) {
        if let Some(key) = key {
            self.throttles
                .record(key, secs, platform.clock.now_unix_secs());
        }
    }
}

/// A random number below `bound`, from the platform's entropy (0 when it fails: jitter is a
/// nicety, not a requirement).
pub(super) fn random_below(platform: &Platform<'_>, bound: u16) -> u16 {
    let mut bytes = [0u8; 2];
    match platform.entropy.fill(&mut bytes) {
        Ok(()) if bound > 0 => u16::from_le_bytes(bytes) % bound,
        _ => 0,
    }
}
