//! The pure-Rust verifier (host and wasm32), and the signing helpers the ID token tests and the
//! WebCrypto verifier tests share. Test tokens are signed with the test bed's fixed RSA-2048 keys
//! by the crate's own pure-Rust signer (jwt-compact), so each test checks `rsa`'s verification
//! against jwt-compact's signatures; ES256 tokens with fixed P-256 keys by `p256`'s signing key
//! (RFC 6979 deterministic ECDSA).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::rustcrypto::RustCryptoVerifier;
use super::*;
use crate::credentials::certificate::PrivateKey;
use crate::credentials::signer::rustcrypto::RustCryptoSigner;
use crate::credentials::signer::{JwsAlgorithm, JwsSigner};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures::executor::block_on;
use p256::ecdsa::signature::Signer as _;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

/// The test bed's daemon key (RSA-2048, PKCS#8): "the issuer's key" in these tests.
pub(crate) const KEY_PEM: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testbed/credentials/daemon-key.pem"
));
/// Another RSA-2048 key: "an attacker's key".
pub(crate) const OTHER_KEY_PEM: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testbed/credentials/unrelated-key.pem"
));

/// An EC P-256 key (PKCS#8): "the issuer's key" of the ES256 tests.
pub(crate) const P256_KEY_PEM: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testbed/credentials/issuer-p256-key.pem"
));
/// Another P-256 key: "an attacker's key" of the ES256 tests.
pub(crate) const OTHER_P256_KEY_PEM: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testbed/credentials/unrelated-p256-key.pem"
));

/// The public JWK of the PEM private key `pem` (RSA or P-256), as an issuer publishes it.
pub(crate) fn public_jwk_json(pem: &str, kid: &str) -> Value {
    let Ok(key) = RsaPrivateKey::from_pkcs8_pem(pem) else {
        let key = p256::SecretKey::from_pkcs8_pem(pem).unwrap();
        let point = p256::EncodedPoint::from(key.public_key());
        return json!({
            "kty": "EC",
            "crv": "P-256",
            "use": "sig",
            "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
            "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        });
    };
    json!({
        "kty": "RSA",
        "use": "sig",
        "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    })
}

pub(crate) fn public_jwk(pem: &str, kid: &str) -> Jwk {
    serde_json::from_value(public_jwk_json(pem, kid)).unwrap()
}

/// base64url (no padding) of a JSON value's text.
pub(crate) fn encode(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// The raw JWS signature of `input` with `pem`'s key: RSA (RS256, PS256) or P-256 (ES256, the
/// 64-byte `R || S` of RFC 7518 §3.4).
pub(crate) fn signature(pem: &str, algorithm: VerificationAlgorithm, input: &[u8]) -> Vec<u8> {
    let signing = match algorithm {
        VerificationAlgorithm::Rs256 => JwsAlgorithm::Rs256,
        VerificationAlgorithm::Ps256 => JwsAlgorithm::Ps256,
        VerificationAlgorithm::Es256 => {
            let key = p256::ecdsa::SigningKey::from_pkcs8_pem(pem).unwrap();
            let signature: p256::ecdsa::Signature = key.sign(input);
            return signature.to_bytes().to_vec();
        }
    };
    let key = PrivateKey::from_pem("TEST_KEY", pem).unwrap();
    let signer = RustCryptoSigner::new(&key, signing).unwrap();
    block_on(signer.sign(input)).unwrap()
}

/// A compact JWS of `header` and `claims` signed with `pem`'s key (`header` is used as given).
pub(crate) fn sign_jws(
    pem: &str,
    algorithm: VerificationAlgorithm,
    header: &Value,
    claims: &Value,
) -> String {
    let input = format!("{}.{}", encode(header), encode(claims));
    let signature = signature(pem, algorithm, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn verify(
    algorithm: VerificationAlgorithm,
    key: &Jwk,
    input: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    block_on(RustCryptoVerifier::new().verify(algorithm, key, input, signature))
}

const INPUT: &[u8] = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9";

#[test]
fn rs256_and_ps256_signatures_verify() {
    let key = public_jwk(KEY_PEM, "k1");
    for algorithm in [VerificationAlgorithm::Rs256, VerificationAlgorithm::Ps256] {
        let signature = signature(KEY_PEM, algorithm, INPUT);
        assert_eq!(signature.len(), 256);
        assert_eq!(
            verify(algorithm, &key, INPUT, &signature),
            Ok(()),
            "{algorithm:?}"
        );
    }
}

#[test]
fn wrong_signatures_are_bad_signatures() {
    let bad = Err(Error::InvalidToken(TokenError::BadSignature));
    let key = public_jwk(KEY_PEM, "k1");
    for algorithm in [VerificationAlgorithm::Rs256, VerificationAlgorithm::Ps256] {
        let mut flipped = signature(KEY_PEM, algorithm, INPUT);
        flipped[100] ^= 0x01;
        assert_eq!(verify(algorithm, &key, INPUT, &flipped), bad);
        let other = signature(OTHER_KEY_PEM, algorithm, INPUT);
        assert_eq!(verify(algorithm, &key, INPUT, &other), bad);
        let good = signature(KEY_PEM, algorithm, INPUT);
        assert_eq!(
            verify(
                algorithm,
                &key,
                b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MiJ9",
                &good
            ),
            bad
        );
        assert_eq!(verify(algorithm, &key, INPUT, &good[..255]), bad);
        assert_eq!(verify(algorithm, &key, INPUT, &[]), bad);
        assert_eq!(verify(algorithm, &key, INPUT, &[0xFF; 256]), bad);
    }
    // The two paddings are not interchangeable.
    let rs256 = signature(KEY_PEM, VerificationAlgorithm::Rs256, INPUT);
    assert_eq!(
        verify(VerificationAlgorithm::Ps256, &key, INPUT, &rs256),
        bad
    );
    let ps256 = signature(KEY_PEM, VerificationAlgorithm::Ps256, INPUT);
    assert_eq!(
        verify(VerificationAlgorithm::Rs256, &key, INPUT, &ps256),
        bad
    );
}

#[test]
fn unusable_keys_are_typed_errors() {
    let unusable = Err(Error::InvalidToken(TokenError::UnusableKey));
    let good = public_jwk_json(KEY_PEM, "k1");
    let signature = signature(KEY_PEM, VerificationAlgorithm::Rs256, INPUT);
    let with = |member: &str, value: Value| {
        let mut key = good.clone();
        key[member] = value;
        serde_json::from_value::<Jwk>(key).unwrap()
    };
    let short_modulus = URL_SAFE_NO_PAD.encode([0xC5; 128]);
    for key in [
        with("n", short_modulus.into()),
        with("n", "%%%".into()),
        with("e", "AAEAAA".into()),
        with("kty", "EC".into()),
        with("use", "enc".into()),
        with("alg", "PS256".into()),
        with("key_ops", json!(["sign"])),
    ] {
        assert_eq!(
            verify(VerificationAlgorithm::Rs256, &key, INPUT, &signature),
            unusable,
            "{key:?}"
        );
    }
    // An `alg` naming the algorithm is fine, and so is a modulus sent with a leading zero.
    assert_eq!(
        verify(
            VerificationAlgorithm::Rs256,
            &with("alg", "RS256".into()),
            INPUT,
            &signature
        ),
        Ok(())
    );
    let mut n = vec![0u8];
    n.extend(
        RsaPrivateKey::from_pkcs8_pem(KEY_PEM)
            .unwrap()
            .n()
            .to_bytes_be(),
    );
    let padded = with("n", URL_SAFE_NO_PAD.encode(n).into());
    assert_eq!(
        verify(VerificationAlgorithm::Rs256, &padded, INPUT, &signature),
        Ok(())
    );
}

#[test]
fn the_test_keys_are_distinct_2048_bit_keys() {
    let a = public_jwk(KEY_PEM, "a").rsa_components().unwrap();
    let b = public_jwk(OTHER_KEY_PEM, "b").rsa_components().unwrap();
    assert_eq!((a.modulus_len(), b.modulus_len()), (256, 256));
    assert_ne!(a.n, b.n);
    assert_eq!(a.e, [1, 0, 1]);
}

mod es256;
