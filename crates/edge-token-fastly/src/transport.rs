//! [`HttpTransport`] through Fastly backends.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::future::ready;
use core::time::Duration;
use std::io::Read as _;

use fastly::http::request::SendErrorCause;
use fastly::http::Method as FastlyMethod;
use fastly::{Backend, Request};
use url::Url;

use edge_token::error::{Error, TransportError, TransportErrorKind};
use edge_token::platform::http::{HttpRequest, HttpResponse, Method, MAX_RESPONSE_BODY_BYTES};
use edge_token::platform::{HttpTransport, LocalBoxFuture};

/// Sends requests through Fastly backends. Each request goes to the backend named after its
/// URL's origin (e.g. `http://127.0.0.1:9400`, `https://login.microsoftonline.com:443`): a
/// backend configured under that name when the service has one (its own timeouts apply), else a
/// dynamic backend registered for the origin (TLS with SNI and certificate checks for `https`;
/// connect, first-byte and between-bytes timeouts of `timeout` each). The service needs dynamic
/// backends enabled unless it configures every origin it calls.
///
/// Fastly never follows redirects: a 3xx comes back to the core, which refuses it. Bodies are
/// read up to one byte past [`MAX_RESPONSE_BODY_BYTES`], so the core reports them as too large.
#[derive(Debug, Clone, Copy)]
pub struct BackendTransport {
    timeout: Duration,
}

impl BackendTransport {
    /// A transport with `timeout` for each phase of a request on dynamic backends.
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }

    fn backend(&self, url: &Url) -> Result<Backend, Error> {
        let name = url.origin().ascii_serialization();
        if let Some(existing) = Backend::from_name(&name).ok().filter(Backend::exists) {
            return Ok(existing);
        }
        let host = url
            .host_str()
            .ok_or_else(|| network(format!("{name}: no host")))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| network(format!("{name}: no port")))?;
        // The Host header: the port only when it is not the scheme's default (RFC 9110 §7.2).
        let authority = match url.port() {
            Some(explicit) => format!("{host}:{explicit}"),
            None => host.to_string(),
        };
        let mut builder = Backend::builder(&name, format!("{host}:{port}"))
            .override_host(authority)
            .connect_timeout(self.timeout)
            .first_byte_timeout(self.timeout)
            .between_bytes_timeout(self.timeout);
        if url.scheme() == "https" {
            builder = builder
                .enable_ssl()
                .sni_hostname(host)
                .check_certificate(host);
        }
        builder
            .finish()
            .map_err(|error| network(format!("backend {name}: {error}")))
    }

    fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let backend = self.backend(&request.url)?;
        let method = match request.method {
            Method::Get => FastlyMethod::GET,
            Method::Post => FastlyMethod::POST,
        };
        let mut outgoing = Request::new(method, request.url.as_str());
        for (name, value) in &request.headers {
            outgoing.append_header(name.as_str(), value.as_str());
        }
        if !request.body.is_empty() {
            outgoing.set_body(request.body);
        }
        let mut response = outgoing.send(backend).map_err(|error| {
            let kind = match error.root_cause() {
                SendErrorCause::DnsTimeout
                | SendErrorCause::ConnectionTimeout
                | SendErrorCause::HttpResponseTimeout => TransportErrorKind::Timeout,
                _ => TransportErrorKind::Network,
            };
            transport(kind, error.to_string())
        })?;
        let headers = response
            .get_headers()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
            })
            .collect();
        let mut body = Vec::new();
        response
            .take_body()
            .take(MAX_RESPONSE_BODY_BYTES as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|error| network(format!("reading the body: {error}")))?;
        Ok(HttpResponse {
            status: response.get_status().as_u16(),
            headers,
            body,
        })
    }
}

impl HttpTransport for BackendTransport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, Error>> {
        Box::pin(ready(self.exchange(request)))
    }
}

fn network(message: String) -> Error {
    transport(TransportErrorKind::Network, message)
}

fn transport(kind: TransportErrorKind, message: String) -> Error {
    Error::Transport(TransportError::new(kind, message))
}
