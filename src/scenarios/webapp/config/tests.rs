//! [`WEB_APP_SETTING_NAMES`] lists every setting the web app reads (Spin reads its variables by
//! these names before parsing).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use alloc::collections::{BTreeMap, BTreeSet};
use core::cell::RefCell;

use super::*;
use crate::credentials::certificate::tests::{CERT_PEM, KEY_PKCS8_PEM};

/// Settings that record the names asked for.
struct Recording {
    values: BTreeMap<&'static str, &'static str>,
    asked: RefCell<BTreeSet<String>>,
}

impl Settings for Recording {
    fn get(&self, name: &str) -> Option<String> {
        self.asked.borrow_mut().insert(name.into());
        self.values.get(name).map(|value| String::from(*value))
    }
}

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
        ("ID_TOKEN_SIGNING_ALG", "RS256"),
        ("ALLOWED_TENANTS", "t1"),
        ("HTTP_TIMEOUT_MS", "5000"),
    ];
    let credentials: [&[(&str, &str)]; 3] = [
        &[("CLIENT_SECRET", "s")],
        &[
            ("CLIENT_CERTIFICATE", CERT_PEM),
            ("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM),
        ],
        &[("CLIENT_ASSERTION", "a.b.c")],
    ];
    for credential in credentials {
        let settings = Recording {
            values: base.iter().chain(credential).copied().collect(),
            asked: RefCell::default(),
        };
        let layered = crate::config::azure_ad::AzureAdSettings::new(&settings).unwrap();
        WebAppConfig::from_settings(&layered).unwrap();
        for name in settings.asked.borrow().iter() {
            assert!(
                WEB_APP_SETTING_NAMES.contains(&name.as_str()),
                "{name} is not listed"
            );
        }
    }
}
