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

#[test]
fn app_only_requests_ask_for_one_default_scope() {
    assert!(Scopes::parse("api://downstream/.default")
        .unwrap()
        .require_app_only()
        .is_ok());
    for bad in [
        "api://downstream/user.read",
        "api://a/.default api://b/.default",
        "/.default",
        "User.Read",
    ] {
        let error = Scopes::parse(bad).unwrap().require_app_only().unwrap_err();
        assert!(matches!(error, Error::Configuration(_)), "{bad}: {error}");
        assert!(error.to_string().contains("/.default"), "{error}");
    }
}

#[test]
fn the_app_only_scope_of_a_resource_is_derived_from_its_permissions() {
    let derived = |text: &str| {
        Scopes::parse(text)
            .unwrap()
            .app_only_default()
            .map(|scopes| scopes.to_param())
    };
    assert_eq!(
        derived("api://downstream/user.read").as_deref(),
        Some("api://downstream/.default")
    );
    assert_eq!(
        derived("https://graph.microsoft.com/User.Read offline_access").as_deref(),
        Some("https://graph.microsoft.com/.default")
    );
    assert_eq!(
        derived("00000003-0000-0000-c000-000000000000/User.Read").as_deref(),
        Some("00000003-0000-0000-c000-000000000000/.default")
    );
    assert_eq!(
        derived("api://downstream/.default").as_deref(),
        Some("api://downstream/.default")
    );
    for none in ["openid profile", "User.Read", "https://x", "api://"] {
        assert_eq!(derived(none), None, "{none}");
    }
}
