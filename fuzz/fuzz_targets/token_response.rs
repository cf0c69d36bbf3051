//! The token endpoint's answer (RFC 6749 §5.1 / §5.2 and Entra's extra members), through the
//! public grant methods of `ConfidentialClient`: the parser (`parse_token_response`,
//! `error_response`) is crate-private, so the transport answers every request with the
//! fuzzer's response. Also runs what reads the response's headers (`Date` clock correction,
//! `Retry-After` throttling) and, for client credentials, the cache entry built from it.
//!
//! Input: `<status> <grant>\n<header lines>\n\n<body>`; grant `client` (client credentials:
//! cache, retry on 5xx), `obo` (on-behalf-of), anything else the refresh token grant (no retry,
//! no cache: the parsed response comes back whole).
#![no_main]

#[path = "common/mod.rs"]
mod common;

use common::*;
use edge_token::credentials::SecretMethod;
use edge_token::platform::http::HttpResponse;
use edge_token::secret::{AccessToken, ClientSecret, RefreshToken};
use edge_token::{Authority, ClientCredential, ConfidentialClient, Scopes, TokenOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (first, headers, body) = split_message(data);
    let response = HttpResponse {
        status: status_of(&first),
        headers,
        body,
    };
    let grant = first.split(' ').nth(1).unwrap_or_default().trim().to_string();

    let Ok(authority) = Authority::parse(ENTRA, None) else {
        return;
    };
    let credential = ClientCredential::Secret {
        secret: ClientSecret::new("fuzz-secret"),
        method: SecretMethod::default(),
    };
    let Ok(client) = ConfidentialClient::new(authority, "fuzz-client", credential) else {
        return;
    };
    let Ok(scopes) = Scopes::parse("https://graph.microsoft.com/.default") else {
        return;
    };
    let clock = FixedClock(NOW);
    let entropy = CountingEntropy::default();
    let transport = FnTransport::new(|_| response.clone());
    let store = PlantedStore::default();
    let platform = platform(&clock, &entropy, &transport, &store);

    match grant.as_str() {
        "client" => {
            let token = block_on(client.acquire_token_for_client(&scopes, &platform));
            if debug() {
                eprintln!("client credentials: {:?}", token.as_ref().map(|t| t.source));
            }
            if let Ok(token) = token {
                let _ = token.authorization();
                // A second call is served from the cache the first one filled (if it did).
                let _ = block_on(client.acquire_token_for_client(&scopes, &platform));
                let _ = block_on(client.refresh_token_for_client(&scopes, &platform));
            }
        }
        "obo" => {
            let assertion = AccessToken::new("incoming.token.value");
            let _ = block_on(client.acquire_token_on_behalf_of(
                &assertion,
                &scopes,
                &TokenOptions::default(),
                &platform,
            ));
        }
        _ => {
            let refresh = RefreshToken::new("fuzz-refresh-token");
            let received = block_on(client.acquire_token_by_refresh_token(
                &refresh, &scopes, None, &platform,
            ));
            if debug() {
                eprintln!("refresh: {:?}", received.as_ref().map(|r| &r.response));
            }
            if let Ok(received) = received {
                let _ = format!("{:?}", received.response);
            }
        }
    }
});
