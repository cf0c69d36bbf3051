//! [`WEB_API_SETTING_NAMES`] lists every setting the web API reads besides the client's (Spin
//! reads its variables by these names before parsing).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;

#[test]
fn the_setting_names_cover_everything_the_web_api_reads() {
    let base = [
        ("AUTHORITY", "http://127.0.0.1:9400"),
        ("AUTHORITY_KIND", "oidc"),
        ("CLIENT_ID", "webapi"),
        ("API_AUDIENCE", "api://webapi webapi"),
        ("API_REQUIRED_SCOPE", "access_as_user"),
        ("API_REQUIRED_ROLES", "Profile.Read"),
        ("API_DOWNSTREAM_URL", "http://127.0.0.1:9500/api"),
        ("API_DOWNSTREAM_SCOPES", "api://downstream/user.read"),
        ("API_DOWNSTREAM_APP_SCOPES", "api://downstream/.default"),
        ("ALLOWED_TENANTS", "t1"),
        ("ACCESS_TOKEN_SIGNING_ALG", "ES256"),
        ("CLIENT_CAPABILITIES", "cp1"),
        ("HTTP_TIMEOUT_MS", "5000"),
    ];
    crate::testing::assert_reads_only_listed(WEB_API_SETTING_NAMES, &base, |settings| {
        WebApiConfig::from_settings(settings).map(drop)
    });
}
