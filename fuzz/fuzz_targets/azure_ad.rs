//! The `AZURE_AD` setting (Microsoft.Identity.Web's `AzureAd` section as JSON) through
//! `config::AzureAdSettings::new` (the section parser `AzureAdSection::parse` and its mapping
//! onto flat names are crate-private; this is the public loader that runs them, PKCS#12
//! `Base64Encoded` certificates included), then every name read through the layer and the
//! configurations the adapters build from it (`ClientConfig`, `WebAppConfig`, `WebApiConfig`,
//! `DaemonConfig`).
//!
//! Input: the JSON text; a leading digit `0`–`7` (removed) also sets flat settings next to it
//! (bit 1: AUTHORITY + CLIENT_ID, bit 2: CLIENT_SECRET, bit 4: web app / web API settings), to
//! reach the contradiction checks between the two.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use edge_token::config::{AzureAdSettings, ClientConfig, Settings};
use edge_token::scenarios::DAEMON_SETTING_NAMES;
use edge_token::{DaemonConfig, WebApiConfig, WebAppConfig};
use libfuzzer_sys::fuzz_target;

const OTHER_NAMES: &[&str] = &[
    "REDIRECT_URI",
    "POST_LOGOUT_REDIRECT_URI",
    "RESPONSE_MODE",
    "COOKIE_KEY",
    "API_AUDIENCE",
    "API_REQUIRED_SCOPE",
    "API_REQUIRED_ROLES",
    "API_DOWNSTREAM_URL",
    "API_DOWNSTREAM_SCOPES",
    "ALLOWED_TENANTS",
    "WEB_API_URL",
    "WEB_API_SCOPES",
    "CLIENT_CAPABILITIES",
    "LOG_LEVEL",
    "ID_TOKEN_SIGNING_ALG",
];

fuzz_target!(|data: &[u8]| {
    let (flags, json) = match data.split_first() {
        Some((&digit @ b'0'..=b'7', rest)) => (digit - b'0', rest),
        _ => (0, data),
    };
    let mut flat = BTreeMap::new();
    let mut set = |name: &str, value: &str| {
        flat.insert(name.to_string(), value.to_string());
    };
    set("AZURE_AD", &common::text(json));
    if flags & 1 != 0 {
        set("AUTHORITY", "https://login.microsoftonline.com/contoso.onmicrosoft.com");
        set("CLIENT_ID", "6731de76-14a6-49ae-97bc-6eba6914391e");
    }
    if flags & 2 != 0 {
        set("CLIENT_SECRET", "fuzz-secret");
    }
    if flags & 4 != 0 {
        set("REDIRECT_URI", "https://app.example/signin-oidc");
        set("COOKIE_KEY", "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8");
        set("DOWNSTREAM_URL", "https://graph.microsoft.com/v1.0/me");
        set("DOWNSTREAM_SCOPES", "User.Read");
        set("API_REQUIRED_SCOPE", "access_as_user");
    }

    let Ok(settings) = AzureAdSettings::new(&flat) else {
        return;
    };
    let _ = format!("{settings:?}");
    for name in DAEMON_SETTING_NAMES.iter().chain(OTHER_NAMES) {
        let _ = settings.get(name);
    }
    let _ = settings.client_certificate();
    if let Ok(config) = ClientConfig::from_settings(&settings) {
        let _ = format!("{config:?}");
    }
    let _ = WebAppConfig::from_settings(&settings);
    let _ = WebApiConfig::from_settings(&settings);
    let _ = DaemonConfig::from_settings(&settings);
});
