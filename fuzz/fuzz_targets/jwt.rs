//! Received JWTs: compact JWS parsing (`validation::UnverifiedToken::parse`, RFC 7515 §7.1)
//! and validation of ID tokens (`validate_id_token`, OIDC Core §3.1.3.7) and access tokens
//! (`validate_access_token`, RFC 9068 / Entra v1+v2) against a fixed key set.
//!
//! Input: a mode byte, then
//! - `R` / `r`: the compact token as text, verified by `RustCryptoVerifier` (the real RSA
//!   path: only well-formed, correctly keyed tokens get past the signature);
//! - `A` / `a`: the compact token as text, with a verifier that checks the key but accepts any
//!   signature, so the claim rules behind it are reached;
//! - `S` / `s`: `<header JSON>\n<claims JSON>\n<signature bytes>`, base64url-encoded into a
//!   compact token here (so mutations of the JSON are not lost to base64), accepting verifier.
//!
//! Upper case: Entra multi-tenant issuer template (`{tenantid}`) with an allow-list; lower case:
//! exact issuers. Every token goes to both validators.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::*;
use edge_token::credentials::JwsAlgorithm;
use edge_token::secret::{AccessToken, IdToken};
use edge_token::validation::{
    validate_access_token, validate_id_token, AccessTokenValidation, IdTokenValidation,
    IssuerRule, JwkSet, JwsVerifier, RustCryptoVerifier, UnverifiedToken,
};
use libfuzzer_sys::fuzz_target;

const CLIENT_ID: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const NONCE: &str = "n-0S6_WzA2Mj";

thread_local! {
    static KEYS: JwkSet = fixed_jwks();
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let token = match mode.to_ascii_uppercase() {
        b'S' => {
            let mut parts = rest.splitn(3, |b| *b == b'\n');
            let header = parts.next().unwrap_or_default();
            let claims = parts.next().unwrap_or_default();
            let signature = parts.next().unwrap_or_default();
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(claims),
                URL_SAFE_NO_PAD.encode(signature)
            )
        }
        b'R' | b'A' => text(rest),
        _ => return,
    };
    let real = mode.to_ascii_uppercase() == b'R';
    let template = mode.is_ascii_uppercase();

    // The parser alone, and every accessor.
    if let Ok(parsed) = UnverifiedToken::parse(&token) {
        let _ = (parsed.header(), parsed.claims().len(), parsed.signature().len());
        let _ = parsed.signing_input().len();
        let _ = format!("{parsed:?}");
        let claims = parsed.into_claims();
        let _ = IssuerRule::Exact(format!("https://login.microsoftonline.com/{TENANT}/v2.0"))
            .check(&claims);
    }

    let issuers = if template {
        vec![
            IssuerRule::EntraTemplate {
                template: "https://login.microsoftonline.com/{tenantid}/v2.0".into(),
                allowed_tenants: Some(vec![TENANT.into()]),
            },
            IssuerRule::EntraTemplate {
                template: "https://sts.windows.net/{tenantid}/".into(),
                allowed_tenants: None,
            },
        ]
    } else {
        vec![
            IssuerRule::Exact(format!("https://login.microsoftonline.com/{TENANT}/v2.0")),
            IssuerRule::Exact(format!("https://sts.windows.net/{TENANT}/")),
        ]
    };
    let rustcrypto = RustCryptoVerifier::new();
    let accepting = KeyCheckingVerifier;
    let verifier: &dyn JwsVerifier = if real { &rustcrypto } else { &accepting };

    KEYS.with(|keys| {
        for algorithm in [JwsAlgorithm::Rs256, JwsAlgorithm::Ps256] {
            let mut id_rules =
                IdTokenValidation::new(issuers[0].clone(), CLIENT_ID, algorithm, NONCE, NOW);
            id_rules.access_token = Some(AccessToken::new("access-token-of-the-response"));
            id_rules.trusted_audiences = vec!["api://trusted".into()];
            let id = block_on(validate_id_token(
                &IdToken::new(token.as_str()),
                &id_rules,
                keys,
                verifier,
            ));
            if debug() {
                eprintln!("{algorithm:?} id token: {:?}", id.as_ref().map(|_| ()));
            }
            if let Ok(claims) = id {
                let _ = claims.user_id().canonical();
            }
            id_rules.refreshed = true;
            let _ = block_on(validate_id_token(
                &IdToken::new(token.as_str()),
                &id_rules,
                keys,
                verifier,
            ));

            let at_rules = AccessTokenValidation::new(
                issuers.clone(),
                vec![CLIENT_ID.into(), format!("api://{CLIENT_ID}")],
                algorithm,
                NOW,
            );
            let at = block_on(validate_access_token(
                &AccessToken::new(token.as_str()),
                &at_rules,
                keys,
                verifier,
            ));
            if debug() {
                eprintln!("{algorithm:?} access token: {:?}", at.as_ref().map(|_| ()));
            }
            if let Ok(claims) = at {
                let _ = claims.is_delegated();
            }
        }
    });
});
