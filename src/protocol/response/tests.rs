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

#[test]
fn duplicate_members_are_refused_in_token_responses() {
    for body in [
        r#"{"access_token":"good","token_type":"Bearer","access_token":"evil"}"#,
        r#"{"access_token":"a","token_type":"Bearer","token_type":"pop"}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":60,"expires_in":31536000}"#,
        r#"{"access_token":"a","\u0061ccess_token":"b","token_type":"Bearer"}"#,
        r#"{"access_token":"a","token_type":"Bearer","x":{"y":1,"y":2}}"#,
    ] {
        assert_eq!(
            problem(parse_token_response(&response(200, body)).unwrap_err()),
            (200, ResponseProblem::DuplicateMember),
            "{body}"
        );
    }
    // Error responses too: which `error` (and so which handling) would depend on the parser.
    let err = parse_token_response(&response(
        400,
        r#"{"error":"invalid_grant","error":"interaction_required"}"#,
    ))
    .unwrap_err();
    assert_eq!(problem(err), (400, ResponseProblem::DuplicateMember));
    assert!(
        format!("{}", invalid(200, ResponseProblem::DuplicateMember))
            .contains("names a member twice")
    );
}

fn server_error(status: u16, body: &str) -> ServerError {
    match parse_token_response(&response(status, body)).unwrap_err() {
        Error::Server(server) => *server,
        other => panic!("expected a server error, got {other:?}"),
    }
}

#[test]
fn error_must_be_a_short_rfc_6749_error_code() {
    let invalid_error = |reason| ResponseProblem::InvalidField {
        field: "error",
        reason,
    };
    let long = "x".repeat(100 * 1024);
    let cases = [
        (long.as_str(), invalid_error("is longer than 64 characters")),
        (
            &long[..MAX_ERROR_CHARS + 1],
            invalid_error("is longer than 64 characters"),
        ),
        (
            r#"invalid_grant\"injected"#,
            invalid_error("has characters outside RFC 6749 §5.2's set"),
        ),
        (
            r"invalid_grant\\",
            invalid_error("has characters outside RFC 6749 §5.2's set"),
        ),
        (
            r"invalid_grant\r\nlevel=ERROR",
            invalid_error("has characters outside RFC 6749 §5.2's set"),
        ),
        (
            r"bad\u0000",
            invalid_error("has characters outside RFC 6749 §5.2's set"),
        ),
        (
            r"bad\u007f",
            invalid_error("has characters outside RFC 6749 §5.2's set"),
        ),
        (
            "invalid_gränt",
            invalid_error("has characters outside RFC 6749 §5.2's set"),
        ),
    ];
    for (error, expected) in cases {
        let body = format!(r#"{{"error":"{error}","error_codes":[70000]}}"#);
        let err = parse_token_response(&response(400, &body)).unwrap_err();
        let shown = format!("{err}");
        assert!(shown.len() < 200, "{shown}");
        assert_eq!(
            problem(err),
            (400, expected),
            "{}",
            &error[..error.len().min(40)]
        );
    }
    // At the bound, and with the characters RFC 6749 allows (space and `!` included).
    let at_bound = "e".repeat(MAX_ERROR_CHARS);
    let body = format!(r#"{{"error":"{at_bound}"}}"#);
    assert_eq!(server_error(400, &body).error, at_bound);
    assert_eq!(
        server_error(
            400,
            r#"{"error":"odd but ok! #$%&'()*+,-./:;<=>?@[]^_`{|}~"}"#
        )
        .error,
        "odd but ok! #$%&'()*+,-./:;<=>?@[]^_`{|}~"
    );
}

#[test]
fn a_huge_error_never_reaches_the_public_reply() {
    use crate::scenarios::call_failure::{error_reply, CallFailure};
    let big = "A".repeat(100 * 1024);
    let body = format!(
        r#"{{"error":"{big}","error_description":"{big}","suberror":"{big}","trace_id":"{big}","correlation_id":"{big}","timestamp":"{big}","error_uri":"{big}","error_codes":[{codes}]}}"#,
        codes = vec!["1"; 10_000].join(",")
    );
    let err = parse_token_response(&response(400, &body)).unwrap_err();
    let (status, reply) = error_reply(&CallFailure::Token(err.clone()));
    assert_eq!(status, 502);
    assert!(reply.len() < 1024, "{} bytes", reply.len());
    assert!(format!("{err}").len() < 1024);

    // A valid `error` with every other field oversized: the fields are dropped or cut (60 KiB
    // each, so the body stays under `MAX_RESPONSE_BODY_BYTES`).
    let big = &big[..60 * 1024];
    let body = format!(
        r#"{{"error":"invalid_grant","error_description":"{big}","suberror":"{big}","trace_id":"{big}","correlation_id":"{big}","timestamp":"{big}","error_uri":"{big}","error_codes":[{codes}]}}"#,
        codes = vec!["1"; 10_000].join(",")
    );
    let err = parse_token_response(&response(400, &body)).unwrap_err();
    let server = err.server_error().unwrap();
    assert_eq!(server.error, "invalid_grant");
    assert_eq!(
        server.error_description.as_deref().map(str::len),
        Some(MAX_ERROR_DESCRIPTION_CHARS)
    );
    assert_eq!(server.error_codes, vec![1; MAX_ERROR_CODES]);
    assert_eq!(
        (
            &server.suberror,
            &server.trace_id,
            &server.correlation_id,
            &server.timestamp,
            &server.error_uri
        ),
        (&None, &None, &None, &None, &None)
    );
    let (_, reply) = error_reply(&CallFailure::Token(err.clone()));
    assert!(reply.len() < 1024, "{} bytes", reply.len());
    assert!(format!("{err} {err:?}").len() < 2048);
}

#[test]
fn provider_ids_and_codes_are_bounded_and_restricted() {
    let at = |n: usize| "a".repeat(n);
    let server = server_error(
        400,
        &format!(
            r#"{{"error":"invalid_grant","suberror":"{}","trace_id":"{}","correlation_id":"{}"}}"#,
            at(MAX_SUBERROR_CHARS),
            at(MAX_ID_CHARS),
            at(MAX_ID_CHARS)
        ),
    );
    assert_eq!(server.suberror, Some(at(MAX_SUBERROR_CHARS)));
    assert_eq!(server.trace_id, Some(at(MAX_ID_CHARS)));
    assert_eq!(server.correlation_id, Some(at(MAX_ID_CHARS)));
    let server = server_error(
        400,
        &format!(
            r#"{{"error":"invalid_grant","suberror":"{}","trace_id":"{}","correlation_id":"{}"}}"#,
            at(MAX_SUBERROR_CHARS + 1),
            at(MAX_ID_CHARS + 1),
            at(MAX_ID_CHARS + 1)
        ),
    );
    assert_eq!(
        (server.suberror, server.trace_id, server.correlation_id),
        (None, None, None)
    );
    // Characters that could forge a log field or break out of a quoted value are dropped.
    for bad in [
        r"consent_required\r\nlevel=error",
        "consent required",
        r#"consent\"required"#,
        r"consent\\required",
        "consent`required",
        "c\u{e9}",
        r"x\u0000",
    ] {
        let server = server_error(
            400,
            &format!(
                r#"{{"error":"invalid_grant","suberror":"{bad}","trace_id":"{bad}","correlation_id":"{bad}","timestamp":"{bad}\u0001"}}"#
            ),
        );
        assert_eq!(
            (
                server.suberror,
                server.trace_id,
                server.correlation_id,
                server.timestamp
            ),
            (None, None, None, None),
            "{bad}"
        );
    }
    // `error_codes`: integers up to the bound, the first few, in order.
    let server = server_error(
        400,
        r#"{"error":"invalid_grant","error_codes":[50076,-1,1.5,"7",100000000,99999999,null,0,1,2,3,4,5,6,7,8]}"#,
    );
    assert_eq!(server.error_codes, vec![50076, 99999999, 0, 1, 2, 3, 4, 5]);
    assert_eq!(server.error_codes.len(), MAX_ERROR_CODES);
    const { assert!(MAX_ERROR_CODE_VALUE >= 9_999_999) };
    // `error_uri`: a URI (no space, `"` or `\`), bounded.
    let server = server_error(
        400,
        r#"{"error":"invalid_grant","error_uri":"https://example.com/a b"}"#,
    );
    assert_eq!(server.error_uri, None);
    let uri = format!("https://example.com/{}", at(MAX_ERROR_URI_CHARS));
    let server = server_error(
        400,
        &format!(r#"{{"error":"invalid_grant","error_uri":"{uri}"}}"#),
    );
    assert_eq!(server.error_uri, None);
}

#[test]
fn error_description_is_cut_and_restricted() {
    let server = server_error(
        400,
        r#"{"error":"invalid_grant","error_description":"AADSTS50076: MFA.\r\nTrace ID: x\t\"q\" back\\slash caf\u00e9 \u0000end"}"#,
    );
    assert_eq!(
        server.error_description.as_deref(),
        Some("AADSTS50076: MFA.  Trace ID: x ?q? back?slash caf? ?end")
    );
    // Cut by characters, never inside one: a 4-byte character at the bound is replaced.
    let text = "\u{1F600}".repeat(MAX_ERROR_DESCRIPTION_CHARS + 10);
    let server = server_error(
        400,
        &format!(r#"{{"error":"invalid_grant","error_description":"{text}"}}"#),
    );
    assert_eq!(
        server.error_description,
        Some("?".repeat(MAX_ERROR_DESCRIPTION_CHARS))
    );
}

#[test]
fn an_oversize_claims_challenge_is_refused_not_dropped() {
    let claims = format!(
        r#"{{\"access_token\":{{\"x\":\"{}\"}}}}"#,
        "a".repeat(MAX_CLAIMS_CHALLENGE_BYTES)
    );
    let err = parse_token_response(&response(
        400,
        &format!(r#"{{"error":"interaction_required","claims":"{claims}"}}"#),
    ))
    .unwrap_err();
    assert_eq!(
        problem(err),
        (
            400,
            ResponseProblem::InvalidField {
                field: "claims",
                reason: "is longer than 8 KiB"
            }
        )
    );
}
