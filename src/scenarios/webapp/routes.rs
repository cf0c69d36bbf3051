//! The web app's route table, shared by every runtime's reference app (Workers, Fastly, Spin):
//! which path and method reach which [`WebApp`] operation.
//!
//! | method | path | operation |
//! |---|---|---|
//! | `GET` | `/` | [`WebApp::home`] |
//! | `GET` | `/auth/sign-in` | [`WebApp::sign_in`] |
//! | `GET`, `POST` | `/auth/callback` | [`WebApp::callback`] (`POST`: `response_mode=form_post`) |
//! | `GET` | `/auth/sign-out` | [`WebApp::sign_out`] |
//! | `GET` | `/auth/frontchannel-logout` | [`WebApp::front_channel_logout`] (OpenID Connect Front-Channel Logout 1.0) |
//! | `POST` | `/auth/backchannel-logout` | [`WebApp::back_channel_logout`] (OpenID Connect Back-Channel Logout 1.0) |
//! | `GET` | `/me` | [`WebApp::me`] |
//! | `GET` | `/me/call` | [`WebApp::call_downstream`] |
//! | `GET` | `/me/api` | [`WebApp::call_web_api`] |
//!
//! Another method on one of these paths is 405 `{"error":"method_not_allowed"}`; any other path
//! is not the web app's ([`WebApp::route`] gives `None`, the app's other routes or 404).

use super::{WebApp, WebRequest, WebResponse};
use crate::platform::Platform;

/// One route of the web app (see the module's table). Adapters use [`WebAppRoute::from_path`]
/// to tell a web app path before they read the request's body or build the [`WebApp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebAppRoute {
    /// `GET /`.
    Home,
    /// `GET /auth/sign-in`.
    SignIn,
    /// `GET` or `POST /auth/callback` (the redirection endpoint, RFC 6749 §3.1.2).
    Callback,
    /// `GET /auth/sign-out`.
    SignOut,
    /// `GET /auth/frontchannel-logout` (Front-Channel Logout 1.0 §2: the provider's iframe).
    FrontChannelLogout,
    /// `POST /auth/backchannel-logout` (Back-Channel Logout 1.0 §2.5: the provider's
    /// `logout_token`, a form body).
    BackChannelLogout,
    /// `GET /me`.
    Me,
    /// `GET /me/call`.
    MeCall,
    /// `GET /me/api`.
    MeApi,
}

impl WebAppRoute {
    /// The route serving `path` (the request's path, without query), whatever the method;
    /// `None` when the path is not the web app's.
    pub fn from_path(path: &str) -> Option<Self> {
        Some(match path {
            "/" => Self::Home,
            "/auth/sign-in" => Self::SignIn,
            "/auth/callback" => Self::Callback,
            "/auth/sign-out" => Self::SignOut,
            "/auth/frontchannel-logout" => Self::FrontChannelLogout,
            "/auth/backchannel-logout" => Self::BackChannelLogout,
            "/me" => Self::Me,
            "/me/call" => Self::MeCall,
            "/me/api" => Self::MeApi,
            _ => return None,
        })
    }

    /// Whether the route answers `method` (as sent, upper case): `GET`, `GET` and `POST` for
    /// the callback (a `form_post` authorization response, OAuth 2.0 Form Post Response
    /// Mode), only `POST` for the back-channel logout.
    pub fn allows(self, method: &str) -> bool {
        match self {
            Self::Callback => method == "GET" || method == "POST",
            Self::BackChannelLogout => method == "POST",
            _ => method == "GET",
        }
    }

    /// Whether the route reads a form body (`application/x-www-form-urlencoded`, at most
    /// [`crate::scenarios::MAX_FORM_BYTES`] with `std`): adapters read the body only then.
    pub fn reads_form(self) -> bool {
        matches!(self, Self::Callback | Self::BackChannelLogout)
    }
}

impl WebApp {
    /// Routes a request of `method` (as sent, e.g. `GET`) for `path` (without query) to the web
    /// app operation of the module's table, with `request` as read by the adapter
    /// ([`WebRequest::from_http`]). Another method on a web app path is 405
    /// `{"error":"method_not_allowed"}`. `None` for paths that are not the web app's: the
    /// app's other routes. Every adapter's reference app routes through this.
    ///
    /// The session records and rotated refresh tokens the operations write must reach the
    /// store before the response is sent: the browser's next request looks for them.
    pub async fn route(
        &self,
        method: &str,
        path: &str,
        request: &WebRequest,
        platform: &Platform<'_>,
    ) -> Option<WebResponse> {
        let route = WebAppRoute::from_path(path)?;
        if !route.allows(method) {
            return Some(WebResponse::method_not_allowed());
        }
        Some(match route {
            WebAppRoute::Home => self.home(request, platform).await,
            WebAppRoute::SignIn => self.sign_in(request, platform).await,
            WebAppRoute::Callback => self.callback(request, platform).await,
            WebAppRoute::SignOut => self.sign_out(request, platform).await,
            WebAppRoute::FrontChannelLogout => self.front_channel_logout(request, platform).await,
            WebAppRoute::BackChannelLogout => self.back_channel_logout(request, platform).await,
            WebAppRoute::Me => self.me(request, platform).await,
            WebAppRoute::MeCall => self.call_downstream(request, platform).await,
            WebAppRoute::MeApi => self.call_web_api(request, platform).await,
        })
    }
}

#[cfg(test)]
mod tests;
