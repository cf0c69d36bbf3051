use super::*;
use alloc::vec;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn capabilities_alone_follow_msal() {
    assert_eq!(claims_parameter(&[], None).unwrap(), None);
    assert_eq!(
        claims_parameter(&["cp1".into()], None).unwrap().as_deref(),
        Some(r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#)
    );
}

#[test]
fn challenges_merge_with_capabilities() {
    let challenge = r#"{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}"#;
    assert_eq!(
        claims_parameter(&[], Some(challenge)).unwrap().as_deref(),
        Some(challenge)
    );
    let merged = claims_parameter(&["cp1".into()], Some(challenge))
        .unwrap()
        .unwrap();
    let merged: Value = serde_json::from_str(&merged).unwrap();
    assert_eq!(
        merged,
        json!({"access_token": {
            "xms_cc": {"values": ["cp1"]},
            "nbf": {"essential": true, "value": "1604106651"}
        }})
    );
    let id_token = r#"{"id_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
    let both: Value = serde_json::from_str(
        &claims_parameter(&["cp1".into()], Some(id_token))
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(both["id_token"]["acrs"]["value"], "c1");
    assert_eq!(both["access_token"]["xms_cc"]["values"][0], "cp1");
}

#[test]
fn a_challenge_that_is_not_an_object_is_refused() {
    for bad in ["", "[1]", "\"x\"", "{"] {
        assert!(claims_parameter(&[], Some(bad)).is_err(), "{bad}");
    }
}

#[test]
fn capability_settings_are_split() {
    assert_eq!(parse_capabilities(" cp1, cp2 "), vec!["cp1", "cp2"]);
    assert!(parse_capabilities("").is_empty());
}
