//! JWKS documents (RFC 7517 §5) through `validation::JwkSet::parse`, then every use of the
//! parsed keys: `Jwk::is_signature_key` / `supports` / `rsa_components`, `JwkSet::find`,
//! `check_rsa_key`, and `RustCryptoVerifier` on a fixed signing input (the RSA public-key
//! operation on fuzzer-chosen moduli and exponents). A parsed set is serialized and parsed again.
//!
//! Input: `<status> <kid>\n<header lines>\n\n<body>`; `kid` (optional) is the token header's
//! `kid` to look up, `-` or absent for none. The signature is the first line, repeated to the
//! modulus length.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use common::*;
use edge_token::credentials::JwsAlgorithm;
use edge_token::platform::http::HttpResponse;
use edge_token::validation::{check_rsa_key, JwkSet, JwsVerifier, RustCryptoVerifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (first, headers, body) = split_message(data);
    let response = HttpResponse {
        status: status_of(&first),
        headers,
        body,
    };
    let kid = first
        .split(' ')
        .nth(1)
        .map(str::trim)
        .filter(|kid| *kid != "-");
    let Ok(set) = JwkSet::parse(&response) else {
        return;
    };
    let verifier = RustCryptoVerifier::new();
    let signing_input = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmdXp6In0";
    for algorithm in [JwsAlgorithm::Rs256, JwsAlgorithm::Ps256] {
        for key in set.keys() {
            let _ = (key.is_signature_key(), key.supports(algorithm));
            let Ok(components) = key.rsa_components() else {
                continue;
            };
            let len = components.modulus_len();
            let signature: Vec<u8> = first.bytes().cycle().take(len).collect();
            let signature = if signature.len() == len {
                signature
            } else {
                vec![0x5a; len]
            };
            let _ = check_rsa_key(algorithm, key, &signature);
            let _ = block_on(verifier.verify(algorithm, key, signing_input, &signature));
            let _ = block_on(verifier.verify(algorithm, key, signing_input, &signature[1..]));
        }
        if let Ok(key) = set.find(kid, algorithm) {
            let _ = key.rsa_components();
        }
        let _ = set.find(None, algorithm);
    }
    // What an adapter keeps (serde) reads back as the same set.
    if let Ok(json) = serde_json::to_vec(&set) {
        if let Ok(again) = JwkSet::parse(&json_response(200, json)) {
            assert_eq!(again, set, "a serialized key set reads back differently");
        }
    }
    let _ = JwkSet::from_keys(set.keys().to_vec());
});
