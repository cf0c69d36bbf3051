//! The web app's redirect URIs: one per origin the app answers on (a custom domain, its
//! `workers.dev` name, a preview host), all registered with the provider.
//!
//! Rules:
//! - `REDIRECT_URI` lists one or more absolute URIs (space or comma separated), each `https`
//!   (or `http` on a loopback host), without query or fragment (RFC 6749 §3.1.2), at most one
//!   per origin (RFC 6454 §4): the origin picks the URI, so two for one origin are a
//!   configuration error.
//! - A sign-in uses the URI whose origin is the request's own ([`WebRequest::origin`], from the
//!   URL the runtime received). The URI itself is always the configured one, never built from
//!   request headers: a request whose origin is not in the list gets a clear error, and a
//!   forged `Host` can at most pick another registered URI.
//! - The URI chosen is kept in the sealed transaction, and the code is redeemed with exactly it
//!   (RFC 6749 §4.1.3).

use alloc::vec::Vec;

use url::Url;

use crate::error::Error;
use crate::protocol::authority::parse_url;
use crate::scenarios::web::WebRequest;

/// The most redirect URIs accepted (Entra allows 256 per registration; a web app answers on
/// a handful of hosts).
pub(crate) const MAX_REDIRECT_URIS: usize = 16;

/// The configured redirect URIs, in the order given; never empty, one per origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUris(Vec<Url>);

impl RedirectUris {
    /// Parses `value` of `setting`: absolute URIs separated by spaces or commas.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `setting` (never its value) when it is empty, lists more
    /// than 16, a URI is not absolute `https` (or loopback `http`) without
    /// query or fragment, or two URIs share an origin.
    pub fn parse(setting: &str, value: &str) -> Result<Self, Error> {
        let mut uris: Vec<Url> = Vec::new();
        for text in value.split([' ', ',']).filter(|t| !t.is_empty()) {
            let uri = parse_url(setting, text)?;
            if uris.iter().any(|known| known.origin() == uri.origin()) {
                return Err(Error::configuration(alloc::format!(
                    "{setting} lists two URIs on one origin: the request's origin must pick one"
                )));
            }
            uris.push(uri);
        }
        if uris.is_empty() {
            return Err(Error::configuration(alloc::format!("{setting} is empty")));
        }
        if uris.len() > MAX_REDIRECT_URIS {
            return Err(Error::configuration(alloc::format!(
                "{setting} lists more than {MAX_REDIRECT_URIS} URIs"
            )));
        }
        Ok(Self(uris))
    }

    /// The URIs, in configuration order.
    pub fn as_slice(&self) -> &[Url] {
        &self.0
    }

    /// The URI for a request at `origin` (ASCII serialization, e.g. `https://app.example.com`
    /// or `http://127.0.0.1:8787`). Without a known origin (an adapter that does not tell it)
    /// the first URI is used.
    ///
    /// # Errors
    /// [`UnregisteredOrigin`] when `origin` is given and no URI is on it.
    pub fn for_origin(&self, origin: Option<&str>) -> Result<&Url, UnregisteredOrigin> {
        let Some(origin) = origin else {
            return Ok(&self.0[0]);
        };
        self.0
            .iter()
            .find(|uri| uri.origin().ascii_serialization() == origin)
            .ok_or(UnregisteredOrigin)
    }

    /// The URI for `request` ([`RedirectUris::for_origin`] of [`WebRequest::origin`]).
    ///
    /// # Errors
    /// [`UnregisteredOrigin`].
    pub fn for_request(&self, request: &WebRequest) -> Result<&Url, UnregisteredOrigin> {
        self.for_origin(request.origin.as_deref())
    }

    /// The configured URI equal to `uri` (a transaction's), if any.
    pub(crate) fn find(&self, uri: &str) -> Option<&Url> {
        self.0.iter().find(|known| known.as_str() == uri)
    }
}

/// A request at an origin none of the redirect URIs is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnregisteredOrigin;

impl core::fmt::Display for UnregisteredOrigin {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the request's origin is not the origin of any configured REDIRECT_URI")
    }
}

#[cfg(test)]
mod tests;
