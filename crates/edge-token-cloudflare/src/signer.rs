//! WebCrypto signer: `crypto.subtle` with a non-extractable key (W3C Web Cryptography API).
//!
//! The PKCS#8 key is imported once (`importKey("pkcs8", …, extractable = false, ["sign"])`);
//! afterwards its bytes exist only inside the JavaScript engine, which cannot hand them back.
//! Works wherever `globalThis.crypto.subtle` exists: Cloudflare Workers, browsers, Node.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

use crate::webcrypto;
use edge_token::credentials::PrivateKey;
use edge_token::credentials::{JwsAlgorithm, JwsSigner};
use edge_token::error::Error;
use edge_token::platform::LocalBoxFuture;

/// PSS salt length for PS256, in bytes: the SHA-256 output size (RFC 7518 §3.5).
const PSS_SALT_BYTES: u32 = 32;

/// Signs with a non-extractable WebCrypto `CryptoKey`.
pub struct WebCryptoSigner {
    key: CryptoKey,
    algorithm: JwsAlgorithm,
}

impl WebCryptoSigner {
    /// Imports `key` as a non-extractable signing key for `algorithm`. Do it once per isolate
    /// and keep the signer: importing costs more than signing.
    ///
    /// # Errors
    /// [`Error::Signing`] when `crypto.subtle` is missing or refuses the key.
    pub async fn import(key: &PrivateKey, algorithm: JwsAlgorithm) -> Result<Self, Error> {
        let subtle = subtle()?;
        let params = object(&[
            ("name", webcrypto::algorithm_name(algorithm).into()),
            ("hash", "SHA-256".into()),
        ])?;
        let der = Uint8Array::from(key.pkcs8_der());
        let usages = Array::of1(&"sign".into());
        let promise = subtle
            .import_key_with_object("pkcs8", &der, &params, false, &usages)
            .map_err(|e| js_error("importKey", &e))?;
        let imported = JsFuture::from(promise).await;
        der.fill(0, 0, der.length()); // the engine keeps its own copy; scrub ours
        let key = imported
            .map_err(|e| js_error("importKey", &e))?
            .dyn_into::<CryptoKey>()
            .map_err(|e| js_error("importKey", &e))?;
        Ok(Self { key, algorithm })
    }
}

impl JwsSigner for WebCryptoSigner {
    fn algorithm(&self) -> JwsAlgorithm {
        self.algorithm
    }

    fn sign<'a>(&'a self, signing_input: &'a [u8]) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            let subtle = subtle()?;
            let mut entries = alloc::vec![(
                "name",
                JsValue::from(webcrypto::algorithm_name(self.algorithm))
            )];
            if self.algorithm == JwsAlgorithm::Ps256 {
                entries.push(("saltLength", PSS_SALT_BYTES.into()));
            }
            let params = object(&entries)?;
            let data = Uint8Array::from(signing_input);
            let promise = subtle
                .sign_with_object_and_buffer_source(&params, &self.key, &data)
                .map_err(|e| js_error("sign", &e))?;
            let signature = JsFuture::from(promise)
                .await
                .map_err(|e| js_error("sign", &e))?;
            Ok(Uint8Array::new(&signature).to_vec())
        })
    }
}

impl fmt::Debug for WebCryptoSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebCryptoSigner")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

fn subtle() -> Result<SubtleCrypto, Error> {
    webcrypto::subtle().map_err(Error::Signing)
}

fn object(entries: &[(&str, JsValue)]) -> Result<Object, Error> {
    webcrypto::object(entries).map_err(Error::Signing)
}

fn js_error(operation: &str, error: &JsValue) -> Error {
    Error::Signing(webcrypto::describe(operation, error))
}

#[cfg(test)]
mod tests;
