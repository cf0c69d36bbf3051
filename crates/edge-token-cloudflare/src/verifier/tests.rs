//! WebCrypto verifier tests: run in Node and in headless Chromium (`wasm-pack test --node` /
//! `--headless --chrome`). Signatures come from the pure-Rust signer and
//! from the WebCrypto signer, so the backends check each other in both directions; ES256
//! signatures from `p256` (RFC 6979) and from WebCrypto's own ECDSA, each checked by both
//! verifiers.

use super::*;
use crate::signer::WebCryptoSigner;
use crate::test_keys::{
    es256_signature, public_jwk, public_jwk_json, signature, KEY_PEM, OTHER_KEY_PEM,
    OTHER_P256_KEY_PEM, P256_KEY_PEM,
};
use alloc::vec;
use edge_token::credentials::PrivateKey;
use edge_token::credentials::{JwsAlgorithm, JwsSigner};
use edge_token::validation::RustCryptoVerifier;
use wasm_bindgen_test::wasm_bindgen_test;

const INPUT: &[u8] = b"eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJ1MSJ9";
const ALGORITHMS: [JwsAlgorithm; 2] = [JwsAlgorithm::Rs256, JwsAlgorithm::Ps256];

#[wasm_bindgen_test]
async fn rs256_and_ps256_signatures_from_the_rust_signer_verify() {
    let verifier = WebCryptoVerifier::new();
    let key = public_jwk(KEY_PEM, "k1");
    for algorithm in ALGORITHMS {
        let signature = signature(KEY_PEM, algorithm, INPUT);
        assert_eq!(
            verifier
                .verify(algorithm.into(), &key, INPUT, &signature)
                .await,
            Ok(()),
            "{algorithm:?}"
        );
    }
}

#[wasm_bindgen_test]
async fn webcrypto_signatures_verify_with_both_backends() {
    let private = PrivateKey::from_pem("TEST_KEY", KEY_PEM).unwrap();
    let key = public_jwk(KEY_PEM, "k1");
    for algorithm in ALGORITHMS {
        let signer = WebCryptoSigner::import(&private, algorithm).await.unwrap();
        let signature = signer.sign(INPUT).await.unwrap();
        assert_eq!(
            WebCryptoVerifier::new()
                .verify(algorithm.into(), &key, INPUT, &signature)
                .await,
            Ok(())
        );
        assert_eq!(
            RustCryptoVerifier::new()
                .verify(algorithm.into(), &key, INPUT, &signature)
                .await,
            Ok(())
        );
    }
}

#[wasm_bindgen_test]
async fn wrong_signatures_are_bad_signatures() {
    let bad = Err(Error::InvalidToken(TokenError::BadSignature));
    let verifier = WebCryptoVerifier::new();
    let key = public_jwk(KEY_PEM, "k1");
    for algorithm in ALGORITHMS {
        let mut flipped = signature(KEY_PEM, algorithm, INPUT);
        flipped[7] ^= 0x01;
        assert_eq!(
            verifier
                .verify(algorithm.into(), &key, INPUT, &flipped)
                .await,
            bad
        );
        let other = signature(OTHER_KEY_PEM, algorithm, INPUT);
        assert_eq!(
            verifier.verify(algorithm.into(), &key, INPUT, &other).await,
            bad
        );
        let good = signature(KEY_PEM, algorithm, INPUT);
        assert_eq!(
            verifier.verify(algorithm.into(), &key, b"x.y", &good).await,
            bad
        );
        assert_eq!(
            verifier
                .verify(algorithm.into(), &key, INPUT, &good[1..])
                .await,
            bad
        );
    }
    let rs256 = signature(KEY_PEM, JwsAlgorithm::Rs256, INPUT);
    assert_eq!(
        verifier
            .verify(VerificationAlgorithm::Ps256, &key, INPUT, &rs256)
            .await,
        bad
    );
}

#[wasm_bindgen_test]
async fn imported_keys_are_reused_per_algorithm_and_key() {
    let verifier = WebCryptoVerifier::new();
    let key = public_jwk(KEY_PEM, "k1");
    let signature = signature(KEY_PEM, JwsAlgorithm::Rs256, INPUT);
    for _ in 0..3 {
        assert!(verifier
            .verify(VerificationAlgorithm::Rs256, &key, INPUT, &signature)
            .await
            .is_ok());
    }
    assert_eq!(verifier.imported.borrow().len(), 1);
    // The same kid with other numbers (a rotated key) is imported anew, not confused.
    let rotated = public_jwk(OTHER_KEY_PEM, "k1");
    assert!(verifier
        .verify(VerificationAlgorithm::Rs256, &rotated, INPUT, &signature)
        .await
        .is_err());
    assert_eq!(verifier.imported.borrow().len(), 2);
    assert_eq!(
        alloc::format!("{verifier:?}"),
        "WebCryptoVerifier { imported_keys: 2 }"
    );
}

#[wasm_bindgen_test]
async fn unusable_keys_are_typed_errors() {
    let verifier = WebCryptoVerifier::new();
    let signature = signature(KEY_PEM, JwsAlgorithm::Rs256, INPUT);
    let mut short = public_jwk_json(KEY_PEM, "k1");
    short["n"] = URL_SAFE_NO_PAD.encode(vec![0xC5u8; 128]).into();
    let mut ec = public_jwk_json(KEY_PEM, "k1");
    ec["kty"] = "EC".into();
    for key in [short, ec] {
        let key: Jwk = serde_json::from_value(key).unwrap();
        assert_eq!(
            verifier
                .verify(VerificationAlgorithm::Rs256, &key, INPUT, &signature)
                .await,
            Err(Error::InvalidToken(TokenError::UnusableKey))
        );
    }
}

/// `R || S` of `input` signed by WebCrypto's own ECDSA (P-256, SHA-256) with the P-256 test key.
async fn webcrypto_es256_signature(pem: &str, input: &[u8]) -> Vec<u8> {
    use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
    let der = p256::SecretKey::from_pkcs8_pem(pem)
        .unwrap()
        .to_pkcs8_der()
        .unwrap();
    let subtle = subtle().unwrap();
    let params = object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())]).unwrap();
    let usages = Array::of1(&"sign".into());
    let data = Uint8Array::from(der.as_bytes());
    let private = JsFuture::from(
        subtle
            .import_key_with_object("pkcs8", &data, &params, false, &usages)
            .unwrap(),
    )
    .await
    .unwrap()
    .dyn_into::<CryptoKey>()
    .unwrap();
    let params = object(&[("name", "ECDSA".into()), ("hash", "SHA-256".into())]).unwrap();
    let signed = JsFuture::from(
        subtle
            .sign_with_object_and_u8_array(&params, &private, input)
            .unwrap(),
    )
    .await
    .unwrap();
    Uint8Array::new(&signed).to_vec()
}

fn ec_key_with(members: serde_json::Value) -> Jwk {
    let mut key = public_jwk_json(P256_KEY_PEM, "ec");
    if let (Some(key), Some(members)) = (key.as_object_mut(), members.as_object()) {
        key.extend(members.clone());
    }
    serde_json::from_value(key).unwrap()
}

#[wasm_bindgen_test]
async fn es256_signatures_verify_with_both_backends_in_both_directions() {
    let key = public_jwk(P256_KEY_PEM, "ec");
    let from_rust = es256_signature(P256_KEY_PEM, INPUT);
    let from_webcrypto = webcrypto_es256_signature(P256_KEY_PEM, INPUT).await;
    assert_eq!(from_webcrypto.len(), 64);
    for signature in [&from_rust, &from_webcrypto] {
        assert_eq!(
            WebCryptoVerifier::new()
                .verify(VerificationAlgorithm::Es256, &key, INPUT, signature)
                .await,
            Ok(())
        );
        assert_eq!(
            RustCryptoVerifier::new()
                .verify(VerificationAlgorithm::Es256, &key, INPUT, signature)
                .await,
            Ok(())
        );
    }
}

#[wasm_bindgen_test]
async fn wrong_es256_signatures_are_bad_signatures_never_panics() {
    let bad = Err(Error::InvalidToken(TokenError::BadSignature));
    let verifier = WebCryptoVerifier::new();
    let key = public_jwk(P256_KEY_PEM, "ec");
    let good = es256_signature(P256_KEY_PEM, INPUT);
    let mut flipped = good.clone();
    flipped[3] ^= 0x01;
    let mut flipped_s = good.clone();
    flipped_s[40] ^= 0x80;
    for signature in [
        flipped,
        flipped_s,
        es256_signature(OTHER_P256_KEY_PEM, INPUT),
        good[..63].to_vec(),
        [good.as_slice(), &[0]].concat(),
        Vec::new(),
        vec![0; 64],
        vec![0xFF; 64],
        signature(KEY_PEM, JwsAlgorithm::Rs256, INPUT),
    ] {
        assert_eq!(
            verifier
                .verify(VerificationAlgorithm::Es256, &key, INPUT, &signature)
                .await,
            bad,
            "{} bytes",
            signature.len()
        );
    }
    assert_eq!(
        verifier
            .verify(VerificationAlgorithm::Es256, &key, b"x.y", &good)
            .await,
        bad
    );
}

#[wasm_bindgen_test]
async fn unusable_ec_keys_and_other_curves_are_typed_errors() {
    let verifier = WebCryptoVerifier::new();
    let es256 = es256_signature(P256_KEY_PEM, INPUT);
    let good = public_jwk_json(P256_KEY_PEM, "ec");
    let mut off_curve_y = URL_SAFE_NO_PAD.decode(good["y"].as_str().unwrap()).unwrap();
    off_curve_y[31] ^= 0x01;
    let unusable = Err(Error::InvalidToken(TokenError::UnusableKey));
    for key in [
        ec_key_with(serde_json::json!({"y": URL_SAFE_NO_PAD.encode(&off_curve_y)})),
        ec_key_with(serde_json::json!({"x": URL_SAFE_NO_PAD.encode([7u8; 31])})),
        ec_key_with(serde_json::json!({"alg": "RS256"})),
        public_jwk(KEY_PEM, "rsa"),
    ] {
        assert_eq!(
            verifier
                .verify(VerificationAlgorithm::Es256, &key, INPUT, &es256)
                .await,
            unusable,
            "{key:?}"
        );
    }
    let p384 = ec_key_with(serde_json::json!({
        "crv": "P-384",
        "x": URL_SAFE_NO_PAD.encode([0x11u8; 48]),
        "y": URL_SAFE_NO_PAD.encode([0x22u8; 48]),
    }));
    assert_eq!(
        verifier
            .verify(VerificationAlgorithm::Es256, &p384, INPUT, &es256)
            .await,
        Err(Error::InvalidToken(TokenError::UnsupportedCurve))
    );
    // An EC key never verifies an RSA algorithm.
    let rs256 = signature(KEY_PEM, JwsAlgorithm::Rs256, INPUT);
    assert_eq!(
        verifier
            .verify(
                VerificationAlgorithm::Rs256,
                &public_jwk(P256_KEY_PEM, "ec"),
                INPUT,
                &rs256
            )
            .await,
        unusable
    );
}

#[wasm_bindgen_test]
async fn ec_and_rsa_keys_are_imported_and_kept_apart() {
    let verifier = WebCryptoVerifier::new();
    let ec = public_jwk(P256_KEY_PEM, "k1");
    let rsa = public_jwk(KEY_PEM, "k1");
    let es256 = es256_signature(P256_KEY_PEM, INPUT);
    let rs256 = signature(KEY_PEM, JwsAlgorithm::Rs256, INPUT);
    for _ in 0..2 {
        assert_eq!(
            verifier
                .verify(VerificationAlgorithm::Es256, &ec, INPUT, &es256)
                .await,
            Ok(())
        );
        assert_eq!(
            verifier
                .verify(VerificationAlgorithm::Rs256, &rsa, INPUT, &rs256)
                .await,
            Ok(())
        );
    }
    assert_eq!(verifier.imported.borrow().len(), 2);
    // A rotated P-256 key under the same kid is imported anew.
    let rotated = public_jwk(OTHER_P256_KEY_PEM, "k1");
    assert!(verifier
        .verify(VerificationAlgorithm::Es256, &rotated, INPUT, &es256)
        .await
        .is_err());
    assert_eq!(verifier.imported.borrow().len(), 3);
}
