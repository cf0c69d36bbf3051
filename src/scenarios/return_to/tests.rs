use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn same_origin_paths_survive() {
    for path in ["/", "/me", "/me/call?x=1&y=%20z", "/a/b#frag", "/%7Euser"] {
        assert_eq!(safe_return_to(Some(path)), path, "{path}");
    }
}

#[test]
fn open_redirect_tricks_become_the_root() {
    let tricks = [
        "https://evil.test",
        "http://evil.test/",
        "//evil.test",
        "///evil.test",
        "/\\evil.test",
        "\\\\evil.test",
        "/%2F%2Fevil.test",
        "/%2f%2fevil.test",
        "/%5Cevil.test",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,x",
        "evil.test",
        "",
        " /me",
        "/\tme",
        "/\n/evil.test",
        "/\r\nLocation: https://evil.test",
        "/%0d%0aSet-Cookie:x=y",
        "/é",
    ];
    for trick in tricks {
        assert_eq!(safe_return_to(Some(trick)), "/", "{trick:?}");
    }
    assert_eq!(safe_return_to(None), "/");
    assert_eq!(safe_return_to(Some(&"/a".repeat(300))), "/");
}
