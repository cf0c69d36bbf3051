//! [`WEB_API_SETTING_NAMES`] lists every setting the web API reads (Spin reads its variables by
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
        ("CLIENT_CAPABILITIES", "cp1"),
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
        WebApiConfig::from_settings(&layered).unwrap();
        for name in settings.asked.borrow().iter() {
            assert!(
                WEB_API_SETTING_NAMES.contains(&name.as_str()),
                "{name} is not listed"
            );
        }
    }
}
