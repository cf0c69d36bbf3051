//! Validating received tokens: compact JWS parsing (RFC 7515), key sets (RFC 7517), signature
//! verifiers, ID tokens (OIDC Core §3.1.3.7), logout tokens (OpenID Connect Back-Channel Logout
//! 1.0 §2.6) and access tokens (RFC 9068; Entra v1 and v2).
//! Keys are never taken from the token and the algorithm is always the configured one (RFC 8725).

pub(crate) mod access_token;
pub(crate) mod algorithm;
pub(crate) mod id_token;
pub(crate) mod issuer_keys;
pub(crate) mod jwks;
pub(crate) mod jwt;
pub(crate) mod logout_token;
pub(crate) mod validated_tokens;
pub(crate) mod verifier;

pub use crate::error::TokenError;
pub use access_token::{
    validate_access_token, AccessTokenClaims, AccessTokenValidation, InsufficientScope,
    RequiredPermissions,
};
pub use algorithm::VerificationAlgorithm;
pub use id_token::{validate_id_token, IdTokenClaims, IdTokenValidation};
pub use jwks::{Jwk, JwkSet, P256Coordinates, RsaComponents};
pub use jwt::{IssuerRule, JoseHeader, UnverifiedToken, MAX_TOKEN_BYTES};
pub use logout_token::{
    validate_logout_token, LogoutTokenClaims, LogoutTokenValidation, BACKCHANNEL_LOGOUT_EVENT,
};
#[cfg(feature = "rustcrypto")]
pub use verifier::rustcrypto::RustCryptoVerifier;
pub use verifier::{check_key, JwsVerifier, PublicKeyNumbers, ES256_SIGNATURE_BYTES};
