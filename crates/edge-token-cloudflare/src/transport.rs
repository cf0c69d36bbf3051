//! [`HttpTransport`] over the Workers `fetch` API.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;

use futures_util::StreamExt;
use worker::{AbortSignal, Fetch, Headers, Request, RequestInit, RequestRedirect};

use edge_token::error::{Error, TransportError, TransportErrorKind};
use edge_token::platform::http::{HttpRequest, HttpResponse, Method, MAX_RESPONSE_BODY_BYTES};
use edge_token::platform::{HttpTransport, LocalBoxFuture};

/// The default time limit for one request, response body included (10 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends requests with the Workers `fetch`: never follows redirects (Workers do not support
/// `redirect: "error"`, so `"manual"` returns the 3xx to the core, which refuses it), aborts
/// after `timeout` (an `AbortSignal.timeout` given to `fetch`: it cuts the wait for the
/// response and the reading of its body alike, with no timer of ours in wasm), and stops
/// reading a body past [`MAX_RESPONSE_BODY_BYTES`].
#[derive(Debug, Clone, Copy)]
pub struct FetchTransport {
    timeout: Duration,
}

impl FetchTransport {
    /// A transport with a time limit per request.
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

impl Default for FetchTransport {
    fn default() -> Self {
        Self::new(DEFAULT_TIMEOUT)
    }
}

impl HttpTransport for FetchTransport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, Error>> {
        Box::pin(async move {
            let millis = u32::try_from(self.timeout.as_millis()).unwrap_or(u32::MAX);
            let signal = AbortSignal::from(web_sys::AbortSignal::timeout_with_u32(millis));
            // Whatever failed once the signal fired (the fetch or a body read) failed for it.
            exchange(request, &signal).await.map_err(|error| {
                if signal.aborted() {
                    transport(
                        TransportErrorKind::Timeout,
                        format!("no complete response within {millis} ms"),
                    )
                } else {
                    error
                }
            })
        })
    }
}

async fn exchange(request: HttpRequest, signal: &AbortSignal) -> Result<HttpResponse, Error> {
    let headers = Headers::new();
    for (name, value) in &request.headers {
        headers.set(name, value).map_err(|_| {
            transport(
                TransportErrorKind::Network,
                format!("invalid header {name}"),
            )
        })?;
    }
    let mut init = RequestInit::new();
    init.with_method(match request.method {
        Method::Get => worker::Method::Get,
        Method::Post => worker::Method::Post,
    })
    .with_headers(headers)
    .with_redirect(RequestRedirect::Manual);
    if !request.body.is_empty() {
        init.with_body(Some(
            js_sys::Uint8Array::from(request.body.as_slice()).into(),
        ));
    }
    let fetch_request = Request::new_with_init(request.url.as_str(), &init).map_err(network)?;
    let mut response = Fetch::Request(fetch_request)
        .send_with_signal(signal)
        .await
        .map_err(network)?;
    let status = response.status_code();
    let headers: Vec<(String, String)> = response.headers().entries().collect();
    let body = read_capped(&mut response, &headers).await?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Reads the body, giving up one byte past the limit so the core reports it as too large. A
/// body that declares its length within the limit, with no `content-encoding` (which `fetch`
/// would decode to more bytes than declared), is read whole in one call; any other is read
/// chunk by chunk up to the limit.
async fn read_capped(
    response: &mut worker::Response,
    headers: &[(String, String)],
) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    if matches!(response.body(), worker::ResponseBody::Empty) {
        return Ok(body);
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    let declared = header("content-length").and_then(|length| length.trim().parse::<usize>().ok());
    if header("content-encoding").is_none()
        && declared.is_some_and(|length| length <= MAX_RESPONSE_BODY_BYTES)
    {
        return response.bytes().await.map_err(network);
    }
    let mut stream = response.stream().map_err(network)?;
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.map_err(network)?);
        if body.len() > MAX_RESPONSE_BODY_BYTES {
            break;
        }
    }
    Ok(body)
}

fn network(error: worker::Error) -> Error {
    transport(TransportErrorKind::Network, error.to_string())
}

fn transport(kind: TransportErrorKind, message: String) -> Error {
    Error::Transport(TransportError::new(kind, message))
}
