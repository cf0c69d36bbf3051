//! The authority: `AUTHORITY` (+ `AUTHORITY_KIND`, `AZURE_REGION`) through
//! `protocol::Authority::parse`, `AuthorityKind::parse` / `infer`, `Region::parse`, every
//! endpoint derived from a parsed authority, and `config::ClientConfig::from_settings` (the
//! settings loader adapters call). Then the answers an authority's validation reads: the Entra
//! instance discovery response (`validate_instance`) and the discovery document
//! (`ProviderMetadata::parse_for`), both from the fuzzer.
//!
//! Input: `AUTHORITY\nAUTHORITY_KIND\nAZURE_REGION\n\n<response body>` (missing lines are
//! absent settings).
#![no_main]

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use common::*;
use edge_token::config::ClientConfig;
use edge_token::platform::http::HttpResponse;
use edge_token::protocol::{AuthorityKind, ProviderMetadata, Region};
use edge_token::Authority;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (url, lines, body) = split_message(data);
    // `split_message` splits header lines at ':'; here they are plain lines.
    let line = |i: usize| {
        lines.get(i).map(|(name, value)| {
            if value.is_empty() {
                name.clone()
            } else {
                format!("{name}: {value}")
            }
        })
    };
    let kind_text = line(0);
    let region_text = line(1);

    if let Ok(parsed) = url::Url::parse(&url) {
        let _ = AuthorityKind::infer(&parsed);
    }
    let kind = kind_text
        .as_deref()
        .and_then(|kind| AuthorityKind::parse("AUTHORITY_KIND", kind).ok());
    let region = region_text
        .as_deref()
        .and_then(|region| Region::parse("AZURE_REGION", region).ok());
    if let Some(region) = &region {
        let _ = region.as_str();
    }

    let response = json_response(200, body);
    for kind in [kind, None] {
        let Ok(authority) = Authority::parse(&url, kind) else {
            continue;
        };
        let _ = (
            authority.cache_identity(),
            authority.microsoft_kind(),
            authority.supports_client_info(),
            authority.requires_rs256_assertion(),
        );
        if let Some(region) = &region {
            let _ = authority.regional_token_endpoint(region);
        }
        match &authority {
            Authority::Entra(entra) => {
                let _ = (entra.kind(), entra.tenant(), entra.host(), entra.is_tenantless());
                let _ = (entra.as_str(), entra.token_endpoint(), entra.authorization_endpoint());
                let _ = entra.discovery_url();
                let _ = entra.known_instance_metadata();
                if entra.instance_discovery_request().is_some() {
                    if let Ok(metadata) = entra.validate_instance(&response) {
                        let _ = format!("{metadata:?}");
                    }
                }
            }
            Authority::Oidc(issuer) => {
                let _ = (issuer.as_str(), issuer.discovery_url());
                let _ = ProviderMetadata::request(issuer);
            }
            #[allow(unreachable_patterns)]
            _ => {}
        }
        if let Ok(metadata) = ProviderMetadata::parse_for(&authority, &response) {
            let _ = format!("{metadata:?}");
        }
        let redirect = HttpResponse {
            status: 302,
            ..response.clone()
        };
        let _ = ProviderMetadata::parse_for(&authority, &redirect);
    }

    // The same values through the settings loader.
    let mut settings = BTreeMap::new();
    settings.insert("AUTHORITY".to_string(), url.clone());
    settings.insert("CLIENT_ID".to_string(), "fuzz-client".to_string());
    settings.insert("CLIENT_SECRET".to_string(), "fuzz-secret".to_string());
    if let Some(kind) = kind_text {
        settings.insert("AUTHORITY_KIND".to_string(), kind);
    }
    if let Some(region) = region_text {
        settings.insert("AZURE_REGION".to_string(), region);
    }
    if let Ok(config) = ClientConfig::from_settings(&settings) {
        let _ = format!("{config:?}");
    }
});
