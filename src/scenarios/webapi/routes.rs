//! The web API's route table, shared by every runtime's reference app (Workers, Fastly, Spin).
//!
//! | method | path | operation |
//! |---|---|---|
//! | `GET` | `/api/profile` | [`WebApi::profile`] |
//!
//! Another method on it is 405 `{"error":"method_not_allowed"}`; any other path is not the web
//! API's ([`WebApi::route`] gives `None`).

use super::WebApi;
use crate::platform::Platform;
use crate::scenarios::web::{WebRequest, WebResponse};

/// The path of [`WebApi::profile`].
pub const WEB_API_PROFILE_PATH: &str = "/api/profile";

impl WebApi {
    /// Whether `path` (without query) is one of the web API's routes, whatever the method:
    /// adapters ask before they build the [`WebApi`].
    pub fn serves(path: &str) -> bool {
        path == WEB_API_PROFILE_PATH
    }

    /// Routes a request of `method` (as sent, e.g. `GET`) for `path` (without query) to the
    /// web API operation of the module's table, the caller's bearer token in
    /// [`WebRequest::authorization`]. Another method on a web API path is 405
    /// `{"error":"method_not_allowed"}`; `None` for other paths. Every adapter's reference app
    /// routes through this.
    pub async fn route(
        &self,
        method: &str,
        path: &str,
        request: &WebRequest,
        platform: &Platform<'_>,
    ) -> Option<WebResponse> {
        if !Self::serves(path) {
            return None;
        }
        if method != "GET" {
            return Some(WebResponse::method_not_allowed());
        }
        Some(self.profile(request, platform).await)
    }
}

#[cfg(test)]
mod tests;
