use super::*;
use crate::error::TransportErrorKind;
use crate::error::{ServerError, TransportError};
use alloc::boxed::Box;
use serde_json::json;
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

#[test]
fn the_setting_names_cover_everything_the_daemon_reads() {
    let base = [
        ("AUTHORITY", "http://127.0.0.1:9400"),
        ("CLIENT_ID", "daemon"),
        ("DOWNSTREAM_URL", "http://127.0.0.1:9500/api"),
        ("DOWNSTREAM_SCOPES", "api://downstream/.default"),
        ("HTTP_TIMEOUT_MS", "5000"),
        ("AUTHORITY_KIND", "oidc"),
        ("DAEMON_API_AUDIENCE", "api://daemon daemon"),
        ("DAEMON_CALLER_ROLES", "Daemon.Call"),
        ("ALLOWED_TENANTS", "t1"),
        ("DAEMON_PUBLIC", "false"),
        ("ACCESS_TOKEN_SIGNING_ALG", "ES256"),
    ];
    crate::testing::assert_reads_only_listed(DAEMON_SETTING_NAMES, &base, |settings| {
        DaemonConfig::from_settings(settings).map(drop)
    });
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

/// The caller rule of `/daemon/call`: who may make the app act with its own permissions.
#[cfg(feature = "rustcrypto")]
mod callers {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scenarios::protected::tests::{
        app_token, provider, signed_token, urls, DISCOVERY, DISCOVERY_AND_KEYS, ISSUER,
    };
    use crate::testing::{MapSettings, MapStore, ReplayPlatform, NOW};
    use crate::validation::verifier::rustcrypto::RustCryptoVerifier;
    use crate::validation::verifier::VerificationAlgorithm;
    use alloc::format;
    use alloc::string::ToString;
    use futures::executor::block_on;

    const BASE: [(&str, &str); 5] = [
        ("AUTHORITY", ISSUER),
        ("CLIENT_ID", "daemon"),
        ("CLIENT_SECRET", "pw"),
        ("DOWNSTREAM_URL", "https://downstream.example.com/api"),
        ("DOWNSTREAM_SCOPES", "api://downstream/.default"),
    ];
    const PROTECTED: [(&str, &str); 2] = [
        ("DAEMON_API_AUDIENCE", "api://daemon"),
        ("DAEMON_CALLER_ROLES", "Daemon.Call Daemon.Admin"),
    ];

    fn config(extra: &[(&'static str, &str)]) -> Result<DaemonConfig, Error> {
        let mut settings = MapSettings::of(&BASE);
        for (name, value) in extra {
            settings.0.insert(name, value.to_string());
        }
        DaemonConfig::from_settings(&settings)
    }

    fn daemon(extra: &[(&'static str, &str)]) -> Daemon {
        let signer = |_, _| async { Err(Error::Signing("no certificate here".into())) };
        let verifier = Box::new(RustCryptoVerifier::new());
        block_on(Daemon::build(config(extra).unwrap(), signer, verifier)).unwrap()
    }

    fn configuration_error(extra: &[(&'static str, &str)]) -> String {
        match config(extra) {
            Err(Error::Configuration(message)) => message,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    const TOKEN: &str = r#"{"token_type":"Bearer","access_token":"app-token","expires_in":3600}"#;

    #[test]
    fn the_route_is_never_open_by_default() {
        assert!(configuration_error(&[]).contains("DAEMON_API_AUDIENCE"));
        assert!(
            configuration_error(&[("DAEMON_API_AUDIENCE", "api://daemon")])
                .contains("DAEMON_CALLER_ROLES")
        );
        assert!(configuration_error(&[("DAEMON_PUBLIC", "yes")]).contains("DAEMON_PUBLIC"));
        assert!(configuration_error(&[("DAEMON_PUBLIC", "false")]).contains("DAEMON_API_AUDIENCE"));
        // A caller policy and the opt-out together contradict each other: a leftover opt-out
        // never opens a deployment configured for callers.
        let both = [PROTECTED[0], PROTECTED[1], ("DAEMON_PUBLIC", "true")];
        assert!(configuration_error(&both).contains("contradicts"));
        let half = [PROTECTED[1], ("DAEMON_PUBLIC", "true")];
        assert!(configuration_error(&half).contains("contradicts"));

        let protected = config(&PROTECTED).unwrap();
        let DaemonCallers::Bearer(policy) = &protected.callers else {
            panic!("expected a bearer policy");
        };
        assert_eq!(policy.audiences, ["api://daemon"]);
        assert!(policy.required.scopes.is_empty());
        assert_eq!(policy.required.roles, ["Daemon.Call", "Daemon.Admin"]);
        assert_eq!(
            config(&[("DAEMON_PUBLIC", "true")]).unwrap().callers,
            DaemonCallers::Public
        );
        assert!(daemon(&[("DAEMON_PUBLIC", "true")]).is_public());
        assert!(!daemon(&PROTECTED).is_public());
    }

    #[test]
    fn callers_tokens_are_rs256_unless_access_token_signing_alg_says_otherwise() {
        let algorithm = |alg: Option<&'static str>| {
            let mut settings = PROTECTED.to_vec();
            settings.extend(alg.map(|alg| ("ACCESS_TOKEN_SIGNING_ALG", alg)));
            match config(&settings).unwrap().callers {
                DaemonCallers::Bearer(policy) => policy.algorithm,
                DaemonCallers::Public => panic!("expected a bearer policy"),
            }
        };
        assert_eq!(algorithm(None), VerificationAlgorithm::Rs256);
        assert_eq!(algorithm(Some("ES256")), VerificationAlgorithm::Es256);
        assert_eq!(algorithm(Some("PS256")), VerificationAlgorithm::Ps256);
        let bad = [
            PROTECTED[0],
            PROTECTED[1],
            ("ACCESS_TOKEN_SIGNING_ALG", "ES384"),
        ];
        assert!(configuration_error(&bad)
            .contains("ACCESS_TOKEN_SIGNING_ALG must be RS256, PS256 or ES256"));
    }

    #[test]
    fn app_only_scopes_follow_the_microsoft_identity_platform_rule_on_entra_only() {
        let entra = [
            (
                "AUTHORITY",
                "https://login.microsoftonline.com/contoso.onmicrosoft.com",
            ),
            PROTECTED[0],
            PROTECTED[1],
        ];
        for scopes in [
            "api://downstream/user.read",
            "api://a/.default api://b/.default",
        ] {
            let with = [entra[0], entra[1], entra[2], ("DOWNSTREAM_SCOPES", scopes)];
            let message = configuration_error(&with);
            assert!(message.starts_with("DOWNSTREAM_SCOPES: "), "{message}");
            assert!(message.contains("/.default"), "{message}");
        }
        assert!(config(&entra).is_ok());
        // A generic issuer's scopes are its own business.
        let free = [
            PROTECTED[0],
            PROTECTED[1],
            ("DOWNSTREAM_SCOPES", "reports:read reports:list"),
        ];
        assert!(config(&free).is_ok());
    }

    #[test]
    fn a_caller_without_a_token_is_refused_with_no_request_at_all() {
        let daemon = daemon(&PROTECTED);
        let replay = ReplayPlatform::new(&[]);
        let store = MapStore::default();
        for authorization in [None, Some("Basic dXNlcjpwdw=="), Some("Bearer")] {
            let outcome = block_on(daemon.call(authorization, &replay.platform(&store)));
            let Err(failure @ CallFailure::Rejected(_)) = outcome else {
                panic!("expected a rejection for {authorization:?}");
            };
            let reply = call_reply(Err(failure));
            assert_eq!(reply.status, 401);
            assert!(reply
                .header("www-authenticate")
                .is_some_and(|challenge| challenge.starts_with("Bearer")));
            assert_eq!(reply.header("content-type"), Some("application/json"));
        }
        assert!(replay.requests.borrow().is_empty());
    }

    #[test]
    fn a_caller_without_a_caller_role_is_forbidden_and_no_token_is_requested() {
        let daemon = daemon(&PROTECTED);
        let replay = provider();
        let store = MapStore::default();
        let platform = replay.platform(&store);
        for token in [
            app_token("api://daemon", &["Reports.Read"]),
            // A user's delegated token: `scp`, no `roles`.
            signed_token(&json!({"aud": "api://daemon", "scp": "Daemon.Call", "sub": "alice"})),
        ] {
            let authorization = format!("Bearer {token}");
            let failure = block_on(daemon.call(Some(&authorization), &platform)).unwrap_err();
            let reply = call_reply(Err(failure));
            assert_eq!(reply.status, 403);
            assert_eq!(
                reply.header("www-authenticate"),
                Some(
                    r#"Bearer error="insufficient_scope", error_description="the token lacks the required scope or role", scope="Daemon.Call Daemon.Admin""#
                )
            );
            assert_eq!(
                serde_json::from_slice::<serde_json::Value>(&reply.body).unwrap(),
                json!({"error": "insufficient_scope"})
            );
        }
        let expired = signed_token(
            &json!({"aud": "api://daemon", "roles": ["Daemon.Call"], "exp": NOW - 600}),
        );
        let failure =
            block_on(daemon.call(Some(&format!("Bearer {expired}")), &platform)).unwrap_err();
        assert_eq!(call_reply(Err(failure)).status, 401);
        // Discovery and keys only: no token endpoint, no downstream.
        assert_eq!(urls(&replay), DISCOVERY_AND_KEYS);
    }

    #[test]
    fn a_caller_with_a_caller_role_gets_the_downstream_answer() {
        let daemon = daemon(&PROTECTED);
        let replay = provider();
        replay.push(200, TOKEN);
        replay.push(200, r#"{"ok":true}"#);
        let store = MapStore::default();
        let token = app_token("api://daemon", &["Daemon.Admin"]);
        let answer =
            block_on(daemon.call(Some(&format!("Bearer {token}")), &replay.platform(&store)))
                .unwrap();
        assert_eq!(answer.response.status, 200);
        assert_eq!(
            urls(&replay),
            [
                "https://id.example.com/.well-known/openid-configuration",
                "https://id.example.com/jwks",
                "https://id.example.com/token",
                "https://downstream.example.com/api"
            ]
        );
        // The caller's token is never relayed: the downstream gets the app's.
        assert_eq!(
            replay.requests.borrow()[3].header("authorization"),
            Some("Bearer app-token")
        );
    }

    #[test]
    fn a_public_daemon_calls_without_a_caller() {
        let daemon = daemon(&[("DAEMON_PUBLIC", "true")]);
        let replay = ReplayPlatform::new(&[(200, DISCOVERY)]);
        replay.push(200, TOKEN);
        replay.push(200, r#"{"ok":true}"#);
        let store = MapStore::default();
        let answer = block_on(daemon.call(None, &replay.platform(&store))).unwrap();
        assert_eq!(answer.response.status, 200);
        assert_eq!(answer.token_source, TokenSource::Provider);
    }
}
