use super::*;
use alloc::vec::Vec;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn response(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn parses_the_endpoints_of_a_matching_document() {
    let issuer = Issuer::parse("http://127.0.0.1:9400").unwrap();
    assert_eq!(
        ProviderMetadata::request(&issuer).url.as_str(),
        "http://127.0.0.1:9400/.well-known/openid-configuration"
    );
    let metadata = ProviderMetadata::parse(
        &issuer,
        &response(200, r#"{"issuer":"http://127.0.0.1:9400","token_endpoint":"http://127.0.0.1:9400/token","jwks_uri":"http://127.0.0.1:9400/jwks"}"#),
    )
    .unwrap();
    assert_eq!(
        metadata.token_endpoint.as_str(),
        "http://127.0.0.1:9400/token"
    );
    assert_eq!(
        metadata.jwks_uri.unwrap().as_str(),
        "http://127.0.0.1:9400/jwks"
    );
    assert!(metadata.authorization_endpoint.is_none());
}

#[test]
fn issuer_must_match_exactly() {
    let issuer = Issuer::parse("https://id.example.com").unwrap();
    for other in [
        "https://id.example.com/",
        "https://ID.example.com",
        "https://evil.example.com",
    ] {
        let body = alloc::format!(
            r#"{{"issuer":"{other}","token_endpoint":"https://id.example.com/token"}}"#
        );
        let err = ProviderMetadata::parse(&issuer, &response(200, &body)).unwrap_err();
        assert!(
            matches!(err, Error::InvalidResponse(ref r) if r.problem == ResponseProblem::IssuerMismatch),
            "{other}"
        );
    }
}

#[test]
fn entra_documents_keep_their_issuer_on_the_authority_host() {
    let authority = Authority::parse(
        "https://login.microsoftonline.com/contoso.onmicrosoft.com",
        None,
    )
    .unwrap();
    let doc = |issuer: &str| {
        alloc::format!(
            r#"{{"issuer":"{issuer}","token_endpoint":"https://login.microsoftonline.com/t/oauth2/v2.0/token","end_session_endpoint":"https://login.microsoftonline.com/t/oauth2/v2.0/logout"}}"#
        )
    };
    let guid = "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0";
    let metadata = ProviderMetadata::parse_for(&authority, &response(200, &doc(guid))).unwrap();
    assert_eq!(metadata.issuer, guid);
    assert!(metadata.end_session_endpoint.is_some());
    let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
    assert!(ProviderMetadata::parse_for(&authority, &response(200, &doc(template))).is_ok());
    for foreign in [
        "https://evil.test/tid/v2.0",
        "http://login.microsoftonline.com/t/v2.0",
        "not a url",
    ] {
        assert!(
            ProviderMetadata::parse_for(&authority, &response(200, &doc(foreign))).is_err(),
            "{foreign}"
        );
    }
}

fn microsoft_doc(issuer: &str) -> alloc::string::String {
    alloc::format!(
        r#"{{"issuer":"{issuer}","token_endpoint":"https://login.example/t/oauth2/v2.0/token"}}"#
    )
}

fn accepts(authority: &str, kind: Option<crate::AuthorityKind>, issuer: &str) -> bool {
    let authority = Authority::parse(authority, kind).unwrap();
    match ProviderMetadata::parse_for(&authority, &response(200, &microsoft_doc(issuer))) {
        Ok(metadata) => {
            assert_eq!(metadata.issuer, issuer);
            true
        }
        Err(err) => {
            assert!(
                matches!(err, Error::InvalidResponse(ref r) if r.problem == ResponseProblem::IssuerMismatch),
                "{issuer}: {err:?}"
            );
            false
        }
    }
}

#[test]
fn b2c_documents_keep_their_tenant_id_issuer_on_the_authority_host() {
    let authority =
        "https://contosob2c.b2clogin.com/contosob2c.onmicrosoft.com/B2C_1_signupsignin1";
    for issuer in [
        "https://contosob2c.b2clogin.com/775527ff-9a37-4307-8b3d-cc311f58d925/v2.0/",
        "https://contosob2c.b2clogin.com/tfp/775527ff-9a37-4307-8b3d-cc311f58d925/B2C_1_signupsignin1/v2.0/",
    ] {
        assert!(accepts(authority, None, issuer), "{issuer}");
    }
    for issuer in [
        "https://login.microsoftonline.com/775527ff-9a37-4307-8b3d-cc311f58d925/v2.0/",
        "https://fabrikamb2c.b2clogin.com/775527ff-9a37-4307-8b3d-cc311f58d925/v2.0/",
        "http://contosob2c.b2clogin.com/775527ff-9a37-4307-8b3d-cc311f58d925/v2.0/",
    ] {
        assert!(!accepts(authority, None, issuer), "{issuer}");
    }
    let custom = "https://login.contoso.com/contosob2c.onmicrosoft.com/B2C_1A_signin";
    assert!(accepts(
        custom,
        Some(crate::AuthorityKind::B2c),
        "https://login.contoso.com/775527ff-9a37-4307-8b3d-cc311f58d925/v2.0/"
    ));
}

#[test]
fn ciam_documents_name_the_tenant_by_id_on_its_own_host() {
    let tid = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490";
    let issuer = alloc::format!("https://{tid}.ciamlogin.com/{tid}/v2.0");
    for (authority, kind) in [
        (
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com",
            None,
        ),
        ("https://contoso.ciamlogin.com/", None),
        (
            "https://login.contoso.com/contoso.onmicrosoft.com",
            Some(crate::AuthorityKind::Ciam),
        ),
    ] {
        assert!(accepts(authority, kind, &issuer), "{authority}");
    }
    let authority = "https://contoso.ciamlogin.com/";
    assert!(accepts(
        authority,
        None,
        &alloc::format!("https://contoso.ciamlogin.com/{tid}/v2.0")
    ));
    for other in [
        alloc::format!("https://{tid}.ciamlogin.com/00000000-0000-0000-0000-000000000000/v2.0"),
        alloc::format!("https://{tid}.ciamlogin.com.evil.test/{tid}/v2.0"),
        alloc::format!("https://{tid}.evil.test/{tid}/v2.0"),
        alloc::format!("https://ciamlogin.com/{tid}/v2.0"),
    ] {
        assert!(!accepts(authority, None, &other), "{other}");
    }
    // Entra ID authorities do not take the CIAM form.
    assert!(!accepts(
        "https://login.microsoftonline.com/contoso.onmicrosoft.com",
        None,
        &issuer
    ));
}

#[test]
fn adfs_documents_have_the_adfs_issuer() {
    let authority = "https://sts.contoso.com/adfs";
    assert!(accepts(authority, None, "https://sts.contoso.com/adfs"));
    for issuer in [
        "https://sts.contoso.com/",
        "https://sts.contoso.com/adfs/services/trust",
        "https://evil.test/adfs",
        "https://sts.contoso.com:8443/adfs",
    ] {
        assert!(!accepts(authority, None, issuer), "{issuer}");
    }
}

#[test]
fn rejects_bad_documents() {
    let issuer = Issuer::parse("https://id.example.com").unwrap();
    let cases = [
        (200, "<html>hi</html>", ResponseProblem::Html),
        (200, "[1]", ResponseProblem::NotAnObject),
        (
            200,
            r#"{"issuer":"https://id.example.com"}"#,
            ResponseProblem::MissingField("token_endpoint"),
        ),
        (
            200,
            r#"{"token_endpoint":"https://id.example.com/t"}"#,
            ResponseProblem::MissingField("issuer"),
        ),
        (404, "{}", ResponseProblem::UnexpectedStatus),
    ];
    for (status, body, problem) in cases {
        let err = ProviderMetadata::parse(&issuer, &response(status, body)).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidResponse(crate::error::InvalidResponse { status, problem }),
            "{body}"
        );
    }
    let plain_http =
        r#"{"issuer":"https://id.example.com","token_endpoint":"http://id.example.com/token"}"#;
    assert!(matches!(
        ProviderMetadata::parse(&issuer, &response(200, plain_http)),
        Err(Error::Configuration(_))
    ));
}
