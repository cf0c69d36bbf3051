//! Client assertions signed with a certificate's key (RFC 7523 §2.2 and §3; Microsoft identity
//! platform "certificate credentials").
//!
//! Header: `alg` (`PS256` by default, `RS256` legacy), `typ: JWT`, and the certificate's
//! thumbprint: `x5t#S256` with PS256, `x5t` (SHA-1) with RS256; optionally `x5c`, the chain
//! (Entra "subject name + issuer" authentication). Claims: `aud` = the token endpoint URL
//! exactly, `iss` = `sub` = client id, `jti` = a fresh UUID, `nbf` = `iat` = now, `exp` = now +
//! [`ASSERTION_LIFETIME_SECS`].
//!
//! [`CertificateCredential::assertion`] reuses a signed assertion per token endpoint while more
//! than half its lifetime is left, as MSAL does (`crate::credentials::assertion_cache`).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;

use crate::credentials::assertion_cache::AssertionCache;
use crate::credentials::certificate::{Certificate, ClientCertificate};
use crate::credentials::signer::{JwsAlgorithm, JwsSigner};
use crate::error::Error;
use crate::platform::Platform;
use crate::secret::ClientAssertion;

/// How long an assertion is valid, in seconds (Entra accepts 5–10 minutes after `nbf`; MSAL
/// uses 10 minutes).
pub(crate) const ASSERTION_LIFETIME_SECS: u64 = 600;

/// A certificate credential: the registered certificate (chain), a signer for its key, and the
/// assertions it signed, kept for reuse per token endpoint.
pub struct CertificateCredential {
    chain: Vec<Certificate>,
    signer: Box<dyn JwsSigner>,
    send_x5c: bool,
    signed: AssertionCache,
}

impl CertificateCredential {
    /// Combines `certificate` with a signer made from its key (the key itself is dropped and
    /// zeroized here: the signer holds it).
    pub fn new(certificate: ClientCertificate, signer: Box<dyn JwsSigner>, send_x5c: bool) -> Self {
        Self {
            chain: certificate.into_chain(),
            signer,
            send_x5c,
            signed: AssertionCache::default(),
        }
    }

    /// The leaf certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.chain[0]
    }

    /// The assertion's algorithm, the signer's: `PS256` (header `x5t#S256`) or `RS256` (header
    /// `x5t`). AD FS accepts only `RS256` (see
    /// [`crate::protocol::authority::Authority::requires_rs256_assertion`]).
    pub fn algorithm(&self) -> JwsAlgorithm {
        self.signer.algorithm()
    }

    /// The assertion for `client_id` at `token_endpoint` (its `aud`, exactly): the one signed
    /// earlier for that endpoint and client while `platform`'s clock (Unix seconds; the client
    /// passes its corrected clock) is at or after its `nbf` and more than 300 s (half its
    /// lifetime) before its `exp`, else a new one with a new `jti`, kept for the next requests
    /// to that endpoint.
    ///
    /// This is MSAL's reuse of certificate assertions: MSAL.NET 4.x reuses one while its `exp`
    /// is more than `ExpirationMarginInMinutes` (5) away, for the same audience and `x5c`
    /// choice (`ClientCredentialHelper.ValidateClientAssertion`); msal-node reuses one until its
    /// `exp` for the same `iss` and `aud` (`ClientAssertion.getJwt`). edge-token takes
    /// MSAL.NET's margin. Entra accepts an assertion again within its lifetime; a provider that
    /// refuses a `jti` it has seen (RFC 7523 §3 allows it) refuses reused assertions.
    ///
    /// # Errors
    /// [`Error::Signing`] from the signer, or the platform's entropy error (for the `jti`);
    /// nothing is kept then.
    pub async fn assertion(
        &self,
        client_id: &str,
        token_endpoint: &str,
        platform: &Platform<'_>,
    ) -> Result<ClientAssertion, Error> {
        let now = platform.clock.now_unix_secs();
        if let Some(assertion) = self.signed.reusable(client_id, token_endpoint, now) {
            return Ok(assertion);
        }
        let jti = platform.random_uuid()?;
        let assertion = self
            .sign_assertion(client_id, token_endpoint, now, &jti)
            .await?;
        self.signed.keep(
            client_id,
            token_endpoint,
            assertion.clone(),
            now,
            now.saturating_add(ASSERTION_LIFETIME_SECS),
        );
        Ok(assertion)
    }

    /// Signs a fresh assertion for `client_id` at `token_endpoint`, without reuse (see
    /// [`Self::assertion`]).
    ///
    /// `now` is Unix seconds; `jti` a fresh UUID (see [`crate::platform::Platform::random_uuid`]).
    ///
    /// # Errors
    /// [`Error::Signing`] from the signer.
    pub async fn sign_assertion(
        &self,
        client_id: &str,
        token_endpoint: &str,
        now: u64,
        jti: &str,
    ) -> Result<ClientAssertion, Error> {
        let algorithm = self.signer.algorithm();
        let leaf = self.certificate();
        let header = Header {
            alg: algorithm.name(),
            typ: "JWT",
            x5t_s256: (algorithm == JwsAlgorithm::Ps256).then(|| leaf.thumbprint_sha256()),
            x5t: (algorithm == JwsAlgorithm::Rs256).then(|| leaf.thumbprint_sha1()),
            x5c: self
                .send_x5c
                .then(|| self.chain.iter().map(Certificate::x5c_entry).collect()),
        };
        let claims = Claims {
            aud: token_endpoint,
            iss: client_id,
            sub: client_id,
            jti,
            nbf: now,
            iat: now,
            exp: now.saturating_add(ASSERTION_LIFETIME_SECS),
        };
        let mut jws = encode_json(&header)?;
        jws.push('.');
        jws.push_str(&encode_json(&claims)?);
        let signature = self.signer.sign(jws.as_bytes()).await?;
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut jws);
        Ok(ClientAssertion::new(jws))
    }
}

impl fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateCredential")
            .field("certificate", self.certificate())
            .field("algorithm", &self.signer.algorithm())
            .field("send_x5c", &self.send_x5c)
            .finish()
    }
}

#[derive(Serialize)]
struct Header {
    alg: &'static str,
    typ: &'static str,
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    x5t_s256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5t: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5c: Option<Vec<String>>,
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: &'a str,
    nbf: u64,
    iat: u64,
    exp: u64,
}

fn encode_json(value: &impl Serialize) -> Result<String, Error> {
    let json = serde_json::to_vec(value)
        .map_err(|_| Error::Signing("cannot serialize the assertion".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

#[cfg(all(test, feature = "rustcrypto"))]
mod tests;
