#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::acquisition::cache::CachedToken;
use crate::acquisition::client::{AcquiredToken, ConfidentialClient, TokenSource};
use crate::credentials::assertion::ASSERTION_LIFETIME_SECS;
use crate::credentials::assertion_cache::REUSE_MARGIN_SECS;
use crate::credentials::certificate::tests::{CERT_PEM, KEY_PKCS8_PEM};
use crate::credentials::certificate::{Certificate, ClientCertificate, PrivateKey};
use crate::credentials::signer::{JwsAlgorithm, JwsSigner};
use crate::platform::Entropy;
use crate::platform::NoStore;
use crate::protocol::authority::Authority;
use crate::secret::AccessToken;
use crate::testing::ReplayPlatform;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use core::cell::{Cell, RefCell};

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

/// A signer that counts its calls and fails while told to; its "signature" is the call number.
struct CountingSigner {
    calls: Rc<Cell<u32>>,
    fail: Rc<Cell<bool>>,
}

impl JwsSigner for CountingSigner {
    fn algorithm(&self) -> JwsAlgorithm {
        JwsAlgorithm::Ps256
    }

    fn sign<'a>(&'a self, _input: &'a [u8]) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        self.calls.set(self.calls.get() + 1);
        let result = if self.fail.get() {
            Err(Error::Signing("the test signer fails".into()))
        } else {
            Ok(self.calls.get().to_be_bytes().to_vec())
        };
        Box::pin(core::future::ready(result))
    }
}

/// Entropy that never repeats (a new UUID, so a new `jti`, each time).
#[derive(Default)]
struct Counter(Cell<u8>);

impl Entropy for Counter {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        self.0.set(self.0.get() + 1);
        dest.fill(self.0.get());
        Ok(())
    }
}

const GLOBAL: &str = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token";
const REGIONAL: &str = "https://westus.login.microsoft.com/contoso.com/oauth2/v2.0/token";

/// A certificate credential over a [`CountingSigner`], on a platform with a settable clock.
struct Signing {
    credential: ClientCredential,
    calls: Rc<Cell<u32>>,
    fail: Rc<Cell<bool>>,
    replay: ReplayPlatform,
    entropy: Counter,
}

impl Signing {
    fn new() -> Self {
        let calls = Rc::new(Cell::new(0));
        let fail = Rc::new(Cell::new(false));
        let chain = Certificate::chain_from_pem("CLIENT_CERTIFICATE", CERT_PEM).unwrap();
        let key = PrivateKey::from_pem("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM).unwrap();
        let signer = CountingSigner {
            calls: Rc::clone(&calls),
            fail: Rc::clone(&fail),
        };
        let certificate = ClientCertificate::new(chain, key).unwrap();
        Self {
            credential: ClientCredential::Certificate(CertificateCredential::new(
                certificate,
                Box::new(signer),
                false,
            )),
            calls,
            fail,
            replay: ReplayPlatform::new(&[]),
            entropy: Counter::default(),
        }
    }

    /// Authenticates a request to `endpoint` at `now`: the assertion, or the error.
    fn assertion(&self, endpoint: &str, now: u64) -> Result<String, Error> {
        self.replay.now.set(now);
        let platform = Platform {
            entropy: &self.entropy,
            ..self.replay.platform(&NoStore)
        };
        let endpoint = Url::parse(endpoint).unwrap();
        let auth = futures::executor::block_on(
            self.credential
                .authenticate("client-1", &endpoint, &platform),
        )?;
        let ClientAuthentication::Assertion(assertion) = auth else {
            panic!("an assertion")
        };
        Ok(String::from(assertion.expose_secret()))
    }
}

fn claims(jws: &str) -> serde_json::Value {
    let payload = jws.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

const T0: u64 = crate::testing::NOW;

#[test]
fn a_certificate_assertion_is_reused_for_the_same_endpoint_within_its_window() {
    let signing = Signing::new();
    let first = signing.assertion(GLOBAL, T0).unwrap();
    let last_second = T0 + ASSERTION_LIFETIME_SECS - REUSE_MARGIN_SECS - 1;
    for now in [T0, T0 + 1, last_second] {
        assert_eq!(signing.assertion(GLOBAL, now).unwrap(), first, "{now}");
    }
    assert_eq!(signing.calls.get(), 1, "signed once");
    assert_eq!(claims(&first)["aud"], GLOBAL);
    assert_eq!(claims(&first)["exp"], T0 + ASSERTION_LIFETIME_SECS);
}

#[test]
fn past_the_margin_a_new_assertion_is_signed_with_a_new_jti() {
    let signing = Signing::new();
    let first = signing.assertion(GLOBAL, T0).unwrap();
    let later = T0 + ASSERTION_LIFETIME_SECS - REUSE_MARGIN_SECS;
    let second = signing.assertion(GLOBAL, later).unwrap();
    assert_eq!(signing.calls.get(), 2);
    assert_ne!(claims(&second)["jti"], claims(&first)["jti"]);
    assert_eq!(claims(&second)["nbf"], later);
    assert_eq!(claims(&second)["exp"], later + ASSERTION_LIFETIME_SECS);
    // The new one is reused in its turn.
    assert_eq!(signing.assertion(GLOBAL, later + 1).unwrap(), second);
    assert_eq!(signing.calls.get(), 2);
}

#[test]
fn a_clock_set_back_before_the_assertions_nbf_signs_a_new_one() {
    // The client's corrected clock learned that the local clock was ahead of the provider's.
    let signing = Signing::new();
    let first = signing.assertion(GLOBAL, T0).unwrap();
    let second = signing.assertion(GLOBAL, T0 - 30).unwrap();
    assert_eq!(signing.calls.get(), 2);
    assert_eq!(claims(&second)["nbf"], T0 - 30);
    assert_ne!(claims(&second)["jti"], claims(&first)["jti"]);
}

#[test]
fn each_token_endpoint_gets_its_own_assertion() {
    let signing = Signing::new();
    let global = signing.assertion(GLOBAL, T0).unwrap();
    let regional = signing.assertion(REGIONAL, T0 + 1).unwrap();
    assert_eq!(signing.calls.get(), 2);
    assert_eq!(claims(&regional)["aud"], REGIONAL);
    assert_ne!(claims(&regional)["jti"], claims(&global)["jti"]);
    assert_eq!(signing.assertion(GLOBAL, T0 + 2).unwrap(), global);
    assert_eq!(signing.assertion(REGIONAL, T0 + 2).unwrap(), regional);
    assert_eq!(signing.calls.get(), 2);
}

#[test]
fn a_signing_failure_is_not_kept() {
    let signing = Signing::new();
    signing.fail.set(true);
    let err = signing.assertion(GLOBAL, T0).unwrap_err();
    assert_eq!(err, Error::Signing("the test signer fails".into()));
    assert!(signing.assertion(GLOBAL, T0 + 1).is_err(), "tried again");
    assert_eq!(signing.calls.get(), 2);
    signing.fail.set(false);
    let signed = signing.assertion(GLOBAL, T0 + 2).unwrap();
    assert_eq!(signing.calls.get(), 3);
    assert_eq!(signing.assertion(GLOBAL, T0 + 3).unwrap(), signed);
    assert_eq!(signing.calls.get(), 3);
}

#[test]
fn a_kept_assertion_stays_redacted() {
    let signing = Signing::new();
    let assertion = signing.assertion(GLOBAL, T0).unwrap();
    let text = format!("{:?}", signing.credential);
    assert!(!text.contains(&assertion), "{text}");
    assert!(
        !text.contains(assertion.split('.').nth(1).unwrap()),
        "{text}"
    );
}
