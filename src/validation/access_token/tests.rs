//! Incoming access token validation with real signatures: a good token, each bad claim on its
//! own, Entra v1 and v2 issuers, multi-tenant templates with an allow-list, and required
//! scopes or roles.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::validation::verifier::rustcrypto::RustCryptoVerifier;
use crate::validation::verifier::tests::{public_jwk, sign_jws, KEY_PEM, OTHER_KEY_PEM};
use alloc::format;
use alloc::vec;
use futures::executor::block_on;
use serde_json::json;

const NOW: u64 = 1_795_000_000;
const KID: &str = "issuer-key-1";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const API_CLIENT_ID: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
const APP_ID_URI: &str = "api://6731de76-14a6-49ae-97bc-6eba6914391e";
const V2_TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";

fn v2_issuer() -> String {
    format!("https://login.microsoftonline.com/{TENANT}/v2.0")
}

fn keys() -> JwkSet {
    JwkSet::from_keys(vec![public_jwk(KEY_PEM, KID)])
}

/// An Entra v2 delegated access token for the API.
fn claims() -> Value {
    json!({
        "iss": v2_issuer(), "aud": API_CLIENT_ID, "tid": TENANT,
        "oid": "00000000-0000-0000-66f3-3332eca7ea81", "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "azp": "2e8e0a6f-web-app", "scp": "access_as_user User.Read", "ver": "2.0",
        "exp": NOW + 3600, "iat": NOW, "nbf": NOW
    })
}

fn signed(claims: &Value) -> AccessToken {
    AccessToken::new(sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": KID, "typ": "JWT"}),
        claims,
    ))
}

fn with(mut claims: Value, member: &str, value: Value) -> Value {
    claims[member] = value;
    claims
}

fn rules(issuers: Vec<IssuerRule>) -> AccessTokenValidation {
    AccessTokenValidation::new(
        issuers,
        vec![API_CLIENT_ID.into(), APP_ID_URI.into()],
        VerificationAlgorithm::Rs256,
        NOW,
    )
}

fn tenant_rules() -> AccessTokenValidation {
    rules(entra_issuers(&v2_issuer(), &[]))
}

fn validate(
    token: &AccessToken,
    rules: &AccessTokenValidation,
) -> Result<AccessTokenClaims, Error> {
    block_on(validate_access_token(
        token,
        rules,
        &keys(),
        &RustCryptoVerifier::new(),
    ))
}

fn refused(claims: &Value, rules: &AccessTokenValidation) -> TokenError {
    match validate(&signed(claims), rules) {
        Err(Error::InvalidToken(problem)) => problem,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_good_v2_token_is_accepted_with_its_claims() {
    let valid = validate(&signed(&claims()), &tenant_rules()).unwrap();
    assert_eq!(valid.iss, v2_issuer());
    assert_eq!(valid.aud, vec![API_CLIENT_ID.to_string()]);
    assert_eq!(valid.scopes, vec!["access_as_user", "User.Read"]);
    assert!(valid.roles.is_empty());
    assert!(valid.is_delegated());
    assert_eq!(valid.client_id.as_deref(), Some("2e8e0a6f-web-app"));
    assert_eq!(valid.tid.as_deref(), Some(TENANT));
    assert_eq!(valid.exp, NOW + 3600);
}

#[test]
fn a_v1_token_with_the_app_id_uri_is_accepted() {
    let v1 = json!({
        "iss": format!("https://sts.windows.net/{TENANT}/"), "aud": APP_ID_URI, "tid": TENANT,
        "sub": "s", "appid": "web-app-v1", "scp": "access_as_user", "ver": "1.0",
        "exp": NOW + 3600, "iat": NOW, "nbf": NOW
    });
    let valid = validate(&signed(&v1), &tenant_rules()).unwrap();
    assert_eq!(valid.client_id.as_deref(), Some("web-app-v1"));
}

#[test]
fn entra_issuer_sets_have_v1_counterparts() {
    let exact = |s: &str| IssuerRule::Exact(s.into());
    assert_eq!(
        entra_issuers(&v2_issuer(), &[]),
        vec![
            exact(&v2_issuer()),
            exact(&format!("https://sts.windows.net/{TENANT}/"))
        ]
    );
    assert_eq!(
        entra_issuers("https://login.microsoftonline.us/t1/v2.0", &[]),
        vec![
            exact("https://login.microsoftonline.us/t1/v2.0"),
            exact("https://login.microsoftonline.us/t1/")
        ]
    );
    assert_eq!(
        entra_issuers("https://login.chinacloudapi.cn/t1/v2.0", &[])[1],
        exact("https://sts.chinacloudapi.cn/t1/")
    );
    // Another provider's issuer is taken exactly, with no v1 sibling.
    assert_eq!(
        entra_issuers("http://127.0.0.1:9400", &[]),
        vec![exact("http://127.0.0.1:9400")]
    );
    let allowed = vec![TENANT.to_string()];
    assert_eq!(
        entra_issuers(V2_TEMPLATE, &allowed)[1],
        IssuerRule::EntraTemplate {
            template: "https://sts.windows.net/{tenantid}/".into(),
            allowed_tenants: Some(allowed.clone()),
        }
    );
}

#[test]
fn multi_tenant_templates_check_tid_and_the_allow_list() {
    let any_tenant = rules(entra_issuers(V2_TEMPLATE, &[]));
    let other = "11111111-2222-3333-4444-555555555555";
    let foreign = with(
        with(claims(), "tid", json!(other)),
        "iss",
        json!(format!("https://sts.windows.net/{other}/")),
    );
    assert!(validate(&signed(&foreign), &any_tenant).is_ok());
    let only_ours = rules(entra_issuers(V2_TEMPLATE, &[TENANT.to_string()]));
    assert!(validate(&signed(&claims()), &only_ours).is_ok());
    assert_eq!(refused(&foreign, &only_ours), TokenError::TenantNotAllowed);
    // `iss` must be the template filled with the token's own `tid`.
    let mismatch = with(claims(), "tid", json!(other));
    assert_eq!(refused(&mismatch, &any_tenant), TokenError::Issuer);
}

#[test]
fn each_bad_claim_is_refused_on_its_own() {
    let rules = tenant_rules();
    let cases = [
        (
            with(claims(), "iss", json!("https://evil.example/v2.0")),
            TokenError::Issuer,
        ),
        (
            with(
                claims(),
                "iss",
                json!(format!("https://sts.windows.net/{TENANT}")),
            ),
            TokenError::Issuer,
        ),
        (
            with(claims(), "aud", json!("api://another-api")),
            TokenError::Audience,
        ),
        (
            with(claims(), "aud", json!([])),
            TokenError::MissingClaim("aud"),
        ),
        (with(claims(), "exp", json!(NOW - 301)), TokenError::Expired),
        (
            with(claims(), "nbf", json!(NOW + 301)),
            TokenError::NotYetValid,
        ),
        (
            with(claims(), "exp", json!("tomorrow")),
            TokenError::MissingClaim("exp"),
        ),
        (
            with(claims(), "sub", json!("")),
            TokenError::MissingClaim("sub"),
        ),
        (
            with(claims(), "roles", json!("admin")),
            TokenError::MissingClaim("roles"),
        ),
        (
            with(claims(), "scp", json!(7)),
            TokenError::MissingClaim("scp"),
        ),
    ];
    for (claims, expected) in cases {
        assert_eq!(refused(&claims, &rules), expected, "{claims}");
    }
    // Within the leeway.
    assert!(validate(&signed(&with(claims(), "exp", json!(NOW - 299))), &rules).is_ok());
}

#[test]
fn signature_algorithm_and_key_are_checked_first() {
    let rules = tenant_rules();
    let other_key = AccessToken::new(sign_jws(
        OTHER_KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": KID}),
        &claims(),
    ));
    assert_eq!(
        validate(&other_key, &rules),
        Err(TokenError::BadSignature.into())
    );
    let ps256 = AccessToken::new(sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Ps256,
        &json!({"alg": "PS256", "kid": KID}),
        &claims(),
    ));
    assert_eq!(
        validate(&ps256, &rules),
        Err(TokenError::AlgorithmNotAllowed.into())
    );
    let unknown_kid = AccessToken::new(sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &json!({"alg": "RS256", "kid": "rotated"}),
        &claims(),
    ));
    assert_eq!(
        validate(&unknown_kid, &rules),
        Err(TokenError::UnknownKey.into())
    );
    for garbage in ["", "a.b", "not a token", "e30.e30.e30.e30"] {
        assert_eq!(
            validate(&AccessToken::new(garbage), &rules),
            Err(TokenError::Malformed.into()),
            "{garbage}"
        );
    }
    let no_issuer =
        AccessTokenValidation::new(vec![], vec!["a".into()], VerificationAlgorithm::Rs256, NOW);
    assert!(matches!(
        validate(&signed(&claims()), &no_issuer),
        Err(Error::Configuration(_))
    ));
}

#[test]
fn rfc_9068_scope_claim_is_read_when_scp_is_absent() {
    let mut generic = claims();
    let object = generic.as_object_mut().unwrap();
    object.remove("scp");
    object.insert("scope".into(), json!("openid access_as_user"));
    let valid = validate(&signed(&generic), &tenant_rules()).unwrap();
    assert_eq!(valid.scopes, vec!["openid", "access_as_user"]);
}

#[test]
fn required_scopes_or_roles_decide_between_200_and_403() {
    let delegated = validate(&signed(&claims()), &tenant_rules()).unwrap();
    let mut app = claims();
    app.as_object_mut().unwrap().remove("scp");
    app["roles"] = json!(["Profile.Read.All"]);
    let app = validate(&signed(&app), &tenant_rules()).unwrap();
    assert!(!app.is_delegated());

    let scope = RequiredPermissions::new(vec!["access_as_user".into()], vec![]);
    assert_eq!(scope.check(&delegated), Ok(()));
    assert_eq!(
        scope.check(&app),
        Err(InsufficientScope {
            required: vec!["access_as_user".into()]
        })
    );
    let either =
        RequiredPermissions::new(vec!["Other.Scope".into()], vec!["Profile.Read.All".into()]);
    assert_eq!(either.check(&app), Ok(()));
    assert!(either.check(&delegated).is_err());
    // Scope names compare exactly: a prefix or another case is not the scope.
    let exact = RequiredPermissions::new(vec!["access_as".into(), "ACCESS_AS_USER".into()], vec![]);
    assert!(exact.check(&delegated).is_err());
}

fn signed_with_typ(claims: &Value, typ: Option<&str>) -> AccessToken {
    let mut header = json!({"alg": "RS256", "kid": KID});
    if let Some(typ) = typ {
        header["typ"] = typ.into();
    }
    AccessToken::new(sign_jws(
        KEY_PEM,
        VerificationAlgorithm::Rs256,
        &header,
        claims,
    ))
}

#[test]
fn typ_when_present_is_an_access_tokens() {
    for typ in [
        None,
        Some("JWT"),
        Some("jwt"),
        Some("at+jwt"),
        Some("AT+JWT"),
        Some("application/at+jwt"),
    ] {
        let token = signed_with_typ(&claims(), typ);
        assert!(validate(&token, &tenant_rules()).is_ok(), "{typ:?}");
    }
    for typ in [
        "logout+jwt",
        "application/dpop+jwt",
        "id_token+jwt",
        "JOSE",
        "",
        "at+jwt ",
    ] {
        let token = signed_with_typ(&claims(), Some(typ));
        match validate(&token, &tenant_rules()) {
            Err(Error::InvalidToken(problem)) => {
                assert_eq!(problem, TokenError::TokenType, "{typ}");
            }
            other => panic!("{typ}: expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn string_claims_are_bounded() {
    let long = |n: usize| "a".repeat(n);
    let sub_255 = with(claims(), "sub", long(255).into());
    assert_eq!(
        validate(&signed(&sub_255), &tenant_rules())
            .unwrap()
            .sub
            .len(),
        255
    );
    let cases = [
        (with(claims(), "sub", long(256).into()), "sub"),
        (with(claims(), "sub", long(10 * 1024).into()), "sub"),
        (with(claims(), "sub", "s\u{7f}".into()), "sub"),
        (with(claims(), "iss", long(2049).into()), "iss"),
        (
            with(claims(), "aud", json!([API_CLIENT_ID, long(2049)])),
            "aud",
        ),
        (with(claims(), "azp", long(257).into()), "azp"),
        (with(claims(), "appid", long(257).into()), "appid"),
        (with(claims(), "client_id", long(257).into()), "client_id"),
        (with(claims(), "tid", long(257).into()), "tid"),
        (with(claims(), "oid", long(257).into()), "oid"),
        (with(claims(), "roles", json!(["Read", long(257)])), "roles"),
        (with(claims(), "scp", long(8 * 1024 + 1).into()), "scp"),
        (with(claims(), "scope", long(8 * 1024 + 1).into()), "scope"),
    ];
    for (claims, name) in cases {
        assert_eq!(
            refused(&claims, &tenant_rules()),
            TokenError::ClaimValue(name),
            "{name}"
        );
    }
}

#[test]
fn app_only_tokens_are_told_from_users_tokens() {
    let app_only = |claims: &Value| {
        validate(&signed(claims), &tenant_rules())
            .unwrap()
            .is_app_only()
    };
    let sp = "11111111-2222-3333-4444-555555555555";
    // Entra v2 app-only: roles, no scp, oid = sub (the daemon's service principal).
    let daemon = json!({
        "iss": v2_issuer(), "aud": API_CLIENT_ID, "tid": TENANT, "oid": sp, "sub": sp,
        "azp": "daemon-app", "roles": ["Profiles.Read.All"], "ver": "2.0",
        "exp": NOW + 3600, "iat": NOW, "nbf": NOW
    });
    assert!(app_only(&daemon));
    // `idtyp` decides when present.
    assert!(app_only(&with(daemon.clone(), "idtyp", json!("app"))));
    assert!(!app_only(&with(daemon.clone(), "idtyp", json!("user"))));
    // A user holding app roles (oid differs from sub), and a delegated token, are users.
    assert!(!app_only(&with(
        daemon.clone(),
        "sub",
        json!("user-pairwise-sub")
    )));
    assert!(!app_only(&claims()));
    assert!(!app_only(&with(claims(), "roles", json!(["Admin"]))));
    // No roles: nothing to authorize an app with.
    let mut bare = daemon;
    if let Some(all) = bare.as_object_mut() {
        all.remove("roles");
    }
    assert!(!app_only(&bare));
}
