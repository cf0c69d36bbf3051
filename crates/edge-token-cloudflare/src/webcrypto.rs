//! WebCrypto plumbing shared by the signer and verifier backends (`crypto.subtle`, on Workers
//! and in browsers). Failures are described as text; each backend wraps them in its own
//! [`crate::Error`] variant.

use alloc::format;
use alloc::string::String;

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::SubtleCrypto;

#[cfg(feature = "certificate")]
use edge_token::credentials::JwsAlgorithm;

/// `globalThis.crypto.subtle`.
pub(crate) fn subtle() -> Result<SubtleCrypto, String> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into())
        .map_err(|e| describe("globalThis.crypto", &e))?;
    if crypto.is_undefined() {
        return Err("globalThis.crypto is not available".into());
    }
    Ok(crypto.unchecked_into::<web_sys::Crypto>().subtle())
}

/// A plain object with `entries` (algorithm parameters, JWKs).
pub(crate) fn object(entries: &[(&str, JsValue)]) -> Result<Object, String> {
    let object = Object::new();
    for (name, value) in entries {
        Reflect::set(&object, &(*name).into(), value).map_err(|e| describe("parameters", &e))?;
    }
    Ok(object)
}

/// Describes a JavaScript exception by its `name` only (e.g. `DataError`, `OperationError`):
/// messages can quote inputs, and inputs here are key material.
pub(crate) fn describe(operation: &str, error: &JsValue) -> String {
    let name = Reflect::get(error, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_else(|| "Error".into());
    format!("WebCrypto {operation} failed: {name}")
}

/// The WebCrypto algorithm name of a JWS algorithm.
#[cfg(feature = "certificate")]
pub(crate) fn algorithm_name(algorithm: JwsAlgorithm) -> &'static str {
    match algorithm {
        JwsAlgorithm::Ps256 => "RSA-PSS",
        JwsAlgorithm::Rs256 => "RSASSA-PKCS1-v1_5",
    }
}
