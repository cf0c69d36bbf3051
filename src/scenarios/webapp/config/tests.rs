//! [`WEB_APP_SETTING_NAMES`] lists every setting the web app reads besides the client's (Spin
//! reads its variables by these names before parsing).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;

#[test]
fn the_setting_names_cover_everything_the_web_app_reads() {
    let base = [
        ("AUTHORITY", "http://127.0.0.1:9400"),
        ("AUTHORITY_KIND", "oidc"),
        ("CLIENT_ID", "webapp"),
        ("REDIRECT_URI", "http://127.0.0.1:8787/auth/callback"),
        ("COOKIE_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"),
        ("POST_LOGOUT_REDIRECT_URI", "http://127.0.0.1:8787/"),
        ("DOWNSTREAM_URL", "http://127.0.0.1:9500/api"),
        ("DOWNSTREAM_SCOPES", "api://downstream/.default"),
        ("WEB_API_URL", "http://127.0.0.1:8788/api/profile"),
        ("WEB_API_SCOPES", "api://webapi/access_as_user"),
        ("RESPONSE_MODE", "form_post"),
        ("ID_TOKEN_SIGNING_ALG", "ES256"),
        ("ALLOWED_TENANTS", "t1"),
        ("HTTP_TIMEOUT_MS", "5000"),
        ("SESSION_ABSOLUTE_TIMEOUT_SECS", "3600"),
        ("SESSION_IDLE_TIMEOUT_SECS", "600"),
    ];
    crate::testing::assert_reads_only_listed(WEB_APP_SETTING_NAMES, &base, |settings| {
        WebAppConfig::from_settings(settings).map(drop)
    });
}
