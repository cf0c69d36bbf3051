//! JSON Web Keys (RFC 7517 §4, RFC 7518 §6) and key sets (RFC 7517 §5): the issuer's public
//! signing keys from its `jwks_uri` (OIDC Discovery §3), how a token's key is found, and when to
//! fetch the set again ([`JwksCache`]).

use alloc::string::String;
use alloc::vec::Vec;

use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::error::{Error, ResponseProblem};
use crate::platform::http::{HttpRequest, HttpResponse};
use crate::protocol::authority::require_secure_url;
use crate::protocol::response::{invalid, json_object};
use crate::validation::algorithm::VerificationAlgorithm;
use crate::validation::jwt::TokenError;

/// The smallest RSA modulus accepted, in bits (RFC 7518 §3.3 and §3.5: 2048 or larger).
pub(crate) const MIN_RSA_MODULUS_BITS: usize = 2048;

/// The largest RSA modulus accepted, in bits. Issuers use 2048 (Entra) to 4096.
pub(crate) const MAX_RSA_MODULUS_BITS: usize = 8192;

/// The shortest time between two fetches of a key set because a token named an unknown `kid`,
/// in seconds (5 minutes). Bounds what tokens with made-up `kid`s can make an adapter fetch.
pub(crate) const JWKS_REFETCH_COOLDOWN_SECS: u64 = 300;

/// The age after which a fetched key set is stale and must be fetched again before use, in
/// seconds (24 hours). Issuers publish a new key weeks before signing with it, and keep a retired
/// key published after, so a day-old set verifies current tokens while a removed key stops being
/// trusted within a day.
pub(crate) const JWKS_MAX_AGE_SECS: u64 = 24 * 3600;

/// How long a key set written to the platform's shared store is kept there, in seconds (7
/// days). It is used to verify tokens only while not stale ([`JWKS_MAX_AGE_SECS`]); past that
/// it is the last good set a new isolate starts from, which an answer without a usable key
/// does not replace.
pub(crate) const JWKS_STORED_LIFETIME_SECS: u64 = 7 * 24 * 3600;

/// The length of a P-256 coordinate in bytes (RFC 7518 §6.2.1.2: `x` and `y` are the full
/// size of a coordinate for the curve, 32 bytes for P-256, leading zeros kept).
pub(crate) const P256_COORDINATE_BYTES: usize = 32;

/// Base64url for key members: RFC 7518 §6.3.1 says no padding, but some publishers pad.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One JSON Web Key (RFC 7517 §4; RSA members RFC 7518 §6.3.1, EC members §6.2.1). Members
/// edge-token does not use (`x5c`, `x5t`, `issuer`, private members) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Jwk {
    /// `kty`: key type, `RSA` or `EC` (RFC 7518 §6.1).
    pub kty: String,
    /// `kid`: the key's id, matched against a token header's `kid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `use`: `sig` (signatures) or `enc` (encryption; such keys are never used here).
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    /// `key_ops` (RFC 7517 §4.3): when present, must contain `verify` for the key to be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    /// `alg`: when present, the only algorithm the key may be used with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `n` (RSA): the modulus, base64url big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// `e` (RSA): the public exponent, base64url big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// `crv` (EC): the curve, e.g. `P-256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// `x` (EC): the x coordinate, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// `y` (EC): the y coordinate, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// An RSA public key's numbers, decoded from a [`Jwk`] and range-checked: big-endian unsigned
/// bytes without leading zeros.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RsaComponents {
    /// The modulus `n`, `MIN_RSA_MODULUS_BITS` to `MAX_RSA_MODULUS_BITS` bits.
    pub n: Vec<u8>,
    /// The public exponent `e`: odd, at least 3, below 2^32 (in practice 65537).
    pub e: Vec<u8>,
}

impl RsaComponents {
    /// The modulus size in bytes: the length every signature by this key has.
    pub fn modulus_len(&self) -> usize {
        self.n.len()
    }
}

/// A P-256 public key's affine coordinates, decoded from a [`Jwk`] (RFC 7518 §6.2.1):
/// big-endian, 32 bytes each. Their lengths are checked here; whether the point
/// lies on the curve is checked by the verifier backend that imports it (`p256`, WebCrypto).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct P256Coordinates {
    /// `x`, 32 bytes big-endian.
    pub x: [u8; P256_COORDINATE_BYTES],
    /// `y`, 32 bytes big-endian.
    pub y: [u8; P256_COORDINATE_BYTES],
}

impl Jwk {
    /// Whether the key may verify signatures: `use` absent or `sig`, and `key_ops` absent or
    /// containing `verify` (RFC 7517 §4.2–4.3).
    pub fn is_signature_key(&self) -> bool {
        self.key_use.as_deref().is_none_or(|u| u == "sig")
            && self
                .key_ops
                .as_ref()
                .is_none_or(|ops| ops.iter().any(|op| op == "verify"))
    }

    /// Whether the key can verify `algorithm`: a signature key of `algorithm`'s type
    /// ([`VerificationAlgorithm::key_type`]: `RSA` with `n` and `e`, or `EC` with `crv` `P-256`,
    /// `x` and `y`), and an `alg` that is absent or names `algorithm`.
    pub fn supports(&self, algorithm: VerificationAlgorithm) -> bool {
        let members = match algorithm {
            VerificationAlgorithm::Rs256 | VerificationAlgorithm::Ps256 => {
                self.n.is_some() && self.e.is_some()
            }
            VerificationAlgorithm::Es256 => {
                self.crv.as_deref() == Some("P-256") && self.x.is_some() && self.y.is_some()
            }
        };
        self.is_signature_key()
            && self.kty == algorithm.key_type()
            && members
            && self
                .alg
                .as_deref()
                .is_none_or(|alg| alg == algorithm.name())
    }

    /// The RSA public key numbers.
    ///
    /// # Errors
    /// [`TokenError::UnusableKey`] when the key is not `RSA`, `n` or `e` is missing or not
    /// base64url, the modulus is outside `MIN_RSA_MODULUS_BITS`..=`MAX_RSA_MODULUS_BITS`, or
    /// the exponent is even, below 3 or 2^32 and above.
    pub fn rsa_components(&self) -> Result<RsaComponents, TokenError> {
        if self.kty != "RSA" {
            return Err(TokenError::UnusableKey);
        }
        let decode = |member: &Option<String>| -> Result<Vec<u8>, TokenError> {
            let text = member.as_deref().ok_or(TokenError::UnusableKey)?;
            let bytes = KEY_BASE64
                .decode(text)
                .map_err(|_| TokenError::UnusableKey)?;
            let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
            Ok(bytes[first..].to_vec())
        };
        let n = decode(&self.n)?;
        let e = decode(&self.e)?;
        let bits = match n.first() {
            Some(top) => n.len() * 8 - top.leading_zeros() as usize,
            None => 0,
        };
        if !(MIN_RSA_MODULUS_BITS..=MAX_RSA_MODULUS_BITS).contains(&bits) {
            return Err(TokenError::UnusableKey);
        }
        let exponent = match e.len() {
            1..=4 => e.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)),
            _ => return Err(TokenError::UnusableKey),
        };
        if exponent < 3 || exponent % 2 == 0 {
            return Err(TokenError::UnusableKey);
        }
        Ok(RsaComponents { n, e })
    }

    /// The P-256 public key's coordinates.
    ///
    /// # Errors
    /// [`TokenError::UnsupportedCurve`] when the key is `EC` on a curve other than `P-256`
    /// (P-384, P-521, secp256k1: ES384, ES512 and ES256K are not accepted);
    /// [`TokenError::UnusableKey`] when the key is not `EC`, or `x` or `y` is missing, not
    /// base64url or not 32 bytes long.
    pub fn p256_coordinates(&self) -> Result<P256Coordinates, TokenError> {
        if self.kty != "EC" {
            return Err(TokenError::UnusableKey);
        }
        if self.crv.as_deref() != Some("P-256") {
            return Err(TokenError::UnsupportedCurve);
        }
        let decode = |member: &Option<String>| -> Result<[u8; P256_COORDINATE_BYTES], TokenError> {
            let text = member.as_deref().ok_or(TokenError::UnusableKey)?;
            let bytes = KEY_BASE64
                .decode(text)
                .map_err(|_| TokenError::UnusableKey)?;
            bytes.try_into().map_err(|_| TokenError::UnusableKey)
        };
        Ok(P256Coordinates {
            x: decode(&self.x)?,
            y: decode(&self.y)?,
        })
    }
}

/// A key set (RFC 7517 §5) holding the issuer's signature keys only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JwkSet {
    keys: Vec<Jwk>,
}

impl JwkSet {
    /// Whether any key could verify a signature: a signature key with usable RSA numbers or
    /// P-256 coordinates. A set without one (`{"keys":[]}`, only encryption keys, malformed keys) cannot verify
    /// anything, so it never replaces a set that can ([`JwksCache::keep_after_unusable_fetch`]).
    pub(crate) fn has_usable_key(&self) -> bool {
        self.keys.iter().any(|key| {
            key.is_signature_key()
                && (key.rsa_components().is_ok() || key.p256_coordinates().is_ok())
        })
    }

    /// The GET request for the key set at `jwks_uri` (from [`crate::protocol::discovery::ProviderMetadata`]
    /// or, on Entra, `{authority}/discovery/v2.0/keys`).
    ///
    /// # Errors
    /// [`Error::Configuration`] when `jwks_uri` is not `https` (or `http` on a loopback host).
    pub fn request(jwks_uri: &Url) -> Result<HttpRequest, Error> {
        require_secure_url("jwks_uri", jwks_uri)?;
        Ok(HttpRequest::get_json(jwks_uri.clone()))
    }

    /// Parses a key set response. Keys that are not signature keys (`use` = `enc`, `key_ops`
    /// without `verify`) and members of `keys` that are not well-formed JWKs are skipped, as RFC
    /// 7517 §5 asks; the set may end up empty.
    ///
    /// # Errors
    /// [`Error::InvalidResponse`]: a status other than 200 ([`ResponseProblem::UnexpectedRedirect`]
    /// for 3xx, else [`ResponseProblem::UnexpectedStatus`]), an HTML page, non-JSON or
    /// non-object JSON, a body over [`crate::platform::http::MAX_RESPONSE_BODY_BYTES`], or `keys` missing
    /// or not an array.
    pub fn parse(response: &HttpResponse) -> Result<Self, Error> {
        let status = response.status;
        if (300..400).contains(&status) {
            return Err(invalid(status, ResponseProblem::UnexpectedRedirect));
        }
        if status != 200 {
            return Err(invalid(status, ResponseProblem::UnexpectedStatus));
        }
        let mut document = json_object(response)?;
        let keys = match document.remove("keys") {
            Some(Value::Array(keys)) => keys,
            None | Some(Value::Null) => {
                return Err(invalid(status, ResponseProblem::MissingField("keys")))
            }
            Some(_) => {
                return Err(invalid(
                    status,
                    ResponseProblem::InvalidField {
                        field: "keys",
                        reason: "is not an array",
                    },
                ))
            }
        };
        let keys = keys
            .into_iter()
            .filter_map(|key| serde_json::from_value::<Jwk>(key).ok())
            .collect();
        Ok(Self::from_keys(keys))
    }

    /// A set of `keys`, keeping only signature keys ([`Jwk::is_signature_key`]).
    pub fn from_keys(keys: Vec<Jwk>) -> Self {
        Self {
            keys: keys.into_iter().filter(Jwk::is_signature_key).collect(),
        }
    }

    /// The signature keys, in the issuer's order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// The key for a token whose header has `kid` and which must be verified with `algorithm`:
    /// - with a `kid`, a key with that `kid` that [`Jwk::supports`] `algorithm`;
    /// - without one, the only key that supports `algorithm`, if exactly one does.
    ///
    /// # Errors
    /// [`TokenError::UnknownKey`] when no key has that `kid` (or, without a `kid`, when zero or
    /// several keys fit): the caller may refetch the set (`JwksCache`).
    /// [`TokenError::UnusableKey`] when keys with that `kid` exist but none can verify
    /// `algorithm` ([`TokenError::UnsupportedCurve`] when ES256 is configured and such a key is
    /// `EC` on another curve).
    pub fn find(
        &self,
        kid: Option<&str>,
        algorithm: VerificationAlgorithm,
    ) -> Result<&Jwk, TokenError> {
        let Some(kid) = kid else {
            let mut fitting = self.keys.iter().filter(|key| key.supports(algorithm));
            return match (fitting.next(), fitting.next()) {
                (Some(only), None) => Ok(only),
                _ => Err(TokenError::UnknownKey),
            };
        };
        let mut named = self
            .keys
            .iter()
            .filter(|key| key.kid.as_deref() == Some(kid))
            .peekable();
        if named.peek().is_none() {
            return Err(TokenError::UnknownKey);
        }
        let mut other_curve = false;
        for key in named {
            if key.supports(algorithm) {
                return Ok(key);
            }
            other_curve |= algorithm == VerificationAlgorithm::Es256
                && key.p256_coordinates() == Err(TokenError::UnsupportedCurve);
        }
        Err(if other_curve {
            TokenError::UnsupportedCurve
        } else {
            TokenError::UnusableKey
        })
    }
}

/// A fetched key set and the rules for fetching it again: pure data and decisions, no IO.
/// Serde (de)serializable (JSON): `IssuerKeys` keeps it in isolate memory and, sealed, in the
/// platform's shared store, where the same rules apply to it (its times are absolute).
///
/// How an adapter uses it, with times in Unix seconds:
/// 1. Without a cache, or when [`JwksCache::is_stale`], fetch ([`JwkSet::request`]) and
///    [`JwksCache::new`] / [`JwksCache::replace`]. A stale set is not used (fail closed), except
///    that an answer without a usable key ([`JwkSet::has_usable_key`]) never replaces a set
///    with one: [`JwksCache::keep_after_unusable_fetch`] keeps it for another cooldown.
/// 2. Validate with [`JwksCache::keys`]. On [`TokenError::UnknownKey`] (the issuer may have
///    rotated keys), if [`JwksCache::needs_refetch_for_unknown_kid`], call
///    [`JwksCache::record_refetch_attempt`], fetch, [`JwksCache::replace`] on success and
///    validate once more; otherwise refuse the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JwksCache {
    keys: JwkSet,
    fetched_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refetch_attempted_at: Option<u64>,
}

impl JwksCache {
    /// A set fetched at `fetched_at` (Unix seconds).
    pub(crate) fn new(keys: JwkSet, fetched_at: u64) -> Self {
        Self {
            keys,
            fetched_at,
            refetch_attempted_at: None,
        }
    }

    /// The key set.
    pub(crate) fn keys(&self) -> &JwkSet {
        &self.keys
    }

    /// When the set was fetched, Unix seconds.
    pub(crate) fn fetched_at(&self) -> u64 {
        self.fetched_at
    }

    /// Whether the set is [`JWKS_MAX_AGE_SECS`] old or older at `now` (Unix seconds), and no
    /// fetch was attempted within the last [`JWKS_REFETCH_COOLDOWN_SECS`] (a set kept after an
    /// unusable answer is asked for again only after the cooldown). A clock that went backwards
    /// does not make it stale.
    pub(crate) fn is_stale(&self, now: u64) -> bool {
        let attempted = self.refetch_attempted_at.unwrap_or(0);
        now.saturating_sub(self.fetched_at) >= JWKS_MAX_AGE_SECS
            && now.saturating_sub(attempted) >= JWKS_REFETCH_COOLDOWN_SECS
    }

    /// Whether a token with an unknown `kid` may trigger a fetch at `now` (Unix seconds): at
    /// least [`JWKS_REFETCH_COOLDOWN_SECS`] since the set was fetched and since the last
    /// recorded attempt (failed attempts count, so a failing endpoint is not hammered).
    pub(crate) fn needs_refetch_for_unknown_kid(&self, now: u64) -> bool {
        let last = self.fetched_at.max(self.refetch_attempted_at.unwrap_or(0));
        now.saturating_sub(last) >= JWKS_REFETCH_COOLDOWN_SECS
    }

    /// Records that a refetch starts at `now` (Unix seconds), before sending it.
    pub(crate) fn record_refetch_attempt(&mut self, now: u64) {
        self.refetch_attempted_at = Some(now);
    }

    /// Replaces the set with `keys`, fetched at `now` (Unix seconds).
    pub(crate) fn replace(&mut self, keys: JwkSet, now: u64) {
        self.keys = keys;
        self.fetched_at = now;
    }

    /// Keeps the current set after a fetch at `now` (Unix seconds) answered a set without a
    /// usable key ([`JwkSet::has_usable_key`]): one bad answer (an empty set during a
    /// provider's deployment, a hostile or broken proxy) must not make every token fail until
    /// the next fetch. The attempt counts for the cooldowns, so such an answer is not asked for
    /// again at once.
    pub(crate) fn keep_after_unusable_fetch(&mut self, now: u64) {
        self.refetch_attempted_at = Some(now);
    }
}

#[cfg(test)]
mod tests;
