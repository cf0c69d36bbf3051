//! The bearer `Authorization` header (RFC 6750 §2.1) through `protocol::bearer_token`, and the
//! `WWW-Authenticate: Bearer` challenge (RFC 6750 §3) through `BearerChallenge::from_header_value`,
//! whose re-serialization (`to_header_value`) is parsed again.
//!
//! Input: the header value (any bytes; invalid UTF-8 is replaced, as the core takes `&str`).
#![no_main]

#[path = "common/mod.rs"]
mod common;

use edge_token::protocol::{bearer_token, BearerChallenge};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let header = common::text(data);
    if let Ok(token) = bearer_token(Some(&header)) {
        let _ = token.expose_secret().len();
    }
    let _ = bearer_token(None);
    if let Some(challenge) = BearerChallenge::from_header_value(&header) {
        let value = challenge.to_header_value();
        let _ = BearerChallenge::from_header_value(&value);
    }
});
