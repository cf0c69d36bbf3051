//! Unsealing. `seal::Sealer::open` and `RootKeys` are crate-private (`pub(crate) mod seal`), so
//! this drives the public `WebApp` operations that run them on untrusted input:
//! - `k`: the rest is `COOKIE_KEY`, parsed by `RootKeys::parse` through
//!   `WebAppConfig::from_settings`;
//! - `s`: the rest is a session record as the shared store returns it (`Sealer::open::<Session>`
//!   in `WebApp::me` / `home` / `sign_out` / `call_downstream`);
//! - `t`: the rest is the transaction cookie's value (`Sealer::open::<Transaction>` in
//!   `WebApp::callback`);
//! - `S` / `T`: the same, but the rest is a plaintext that this target seals with the app's key
//!   exactly as the core does (AES-256-GCM under the HKDF-SHA256 subkey of the purpose, bound to
//!   the storage key / cookie name), so the fuzzer reaches what runs after authentication: the
//!   envelope (`{"exp":…,"v":…}`) and record deserialization, and the operations that use the
//!   record. (If the core changes its wire format, these modes only exercise the refusal.)
#![no_main]

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::*;
use edge_token::credentials::{JwsAlgorithm, JwsSigner, PrivateKey};
use edge_token::platform::http::HttpResponse;
use edge_token::validation::RustCryptoVerifier;
use edge_token::{Error, WebApp, WebAppConfig, WebRequest};
use hkdf::Hkdf;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

/// `COOKIE_KEY`: base64url of the bytes 0x20..=0x3f.
const COOKIE_KEY: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8";
const SESSION_COOKIE: &str = "__Host-edge-token-session";
const TRANSACTION_COOKIE_PREFIX: &str = "__Host-edge-token-tx-";
const SESSION_PREFIX: &str = "edge-token/v1/session/";
/// A well-formed session id (32 zero bytes).
const SESSION_ID: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
/// The `state` the callback carries (a sealed transaction must hold the same to go further).
const STATE: &str = "fuzz-state";

fn settings(cookie_key: &str) -> BTreeMap<String, String> {
    [
        ("AUTHORITY", ENTRA),
        ("CLIENT_ID", "6731de76-14a6-49ae-97bc-6eba6914391e"),
        ("CLIENT_SECRET", "fuzz-secret"),
        ("REDIRECT_URI", "https://app.example/auth/callback"),
        ("COOKIE_KEY", cookie_key),
        ("DOWNSTREAM_URL", "https://graph.microsoft.com/v1.0/me"),
        ("DOWNSTREAM_SCOPES", "User.Read"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .collect()
}

/// Seals `plaintext` as the core's `Sealer::seal` does, with `COOKIE_KEY`'s subkey for `info`.
fn seal(plaintext: &[u8], info: &[u8], binding: &[u8]) -> String {
    let mut root = [0u8; 32];
    for (i, byte) in root.iter_mut().enumerate() {
        *byte = 0x20 + i as u8;
    }
    let mut subkey = [0u8; 32];
    let _ = Hkdf::<Sha256>::new(None, &root).expand(info, &mut subkey);
    let cipher = Aes256Gcm::new((&subkey).into());
    let nonce = [7u8; 12];
    let Ok(ciphertext) = cipher.encrypt(
        Nonce::from_slice(&nonce),
        Payload {
            msg: plaintext,
            aad: binding,
        },
    ) else {
        return String::new();
    };
    let mut wire = vec![1u8];
    wire.extend_from_slice(&nonce);
    wire.extend_from_slice(&ciphertext);
    URL_SAFE_NO_PAD.encode(wire)
}

fn build(cookie_key: &str) -> Option<WebApp> {
    let config = WebAppConfig::from_settings(&settings(cookie_key)).ok()?;
    let signer = |_: PrivateKey, _: JwsAlgorithm| {
        std::future::ready(Err::<Box<dyn JwsSigner>, Error>(Error::configuration(
            "no signer in the fuzz target",
        )))
    };
    block_on(WebApp::build(config, signer, Box::new(RustCryptoVerifier::new()))).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode == b'k' {
        let _ = build(&text(rest));
        return;
    }
    let Some(app) = build(COOKIE_KEY) else {
        return;
    };
    let clock = FixedClock(NOW);
    let entropy = CountingEntropy::default();
    // The provider refuses every token request; anything else answers an empty object.
    let transport = FnTransport::new(|request| {
        if request.url.path().ends_with("/token") {
            json_response(400, br#"{"error":"invalid_grant"}"#.to_vec())
        } else {
            HttpResponse {
                status: 404,
                headers: Vec::new(),
                body: Vec::new(),
            }
        }
    });
    let payload = rest.to_vec();
    let mut store = PlantedStore::default();

    match mode {
        b's' | b'S' => {
            let sealed_mode = mode == b'S';
            store.planted = Some(Box::new(move |key: &str| {
                key.starts_with(SESSION_PREFIX).then(|| {
                    if sealed_mode {
                        seal(&payload, b"edge-token/v1 session record", key.as_bytes())
                            .into_bytes()
                    } else {
                        payload.clone()
                    }
                })
            }));
            let platform = platform(&clock, &entropy, &transport, &store);
            let request = WebRequest {
                cookies: vec![(SESSION_COOKIE.into(), SESSION_ID.into())],
                ..WebRequest::default()
            };
            let me = block_on(app.me(&request, &platform));
            if debug() {
                eprintln!("me: {} {}", me.status, String::from_utf8_lossy(&me.body));
            }
            let _ = block_on(app.home(&request, &platform));
            let _ = block_on(app.call_downstream(&request, &platform));
            let _ = block_on(app.sign_out(&request, &platform));
        }
        b't' | b'T' => {
            let id = URL_SAFE_NO_PAD.encode(Sha256::digest(STATE.as_bytes()));
            let name = format!("{TRANSACTION_COOKIE_PREFIX}{}", &id[..16]);
            let value = if mode == b'T' {
                seal(rest, b"edge-token/v1 sign-in transaction", name.as_bytes())
            } else {
                text(rest)
            };
            let platform = platform(&clock, &entropy, &transport, &store);
            let request = WebRequest {
                query: vec![
                    ("state".into(), STATE.into()),
                    ("code".into(), "fuzz-code".into()),
                ],
                cookies: vec![(name, value)],
                ..WebRequest::default()
            };
            let answer = block_on(app.callback(&request, &platform));
            if debug() {
                eprintln!("callback: {} {:?}", answer.status, answer.page);
            }
        }
        _ => {}
    }
});
