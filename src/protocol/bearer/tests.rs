use super::*;
use alloc::format;
use alloc::string::ToString;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn bearer_credentials_are_parsed() {
    for header in [
        "Bearer eyJ0.eyJ1.sig",
        "bearer eyJ0.eyJ1.sig",
        "BEARER   eyJ0.eyJ1.sig",
        "  Bearer eyJ0.eyJ1.sig  ",
    ] {
        let token = bearer_token(Some(header)).unwrap();
        assert_eq!(token.expose_secret(), "eyJ0.eyJ1.sig", "{header}");
    }
    let token = bearer_token(Some("Bearer mF_9.B5f-4.1JqM+/x==")).unwrap();
    assert_eq!(token.expose_secret(), "mF_9.B5f-4.1JqM+/x==");
}

#[test]
fn malformed_authorization_headers_are_refused() {
    assert_eq!(bearer_token(None), Err(CredentialsError::Missing));
    for header in [
        "",
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "Basic dXNlcjpwYXNz",
        "Bearertoken",
        "Bearer\ttok",
        "Bearer a b",
        "Bearer a,b",
        "Bearer a\"b",
        "Bearer ==",
        "Bearer tok=en",
        "Bearer tök",
        "Token abc",
    ] {
        assert_eq!(
            bearer_token(Some(header)),
            Err(CredentialsError::Malformed),
            "{header:?}"
        );
    }
    let huge = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
    assert_eq!(bearer_token(Some(&huge)), Err(CredentialsError::TooLarge));
    let limit = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES));
    assert!(bearer_token(Some(&limit)).is_ok());
}

#[test]
fn challenges_are_built_with_quoted_strings() {
    assert_eq!(BearerChallenge::default().to_header_value(), "Bearer");
    let challenge = BearerChallenge {
        realm: Some("api://webapi".into()),
        ..BearerChallenge::error(BearerErrorCode::InvalidToken, "the token has \"expired\"")
    };
    assert_eq!(
        challenge.to_header_value(),
        r#"Bearer realm="api://webapi", error="invalid_token", error_description="the token has expired""#
    );
    let scope = BearerChallenge {
        scope: Some("access_as_user".into()),
        ..BearerChallenge::error(BearerErrorCode::InsufficientScope, "ü needs\nscope")
    };
    assert_eq!(
        scope.to_header_value(),
        r#"Bearer error="insufficient_scope", error_description=" needsscope", scope="access_as_user""#
    );
}

#[test]
fn claims_challenges_round_trip_in_base64() {
    let claims = r#"{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}"#;
    let challenge = BearerChallenge {
        claims: Some(claims.into()),
        authorization_uri: Some("https://login.microsoftonline.com/common/oauth2/authorize".into()),
        ..BearerChallenge::error(BearerErrorCode::InsufficientClaims, "claims needed")
    };
    let header = challenge.to_header_value();
    // Entra's CAE example, byte for byte (standard base64 with padding).
    assert!(header.ends_with(
        r#"claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNjA0MTA2NjUxIn19fQ==""#
    ), "{header}");
    assert_eq!(BearerChallenge::from_header_value(&header), Some(challenge));
}

#[test]
fn entra_cae_challenge_is_parsed() {
    // The shape of Microsoft Graph's continuous access evaluation 401.
    let header = r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0=""#;
    let challenge = BearerChallenge::from_header_value(header).unwrap();
    assert_eq!(challenge.realm.as_deref(), Some(""));
    assert_eq!(challenge.error, Some(BearerErrorCode::InsufficientClaims));
    assert_eq!(
        challenge.claims.as_deref(),
        Some(r#"{"access_token":{"nbf":{"essential":true, "value":"1604106651"}}}"#)
    );
    assert_eq!(
        challenge.authorization_uri.as_deref(),
        Some("https://login.microsoftonline.com/common/oauth2/authorize")
    );
}

#[test]
fn several_challenges_and_token68_are_handled() {
    let header = r#"Basic realm="simple", Newauth realm="apps", type=1, title="Login to \"apps\"", Bearer error=invalid_token, scope="a b""#;
    let challenge = BearerChallenge::from_header_value(header).unwrap();
    assert_eq!(challenge.error, Some(BearerErrorCode::InvalidToken));
    assert_eq!(challenge.scope.as_deref(), Some("a b"));
    let challenges = parse_challenges(header).unwrap();
    assert_eq!(challenges.len(), 3);
    assert_eq!(
        challenges[1].params[2],
        ("title".to_string(), "Login to \"apps\"".to_string())
    );

    let token68 = parse_challenges("Negotiate YIIB+w==, Bearer realm=\"r\"").unwrap();
    assert_eq!(token68.len(), 2);
    assert_eq!(token68[0].params, Vec::new());
    assert_eq!(token68[1].params, alloc::vec![("realm".into(), "r".into())]);
    assert_eq!(
        BearerChallenge::from_header_value("Bearer").unwrap(),
        BearerChallenge::default()
    );
}

#[test]
fn bad_challenges_never_panic() {
    for header in [
        "",
        ",,,",
        "Basic realm=\"x\"",
        "Bearer error=\"unterminated",
        "Bearer error=\"a\\",
        "Bearer =x",
        "Bearer error=",
        "Bearer claims=\"not base64!\"",
        "Bearer claims=\"WzFd\"", // base64 of `[1]`: JSON, but not an object
        "\u{1F600} Bearer",
    ] {
        let parsed = BearerChallenge::from_header_value(header);
        if let Some(challenge) = parsed {
            assert_eq!(challenge.claims, None, "{header}");
        }
    }
    assert_eq!(
        BearerChallenge::from_header_value("Basic realm=\"x\""),
        None
    );
    let unknown = BearerChallenge::from_header_value("Bearer error=\"made_up\"").unwrap();
    assert_eq!(unknown.error, None);
}
