//! WebCrypto verifier: `crypto.subtle.importKey("jwk", …)` and `crypto.subtle.verify` (W3C Web
//! Cryptography API), on Cloudflare Workers, in browsers and in Node.
//!
//! RS256 (`RSASSA-PKCS1-v1_5`), PS256 (`RSA-PSS`, salt 32) and ES256 (`ECDSA` on `P-256` with
//! `SHA-256`: the JWS signature's `R || S` is the IEEE P1363 form WebCrypto verifies, RFC 7518
//! §3.4; its length is checked before, so a wrong length is refused, never passed on).
//!
//! Imported keys are kept (up to [`IMPORTED_KEY_CAPACITY`]) keyed by algorithm and the key's
//! numbers, not by `kid` alone, so a rotated key published under a reused `kid` is imported
//! anew. `importKey` checks that a P-256 point lies on the curve (a `DataError` otherwise, here
//! [`TokenError::UnusableKey`]).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

use crate::webcrypto;
use edge_token::error::Error;
use edge_token::platform::LocalBoxFuture;
use edge_token::validation::TokenError;
use edge_token::validation::{check_key, JwsVerifier, PublicKeyNumbers, VerificationAlgorithm};
use edge_token::validation::{Jwk, P256Coordinates, RsaComponents};

/// PSS salt length for PS256, in bytes: the SHA-256 output size (RFC 7518 §3.5).
const PSS_SALT_BYTES: u32 = 32;

/// How many imported keys a verifier keeps; past that the oldest is dropped. An issuer
/// publishes a handful of keys (Entra: 3–6).
const IMPORTED_KEY_CAPACITY: usize = 16;

struct ImportedKey {
    algorithm: VerificationAlgorithm,
    numbers: PublicKeyNumbers,
    key: CryptoKey,
}

/// The WebCrypto algorithm name of a JWS verification algorithm.
fn algorithm_name(algorithm: VerificationAlgorithm) -> &'static str {
    match algorithm {
        VerificationAlgorithm::Rs256 => "RSASSA-PKCS1-v1_5",
        VerificationAlgorithm::Ps256 => "RSA-PSS",
        VerificationAlgorithm::Es256 => "ECDSA",
    }
}

/// The key as a JWK for `importKey` (only the public numbers and `alg`) and the import
/// parameters (W3C Web Cryptography API §23.7 for RSA, §23.4 for ECDSA).
fn import_parameters(
    algorithm: VerificationAlgorithm,
    numbers: &PublicKeyNumbers,
) -> Result<(Object, Object), Error> {
    let name = algorithm_name(algorithm);
    match numbers {
        PublicKeyNumbers::Rsa(RsaComponents { n, e, .. }) => Ok((
            object(&[
                ("kty", "RSA".into()),
                ("n", URL_SAFE_NO_PAD.encode(n).into()),
                ("e", URL_SAFE_NO_PAD.encode(e).into()),
                ("alg", algorithm.name().into()),
            ])?,
            object(&[("name", name.into()), ("hash", "SHA-256".into())])?,
        )),
        PublicKeyNumbers::P256(P256Coordinates { x, y, .. }) => Ok((
            object(&[
                ("kty", "EC".into()),
                ("crv", "P-256".into()),
                ("x", URL_SAFE_NO_PAD.encode(x).into()),
                ("y", URL_SAFE_NO_PAD.encode(y).into()),
                ("alg", algorithm.name().into()),
            ])?,
            object(&[("name", name.into()), ("namedCurve", "P-256".into())])?,
        )),
        _ => Err(Error::InvalidToken(TokenError::UnusableKey)),
    }
}

/// Verifies RS256, PS256 and ES256 signatures with `crypto.subtle`. Keep one per isolate so imported
/// keys are reused.
#[derive(Default)]
pub struct WebCryptoVerifier {
    imported: RefCell<Vec<ImportedKey>>,
}

impl WebCryptoVerifier {
    /// A verifier with no imported keys yet.
    pub fn new() -> Self {
        Self::default()
    }

    async fn key(
        &self,
        subtle: &SubtleCrypto,
        algorithm: VerificationAlgorithm,
        numbers: PublicKeyNumbers,
    ) -> Result<CryptoKey, Error> {
        let cached = self
            .imported
            .borrow()
            .iter()
            .find(|k| k.algorithm == algorithm && k.numbers == numbers)
            .map(|k| k.key.clone());
        if let Some(key) = cached {
            return Ok(key);
        }
        let (jwk, params) = import_parameters(algorithm, &numbers)?;
        let usages = Array::of1(&"verify".into());
        // A key the engine refuses (DataError) is the issuer's problem, not the platform's.
        let promise = subtle
            .import_key_with_object("jwk", &jwk, &params, false, &usages)
            .map_err(|_| Error::InvalidToken(TokenError::UnusableKey))?;
        let key = JsFuture::from(promise)
            .await
            .map_err(|_| Error::InvalidToken(TokenError::UnusableKey))?
            .dyn_into::<CryptoKey>()
            .map_err(|e| js_error("importKey", &e))?;
        let mut imported = self.imported.borrow_mut();
        let raced = imported
            .iter()
            .any(|k| k.algorithm == algorithm && k.numbers == numbers);
        if raced {
            // Another verification imported the same key while this one awaited.
            return Ok(key);
        }
        if imported.len() >= IMPORTED_KEY_CAPACITY {
            imported.remove(0);
        }
        imported.push(ImportedKey {
            algorithm,
            numbers,
            key: key.clone(),
        });
        Ok(key)
    }
}

impl JwsVerifier for WebCryptoVerifier {
    fn verify<'a>(
        &'a self,
        algorithm: VerificationAlgorithm,
        key: &'a Jwk,
        signing_input: &'a [u8],
        signature: &'a [u8],
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            // The key's type and numbers, and the signature's length (64 bytes for ES256).
            let numbers = check_key(algorithm, key, signature)?;
            let subtle = subtle()?;
            let key = self.key(&subtle, algorithm, numbers).await?;
            let mut entries = alloc::vec![("name", JsValue::from(algorithm_name(algorithm)))];
            match algorithm {
                VerificationAlgorithm::Ps256 => entries.push(("saltLength", PSS_SALT_BYTES.into())),
                VerificationAlgorithm::Es256 => entries.push(("hash", "SHA-256".into())),
                VerificationAlgorithm::Rs256 => {}
            }
            let params = object(&entries)?;
            // Copies: the engine reads them after this call returns.
            let signature = Uint8Array::from(signature);
            let data = Uint8Array::from(signing_input);
            let promise = subtle
                .verify_with_object_and_js_u8_array_and_js_u8_array(
                    &params, &key, &signature, &data,
                )
                .map_err(|e| js_error("verify", &e))?;
            let verified = JsFuture::from(promise)
                .await
                .map_err(|e| js_error("verify", &e))?;
            if verified.as_bool() == Some(true) {
                Ok(())
            } else {
                Err(Error::InvalidToken(TokenError::BadSignature))
            }
        })
    }
}

impl fmt::Debug for WebCryptoVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebCryptoVerifier")
            .field("imported_keys", &self.imported.borrow().len())
            .finish()
    }
}

fn subtle() -> Result<SubtleCrypto, Error> {
    webcrypto::subtle().map_err(Error::Platform)
}

fn object(entries: &[(&str, JsValue)]) -> Result<Object, Error> {
    webcrypto::object(entries).map_err(Error::Platform)
}

fn js_error(operation: &str, error: &JsValue) -> Error {
    Error::Platform(webcrypto::describe(operation, error))
}

#[cfg(test)]
mod tests;
