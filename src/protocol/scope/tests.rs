use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn scopes_compare_as_sets() {
    let a = Scopes::parse("User.Read  api://x/.default User.Read").unwrap();
    let b = Scopes::parse("api://x/.default User.Read").unwrap();
    assert_eq!(a, b);
    assert_eq!(a.to_param(), "User.Read api://x/.default");
    assert_ne!(
        a,
        Scopes::parse("user.read api://x/.default").unwrap(),
        "scopes are case-sensitive"
    );
}

#[test]
fn rejects_empty_and_invalid_scopes() {
    for bad in ["", "   ", "a\"b", "a\\b", "caf\u{e9}", "a\tb"] {
        assert!(
            matches!(Scopes::parse(bad), Err(Error::Configuration(_))),
            "{bad:?}"
        );
    }
}
