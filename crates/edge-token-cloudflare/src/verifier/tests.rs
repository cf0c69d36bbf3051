//! WebCrypto verifier tests: run in Node and in headless Chromium (`wasm-pack test --node` /
//! `--headless --chrome`). Signatures come from the pure-Rust signer and
//! from the WebCrypto signer, so the backends check each other in both directions.

use super::*;
use crate::signer::WebCryptoSigner;
use crate::test_keys::{public_jwk, public_jwk_json, signature, KEY_PEM, OTHER_KEY_PEM};
use alloc::vec;
use edge_token::credentials::JwsSigner;
use edge_token::credentials::PrivateKey;
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
            verifier.verify(algorithm, &key, INPUT, &signature).await,
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
                .verify(algorithm, &key, INPUT, &signature)
                .await,
            Ok(())
        );
        assert_eq!(
            RustCryptoVerifier::new()
                .verify(algorithm, &key, INPUT, &signature)
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
        assert_eq!(verifier.verify(algorithm, &key, INPUT, &flipped).await, bad);
        let other = signature(OTHER_KEY_PEM, algorithm, INPUT);
        assert_eq!(verifier.verify(algorithm, &key, INPUT, &other).await, bad);
        let good = signature(KEY_PEM, algorithm, INPUT);
        assert_eq!(verifier.verify(algorithm, &key, b"x.y", &good).await, bad);
        assert_eq!(
            verifier.verify(algorithm, &key, INPUT, &good[1..]).await,
            bad
        );
    }
    let rs256 = signature(KEY_PEM, JwsAlgorithm::Rs256, INPUT);
    assert_eq!(
        verifier
            .verify(JwsAlgorithm::Ps256, &key, INPUT, &rs256)
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
            .verify(JwsAlgorithm::Rs256, &key, INPUT, &signature)
            .await
            .is_ok());
    }
    assert_eq!(verifier.imported.borrow().len(), 1);
    // The same kid with other numbers (a rotated key) is imported anew, not confused.
    let rotated = public_jwk(OTHER_KEY_PEM, "k1");
    assert!(verifier
        .verify(JwsAlgorithm::Rs256, &rotated, INPUT, &signature)
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
                .verify(JwsAlgorithm::Rs256, &key, INPUT, &signature)
                .await,
            Err(Error::InvalidToken(TokenError::UnusableKey))
        );
    }
}
