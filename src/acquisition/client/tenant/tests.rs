//! Per-tenant clients of a multi-tenant Entra app: each tenant's own token endpoint and cache
//! partition, one client per tenant per isolate, coordinated like the configured tenant.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use alloc::string::String;

use futures::executor::block_on;

use super::*;
use crate::acquisition::client::TokenSource;
use crate::credentials::credential::{ClientCredential, SecretMethod};
use crate::protocol::authority::Authority;
use crate::protocol::scope::Scopes;
use crate::secret::ClientSecret;
use crate::testing::{
    token_cache_keys, InMemoryCoordinator, MapStore, ReplayPlatform, ENTRA_SUCCESS as SUCCESS,
};

const CONTOSO: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const FABRIKAM: &str = "fabrikam.onmicrosoft.com";

fn client(authority: &str) -> ConfidentialClient {
    let credential = ClientCredential::Secret {
        secret: ClientSecret::new("secret"),
        method: SecretMethod::Post,
    };
    ConfidentialClient::new(
        Authority::parse(authority, None).unwrap(),
        "isv-daemon",
        credential,
    )
    .unwrap()
    .with_token_cache_key(&token_cache_keys())
}

fn multi_tenant() -> ConfidentialClient {
    client("https://login.microsoftonline.com/organizations")
}

fn scopes() -> Scopes {
    Scopes::parse("https://graph.microsoft.com/.default").unwrap()
}

fn urls(env: &ReplayPlatform) -> Vec<String> {
    env.requests
        .borrow()
        .iter()
        .map(|request| String::from(request.url.as_str()))
        .collect()
}

#[test]
fn each_tenant_has_its_token_endpoint_and_cache_partition() {
    let env = ReplayPlatform::new(&[(200, SUCCESS), (200, SUCCESS)]);
    let store = MapStore::default();
    let platform = env.platform(&store);
    let app = multi_tenant();
    // The configured `organizations` names no tenant: app tokens need one.
    assert!(block_on(app.acquire_token_for_client(&scopes(), &platform)).is_err());

    let contoso = app.tenant_client(CONTOSO).unwrap();
    let fabrikam = app.tenant_client(FABRIKAM).unwrap();
    assert_eq!(contoso.tenant(), Some(CONTOSO));
    let a = block_on(contoso.acquire_token_for_client(&scopes(), &platform)).unwrap();
    let b = block_on(fabrikam.acquire_token_for_client(&scopes(), &platform)).unwrap();
    assert_eq!(
        (a.source, b.source),
        (TokenSource::Provider, TokenSource::Provider)
    );
    assert_eq!(
        urls(&env),
        [
            format!("https://login.microsoftonline.com/{CONTOSO}/oauth2/v2.0/token"),
            format!("https://login.microsoftonline.com/{FABRIKAM}/oauth2/v2.0/token"),
        ]
    );
    assert_eq!(store.0.borrow().len(), 2, "one stored entry per tenant");

    // One client per tenant per isolate, whatever the case of its id.
    let again = app.tenant_client(&CONTOSO.to_ascii_uppercase()).unwrap();
    assert!(Rc::ptr_eq(&again, &contoso));
    let cached = block_on(again.acquire_token_for_client(&scopes(), &platform)).unwrap();
    assert_eq!(cached.source, TokenSource::Memory);
    // Forgotten (offboarded): a new client, whose first token comes from the store.
    app.forget_tenant(CONTOSO);
    let fresh = app.tenant_client(CONTOSO).unwrap();
    assert!(!Rc::ptr_eq(&fresh, &contoso));
    let stored = block_on(fresh.acquire_token_for_client(&scopes(), &platform)).unwrap();
    assert_eq!(stored.source, TokenSource::Store);
    assert_eq!(env.requests.borrow().len(), 2);
}

#[test]
fn only_an_entra_id_authority_and_a_real_tenant_make_a_tenant_client() {
    let app = multi_tenant();
    for alias in [
        "common",
        "organizations",
        "consumers",
        "not a tenant",
        "../x",
        "contoso",
        "",
    ] {
        assert!(
            matches!(app.tenant_client(alias), Err(Error::Configuration(_))),
            "{alias}"
        );
    }
    let generic = client("https://id.example.com");
    assert!(matches!(
        generic.tenant_client(CONTOSO),
        Err(Error::Configuration(_))
    ));
    let b2c = ConfidentialClient::new(
        Authority::parse(
            "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin",
            None,
        )
        .unwrap(),
        "app",
        ClientCredential::Secret {
            secret: ClientSecret::new("secret"),
            method: SecretMethod::Post,
        },
    )
    .unwrap();
    assert!(b2c.tenant_client(CONTOSO).is_err());
}

#[test]
fn a_tenants_requests_are_coordinated_by_its_own_client_at_the_coordinator() {
    let env = ReplayPlatform::new(&[(200, SUCCESS), (200, SUCCESS)]);
    let coordinator = InMemoryCoordinator::new(&env, multi_tenant());
    let isolates = [multi_tenant(), multi_tenant()];
    for isolate in &isolates {
        for tenant in [CONTOSO, FABRIKAM] {
            let client = isolate.tenant_client(tenant).unwrap();
            block_on(
                client.acquire_token_for_client(
                    &scopes(),
                    &coordinator.platform(&MapStore::default()),
                ),
            )
            .unwrap();
        }
    }
    assert_eq!(
        urls(&env),
        [
            format!("https://login.microsoftonline.com/{CONTOSO}/oauth2/v2.0/token"),
            format!("https://login.microsoftonline.com/{FABRIKAM}/oauth2/v2.0/token"),
        ],
        "one request per tenant for every isolate"
    );
    assert_eq!(coordinator.served.get(), 4);
}
