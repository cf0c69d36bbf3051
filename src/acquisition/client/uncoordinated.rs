//! Without feature `coordination`: a coordinator in the [`Platform`] is refused, never bypassed
//! in silence (the deployment meant every isolate's token requests, and a session's
//! refresh-token redemptions, to go through it; see [`crate::acquisition::coordination`]).

use super::{AcquiredToken, ConfidentialClient, Refill};
use crate::acquisition::cache::CacheKey;
use crate::error::Error;
use crate::platform::Platform;
use crate::protocol::request::Grant;

impl ConfidentialClient {
    /// As an isolate, after a memory and store miss: `None` (acquire here) without a
    /// coordinator, else the refusal of [`refused_coordinator`].
    pub(super) async fn coordinated(
        &self,
        _key: &CacheKey,
        _grant: &Grant<'_>,
        _mode: Refill,
        platform: &Platform<'_>,
    ) -> Option<Result<AcquiredToken, Error>> {
        refused_coordinator(platform).err().map(Err)
    }
}

/// [`Error::Configuration`] when `platform` has a coordinator: this build cannot speak its
/// protocol (feature `coordination`).
///
/// # Errors
/// As above.
pub(super) fn refused_coordinator(platform: &Platform<'_>) -> Result<(), Error> {
    match platform.coordinator {
        Some(_) => Err(Error::configuration(
            "a token coordinator is bound (Workers: TOKEN_COORDINATOR), but edge-token is built without its feature `coordination`: enable it, or remove the binding",
        )),
        None => Ok(()),
    }
}

#[cfg(feature = "webapp")]
impl ConfidentialClient {
    /// As an isolate: no redemption through a coordinator in this build; the refusal of
    /// [`refused_coordinator`] when the platform has one.
    pub(super) async fn redeem_through_coordinator(
        &self,
        _session: &super::SessionRedemption<'_>,
        _refresh_token: &crate::secret::RefreshToken,
        _scopes: &crate::protocol::scope::Scopes,
        _claims: Option<&str>,
        platform: &Platform<'_>,
    ) -> Option<Result<super::RedeemedRefreshToken, Error>> {
        refused_coordinator(platform).err().map(Err)
    }
}
