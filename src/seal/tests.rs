use super::*;
use crate::testing::CountingEntropy;
use alloc::string::ToString;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const OTHER_KEY: &str = "HwAeAB0AHAAbABoAGQAYABcAFgAVABQAEwASABEAEA0";

fn sealer(key: &str, purpose: Purpose) -> Sealer {
    RootKeys::parse("COOKIE_KEY", key).unwrap().sealer(purpose)
}

fn sealed() -> String {
    sealer(KEY, Purpose::Transaction)
        .seal(
            &"payload".to_string(),
            1_000,
            b"cookie-a",
            &CountingEntropy::default(),
        )
        .unwrap()
}

fn open(
    sealed: &str,
    key: &str,
    purpose: Purpose,
    binding: &[u8],
    now: u64,
) -> Result<String, SealError> {
    sealer(key, purpose).open(sealed, binding, now, 4096)
}

#[test]
fn round_trip() {
    assert_eq!(
        open(&sealed(), KEY, Purpose::Transaction, b"cookie-a", 999).unwrap(),
        "payload"
    );
}

#[test]
fn every_flipped_byte_is_refused() {
    let wire = URL_SAFE_NO_PAD.decode(sealed()).unwrap();
    for index in 0..wire.len() {
        let mut tampered = wire.clone();
        tampered[index] ^= 0x01;
        let result = open(
            &URL_SAFE_NO_PAD.encode(&tampered),
            KEY,
            Purpose::Transaction,
            b"cookie-a",
            0,
        );
        let expected = if index == 0 {
            SealError::Malformed
        } else {
            SealError::Forged
        };
        assert_eq!(result, Err(expected), "byte {index}");
    }
}

#[test]
fn another_key_purpose_or_binding_is_refused() {
    let value = sealed();
    assert_eq!(
        open(&value, OTHER_KEY, Purpose::Transaction, b"cookie-a", 0),
        Err(SealError::Forged)
    );
    for purpose in [Purpose::Session, Purpose::TokenCache] {
        assert_eq!(
            open(&value, KEY, purpose, b"cookie-a", 0),
            Err(SealError::Forged)
        );
    }
    assert_eq!(
        open(&value, KEY, Purpose::Transaction, b"cookie-b", 0),
        Err(SealError::Forged)
    );
}

#[test]
fn expiry_is_checked_after_authentication() {
    assert_eq!(
        open(&sealed(), KEY, Purpose::Transaction, b"cookie-a", 1_000),
        Err(SealError::Expired)
    );
    assert_eq!(
        open(&sealed(), KEY, Purpose::Transaction, b"cookie-a", u64::MAX),
        Err(SealError::Expired)
    );
}

#[test]
fn malformed_values_are_refused_without_panicking() {
    for junk in ["", "!!!", "AQ", &"A".repeat(40), &"A".repeat(5000)] {
        assert_eq!(
            open(junk, KEY, Purpose::Transaction, b"cookie-a", 0),
            Err(SealError::Malformed),
            "{junk:.20}"
        );
    }
}

#[test]
fn each_seal_uses_a_fresh_nonce() {
    let entropy = CountingEntropy::default();
    let sealer = sealer(KEY, Purpose::Session);
    let a = sealer.seal(&1u8, 10, b"k", &entropy).unwrap();
    let b = sealer.seal(&1u8, 10, b"k", &entropy).unwrap();
    assert_ne!(a, b);
}

#[test]
fn root_keys_must_be_32_bytes_of_base64url() {
    for bad in [
        "",
        "short",
        &KEY[..40],
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+/",
    ] {
        let error = RootKeys::parse("COOKIE_KEY", bad).unwrap_err();
        assert!(
            error.to_string().contains("COOKIE_KEY must be base64url"),
            "{bad}"
        );
        assert!(bad.is_empty() || !error.to_string().contains(bad));
    }
    assert!(RootKeys::parse("COOKIE_KEY", &alloc::format!("{KEY}=")).is_ok());
    assert_eq!(
        alloc::format!("{:?}", RootKeys::parse("K", KEY).unwrap()),
        "RootKeys([redacted; 1])"
    );
}

#[test]
fn cookie_key_rotation_seals_with_the_newest_and_opens_with_any() {
    const OLD: &str = KEY;
    const NEW: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8";
    let entropy = CountingEntropy::default();
    let before = sealer(OLD, Purpose::Session);
    let sealed_before = before.seal(&"alice", 2_000, b"k", &entropy).unwrap();

    // The new key first, the old one kept: old values still open, new ones use the new key.
    let rotated = RootKeys::parse("COOKIE_KEY", &alloc::format!("{NEW}, {OLD}"))
        .unwrap()
        .sealer(Purpose::Session);
    assert_eq!(
        rotated.open::<String>(&sealed_before, b"k", 1_000, 4096),
        Ok("alice".into())
    );
    let sealed_after = rotated.seal(&"bob", 2_000, b"k", &entropy).unwrap();
    assert_eq!(
        sealer(NEW, Purpose::Session).open::<String>(&sealed_after, b"k", 1_000, 4096),
        Ok("bob".into()),
        "sealed with the newest key"
    );
    assert_eq!(
        before.open::<String>(&sealed_after, b"k", 1_000, 4096),
        Err(SealError::Forged),
        "the old key alone cannot open what the new one sealed"
    );

    // The old key dropped: what it sealed no longer opens.
    assert_eq!(
        sealer(NEW, Purpose::Session).open::<String>(&sealed_before, b"k", 1_000, 4096),
        Err(SealError::Forged)
    );
    // Too many keys, or an empty list, is a configuration error naming the setting.
    let five = [NEW, OLD, NEW, OLD, NEW].join(",");
    for bad in [five.as_str(), " , "] {
        let error = RootKeys::parse("COOKIE_KEY", bad).unwrap_err();
        assert!(error.to_string().contains("COOKIE_KEY"));
        assert!(!error.to_string().contains(NEW));
    }
}
