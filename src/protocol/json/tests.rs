use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn same_values_as_serde_json_without_duplicates() {
    let text = br#"{"a":1,"b":-2,"c":1.5,"d":"x\u0041","e":[true,null,{"f":{}}],"g":18446744073709551615}"#;
    assert_eq!(
        Value::Object(strict_object(text).unwrap()),
        serde_json::from_slice::<Value>(text).unwrap()
    );
}

#[test]
fn refuses_repeated_names_at_every_depth() {
    for text in [
        r#"{"a":1,"a":1}"#,
        r#"{"a":1,"\u0061":2}"#,
        r#"{"x":{"a":1,"b":2,"a":3}}"#,
        r#"{"x":[1,{"a":[{"b":1,"b":1}]}]}"#,
    ] {
        assert_eq!(
            strict_object(text.as_bytes()),
            Err(StrictJsonError::DuplicateMember),
            "{text}"
        );
    }
    // Serde_json alone keeps the last value: the reason for this module.
    let lenient: Value = serde_json::from_str(r#"{"a":1,"a":2}"#).unwrap();
    assert_eq!(lenient["a"], 2);
    // Equal names in different objects are not duplicates.
    assert!(strict_object(br#"{"a":{"a":1},"b":[{"a":1},{"a":2}]}"#).is_ok());
}

#[test]
fn tells_not_json_from_not_an_object() {
    for text in ["", "{", r#"{"a":1,}"#, "nul", "{\"a\":\"\u{1}\"}"] {
        assert_eq!(
            strict_object(text.as_bytes()),
            Err(StrictJsonError::NotJson),
            "{text:?}"
        );
    }
    assert_eq!(strict_object(b"\xff"), Err(StrictJsonError::NotJson));
    let deep = "[".repeat(1000) + &"]".repeat(1000);
    assert_eq!(
        strict_object(deep.as_bytes()),
        Err(StrictJsonError::NotJson)
    );
    for text in ["[]", "1", "\"x\"", "null", "true"] {
        assert_eq!(
            strict_object(text.as_bytes()),
            Err(StrictJsonError::NotAnObject),
            "{text}"
        );
    }
}
