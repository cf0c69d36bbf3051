use super::*;
use crate::error::TransportErrorKind;
use alloc::format;
use alloc::vec;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn response(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![(
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        )],
        body: body.as_bytes().to_vec(),
    }
}

fn problem(err: Error) -> (u16, ResponseProblem) {
    match err {
        Error::InvalidResponse(InvalidResponse { status, problem }) => (status, problem),
        other => panic!("expected an invalid response, got {other:?}"),
    }
}

#[test]
fn parses_a_standard_success_response() {
    let parsed = parse_token_response(&response(
        200,
        r#"{"access_token":"abc.def.ghi","token_type":"bearer","expires_in":3600,"scope":"api://downstream/.default","refresh_token":"r1","id_token":"i1"}"#,
    ))
    .unwrap();
    assert_eq!(parsed.access_token.expose_secret(), "abc.def.ghi");
    assert_eq!(parsed.expires_in, Some(3600));
    assert_eq!(parsed.scope.as_deref(), Some("api://downstream/.default"));
    assert_eq!(parsed.refresh_token.unwrap().expose_secret(), "r1");
    assert_eq!(parsed.id_token.unwrap().expose_secret(), "i1");
    assert_eq!(parsed.refresh_in, None);
}

#[test]
fn parses_entra_numeric_strings_and_refresh_in() {
    let parsed = parse_token_response(&response(
        200,
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/entra/client_credentials_success.json"
        )),
    ))
    .unwrap();
    assert_eq!(
        (parsed.expires_in, parsed.ext_expires_in, parsed.refresh_in),
        (Some(3599), Some(3599), Some(1799))
    );
}

#[test]
fn parses_entra_error_fields() {
    let err = parse_token_response(&response(
        401,
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/entra/invalid_client_secret.json"
        )),
    ))
    .unwrap_err();
    let server = err.server_error().expect("server error");
    assert_eq!(server.status, 401);
    assert_eq!(server.error, "invalid_client");
    assert_eq!(server.error_codes, vec![7000215]);
    assert_eq!(
        server.correlation_id.as_deref(),
        Some("6f0e9d8c-7b6a-4958-8374-65a4b3c2d1e0")
    );
    assert_eq!(
        server.trace_id.as_deref(),
        Some("0b2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d")
    );
    assert_eq!(server.timestamp.as_deref(), Some("2026-11-20 09:14:03Z"));
    assert!(server
        .error_description
        .as_deref()
        .unwrap()
        .starts_with("AADSTS7000215"));
    let text = format!("{err}");
    assert!(
        text.contains("invalid_client") && text.contains("7000215") && text.contains("6f0e9d8c"),
        "{text}"
    );

    let err = parse_token_response(&response(
        400,
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/entra/interaction_required_claims.json"
        )),
    ))
    .unwrap_err();
    let server = err.server_error().unwrap();
    assert_eq!(server.suberror.as_deref(), Some("basic_action"));
    assert!(server.claims.as_deref().unwrap().contains("capolids"));
    assert_eq!(server.error_codes, vec![50076]);

    let err = parse_token_response(&response(
        401,
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/entra/invalid_client_thumbprint.json"
        )),
    ))
    .unwrap_err();
    assert_eq!(err.server_error().unwrap().error_codes, vec![700027]);
}

#[test]
fn html_error_pages_are_typed_not_parsed() {
    let page = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/entra/service_unavailable.html"
    ));
    let mut html = response(503, page);
    assert_eq!(
        problem(parse_token_response(&html).unwrap_err()),
        (503, ResponseProblem::Html)
    );
    html.headers = vec![("content-type".into(), "text/html".into())];
    html.body = b"oops".to_vec();
    assert_eq!(
        problem(parse_token_response(&html).unwrap_err()),
        (503, ResponseProblem::Html)
    );
    // An HTML page with a 200 status (a captive portal, a sign-in page) is no token either.
    assert_eq!(
        problem(parse_token_response(&response(200, page)).unwrap_err()),
        (200, ResponseProblem::Html)
    );
}

#[test]
fn every_bad_input_class_gets_its_own_typed_error() {
    let invalid_field = |field, reason| ResponseProblem::InvalidField { field, reason };
    let cases: &[(u16, &str, ResponseProblem)] = &[
        (302, "", ResponseProblem::UnexpectedRedirect),
        (
            307,
            r#"{"access_token":"a","token_type":"Bearer"}"#,
            ResponseProblem::UnexpectedRedirect,
        ),
        (200, "not json", ResponseProblem::NotJson),
        (200, "", ResponseProblem::NotJson),
        (200, "{\"access_token\":", ResponseProblem::NotJson),
        (200, "[]", ResponseProblem::NotAnObject),
        (200, "\"token\"", ResponseProblem::NotAnObject),
        (200, "null", ResponseProblem::NotAnObject),
        (
            200,
            r#"{"token_type":"Bearer","expires_in":10}"#,
            ResponseProblem::MissingField("access_token"),
        ),
        (
            200,
            r#"{"access_token":"","token_type":"Bearer"}"#,
            ResponseProblem::MissingField("access_token"),
        ),
        (
            200,
            r#"{"access_token":7,"token_type":"Bearer"}"#,
            invalid_field("access_token", "is not a string"),
        ),
        (
            200,
            "{\"access_token\":\"a\\r\\nSet-Cookie: x\",\"token_type\":\"Bearer\"}",
            invalid_field("access_token", "has characters not allowed in a header"),
        ),
        (
            200,
            r#"{"access_token":"a"}"#,
            ResponseProblem::MissingField("token_type"),
        ),
        (
            200,
            r#"{"access_token":"a","token_type":"pop"}"#,
            invalid_field("token_type", "is not Bearer"),
        ),
        (
            200,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":-1}"#,
            invalid_field("expires_in", "is not a non-negative integer"),
        ),
        (
            200,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":"-1"}"#,
            invalid_field("expires_in", "is not a non-negative integer"),
        ),
        (
            200,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":"soon"}"#,
            invalid_field("expires_in", "is not a non-negative integer"),
        ),
        (
            200,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":36.5}"#,
            invalid_field("expires_in", "is not a non-negative integer"),
        ),
        (
            200,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":true}"#,
            invalid_field("expires_in", "is not a non-negative integer"),
        ),
        (
            200,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":99999999999999999999999}"#,
            invalid_field("expires_in", "is not a non-negative integer"),
        ),
        (
            200,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":"99999999999999999999999"}"#,
            invalid_field("expires_in", "is too large"),
        ),
        (
            200,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":18446744073709551615}"#,
            invalid_field("expires_in", "is longer than a year"),
        ),
        (
            200,
            r#"{"access_token":"a","token_type":"Bearer","refresh_in":"x"}"#,
            invalid_field("refresh_in", "is not a non-negative integer"),
        ),
        (500, "", ResponseProblem::NotJson),
        (
            500,
            r#"{"message":"boom"}"#,
            ResponseProblem::UnexpectedStatus,
        ),
        (502, "[1,2]", ResponseProblem::UnexpectedStatus),
        (429, r#"{"error":42}"#, ResponseProblem::UnexpectedStatus),
    ];
    for (status, body, expected) in cases {
        let err = parse_token_response(&response(*status, body)).unwrap_err();
        assert_eq!(
            problem(err),
            (*status, expected.clone()),
            "status {status} body {body}"
        );
    }
}

#[test]
fn oversize_bodies_are_refused_before_parsing() {
    let mut big =
        alloc::string::String::from(r#"{"access_token":"a","token_type":"Bearer","pad":""#);
    big.push_str(&"x".repeat(MAX_RESPONSE_BODY_BYTES));
    big.push_str("\"}");
    let err = parse_token_response(&response(200, &big)).unwrap_err();
    assert_eq!(
        problem(err),
        (
            200,
            ResponseProblem::BodyTooLarge {
                limit: MAX_RESPONSE_BODY_BYTES
            }
        )
    );
}

#[test]
fn error_display_never_contains_the_token() {
    let err = parse_token_response(&response(
        200,
        r#"{"access_token":"SENTINEL-token","token_type":"mac"}"#,
    ))
    .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("SENTINEL"));
    // Transport errors render their kind.
    let transport = Error::Transport(crate::error::TransportError {
        kind: TransportErrorKind::Timeout,
        message: "after 10 s".into(),
    });
    assert_eq!(format!("{transport}"), "request timed out: after 10 s");
}
