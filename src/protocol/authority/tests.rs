use super::*;
use alloc::vec::Vec;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use crate::error::ResponseProblem;
use crate::platform::http::{HttpResponse, Method};

fn microsoft(url: &str, kind: Option<AuthorityKind>) -> EntraAuthority {
    match Authority::parse(url, kind) {
        Ok(Authority::Entra(entra)) => entra,
        other => panic!("{url}: expected a Microsoft authority, got {other:?}"),
    }
}

fn refused(url: &str, kind: Option<AuthorityKind>) -> String {
    match Authority::parse(url, kind) {
        Err(Error::Configuration(message)) => message,
        other => panic!("{url}: expected a configuration error, got {other:?}"),
    }
}

/// (authority, kind, base, token, authorize, discovery)
type Expected<'a> = (
    &'a str,
    Option<AuthorityKind>,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
);

fn assert_endpoints(cases: &[Expected<'_>]) {
    for (url, kind, base, token, authorize, discovery) in cases {
        let entra = microsoft(url, *kind);
        assert_eq!(entra.as_str(), *base, "{url}");
        assert_eq!(entra.token_endpoint().as_str(), *token, "{url}");
        assert_eq!(entra.authorization_endpoint().as_str(), *authorize, "{url}");
        assert_eq!(entra.discovery_url().as_str(), *discovery, "{url}");
    }
}

#[test]
fn entra_endpoints_follow_the_v2_layout_on_every_cloud() {
    assert_endpoints(&[
        (
            "https://login.microsoftonline.com/contoso.onmicrosoft.com",
            None,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        ),
        (
            "https://login.microsoftonline.us/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/",
            None,
            "https://login.microsoftonline.us/8eaef023-2b34-4da1-9baa-8bc8c9d6a490",
            "https://login.microsoftonline.us/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/oauth2/v2.0/token",
            "https://login.microsoftonline.us/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/oauth2/v2.0/authorize",
            "https://login.microsoftonline.us/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0/.well-known/openid-configuration",
        ),
        (
            "https://LOGIN.chinacloudapi.cn/contoso.partner.onmschina.cn",
            None,
            "https://login.chinacloudapi.cn/contoso.partner.onmschina.cn",
            "https://login.chinacloudapi.cn/contoso.partner.onmschina.cn/oauth2/v2.0/token",
            "https://login.chinacloudapi.cn/contoso.partner.onmschina.cn/oauth2/v2.0/authorize",
            "https://login.chinacloudapi.cn/contoso.partner.onmschina.cn/v2.0/.well-known/openid-configuration",
        ),
        (
            "https://login.partner.microsoftonline.cn/common",
            None,
            "https://login.partner.microsoftonline.cn/common",
            "https://login.partner.microsoftonline.cn/common/oauth2/v2.0/token",
            "https://login.partner.microsoftonline.cn/common/oauth2/v2.0/authorize",
            "https://login.partner.microsoftonline.cn/common/v2.0/.well-known/openid-configuration",
        ),
        (
            "https://login.example.sovcloud/tenant-a",
            Some(AuthorityKind::Entra),
            "https://login.example.sovcloud/tenant-a",
            "https://login.example.sovcloud/tenant-a/oauth2/v2.0/token",
            "https://login.example.sovcloud/tenant-a/oauth2/v2.0/authorize",
            "https://login.example.sovcloud/tenant-a/v2.0/.well-known/openid-configuration",
        ),
    ]);
    let entra = EntraAuthority::parse("https://login.microsoftonline.com/contoso.com").unwrap();
    assert_eq!(entra.tenant(), "contoso.com");
    assert_eq!(entra.host(), "login.microsoftonline.com");
    assert_eq!(*entra.kind(), MicrosoftAuthorityKind::Aad);
    assert!(!entra.is_tenantless());
}

#[test]
fn b2c_endpoints_keep_the_policy_in_the_authority() {
    assert_endpoints(&[
        (
            "https://contosob2c.b2clogin.com/contosob2c.onmicrosoft.com/B2C_1_signupsignin1",
            None,
            "https://contosob2c.b2clogin.com/contosob2c.onmicrosoft.com/B2C_1_signupsignin1",
            "https://contosob2c.b2clogin.com/contosob2c.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/token",
            "https://contosob2c.b2clogin.com/contosob2c.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/authorize",
            "https://contosob2c.b2clogin.com/contosob2c.onmicrosoft.com/B2C_1_signupsignin1/v2.0/.well-known/openid-configuration",
        ),
        (
            "https://contosob2c.b2clogin.com/tfp/contosob2c.onmicrosoft.com/B2C_1_signupsignin1/",
            None,
            "https://contosob2c.b2clogin.com/tfp/contosob2c.onmicrosoft.com/B2C_1_signupsignin1",
            "https://contosob2c.b2clogin.com/tfp/contosob2c.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/token",
            "https://contosob2c.b2clogin.com/tfp/contosob2c.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/authorize",
            "https://contosob2c.b2clogin.com/tfp/contosob2c.onmicrosoft.com/B2C_1_signupsignin1/v2.0/.well-known/openid-configuration",
        ),
        (
            "https://contosob2c.b2clogin.cn/contosob2c.partner.onmschina.cn/B2C_1_susi",
            None,
            "https://contosob2c.b2clogin.cn/contosob2c.partner.onmschina.cn/B2C_1_susi",
            "https://contosob2c.b2clogin.cn/contosob2c.partner.onmschina.cn/B2C_1_susi/oauth2/v2.0/token",
            "https://contosob2c.b2clogin.cn/contosob2c.partner.onmschina.cn/B2C_1_susi/oauth2/v2.0/authorize",
            "https://contosob2c.b2clogin.cn/contosob2c.partner.onmschina.cn/B2C_1_susi/v2.0/.well-known/openid-configuration",
        ),
        (
            "https://login.contoso.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/B2C_1A_signup_signin",
            Some(AuthorityKind::B2c),
            "https://login.contoso.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/B2C_1A_signup_signin",
            "https://login.contoso.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/B2C_1A_signup_signin/oauth2/v2.0/token",
            "https://login.contoso.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/B2C_1A_signup_signin/oauth2/v2.0/authorize",
            "https://login.contoso.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/B2C_1A_signup_signin/v2.0/.well-known/openid-configuration",
        ),
    ]);
    let b2c = microsoft(
        "https://contosob2c.b2clogin.com/contosob2c.onmicrosoft.com/B2C_1_signupsignin1",
        None,
    );
    assert_eq!(b2c.tenant(), "contosob2c.onmicrosoft.com");
    assert_eq!(
        *b2c.kind(),
        MicrosoftAuthorityKind::B2c {
            policy: "B2C_1_signupsignin1".into()
        }
    );
    assert!(!b2c.is_tenantless());
}

#[test]
fn b2c_needs_exactly_a_tenant_and_a_policy() {
    for (url, kind) in [
        (
            "https://contosob2c.b2clogin.com/contosob2c.onmicrosoft.com",
            None,
        ),
        ("https://contosob2c.b2clogin.com/", None),
        (
            "https://contosob2c.b2clogin.com/tfp/contosob2c.onmicrosoft.com",
            None,
        ),
        (
            "https://contosob2c.b2clogin.com/contosob2c.onmicrosoft.com/B2C_1_susi/extra",
            None,
        ),
        (
            "https://login.contoso.com/contosob2c.onmicrosoft.com",
            Some(AuthorityKind::B2c),
        ),
    ] {
        assert!(refused(url, kind).contains("policy"), "{url}");
    }
}

#[test]
fn ciam_endpoints_follow_the_v2_layout_and_derive_the_tenant_from_the_host() {
    assert_endpoints(&[
        (
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com",
            None,
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com",
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        ),
        (
            "https://contoso.ciamlogin.com/",
            None,
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com",
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        ),
        (
            "https://Contoso.ciamlogin.com",
            None,
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com",
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        ),
        (
            "https://login.contoso.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490",
            Some(AuthorityKind::Ciam),
            "https://login.contoso.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490",
            "https://login.contoso.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/oauth2/v2.0/token",
            "https://login.contoso.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/oauth2/v2.0/authorize",
            "https://login.contoso.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0/.well-known/openid-configuration",
        ),
    ]);
    let ciam = microsoft("https://contoso.ciamlogin.com/", None);
    assert_eq!(ciam.tenant(), "contoso.onmicrosoft.com");
    assert_eq!(*ciam.kind(), MicrosoftAuthorityKind::Ciam);
}

#[test]
fn ciam_refuses_a_host_it_cannot_take_the_tenant_from() {
    for (url, kind) in [
        ("https://login.contoso.com/", Some(AuthorityKind::Ciam)),
        ("https://a.b.ciamlogin.com/", None),
        ("https://ciamlogin.com/", Some(AuthorityKind::Ciam)),
        ("https://127.0.0.1:9400/", Some(AuthorityKind::Ciam)),
        ("https://contoso.ciamlogin.com/a/b", None),
    ] {
        refused(url, kind);
    }
}

#[test]
fn adfs_endpoints_are_the_adfs_oauth2_ones() {
    for url in [
        "https://sts.contoso.com/adfs",
        "https://STS.contoso.com/adfs/",
        "https://sts.contoso.com/ADFS",
    ] {
        assert_endpoints(&[(
            url,
            None,
            "https://sts.contoso.com/adfs",
            "https://sts.contoso.com/adfs/oauth2/token",
            "https://sts.contoso.com/adfs/oauth2/authorize",
            "https://sts.contoso.com/adfs/.well-known/openid-configuration",
        )]);
    }
    let adfs = microsoft(
        "https://sts.contoso.com:8443/adfs",
        Some(AuthorityKind::Adfs),
    );
    assert_eq!(
        adfs.token_endpoint().as_str(),
        "https://sts.contoso.com:8443/adfs/oauth2/token"
    );
    assert_eq!(*adfs.kind(), MicrosoftAuthorityKind::Adfs);
    assert_eq!(adfs.tenant(), "adfs");
    assert!(!adfs.is_tenantless());
}

#[test]
fn adfs_refuses_any_other_path() {
    for (url, kind) in [
        ("https://sts.contoso.com/adfs/ls", None),
        ("https://sts.contoso.com/adfs/oauth2/token", None),
        ("https://sts.contoso.com/", Some(AuthorityKind::Adfs)),
        (
            "https://sts.contoso.com/federation",
            Some(AuthorityKind::Adfs),
        ),
    ] {
        assert!(refused(url, kind).contains("/adfs"), "{url}");
    }
}

#[test]
fn the_kind_is_inferred_from_host_and_path() {
    for (url, kind) in [
        ("https://login.microsoftonline.com/t", AuthorityKind::Entra),
        ("https://login.windows.net/t", AuthorityKind::Entra),
        ("https://login.microsoftonline.us/t", AuthorityKind::Entra),
        ("https://login.usgovcloudapi.net/t", AuthorityKind::Entra),
        (
            "https://login.partner.microsoftonline.cn/t",
            AuthorityKind::Entra,
        ),
        ("https://login.sovcloud-identity.fr/t", AuthorityKind::Entra),
        (
            "https://x.b2clogin.com/x.onmicrosoft.com/p",
            AuthorityKind::B2c,
        ),
        ("https://x.B2CLOGIN.cn/t/p", AuthorityKind::B2c),
        (
            "https://login.microsoftonline.com/tfp/t/p",
            AuthorityKind::B2c,
        ),
        ("https://x.ciamlogin.com/", AuthorityKind::Ciam),
        ("https://sts.contoso.com/adfs", AuthorityKind::Adfs),
        ("https://id.example.com/realms/a", AuthorityKind::Oidc),
        ("https://ciamlogin.com/", AuthorityKind::Oidc),
        ("http://127.0.0.1:9400", AuthorityKind::Oidc),
    ] {
        let parsed = Url::parse(url).unwrap();
        assert_eq!(AuthorityKind::infer(&parsed), kind, "{url}");
    }
}

#[test]
fn authority_kind_setting_values() {
    for (value, kind) in [
        ("entra", AuthorityKind::Entra),
        ("b2c", AuthorityKind::B2c),
        (" ciam ", AuthorityKind::Ciam),
        ("adfs", AuthorityKind::Adfs),
        ("oidc", AuthorityKind::Oidc),
    ] {
        assert_eq!(AuthorityKind::parse("AUTHORITY_KIND", value), Ok(kind));
    }
    for bad in ["", "aad", "Entra", "SENTINEL"] {
        let Err(Error::Configuration(message)) = AuthorityKind::parse("AUTHORITY_KIND", bad) else {
            panic!("{bad} accepted")
        };
        assert!(message.starts_with("AUTHORITY_KIND must be"), "{message}");
        assert!(!message.contains("SENTINEL"));
    }
}

#[test]
fn multi_tenant_aliases_are_tenantless() {
    for tenant in ["common", "organizations", "Consumers"] {
        let entra =
            EntraAuthority::parse(&format!("https://login.microsoftonline.com/{tenant}")).unwrap();
        assert!(entra.is_tenantless(), "{tenant}");
        let ciam = microsoft(&format!("https://contoso.ciamlogin.com/{tenant}"), None);
        assert!(ciam.is_tenantless(), "{tenant}");
    }
}

#[test]
fn entra_authority_needs_exactly_one_tenant_segment() {
    for url in [
        "https://login.microsoftonline.com",
        "https://login.microsoftonline.com/a/b",
    ] {
        refused(url, None);
    }
}

#[test]
fn the_closed_german_cloud_is_refused_with_a_pointer() {
    for kind in [None, Some(AuthorityKind::Entra)] {
        let message = refused("https://login.microsoftonline.de/contoso.de", kind);
        assert!(message.contains("2021"), "{message}");
    }
}

#[test]
fn client_info_and_assertion_rules_follow_the_kind() {
    let cases = [
        ("https://login.microsoftonline.com/t", true, false),
        ("https://x.b2clogin.com/x.onmicrosoft.com/p", true, false),
        ("https://x.ciamlogin.com/", true, false),
        ("https://sts.contoso.com/adfs", false, true),
        ("https://id.example.com", false, false),
    ];
    for (url, client_info, rs256) in cases {
        let authority = Authority::parse(url, None).unwrap();
        assert_eq!(authority.supports_client_info(), client_info, "{url}");
        assert_eq!(authority.requires_rs256_assertion(), rs256, "{url}");
    }
}

#[test]
fn issuer_keeps_its_exact_text_and_derives_discovery() {
    let Authority::Oidc(issuer) =
        Authority::parse("https://id.example.com/realms/a/", None).unwrap()
    else {
        panic!("generic issuer")
    };
    assert_eq!(issuer.as_str(), "https://id.example.com/realms/a/");
    assert_eq!(
        issuer.discovery_url().as_str(),
        "https://id.example.com/realms/a/.well-known/openid-configuration"
    );
}

#[test]
fn http_is_refused_except_on_loopback() {
    for ok in [
        "http://127.0.0.1:9400",
        "http://localhost:8080/issuer",
        "http://[::1]:1234",
        "http://127.8.9.1",
    ] {
        assert!(Authority::parse(ok, None).is_ok(), "{ok}");
    }
    assert_eq!(
        microsoft("http://127.0.0.1:9400/adfs", None)
            .token_endpoint()
            .as_str(),
        "http://127.0.0.1:9400/adfs/oauth2/token"
    );
    for bad in [
        "http://id.example.com",
        "http://127.0.0.1.nip.io",
        "ftp://id.example.com",
        "https://user:pw@id.example.com",
        "https://id.example.com/?a=b",
        "https://id.example.com/#frag",
        "not a url",
    ] {
        let err = Authority::parse(bad, None).unwrap_err();
        assert!(matches!(err, Error::Configuration(_)), "{bad}");
        assert!(!format!("{err}").contains("pw"), "{bad}");
    }
}

#[test]
fn every_kind_refuses_query_fragment_user_info_and_plain_http() {
    let kinds = [
        ("login.microsoftonline.com/t", AuthorityKind::Entra),
        ("x.b2clogin.com/x.onmicrosoft.com/p", AuthorityKind::B2c),
        ("x.ciamlogin.com/x.onmicrosoft.com", AuthorityKind::Ciam),
        ("sts.contoso.com/adfs", AuthorityKind::Adfs),
    ];
    for (rest, kind) in kinds {
        for bad in [
            format!("https://{rest}?p=secret"),
            format!("https://{rest}#secret"),
            format!("https://user:secret@{rest}"),
            format!("http://{rest}"),
        ] {
            for kind in [None, Some(kind)] {
                let message = refused(&bad, kind);
                assert!(message.starts_with("AUTHORITY"), "{bad}: {message}");
                assert!(!message.contains("secret"), "{bad}: {message}");
            }
        }
    }
}

#[test]
fn regional_token_endpoints_per_cloud() {
    let region = Region::parse("AZURE_REGION", "WestUS2").unwrap();
    assert_eq!(region.as_str(), "westus2");
    for (authority, kind, token) in [
        (
            "https://login.microsoftonline.com/contoso.onmicrosoft.com",
            None,
            "https://westus2.login.microsoft.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
        ),
        (
            "https://login.windows.net/8eaef023-2b34-4da1-9baa-8bc8c9d6a490",
            None,
            "https://westus2.login.microsoft.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/oauth2/v2.0/token",
        ),
        (
            "https://login.microsoft.com/t",
            None,
            "https://westus2.login.microsoft.com/t/oauth2/v2.0/token",
        ),
        (
            "https://login.microsoftonline.us/t",
            None,
            "https://westus2.login.microsoftonline.us/t/oauth2/v2.0/token",
        ),
        (
            "https://login.usgovcloudapi.net/t",
            None,
            "https://westus2.login.microsoftonline.us/t/oauth2/v2.0/token",
        ),
        (
            "https://login.chinacloudapi.cn/t",
            None,
            "https://westus2.login.partner.microsoftonline.cn/t/oauth2/v2.0/token",
        ),
        (
            "https://login.example.sovcloud/t",
            Some(AuthorityKind::Entra),
            "https://westus2.login.example.sovcloud/t/oauth2/v2.0/token",
        ),
        (
            "https://westus2.login.microsoft.com/t",
            Some(AuthorityKind::Entra),
            "https://westus2.login.microsoft.com/t/oauth2/v2.0/token",
        ),
    ] {
        let authority = Authority::parse(authority, kind).unwrap();
        assert_eq!(
            authority.regional_token_endpoint(&region).unwrap().as_str(),
            token
        );
        // Only the token endpoint moves.
        let Authority::Entra(entra) = &authority else {
            panic!("Entra")
        };
        assert_eq!(entra.authorization_endpoint().host_str(), Some(entra.host()));
        assert_eq!(entra.discovery_url().host_str(), Some(entra.host()));
    }
}

#[test]
fn regions_are_letters_and_digits() {
    for bad in [
        "",
        "   ",
        "west us",
        "west-us",
        "westus2.evil.com",
        "westus2/",
        "wéstus",
        "westus2?x",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "TryAutoDetect",
    ] {
        let Err(Error::Configuration(message)) = Region::parse("AZURE_REGION", bad) else {
            panic!("{bad:?} accepted")
        };
        assert!(message.starts_with("AZURE_REGION"), "{message}");
    }
}

#[test]
fn regional_endpoints_are_refused_where_there_are_none() {
    let region = Region::parse("AZURE_REGION", "eastus").unwrap();
    for (url, kind) in [
        ("https://x.b2clogin.com/x.onmicrosoft.com/p", None),
        ("https://x.ciamlogin.com/", None),
        ("https://sts.contoso.com/adfs", None),
        ("https://id.example.com", None),
        ("http://127.0.0.1:9400/t", Some(AuthorityKind::Entra)),
        ("http://localhost:9400/t", Some(AuthorityKind::Entra)),
        ("https://[2001:db8::1]/t", Some(AuthorityKind::Entra)),
    ] {
        let authority = Authority::parse(url, kind).unwrap();
        let Err(Error::Configuration(message)) = authority.regional_token_endpoint(&region) else {
            panic!("{url}: regional endpoint derived")
        };
        assert!(message.starts_with("AZURE_REGION"), "{message}");
    }
}

fn response(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn known_hosts_need_no_instance_discovery() {
    for url in [
        "https://login.microsoftonline.com/t",
        "https://login.windows.net/t",
        "https://login.microsoftonline.us/t",
        "https://login.chinacloudapi.cn/t",
        "https://login.sovcloud-identity.sg/t",
    ] {
        let entra = microsoft(url, None);
        assert!(entra.instance_discovery_request().is_none(), "{url}");
        let known = entra.known_instance_metadata().unwrap();
        assert!(known.has_alias(entra.host()), "{url}");
    }
    let public = InstanceMetadata::known("LOGIN.windows.net").unwrap();
    assert_eq!(public.preferred_network, "login.microsoftonline.com");
    assert_eq!(public.preferred_cache, "login.windows.net");
    for url in [
        "https://x.b2clogin.com/x.onmicrosoft.com/p",
        "https://x.ciamlogin.com/",
        "https://sts.contoso.com/adfs",
        "http://127.0.0.1:9400/t",
    ] {
        let kind = url.ends_with("/t").then_some(AuthorityKind::Entra);
        assert!(
            microsoft(url, kind).instance_discovery_request().is_none(),
            "{url}"
        );
    }
}

#[test]
fn unknown_hosts_are_validated_by_instance_discovery() {
    let entra = microsoft(
        "https://login.microsoft-ppe.com/contoso.onmicrosoft.com",
        Some(AuthorityKind::Entra),
    );
    let request = entra.instance_discovery_request().unwrap();
    assert_eq!(request.method, Method::Get);
    assert_eq!(
        request.url.as_str(),
        "https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=https%3A%2F%2Flogin.microsoft-ppe.com%2Fcontoso.onmicrosoft.com%2Foauth2%2Fv2.0%2Fauthorize"
    );
    let pairs: Vec<(String, String)> = request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("api-version".into(), "1.1".into()),
            (
                "authorization_endpoint".into(),
                "https://login.microsoft-ppe.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize"
                    .into()
            ),
        ]
    );
    assert_eq!(request.header("accept"), Some("application/json"));

    let answer = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/entra/instance_discovery_ppe.json"
    ));
    let metadata = entra.validate_instance(&response(200, answer)).unwrap();
    assert_eq!(metadata.preferred_network, "login.windows-ppe.net");
    assert_eq!(metadata.preferred_cache, "login.windows-ppe.net");
    assert_eq!(
        metadata.aliases,
        [
            "login.windows-ppe.net",
            "sts.windows-ppe.net",
            "login.microsoft-ppe.com"
        ]
    );
}

#[test]
fn instance_discovery_answers_are_parsed_into_typed_values() {
    let answer = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/entra/instance_discovery_success.json"
    ));
    let parsed = InstanceDiscoveryResponse::parse(&response(200, answer)).unwrap();
    assert_eq!(
        parsed.tenant_discovery_endpoint.as_str(),
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"
    );
    assert_eq!(parsed.metadata.len(), 5);
    let china = parsed.metadata_for("login.chinacloudapi.cn").unwrap();
    assert_eq!(china.preferred_network, "login.partner.microsoftonline.cn");
    let public = parsed.metadata_for("STS.windows.net").unwrap();
    assert_eq!(public.preferred_cache, "login.windows.net");
    assert!(parsed.metadata_for("evil.example").is_none());
}

#[test]
fn a_host_answered_for_but_unlisted_is_its_own_alias() {
    let entra = microsoft(
        "https://login.example-sovereign.test/contoso.onmicrosoft.com",
        Some(AuthorityKind::Entra),
    );
    let answer = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/entra/instance_discovery_unlisted_host.json"
    ));
    let metadata = entra.validate_instance(&response(200, answer)).unwrap();
    assert_eq!(metadata.aliases, ["login.example-sovereign.test"]);
    assert_eq!(metadata.preferred_network, "login.example-sovereign.test");
}

#[test]
fn instance_discovery_refusals() {
    let entra = microsoft(
        "https://login.contoso-evil.test/contoso.onmicrosoft.com",
        Some(AuthorityKind::Entra),
    );
    // A valid answer that vouches for neither the host nor its discovery endpoint.
    let other = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/entra/instance_discovery_success.json"
    ));
    let Err(Error::Configuration(message)) = entra.validate_instance(&response(200, other)) else {
        panic!("unlisted host accepted")
    };
    assert!(message.starts_with("AUTHORITY"), "{message}");
    // AADSTS50049 invalid_instance: a configuration error naming the setting.
    let invalid = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/entra/instance_discovery_invalid_instance.json"
    ));
    let Err(Error::Configuration(message)) = entra.validate_instance(&response(400, invalid))
    else {
        panic!("invalid_instance accepted")
    };
    assert!(message.contains("invalid_instance"), "{message}");
    // Outages stay what they are (retryable server errors), not configuration errors.
    let outage = entra
        .validate_instance(&response(503, "<html>Service Unavailable</html>"))
        .unwrap_err();
    assert!(matches!(outage, Error::InvalidResponse(ref r) if r.problem == ResponseProblem::Html));
    let throttled = entra
        .validate_instance(&response(429, r#"{"error":"temporarily_unavailable"}"#))
        .unwrap_err();
    assert!(matches!(throttled, Error::Server(ref s) if s.status == 429));
    // Malformed answers.
    for (body, problem) in [
        (
            r#"{"metadata":[]}"#,
            ResponseProblem::MissingField("tenant_discovery_endpoint"),
        ),
        (
            r#"{"tenant_discovery_endpoint":"not a url"}"#,
            ResponseProblem::InvalidField {
                field: "tenant_discovery_endpoint",
                reason: "is not an absolute URL",
            },
        ),
        (
            r#"{"tenant_discovery_endpoint":"https://login.contoso-evil.test/t/v2.0/.well-known/openid-configuration","metadata":{}}"#,
            ResponseProblem::InvalidField {
                field: "metadata",
                reason: "is not an array",
            },
        ),
        (
            r#"{"tenant_discovery_endpoint":"https://login.contoso-evil.test/t/v2.0/.well-known/openid-configuration","metadata":[{"preferred_network":"a","preferred_cache":"a","aliases":[1]}]}"#,
            ResponseProblem::InvalidField {
                field: "metadata",
                reason: "has an alias that is not a string",
            },
        ),
        (
            r#"{"tenant_discovery_endpoint":"https://login.contoso-evil.test/t/v2.0/.well-known/openid-configuration","metadata":[{"aliases":["a"]}]}"#,
            ResponseProblem::InvalidField {
                field: "metadata",
                reason: "has an entry without preferred_network or preferred_cache",
            },
        ),
    ] {
        let err = entra.validate_instance(&response(200, body)).unwrap_err();
        assert!(
            matches!(err, Error::InvalidResponse(ref r) if r.problem == problem),
            "{body}: {err:?}"
        );
    }
    let plain_http = r#"{"tenant_discovery_endpoint":"http://login.contoso-evil.test/t/v2.0/.well-known/openid-configuration"}"#;
    assert!(matches!(
        entra.validate_instance(&response(200, plain_http)),
        Err(Error::Configuration(_))
    ));
}
