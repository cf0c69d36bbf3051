//! Admin consent onboarding: the redirect's shape, the state bound to its cookie and used once,
//! every refusal writing nothing, and the sealed registry.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use alloc::string::String;
use alloc::vec;

use futures::executor::block_on;

use super::*;
use crate::testing::{token_cache_keys, CountingEntropy, MapStore, ReplayPlatform, NOW};

const CONTOSO: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const REDIRECT: &str = "https://daemon.example.com/tenants/callback";

fn onboarding() -> TenantOnboarding {
    TenantOnboarding::new(
        &Authority::parse("https://login.microsoftonline.com/organizations", None).unwrap(),
        "isv-daemon",
        REDIRECT,
        Scopes::parse("api://downstream/.default").unwrap(),
        &token_cache_keys(),
    )
    .unwrap()
}

struct Env {
    replay: ReplayPlatform,
    store: MapStore,
    entropy: CountingEntropy,
}

impl Env {
    fn new() -> Self {
        Self {
            replay: ReplayPlatform::new(&[]),
            store: MapStore::default(),
            entropy: CountingEntropy::default(),
        }
    }

    fn platform(&self) -> Platform<'_> {
        Platform {
            entropy: &self.entropy,
            ..self.replay.platform(&self.store)
        }
    }
}

fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (String::from(*n), String::from(*v)))
        .collect()
}

/// Starts a consent; returns the cookie value and the `state` sent to the provider.
fn start(app: &TenantOnboarding, env: &Env, tenant: Option<&str>) -> (String, String, Url) {
    let request = WebRequest {
        query: tenant.map(|t| query(&[("tenant", t)])).unwrap_or_default(),
        ..WebRequest::default()
    };
    let response = app.consent(&request, &env.platform());
    assert_eq!(response.status, 302);
    let location = Url::parse(response.header("location").unwrap()).unwrap();
    let state = location
        .query_pairs()
        .find(|(n, _)| n == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let cookie = &response.cookies[0];
    assert_eq!(cookie.name, CONSENT_COOKIE);
    assert_eq!(cookie.max_age, Some(CONSENT_LIFETIME_SECS));
    assert!(
        !cookie.value.contains(&state),
        "the state is sealed in the cookie"
    );
    (cookie.value.clone(), state, location)
}

fn callback(
    app: &TenantOnboarding,
    env: &Env,
    cookie: &str,
    params: &[(&str, &str)],
) -> WebResponse {
    let request = WebRequest {
        query: query(params),
        cookies: vec![(CONSENT_COOKIE.into(), cookie.into())],
        ..WebRequest::default()
    };
    block_on(app.callback(&request, &env.platform(), |_| async { Ok(()) }))
}

fn granted<'a>(state: &'a str, tenant: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("admin_consent", "True"),
        ("tenant", tenant),
        ("scope", "api://downstream/.default"),
        ("state", state),
    ]
}

#[test]
fn consent_redirects_to_the_v2_admin_consent_endpoint_with_a_sealed_state() {
    let (app, env) = (onboarding(), Env::new());
    let (_, state, location) = start(&app, &env, None);
    assert_eq!(
        location.as_str().split('?').next(),
        Some("https://login.microsoftonline.com/organizations/v2.0/adminconsent")
    );
    let params: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    assert_eq!(
        params,
        query(&[
            ("client_id", "isv-daemon"),
            ("redirect_uri", REDIRECT),
            ("scope", "api://downstream/.default"),
            ("state", &state),
        ])
    );
    assert_eq!(state.len(), 43);
    let (_, _, targeted) = start(&app, &env, Some(CONTOSO));
    assert!(targeted
        .path()
        .starts_with(&format!("/{CONTOSO}/v2.0/adminconsent")));
    for bad in ["common", "../x", "a b"] {
        let request = WebRequest {
            query: query(&[("tenant", bad)]),
            ..WebRequest::default()
        };
        assert_eq!(app.consent(&request, &env.platform()).status, 400, "{bad}");
    }
}

#[test]
fn a_granted_consent_onboards_the_tenant_once() {
    let (app, env) = (onboarding(), Env::new());
    let (cookie, state, _) = start(&app, &env, None);
    let done = callback(&app, &env, &cookie, &granted(&state, CONTOSO));
    assert_eq!(done.status, 200);
    assert_eq!(
        done.page,
        Some(Page::TenantOnboarded {
            tenant: CONTOSO.into()
        })
    );
    assert_eq!(done.cookies[0].max_age, Some(0), "the cookie is deleted");
    let tenants = block_on(app.tenants(&env.platform())).unwrap();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0].tenant_id, CONTOSO);
    assert_eq!(tenants[0].scopes, "api://downstream/.default");
    assert_eq!(tenants[0].consented_at, NOW);
    assert!(block_on(app.is_onboarded(&CONTOSO.to_ascii_uppercase(), &env.platform())).unwrap());
    // Sealed at rest.
    let stored = env.store.0.borrow().values().next().unwrap().0.clone();
    assert!(!String::from_utf8(stored).unwrap().contains(CONTOSO));

    // The same answer again (its cookie copied): refused, nothing changes.
    let replayed = callback(&app, &env, &cookie, &granted(&state, CONTOSO));
    assert_eq!(replayed.status, 400);
    assert!(matches!(replayed.page, Some(Page::ConsentFailed { .. })));

    // Offboarding removes it.
    assert!(block_on(app.offboard(CONTOSO, &env.platform())).unwrap());
    assert!(!block_on(app.offboard(CONTOSO, &env.platform())).unwrap());
    assert!(!block_on(app.is_onboarded(CONTOSO, &env.platform())).unwrap());
}

#[test]
fn refusals_write_nothing() {
    let (app, env) = (onboarding(), Env::new());
    let (cookie, state, _) = start(&app, &env, None);
    let cancelled = [
        ("error", "access_denied"),
        ("error_description", "AADSTS65004: <b>declined</b>"),
        ("state", state.as_str()),
    ];
    let forged = granted("forged-state-0123456789", CONTOSO);
    let no_consent = [("tenant", CONTOSO), ("state", state.as_str())];
    let no_tenant = [("admin_consent", "True"), ("state", state.as_str())];
    for params in [&cancelled[..], &forged[..], &no_consent[..], &no_tenant[..]] {
        let refused = callback(&app, &env, &cookie, params);
        assert_eq!(refused.status, 400, "{params:?}");
        let Some(Page::ConsentFailed { reason }) = &refused.page else {
            panic!("expected a failure page");
        };
        assert!(!reason.contains("declined"), "no provider text: {reason}");
    }
    // No cookie, a tampered one, an expired one.
    let request = WebRequest {
        query: query(&granted(&state, CONTOSO)),
        ..WebRequest::default()
    };
    let confirmed = |_| async { Ok(()) };
    assert_eq!(
        block_on(app.callback(&request, &env.platform(), confirmed)).status,
        400
    );
    let mut tampered = cookie.clone();
    tampered.replace_range(10..11, if &cookie[10..11] == "A" { "B" } else { "A" });
    assert_eq!(
        callback(&app, &env, &tampered, &granted(&state, CONTOSO)).status,
        400
    );
    env.replay.now.set(NOW + CONSENT_LIFETIME_SECS + 1);
    assert_eq!(
        callback(&app, &env, &cookie, &granted(&state, CONTOSO)).status,
        400
    );
    assert!(env.store.0.borrow().is_empty(), "nothing recorded");
}

#[test]
fn a_consent_asked_of_one_tenant_must_come_back_from_it() {
    let (app, env) = (onboarding(), Env::new());
    let (cookie, state, _) = start(&app, &env, Some(CONTOSO));
    let other = "0b0b0b0b-1111-2222-3333-444444444444";
    assert_eq!(
        callback(&app, &env, &cookie, &granted(&state, other)).status,
        400
    );
    assert!(env.store.0.borrow().is_empty());
    assert_eq!(
        callback(&app, &env, &cookie, &granted(&state, CONTOSO)).status,
        200
    );
}

#[test]
fn onboarding_needs_an_entra_authority_and_a_default_scope() {
    let keys = token_cache_keys();
    let default = || Scopes::parse("api://downstream/.default").unwrap();
    let generic = Authority::parse("https://id.example.com", None).unwrap();
    assert!(TenantOnboarding::new(&generic, "c", REDIRECT, default(), &keys).is_err());
    let entra = Authority::parse("https://login.microsoftonline.com/organizations", None).unwrap();
    let plain_http = TenantOnboarding::new(
        &entra,
        "c",
        "http://daemon.example.com/cb",
        default(),
        &keys,
    );
    assert!(plain_http.is_err());
    let delegated = Scopes::parse("api://downstream/user.read").unwrap();
    assert!(TenantOnboarding::new(&entra, "c", REDIRECT, delegated, &keys).is_err());
}

#[test]
fn a_consent_the_provider_does_not_confirm_is_not_recorded() {
    use crate::error::ServerError;
    let (app, env) = (onboarding(), Env::new());
    // Anyone can start a consent and write the callback with its valid state, naming any
    // tenant: only the provider's confirmation (an app token there) records it.
    let (cookie, state, _) = start(&app, &env, None);
    let request = WebRequest {
        query: query(&granted(&state, CONTOSO)),
        cookies: vec![(CONSENT_COOKIE.into(), cookie.clone())],
        ..WebRequest::default()
    };
    let asked = core::cell::RefCell::new(String::new());
    let refused = block_on(app.callback(&request, &env.platform(), |tenant| {
        *asked.borrow_mut() = tenant;
        async {
            let error = ServerError {
                status: 400,
                error: "invalid_client".into(),
                error_codes: vec![7000229],
                ..ServerError::default()
            };
            Err(Error::Server(alloc::boxed::Box::new(error)))
        }
    }));
    assert_eq!(asked.borrow().as_str(), CONTOSO);
    assert_eq!(refused.status, 400);
    assert!(matches!(refused.page, Some(Page::ConsentFailed { .. })));
    // The provider unreachable: 503, and still nothing recorded.
    let (cookie, state, _) = start(&app, &env, None);
    let request = WebRequest {
        query: query(&granted(&state, CONTOSO)),
        cookies: vec![(CONSENT_COOKIE.into(), cookie)],
        ..WebRequest::default()
    };
    let unreachable = block_on(app.callback(&request, &env.platform(), |_| async {
        Err(Error::Transport(crate::error::TransportError::new(
            crate::error::TransportErrorKind::Network,
            "connection refused",
        )))
    }));
    assert_eq!(unreachable.status, 503);
    assert!(env.store.0.borrow().is_empty());
}
