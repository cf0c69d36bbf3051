#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::acquisition::cache::CachedToken;
use crate::acquisition::client::{AcquiredToken, ConfidentialClient, TokenSource};
use crate::platform::NoStore;
use crate::protocol::authority::Authority;
use crate::secret::AccessToken;
use crate::testing::ReplayPlatform;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

const SENTINEL: &str = "SENTINEL-secret-value";

/// A federated credential source that records what it was asked for.
struct Federated {
    asked: Rc<RefCell<Vec<(String, String)>>>,
}

impl AssertionCallback for Federated {
    fn assertion<'a>(
        &'a self,
        request: AssertionRequest<'a>,
    ) -> LocalBoxFuture<'a, Result<ClientAssertion, Error>> {
        self.asked
            .borrow_mut()
            .push((request.client_id.into(), request.token_endpoint.into()));
        Box::pin(core::future::ready(Ok(ClientAssertion::new(
            "federated.jwt.value",
        ))))
    }
}

#[test]
fn a_callback_is_asked_for_each_request_with_the_client_and_endpoint() {
    let asked = Rc::new(RefCell::new(Vec::new()));
    let credential = ClientCredential::Assertion(AssertionSource::Callback(Box::new(Federated {
        asked: Rc::clone(&asked),
    })));
    let endpoint =
        Url::parse("https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token").unwrap();
    let sends_nothing = ReplayPlatform::new(&[]);
    for _ in 0..2 {
        let auth = futures::executor::block_on(credential.authenticate(
            "client-1",
            &endpoint,
            &sends_nothing.platform(&NoStore),
        ))
        .unwrap();
        let ClientAuthentication::Assertion(assertion) = auth else {
            panic!("an assertion")
        };
        assert_eq!(assertion.expose_secret(), "federated.jwt.value");
    }
    let expected = (String::from("client-1"), String::from(endpoint.as_str()));
    assert_eq!(*asked.borrow(), [expected.clone(), expected]);
}

#[test]
fn types_holding_secrets_redact_them() {
    let secret = ClientCredential::Secret {
        secret: ClientSecret::new(SENTINEL),
        method: SecretMethod::Post,
    };
    let fixed = ClientCredential::Assertion(AssertionSource::Fixed(ClientAssertion::new(SENTINEL)));
    let token = CachedToken {
        access_token: AccessToken::new(SENTINEL),
        expires_on: 1,
        refresh_on: None,
        ext_expires_on: None,
    };
    let acquired = AcquiredToken {
        access_token: AccessToken::new(SENTINEL),
        expires_on: 1,
        source: TokenSource::Provider,
        refresh_due: false,
        refresh_on: None,
    };
    let client = ConfidentialClient::new(
        Authority::parse("https://id.example.com", None).unwrap(),
        "c",
        secret,
    )
    .unwrap();
    for text in [
        format!("{fixed:?}"),
        format!("{token:?}"),
        format!("{acquired:?}"),
        format!("{client:?} {client:#?}"),
    ] {
        assert!(!text.contains(SENTINEL), "{text}");
    }
}
