use super::*;
use crate::secret::{ClientAssertion, ClientSecret};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const ENDPOINT: &str =
    "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
const REQUEST_ID: &str = "6f0e9d8c-7b6a-4958-8374-65a4b3c2d1e0";

fn build(auth: &ClientAuthentication<'_>) -> HttpRequest {
    let scopes = Scopes::parse("api://downstream/.default").unwrap();
    token_request(
        &Url::parse(ENDPOINT).unwrap(),
        "client 123",
        Grant::ClientCredentials {
            scopes: &scopes,
            claims: None,
        },
        auth,
        REQUEST_ID,
    )
}

fn body(request: &HttpRequest) -> String {
    String::from_utf8(request.body.clone()).unwrap()
}

#[test]
fn client_secret_post_golden_body() {
    let secret = ClientSecret::new("s&cret=1 +x");
    let request = build(&ClientAuthentication::SecretPost(&secret));
    assert_eq!(request.method, Method::Post);
    assert_eq!(request.url.as_str(), ENDPOINT);
    assert_eq!(
        body(&request),
        "grant_type=client_credentials&client_id=client+123&scope=api%3A%2F%2Fdownstream%2F.default&client_secret=s%26cret%3D1+%2Bx"
    );
    assert_eq!(request.header("authorization"), None);
    assert_eq!(
        request.header("Content-Type"),
        Some("application/x-www-form-urlencoded;charset=utf-8")
    );
    assert_eq!(request.header("client-request-id"), Some(REQUEST_ID));
    assert_eq!(request.header("return-client-request-id"), Some("true"));
    assert_eq!(request.header("x-client-SKU"), Some("edge-token"));
    assert_eq!(request.header("x-client-Ver"), Some(CLIENT_VERSION));
    assert_eq!(
        request.header("x-ms-lib-capability"),
        Some("retry-after, h429")
    );
}

#[test]
fn client_secret_basic_golden_header_and_body() {
    let secret = ClientSecret::new("s&cret=1 +x");
    let request = build(&ClientAuthentication::SecretBasic(&secret));
    assert_eq!(
        body(&request),
        "grant_type=client_credentials&scope=api%3A%2F%2Fdownstream%2F.default"
    );
    // RFC 6749 §2.3.1: both parts form-urlencoded, then Basic (RFC 7617).
    let expected = STANDARD.encode("client+123:s%26cret%3D1+%2Bx");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Basic {expected}").as_str())
    );
}

#[test]
fn client_assertion_golden_body() {
    let request = build(&ClientAuthentication::Assertion(ClientAssertion::new(
        "aaa.bbb.ccc",
    )));
    assert_eq!(
        body(&request),
        "grant_type=client_credentials&client_id=client+123&scope=api%3A%2F%2Fdownstream%2F.default\
         &client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=aaa.bbb.ccc"
    );
}

#[test]
fn authorization_code_golden_body() {
    let secret = ClientSecret::new("pw");
    let scopes = Scopes::parse("openid profile offline_access api://a/.default").unwrap();
    let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
    let redirect = Url::parse("https://app.example.com/auth/callback").unwrap();
    let request = token_request(
        &Url::parse(ENDPOINT).unwrap(),
        "webapp",
        Grant::AuthorizationCode {
            code: "c0de+/=",
            redirect_uri: &redirect,
            code_verifier: &verifier,
            scopes: &scopes,
        },
        &ClientAuthentication::SecretPost(&secret),
        REQUEST_ID,
    );
    assert_eq!(
        body(&request),
        "grant_type=authorization_code&client_id=webapp&code=c0de%2B%2F%3D\
         &redirect_uri=https%3A%2F%2Fapp.example.com%2Fauth%2Fcallback\
         &code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\
         &scope=api%3A%2F%2Fa%2F.default+offline_access+openid+profile&client_secret=pw"
    );
}

#[test]
fn refresh_token_golden_body() {
    let scopes = Scopes::parse("openid api://a/.default").unwrap();
    let refresh_token = RefreshToken::new("rt-1");
    let grant = |claims| Grant::RefreshToken {
        refresh_token: &refresh_token,
        scopes: &scopes,
        claims,
    };
    let send = |grant| {
        body(&token_request(
            &Url::parse(ENDPOINT).unwrap(),
            "webapp",
            grant,
            &ClientAuthentication::Assertion(ClientAssertion::new("a.b.c")),
            REQUEST_ID,
        ))
    };
    let tail = "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c";
    assert_eq!(
        send(grant(None)),
        format!("grant_type=refresh_token&client_id=webapp&refresh_token=rt-1&scope=api%3A%2F%2Fa%2F.default+openid{tail}")
    );
    assert_eq!(
        send(grant(Some(r#"{"access_token":{}}"#))),
        format!("grant_type=refresh_token&client_id=webapp&refresh_token=rt-1&scope=api%3A%2F%2Fa%2F.default+openid\
                 &claims=%7B%22access_token%22%3A%7B%7D%7D{tail}")
    );
}

#[test]
fn on_behalf_of_golden_body() {
    let scopes = Scopes::parse("api://downstream/user.read").unwrap();
    let assertion = AccessToken::new("eyJ.in.coming");
    let secret = ClientSecret::new("pw");
    let send = |claims| {
        let request = token_request(
            &Url::parse(ENDPOINT).unwrap(),
            "webapi",
            Grant::OnBehalfOf {
                assertion: &assertion,
                scopes: &scopes,
                claims,
            },
            &ClientAuthentication::SecretPost(&secret),
            REQUEST_ID,
        );
        body(&request)
    };
    assert_eq!(
        send(None),
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&client_id=webapi\
         &assertion=eyJ.in.coming&requested_token_use=on_behalf_of\
         &scope=api%3A%2F%2Fdownstream%2Fuser.read&client_secret=pw"
    );
    assert_eq!(
        send(Some(r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#)),
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&client_id=webapi\
         &assertion=eyJ.in.coming&requested_token_use=on_behalf_of\
         &scope=api%3A%2F%2Fdownstream%2Fuser.read\
         &claims=%7B%22access_token%22%3A%7B%22xms_cc%22%3A%7B%22values%22%3A%5B%22cp1%22%5D%7D%7D%7D\
         &client_secret=pw"
    );
}

#[test]
fn debug_output_shows_no_secret() {
    let secret = ClientSecret::new("SENTINEL-secret");
    for request in [
        build(&ClientAuthentication::SecretPost(&secret)),
        build(&ClientAuthentication::SecretBasic(&secret)),
    ] {
        let debug = alloc::format!("{request:?}");
        assert!(
            !debug.contains("SENTINEL")
                && !debug.contains(&STANDARD.encode("client+123:SENTINEL-secret")),
            "{debug}"
        );
        assert!(debug.contains("body_len"));
    }
}
