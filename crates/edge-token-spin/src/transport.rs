//! [`HttpTransport`] over outbound WASI HTTP (`spin_sdk::http::send`).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;

use bytes::Bytes;
use futures_util::future::{select, Either};
use futures_util::StreamExt as _;
use spin_sdk::http::body::IncomingBodyExt as _;
use spin_sdk::http::{FullBody, Method as SpinMethod};
use spin_sdk::wasip3::http::types::ErrorCode;

use edge_token::error::{Error, TransportError, TransportErrorKind};
use edge_token::platform::http::{HttpRequest, HttpResponse, Method, MAX_RESPONSE_BODY_BYTES};
use edge_token::platform::{HttpTransport, LocalBoxFuture};

/// Sends requests with outbound WASI HTTP. The host never follows redirects (a 3xx comes back
/// to the core, which refuses it); the whole exchange, body included, is abandoned after
/// `timeout`; bodies are read up to one byte past [`MAX_RESPONSE_BODY_BYTES`], so the core
/// reports them as too large. In Spin, every host called must be listed in the component's
/// `allowed_outbound_hosts`.
#[derive(Debug, Clone, Copy)]
pub struct WasiHttpTransport {
    timeout: Duration,
}

impl WasiHttpTransport {
    /// A transport with a time limit per request.
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

impl HttpTransport for WasiHttpTransport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, Error>> {
        Box::pin(async move {
            let exchange = Box::pin(exchange(request));
            let deadline = Box::pin(spin_sdk::time::sleep(self.timeout));
            match select(exchange, deadline).await {
                Either::Left((result, _)) => result,
                Either::Right(((), _)) => Err(transport(
                    TransportErrorKind::Timeout,
                    format!(
                        "no complete response within {} ms",
                        self.timeout.as_millis()
                    ),
                )),
            }
        })
    }
}

async fn exchange(request: HttpRequest) -> Result<HttpResponse, Error> {
    let mut builder = spin_sdk::http::Request::<()>::builder()
        .method(match request.method {
            Method::Get => SpinMethod::GET,
            Method::Post => SpinMethod::POST,
        })
        .uri(request.url.as_str());
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let outgoing = builder
        .body(FullBody::new(Bytes::from(request.body)))
        .map_err(|error| network(format!("invalid request: {error}")))?;
    let response = spin_sdk::http::send(outgoing).await.map_err(wasi_error)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
        })
        .collect();
    let mut body = Vec::new();
    let mut stream = response.into_body().stream();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.map_err(wasi_error)?);
        if body.len() > MAX_RESPONSE_BODY_BYTES {
            break;
        }
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn wasi_error(code: ErrorCode) -> Error {
    let kind = match code {
        ErrorCode::DnsTimeout
        | ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => TransportErrorKind::Timeout,
        _ => TransportErrorKind::Network,
    };
    transport(kind, format!("{code}"))
}

fn network(message: String) -> Error {
    transport(TransportErrorKind::Network, message)
}

fn transport(kind: TransportErrorKind, message: String) -> Error {
    Error::Transport(TransportError::new(kind, message))
}
