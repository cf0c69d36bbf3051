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
use crate::acquisition::client::TokenSource;
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

/// Onboards `tenant` through the consent routes, as the administrator's browser would; the
/// daemon confirms the consent with a token request there, answered with `TOKEN`.
fn onboard(daemon: &Daemon, tenant: &str, replay: &ReplayPlatform, platform: &Platform<'_>) {
    replay.push(200, TOKEN);
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

    onboard(&daemon, CONTOSO, &replay, &platform);
    replay.push(200, r#"{"ok":true}"#);
    let answer = block_on(daemon.call_in_tenant(None, Some(CONTOSO), &platform)).unwrap();
    assert_eq!(answer.tenant.as_deref(), Some(CONTOSO));
    // The onboarding's confirmation token serves the first call.
    assert_eq!(answer.token_source, TokenSource::Memory);
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

#[test]
fn a_scheduled_run_warms_every_tenants_token_and_one_failure_stops_no_other() {
    use crate::scenarios::daemon::ScheduledOutcome;
    use crate::testing::NOW;
    const FABRIKAM: &str = "0b0b0b0b-1111-2222-3333-444444444444";
    let daemon = daemon(&[
        ONBOARDING,
        (
            "AUTHORITY",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com",
        ),
        (
            "SCHEDULED_CALL_URL",
            "https://downstream.example.com/api/batch",
        ),
    ]);
    let replay = ReplayPlatform::new(&[]);
    let store = MapStore::default();
    // Two consents: two different states.
    let entropy = crate::testing::CountingEntropy::default();
    let platform = Platform {
        entropy: &entropy,
        ..replay.platform(&store)
    };
    onboard(&daemon, CONTOSO, &replay, &platform);
    onboard(&daemon, FABRIKAM, &replay, &platform);
    // The home tenant's token request fails; the customers' tokens (from their onboarding)
    // are fresh, and each calls the batch.
    replay.push(
        400,
        r#"{"error":"invalid_client","error_description":"AADSTS7000215","correlation_id":"c-1"}"#,
    );
    replay.push(200, r#"{"ok":true}"#);
    replay.push(200, r#"{"ok":true}"#);
    let report = block_on(daemon.run_scheduled(&platform));
    assert_eq!(report.tenants.len(), 3);
    assert_eq!(report.failures(), 1);
    assert_eq!(report.tenants[0].0, None);
    let done = ScheduledOutcome::Done {
        source: TokenSource::Memory,
        call_status: Some(200),
    };
    assert_eq!(report.tenants[1], (Some(CONTOSO.to_string()), done.clone()));
    assert_eq!(report.tenants[2], (Some(FABRIKAM.to_string()), done));
    assert_eq!(
        urls(&replay),
        [
            format!("https://login.microsoftonline.com/{CONTOSO}/oauth2/v2.0/token"),
            format!("https://login.microsoftonline.com/{FABRIKAM}/oauth2/v2.0/token"),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
                .to_string(),
            "https://downstream.example.com/api/batch".to_string(),
            "https://downstream.example.com/api/batch".to_string(),
        ]
    );
    // Past the customers' tokens' expiry margin, the next run acquires them again.
    replay.now.set(NOW + 3400);
    replay.push(400, r#"{"error":"invalid_client"}"#);
    for _ in 0..2 {
        replay.push(200, TOKEN);
        replay.push(200, r#"{"ok":true}"#);
    }
    let again = block_on(daemon.run_scheduled(&platform));
    assert_eq!(again.failures(), 1);
    assert_eq!(
        again.tenants[1].1,
        ScheduledOutcome::Done {
            source: TokenSource::Provider,
            call_status: Some(200)
        }
    );
    assert_eq!(replay.requests.borrow().len(), 10);
}

#[test]
fn the_tenant_parameter_is_read_from_a_raw_query() {
    use crate::scenarios::daemon::tenant_parameter;
    assert_eq!(
        tenant_parameter(Some("tenant=abc&x=1")).as_deref(),
        Some("abc")
    );
    assert_eq!(
        tenant_parameter(Some("x=1&tenant=a%2Eb&tenant=c")).as_deref(),
        Some("a.b")
    );
    assert_eq!(tenant_parameter(Some("tenant=")), None);
    assert_eq!(tenant_parameter(Some("x=1")), None);
    assert_eq!(tenant_parameter(None), None);
}

#[test]
fn tenant_routes_are_dispatched_by_method_and_path() {
    let daemon = daemon(&[ONBOARDING]);
    let replay = ReplayPlatform::new(&[]);
    let store = MapStore::default();
    let platform = replay.platform(&store);
    let status = |method: &str, path: &str| {
        block_on(daemon.tenant_route(method, path, &WebRequest::default(), &platform))
            .map(|response| response.status)
    };
    assert_eq!(status("GET", "/tenants/consent"), Some(302));
    assert_eq!(
        status("GET", "/tenants/callback"),
        Some(400),
        "no consent in progress"
    );
    assert_eq!(
        status("GET", "/tenants"),
        Some(403),
        "management is never open"
    );
    assert_eq!(status("DELETE", &format!("/tenants/{CONTOSO}")), Some(403));
    assert_eq!(status("POST", "/tenants/consent"), Some(405));
    assert_eq!(status("DELETE", "/tenants"), Some(405));
    assert_eq!(status("GET", "/tenants/other/thing"), Some(404));
    assert_eq!(status("GET", "/daemon/call"), None);
    assert_eq!(status("GET", "/tenantsx"), None);
}

#[test]
fn the_tenant_paths_are_told_apart_from_others() {
    for path in ["/tenants", "/tenants/", "/tenants/consent", "/tenants/t1"] {
        assert!(Daemon::serves_tenants(path), "{path}");
    }
    for path in ["/tenantsx", "/tenant", "/", "/daemon/call", "/api/tenants"] {
        assert!(!Daemon::serves_tenants(path), "{path}");
    }
}
