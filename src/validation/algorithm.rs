//! The JWS algorithms received tokens may be signed with (RFC 7518 §3.1), as configured:
//! `ID_TOKEN_SIGNING_ALG`, `ACCESS_TOKEN_SIGNING_ALG`.

use crate::credentials::JwsAlgorithm;
use crate::error::Error;

/// The JWS algorithms a received token (ID token, access token) may be signed with, chosen by
/// configuration (RFC 7518 §3.1; RFC 8725 §3.1: never taken from the token).
///
/// Kept apart from [`JwsAlgorithm`], the algorithms edge-token signs client
/// assertions with (RS256, PS256: what Entra accepts for certificate credentials): ES256 is
/// verified, never used to sign, so `CLIENT_ASSERTION_ALG=ES256` is a configuration error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerificationAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3): Entra's and most issuers' algorithm.
    Rs256,
    /// RSASSA-PSS with SHA-256, MGF1 with SHA-256 and a 32-byte salt (RFC 7518 §3.5).
    Ps256,
    /// ECDSA with the P-256 curve and SHA-256 (RFC 7518 §3.4): a 64-byte `R || S` signature by
    /// a `kty` `EC`, `crv` `P-256` key.
    Es256,
}

impl VerificationAlgorithm {
    /// The `alg` header value (RFC 7518 §3.1).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
            Self::Es256 => "ES256",
        }
    }

    /// The `kty` of the keys that verify it (RFC 7518 §6.1): `RSA` or `EC`.
    pub fn key_type(self) -> &'static str {
        match self {
            Self::Rs256 | Self::Ps256 => "RSA",
            Self::Es256 => "EC",
        }
    }

    /// Parses `RS256`, `PS256` or `ES256` (exact, upper-case as in RFC 7518).
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `setting` for any other value.
    pub fn parse(setting: &str, value: &str) -> Result<Self, Error> {
        match value {
            "RS256" => Ok(Self::Rs256),
            "PS256" => Ok(Self::Ps256),
            "ES256" => Ok(Self::Es256),
            _ => Err(Error::configuration(alloc::format!(
                "{setting} must be RS256, PS256 or ES256"
            ))),
        }
    }
}

impl From<JwsAlgorithm> for VerificationAlgorithm {
    /// Every signing algorithm is also a verification algorithm.
    fn from(algorithm: JwsAlgorithm) -> Self {
        match algorithm {
            JwsAlgorithm::Rs256 => Self::Rs256,
            JwsAlgorithm::Ps256 => Self::Ps256,
        }
    }
}
