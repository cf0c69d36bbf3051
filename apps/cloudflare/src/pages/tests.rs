use super::*;

#[test]
fn dynamic_text_is_escaped() {
    let html = signed_in("<script>alert('x')</script> & co");
    assert!(html.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; co"));
    assert!(!html.contains("<script>"));
    assert!(sign_in_failed("a <b>").contains("a &lt;b&gt;"));
}

#[test]
fn pages_carry_their_landmarks() {
    assert!(signed_out().contains("<a id=\"sign-in\" href=\"/auth/sign-in?returnTo=%2F\">"));
    assert!(signed_in("Alice Example").contains("<span id=\"user-name\">Alice Example</span>"));
    let failed = sign_in_failed("state mismatch");
    assert!(failed.contains("<h1>Sign-in failed</h1>"));
    assert!(failed.contains("id=\"sign-in\""));
}
