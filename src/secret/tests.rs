use super::*;
use alloc::format;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn every_secret_type_redacts_debug_and_display() {
    const SENTINEL: &str = "s3ntinel-SECRET-value";
    let rendered = [
        format!(
            "{:?} {}",
            ClientSecret::new(SENTINEL),
            ClientSecret::new(SENTINEL)
        ),
        format!(
            "{:?} {}",
            AccessToken::new(SENTINEL),
            AccessToken::new(SENTINEL)
        ),
        format!(
            "{:?} {}",
            RefreshToken::new(SENTINEL),
            RefreshToken::new(SENTINEL)
        ),
        format!("{:?} {}", IdToken::new(SENTINEL), IdToken::new(SENTINEL)),
        format!(
            "{:?} {}",
            ClientAssertion::new(SENTINEL),
            ClientAssertion::new(SENTINEL)
        ),
        format!("{:#?}", Some(ClientSecret::new(SENTINEL))),
    ];
    for text in rendered {
        assert!(!text.contains(SENTINEL), "leaked: {text}");
        assert!(text.contains(REDACTED));
    }
}

#[test]
fn expose_secret_returns_the_value() {
    assert_eq!(ClientSecret::new("abc").expose_secret(), "abc");
}
