//! The same cases with azure_identity 1.x (natively): `ClientSecretCredential::get_token` with
//! its token in memory for 1 to 10,000 scopes, and a new credential for each cold acquisition
//! (secret, and `ClientCertificateCredential`: PKCS#12 through OpenSSL, RS256). The token
//! endpoint is answered from memory through `ClientOptions::transport`.

use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use azure_core::credentials::{Secret, SecretBytes, TokenCredential};
use azure_core::http::headers::Headers;
use azure_core::http::{
    AsyncRawResponse, ClientOptions, HttpClient, Request, StatusCode, Transport,
};
use azure_core::Bytes;
use azure_identity::{
    ClientCertificateCredential, ClientCertificateCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions,
};
use base64::Engine as _;
use serde_json::Value;

use edge_token_bench::{
    measure, row, scope_name, spread, Settings, CLIENT_ID, CLIENT_SECRET, COLD_SCOPE, KEY_COUNTS,
    TENANT, TOKEN_RESPONSE,
};

const IMPLEMENTATION: &str = "azure_identity";

/// The test fixture's PKCS#12 of the test bed's daemon certificate and key (AES-256, PBKDF2).
const PFX_BASE64: &str = include_str!("../../tests/fixtures/azure_ad/daemon-aes256.pfx.b64");
const PFX_PASSWORD: &str = "edge-token-test";

/// The token endpoint answered from memory, counting requests.
#[derive(Debug, Default)]
struct CannedSts {
    sent: AtomicU64,
}

#[async_trait::async_trait]
impl HttpClient for CannedSts {
    async fn execute_request(&self, _request: &Request) -> azure_core::Result<AsyncRawResponse> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let mut headers = Headers::new();
        headers.insert("content-type", "application/json");
        Ok(AsyncRawResponse::from_bytes(
            StatusCode::Ok,
            headers,
            Bytes::from_static(TOKEN_RESPONSE.as_bytes()),
        ))
    }
}

/// Completes `future`, with one poll when it is ready at once (as everything here is).
fn complete<F: std::future::Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => futures::executor::block_on(future),
    }
}

fn client_options(sts: &Arc<CannedSts>) -> ClientOptions {
    ClientOptions {
        transport: Some(Transport::new(sts.clone())),
        ..Default::default()
    }
}

fn secret_credential(sts: &Arc<CannedSts>) -> azure_core::Result<Arc<ClientSecretCredential>> {
    ClientSecretCredential::new(
        TENANT,
        CLIENT_ID.to_string(),
        Secret::new(CLIENT_SECRET),
        Some(ClientSecretCredentialOptions {
            client_options: client_options(sts),
        }),
    )
}

fn certificate_credential(
    sts: &Arc<CannedSts>,
    pfx: &[u8],
) -> azure_core::Result<Arc<ClientCertificateCredential>> {
    ClientCertificateCredential::new(
        TENANT.to_string(),
        CLIENT_ID.to_string(),
        SecretBytes::new(pfx.to_vec()),
        Some(ClientCertificateCredentialOptions {
            client_options: client_options(sts),
            password: Some(Secret::new(PFX_PASSWORD)),
        }),
    )
}

fn hits(settings: &Settings, now_ns: fn() -> f64, keys: usize) -> Value {
    let sts = Arc::new(CannedSts::default());
    let credential = secret_credential(&sts).expect("a credential");
    let scopes: Vec<String> = (0..keys).map(scope_name).collect();
    for scope in &scopes {
        complete(credential.get_token(&[scope.as_str()], None)).expect("a token");
    }
    let order = spread(keys);
    let (mut at, mut ops, mut errors) = (0, 0u64, 0u64);
    let before = sts.sent.load(Ordering::Relaxed);
    let timing = measure(now_ns, settings, |iterations| {
        for _ in 0..iterations {
            let scope = scopes[order[at]].as_str();
            at = if at + 1 == keys { 0 } else { at + 1 };
            match complete(credential.get_token(black_box(&[scope]), None)) {
                Ok(token) => {
                    black_box(&token);
                }
                Err(_) => errors += 1,
            }
        }
        ops += iterations;
    });
    let requests = (sts.sent.load(Ordering::Relaxed) - before) as f64 / ops as f64;
    row(
        IMPLEMENTATION,
        "cache hit",
        Some(keys),
        &timing,
        requests,
        errors,
    )
}

fn cold<C: TokenCredential>(
    settings: &Settings,
    now_ns: fn() -> f64,
    case: &str,
    new: impl Fn(&Arc<CannedSts>) -> azure_core::Result<Arc<C>>,
) -> Value {
    let sts = Arc::new(CannedSts::default());
    let (mut ops, mut errors) = (0u64, 0u64);
    let timing = measure(now_ns, settings, |iterations| {
        for _ in 0..iterations {
            let acquired = new(&sts)
                .and_then(|credential| complete(credential.get_token(&[COLD_SCOPE], None)));
            match acquired {
                Ok(token) => {
                    black_box(&token);
                }
                Err(_) => errors += 1,
            }
        }
        ops += iterations;
    });
    let requests = sts.sent.load(Ordering::Relaxed) as f64 / ops as f64;
    row(IMPLEMENTATION, case, None, &timing, requests, errors)
}

/// Every azure_identity case, in table order.
pub fn suite(settings: &Settings, now_ns: fn() -> f64, progress: &dyn Fn(&str)) -> Vec<Value> {
    let mut rows = Vec::new();
    for keys in KEY_COUNTS {
        progress(&format!("{IMPLEMENTATION}: cache hit, {keys} keys"));
        rows.push(hits(settings, now_ns, keys));
    }
    progress(&format!("{IMPLEMENTATION}: cold, client secret"));
    rows.push(cold(
        settings,
        now_ns,
        "cold, client secret",
        secret_credential,
    ));
    progress(&format!("{IMPLEMENTATION}: cold, certificate RS256"));
    let pfx = base64::engine::general_purpose::STANDARD
        .decode(PFX_BASE64.trim())
        .expect("the fixture is base64");
    rows.push(cold(settings, now_ns, "cold, certificate RS256", |sts| {
        certificate_credential(sts, &pfx)
    }));
    rows
}
