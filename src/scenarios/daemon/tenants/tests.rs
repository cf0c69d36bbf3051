//! The daemon in its customers' tenants: calls refused for tenants not onboarded (no token
//! request), app tokens from the tenant's own endpoint once onboarded, tenant routes off
//! unless configured and never open.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;

use futures::executor::block_on;

use super::*;
use crate::error::Error;
use crate::scenarios::daemon::{call_reply, DaemonConfig};
use crate::scenarios::tenants::CONSENT_COOKIE;
use crate::testing::{MapSettings, MapStore, ReplayPlatform, TOKEN_CACHE_KEY};
use crate::validation::verifier::rustcrypto::RustCryptoVerifier;

const CONTOSO: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const TOKEN: &str =
    r#"{"token_type":"Bearer","access_token":"contoso-app-token","expires_in":3600}"#;

fn daemon(extra: &[(&'static str, &str)]) -> Daemon {
    let mut settings = MapSettings::of(&[
        (
            "AUTHORITY",
            "https://login.microsoftonline.com/organizations",
        ),
        ("CLIENT_ID", "isv-daemon"),
        ("CLIENT_SECRET", "pw"),
        ("DOWNSTREAM_URL", "https://downstream.example.com/api"),
        ("DOWNSTREAM_SCOPES", "api://downstream/.default"),
        ("TOKEN_CACHE_KEY", TOKEN_CACHE_KEY),
        ("DAEMON_PUBLIC", "true"),
    ]);
    for (name, value) in extra {
        settings.0.insert(name, value.to_string());
    }
    let config = DaemonConfig::from_settings(&settings).unwrap();
    let signer = |_, _| async { Err(Error::Signing("no certificate here".into())) };
    block_on(Daemon::build(
        config,
        signer,
        Box::new(RustCryptoVerifier::new()),
    ))
    .unwrap()
}

const ONBOARDING: (&str, &str) = (
    "ADMIN_CONSENT_REDIRECT_URI",
    "https://daemon.example.com/tenants/callback",
);

fn urls(replay: &ReplayPlatform) -> Vec<String> {
    replay
        .requests
        .borrow()
        .iter()
        .map(|request| request.url.to_string())
        .collect()
}

/// Onboards `tenant` through the consent routes, as the administrator's browser would.
fn onboard(daemon: &Daemon, tenant: &str, platform: &Platform<'_>) {
    let started = daemon.tenant_consent(&WebRequest::default(), platform);
    let location = url::Url::parse(started.header("location").unwrap()).unwrap();
    let state = location
        .query_pairs()
        .find(|(name, _)| name == "state")
        .unwrap()
        .1
        .into_owned();
    let callback = WebRequest {
        query: vec![
            ("admin_consent".into(), "True".into()),
            ("tenant".into(), tenant.into()),
            ("state".into(), state),
        ],
        cookies: vec![(CONSENT_COOKIE.into(), started.cookies[0].value.clone())],
        ..WebRequest::default()
    };
    assert_eq!(
        block_on(daemon.tenant_callback(&callback, platform)).status,
        200
    );
}

#[test]
fn a_tenant_call_needs_the_tenant_onboarded_and_gets_that_tenants_token() {
    let daemon = daemon(&[ONBOARDING]);
    let replay = ReplayPlatform::new(&[]);
    let store = MapStore::default();
    let platform = replay.platform(&store);
    for tenant in [CONTOSO, "not a tenant"] {
        let refused = block_on(daemon.call_in_tenant(None, Some(tenant), &platform)).unwrap_err();
        assert_eq!(refused, CallFailure::UnknownTenant(tenant.into()));
        assert_eq!(call_reply(Err(refused)).status, 403);
    }
    assert!(replay.requests.borrow().is_empty(), "no token request");

    onboard(&daemon, CONTOSO, &platform);
    replay.push(200, TOKEN);
    replay.push(200, r#"{"ok":true}"#);
    let answer = block_on(daemon.call_in_tenant(None, Some(CONTOSO), &platform)).unwrap();
    assert_eq!(answer.tenant.as_deref(), Some(CONTOSO));
    assert_eq!(
        urls(&replay),
        [
            format!("https://login.microsoftonline.com/{CONTOSO}/oauth2/v2.0/token"),
            "https://downstream.example.com/api".to_string(),
        ]
    );
    // The configured authority names no tenant: a call without one cannot get an app token.
    assert!(matches!(
        block_on(daemon.call(None, &platform)),
        Err(CallFailure::Token(Error::Configuration(_)))
    ));
}

#[test]
fn without_onboarding_any_tenant_may_be_named_and_the_tenant_routes_are_off() {
    let daemon = daemon(&[]);
    let replay = ReplayPlatform::new(&[(200, TOKEN), (200, r#"{"ok":true}"#)]);
    let store = MapStore::default();
    let platform = replay.platform(&store);
    block_on(daemon.call_in_tenant(None, Some(CONTOSO), &platform)).unwrap();
    assert!(urls(&replay)[0].contains(CONTOSO));
    assert_eq!(
        daemon
            .tenant_consent(&WebRequest::default(), &platform)
            .status,
        404
    );
    assert_eq!(block_on(daemon.list_tenants(None, &platform)).status, 404);
}

#[test]
fn tenant_management_is_never_open() {
    // DAEMON_PUBLIC opens /daemon/call, never the registry.
    let daemon = daemon(&[ONBOARDING]);
    let replay = ReplayPlatform::new(&[]);
    let store = MapStore::default();
    let platform = replay.platform(&store);
    assert_eq!(block_on(daemon.list_tenants(None, &platform)).status, 403);
    assert_eq!(
        block_on(daemon.offboard_tenant(None, CONTOSO, &platform)).status,
        403
    );
}

#[test]
fn onboarding_is_configured_only_with_a_sealing_key_and_an_entra_authority() {
    let mut settings = MapSettings::of(&[
        (
            "AUTHORITY",
            "https://login.microsoftonline.com/organizations",
        ),
        ("CLIENT_ID", "isv-daemon"),
        ("CLIENT_SECRET", "pw"),
        ("DOWNSTREAM_URL", "https://downstream.example.com/api"),
        ("DOWNSTREAM_SCOPES", "api://downstream/.default"),
        ("DAEMON_PUBLIC", "true"),
        ONBOARDING,
    ]);
    let missing_key = DaemonConfig::from_settings(&settings).unwrap_err();
    assert!(
        missing_key.to_string().contains("TOKEN_CACHE_KEY"),
        "{missing_key}"
    );
    settings.0.insert("TOKEN_CACHE_KEY", TOKEN_CACHE_KEY.into());
    settings
        .0
        .insert("AUTHORITY", "https://id.example.com".into());
    let generic = DaemonConfig::from_settings(&settings).unwrap_err();
    assert!(generic.to_string().contains("Entra"), "{generic}");
}
