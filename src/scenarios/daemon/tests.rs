use super::*;
use crate::error::{ServerError, TransportError};
use alloc::boxed::Box;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn reply(failure: CallFailure) -> (u16, serde_json::Value) {
    let (status, body) = error_reply(&failure);
    (status, serde_json::from_slice(&body).unwrap())
}

#[test]
fn provider_errors_keep_their_code_and_ids_but_not_their_description() {
    let server = ServerError {
        status: 401,
        error: "invalid_client".into(),
        error_description: Some("AADSTS7000215: Invalid client secret SENTINEL".into()),
        error_codes: alloc::vec![7000215],
        correlation_id: Some("corr".into()),
        trace_id: Some("trace".into()),
        ..ServerError::default()
    };
    let (status, body) = reply(CallFailure::Token(Error::Server(Box::new(server))));
    assert_eq!(status, 502);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], json!([7000215]));
    assert_eq!(body["correlation_id"], "corr");
    assert_eq!(body["trace_id"], "trace");
    assert!(!alloc::string::ToString::to_string(&body).contains("SENTINEL"));
}

#[test]
fn each_failure_class_has_its_status() {
    let timeout = Error::Transport(TransportError {
        kind: TransportErrorKind::Timeout,
        message: "10 s".into(),
    });
    let network = Error::Transport(TransportError {
        kind: TransportErrorKind::Network,
        message: "refused".into(),
    });
    assert_eq!(
        reply(CallFailure::Token(Error::configuration(
            "missing setting CLIENT_ID"
        )))
        .1["error_description"],
        "missing setting CLIENT_ID"
    );
    assert_eq!(reply(CallFailure::Token(timeout.clone())).0, 504);
    assert_eq!(
        reply(CallFailure::Token(network.clone())).1["error"],
        "network_error"
    );
    assert_eq!(
        reply(CallFailure::Downstream(timeout)).1["error"],
        "downstream_timeout"
    );
    assert_eq!(
        reply(CallFailure::Downstream(network)),
        (
            502,
            json!({"error": "downstream_unreachable", "error_description": "the downstream API could not be reached"})
        )
    );
}

/// Settings that answer every name and record the names asked for.
struct Recording {
    values: alloc::collections::BTreeMap<&'static str, &'static str>,
    asked: core::cell::RefCell<alloc::collections::BTreeSet<String>>,
}

impl Settings for Recording {
    fn get(&self, name: &str) -> Option<String> {
        self.asked.borrow_mut().insert(name.into());
        self.values.get(name).map(|value| String::from(*value))
    }
}

#[test]
fn the_setting_names_cover_everything_the_daemon_reads() {
    use crate::credentials::certificate::tests::{CERT_PEM, KEY_PKCS8_PEM};
    let base = [
        ("AUTHORITY", "http://127.0.0.1:9400"),
        ("CLIENT_ID", "daemon"),
        ("DOWNSTREAM_URL", "http://127.0.0.1:9500/api"),
        ("DOWNSTREAM_SCOPES", "api://downstream/.default"),
        ("HTTP_TIMEOUT_MS", "5000"),
        ("AUTHORITY_KIND", "oidc"),
    ];
    let credentials: [&[(&str, &str)]; 3] = [
        &[
            ("CLIENT_SECRET", "s"),
            ("CLIENT_AUTH_METHOD", "client_secret_basic"),
        ],
        &[
            ("CLIENT_CERTIFICATE", CERT_PEM),
            ("CLIENT_PRIVATE_KEY", KEY_PKCS8_PEM),
            ("CLIENT_ASSERTION_ALG", "RS256"),
            ("CLIENT_SEND_X5C", "true"),
        ],
        &[("CLIENT_ASSERTION", "a.b.c")],
    ];
    for credential in credentials {
        let settings = Recording {
            values: base.iter().chain(credential).copied().collect(),
            asked: Default::default(),
        };
        let layered = crate::config::azure_ad::AzureAdSettings::new(&settings).unwrap();
        DaemonConfig::from_settings(&layered).unwrap();
        for name in settings.asked.borrow().iter() {
            assert!(
                DAEMON_SETTING_NAMES.contains(&name.as_str()),
                "{name} is not listed"
            );
        }
    }
}

#[test]
fn a_call_reply_passes_the_downstream_answer_through_with_the_token_source() {
    let downstream = HttpResponse {
        status: 403,
        headers: vec![
            header("Content-Type", "text/plain"),
            header("set-cookie", "x=y"),
        ],
        body: b"nope".to_vec(),
    };
    let reply = answer_reply(downstream, TokenSource::Store);
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body, b"nope");
    assert_eq!(
        reply.headers,
        vec![
            header("content-type", "text/plain"),
            header(TOKEN_SOURCE_HEADER, "store")
        ]
    );
}

#[test]
fn a_failed_call_replies_with_the_error_json() {
    let failure = CallFailure::Token(Error::configuration("missing setting CLIENT_ID"));
    let (status, body) = error_reply(&failure);
    let reply = call_reply(Err(failure));
    assert_eq!((reply.status, &reply.body), (status, &body));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header(TOKEN_SOURCE_HEADER), None);
    assert_eq!(reply.header("retry-after"), None);

    let throttled = CallFailure::Token(Error::Throttled {
        retry_after_secs: 42,
    });
    let reply = call_reply(Err(throttled));
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("retry-after"), Some("42"));
}
