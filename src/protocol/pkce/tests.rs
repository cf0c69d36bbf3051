use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn rfc_7636_appendix_b() {
    let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
    assert_eq!(
        verifier.challenge(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[test]
fn random_verifiers_have_43_unreserved_characters() {
    let verifier = PkceVerifier::from_random(&[0xfb; 32]);
    assert_eq!(verifier.expose_secret().len(), 43);
    assert!(PkceVerifier::new(verifier.expose_secret()).is_ok());
}

#[test]
fn malformed_verifiers_are_refused_and_never_printed() {
    assert!(PkceVerifier::new("short").is_err());
    assert!(PkceVerifier::new("a".repeat(129)).is_err());
    assert!(PkceVerifier::new(alloc::format!("{}+", "a".repeat(43))).is_err());
    let verifier = PkceVerifier::from_random(&[7; 32]);
    assert!(!alloc::format!("{verifier:?}").contains(verifier.expose_secret()));
}
