//! The PEM/DER decoding behind certificate credentials (feature `certificate`): X.509
//! certificates read as far as edge-token needs them, through a `der`-derived view of RFC 5280
//! §4.1 (their DER for thumbprints and `x5c`, their SubjectPublicKeyInfo for the key check), and
//! RSA private keys from PKCS#8 or PKCS#1 PEM. All decoding is RustCrypto's (`der`, `pkcs1`,
//! `pkcs8` with `spki`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use der::asn1::{AnyRef, BitStringRef};
use der::{Decode, Encode, Sequence};
use pkcs8::spki::SubjectPublicKeyInfoRef;
use pkcs8::PrivateKeyInfo;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::PrivateKey;
use crate::error::Error;

/// The smallest RSA modulus accepted, in bits (Microsoft identity platform: "at least 2048").
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// `rsaEncryption` (RFC 8017 Appendix A.1).
const RSA_ENCRYPTION: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The PEM label of a certificate (RFC 7468 §5).
const CERTIFICATE_LABEL: &str = "CERTIFICATE";

/// The end of a PEM certificate block (RFC 7468 §5): where a chain's blocks are split, each then
/// decoded by `der`'s PEM decoder (as `x509-cert`'s `load_pem_chain` does).
const CERTIFICATE_END: &str = "-----END CERTIFICATE-----";

/// `Certificate` (RFC 5280 §4.1), as far as edge-token reads it.
#[derive(Sequence)]
#[allow(dead_code)] // decoded to check the structure; only the key is read
struct X509View<'a> {
    tbs_certificate: TbsCertificateView<'a>,
    signature_algorithm: AnyRef<'a>,
    signature_value: BitStringRef<'a>,
}

/// `TBSCertificate` (RFC 5280 §4.1): every field in its place and tag, only the
/// SubjectPublicKeyInfo decoded further.
#[derive(Sequence)]
#[allow(dead_code)] // decoded to check the structure; only the key is read
struct TbsCertificateView<'a> {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    version: Option<AnyRef<'a>>,
    serial_number: AnyRef<'a>,
    signature: AnyRef<'a>,
    issuer: AnyRef<'a>,
    validity: AnyRef<'a>,
    subject: AnyRef<'a>,
    subject_public_key_info: SubjectPublicKeyInfoRef<'a>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    issuer_unique_id: Option<BitStringRef<'a>>,
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    subject_unique_id: Option<BitStringRef<'a>>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<AnyRef<'a>>,
}

/// An X.509 certificate in DER form.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    rsa_public_key: Option<RsaPublic>,
}

#[derive(Clone, PartialEq, Eq)]
pub(super) struct RsaPublic {
    pub(super) modulus: Vec<u8>,
    pub(super) exponent: Vec<u8>,
}

impl Certificate {
    /// Decodes every `CERTIFICATE` block in `pem`, in order (leaf first for a chain).
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `setting` when the text holds no certificate or a block
    /// is not a valid DER X.509 certificate.
    pub fn chain_from_pem(setting: &str, pem: &str) -> Result<Vec<Self>, Error> {
        let bad =
            || Error::configuration(alloc::format!("{setting} is not a PEM X.509 certificate"));
        let chain = pem
            .split_inclusive(CERTIFICATE_END)
            .filter(|block| !block.trim().is_empty())
            .map(
                |block| match der::pem::decode_vec(block.trim().as_bytes()) {
                    Ok((CERTIFICATE_LABEL, der)) => Self::from_x509(der).ok_or_else(bad),
                    _ => Err(bad()),
                },
            )
            .collect::<Result<Vec<_>, _>>()?;
        if chain.is_empty() {
            return Err(bad());
        }
        Ok(chain)
    }

    /// Decodes one DER X.509 certificate (e.g. from a PKCS#12 bag).
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `setting` when `der` is not a DER X.509 certificate.
    pub fn from_der(setting: &str, der: &[u8]) -> Result<Self, Error> {
        Self::from_x509(der.to_vec()).ok_or_else(|| {
            Error::configuration(alloc::format!("{setting} is not a DER X.509 certificate"))
        })
    }

    /// `der` if it is one DER `Certificate` (nothing after it), with its RSA public key if it
    /// has one.
    fn from_x509(der: Vec<u8>) -> Option<Self> {
        let view = X509View::from_der(&der).ok()?;
        let spki = view.tbs_certificate.subject_public_key_info;
        let rsa_public_key = (spki.algorithm.oid == RSA_ENCRYPTION)
            .then(|| spki.subject_public_key.as_bytes())
            .flatten()
            .and_then(|key| pkcs1::RsaPublicKey::from_der(key).ok())
            .map(|key| RsaPublic {
                modulus: key.modulus.as_bytes().to_vec(),
                exponent: key.public_exponent.as_bytes().to_vec(),
            });
        Some(Self {
            der,
            rsa_public_key,
        })
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// `x5t#S256`: base64url (no padding) of the SHA-256 digest of the DER certificate.
    pub fn thumbprint_sha256(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(&self.der))
    }

    /// `x5t`: base64url (no padding) of the SHA-1 digest of the DER certificate (legacy).
    pub fn thumbprint_sha1(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha1::digest(&self.der))
    }

    /// One `x5c` array entry: standard base64 (with padding) of the DER certificate.
    pub fn x5c_entry(&self) -> String {
        STANDARD.encode(&self.der)
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("x5t#S256", &self.thumbprint_sha256())
            .finish()
    }
}

impl PrivateKey {
    /// Decodes a PEM private key: PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming `setting` when the text is not one of those PEM blocks,
    /// the key is encrypted (`ENCRYPTED PRIVATE KEY`: decrypt it before storing it as a
    /// secret), not RSA, or shorter than `MIN_RSA_BITS`. The error never contains key bytes.
    pub fn from_pem(setting: &str, pem: &str) -> Result<Self, Error> {
        let bad = |what: &str| Error::configuration(alloc::format!("{setting} {what}"));
        let (label, der) = der::pem::decode_vec(pem.trim().as_bytes())
            .map_err(|_| bad("is not a PEM private key"))?;
        let der = Zeroizing::new(der);
        let pkcs8_der = match label {
            "PRIVATE KEY" => Zeroizing::new(der.to_vec()),
            "RSA PRIVATE KEY" => {
                pkcs1::RsaPrivateKey::from_der(&der)
                    .map_err(|_| bad("is not a valid PKCS#1 RSA key"))?;
                let info = PrivateKeyInfo::new(pkcs1::ALGORITHM_ID, &der);
                Zeroizing::new(
                    info.to_der()
                        .map_err(|_| bad("cannot be converted to PKCS#8"))?,
                )
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(bad("is encrypted: store the decrypted PKCS#8 key"))
            }
            _ => {
                return Err(bad(
                    "must be a PEM `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1)",
                ))
            }
        };
        Self::from_pkcs8_der(setting, &pkcs8_der)
    }

    /// Decodes a PKCS#8 DER private key (e.g. from a PKCS#12 bag) without a PEM round trip.
    ///
    /// # Errors
    /// As [`PrivateKey::from_pem`], for the DER bytes.
    pub fn from_pkcs8_der(setting: &str, pkcs8_der: &[u8]) -> Result<Self, Error> {
        let bad = |what: &str| Error::configuration(alloc::format!("{setting} {what}"));
        let pkcs8_der = Zeroizing::new(pkcs8_der.to_vec());
        let info =
            PrivateKeyInfo::from_der(&pkcs8_der).map_err(|_| bad("is not a valid PKCS#8 key"))?;
        if info.algorithm.oid != RSA_ENCRYPTION {
            return Err(bad("is not an RSA key (only RSA keys are supported)"));
        }
        let key = pkcs1::RsaPrivateKey::from_der(info.private_key)
            .map_err(|_| bad("is not a valid RSA key"))?;
        let public = RsaPublic {
            modulus: key.modulus.as_bytes().to_vec(),
            exponent: key.public_exponent.as_bytes().to_vec(),
        };
        if public.modulus.len() * 8 < MIN_RSA_BITS {
            return Err(bad("is shorter than 2048 bits"));
        }
        Ok(Self { pkcs8_der, public })
    }

    /// Whether `certificate` carries this key's public key. A mismatch is the usual cause of
    /// Entra's AADSTS700027, so configuration checks it up front.
    pub fn matches(&self, certificate: &Certificate) -> bool {
        certificate.rsa_public_key.as_ref() == Some(&self.public)
    }
}

/// A certificate chain (leaf first) with the leaf's private key, checked to belong together:
/// the one place edge-token enforces that rule (a mismatch is Entra's AADSTS700027). Loaded
/// once, from PEM settings ([`ClientCertificate::from_pem`]) or a PKCS#12 file (DER, no PEM
/// round trip); the key stays zeroized on drop.
#[derive(Clone)]
pub struct ClientCertificate {
    chain: Vec<Certificate>,
    key: PrivateKey,
}

impl ClientCertificate {
    /// Pairs `chain` (leaf first) with `key`. Errors name the settings `CLIENT_CERTIFICATE`
    /// and `CLIENT_PRIVATE_KEY`, onto which every other source (`AZURE_AD`) is mapped.
    ///
    /// # Errors
    /// [`Error::Configuration`] when the chain is empty or `key` is not the leaf certificate's
    /// key.
    pub fn new(chain: Vec<Certificate>, key: PrivateKey) -> Result<Self, Error> {
        match chain.first() {
            None => Err(Error::configuration(
                "CLIENT_CERTIFICATE holds no certificate",
            )),
            Some(leaf) if !key.matches(leaf) => Err(Error::configuration(
                "CLIENT_PRIVATE_KEY is not the key of CLIENT_CERTIFICATE",
            )),
            Some(_) => Ok(Self { chain, key }),
        }
    }

    /// The certificate settings `CLIENT_CERTIFICATE` (PEM chain, leaf first) and
    /// `CLIENT_PRIVATE_KEY` (PEM, PKCS#8 or PKCS#1).
    ///
    /// # Errors
    /// As [`Certificate::chain_from_pem`], [`PrivateKey::from_pem`] and
    /// [`ClientCertificate::new`].
    pub fn from_pem(certificate_pem: &str, key_pem: &str) -> Result<Self, Error> {
        let chain = Certificate::chain_from_pem("CLIENT_CERTIFICATE", certificate_pem)?;
        let key = PrivateKey::from_pem("CLIENT_PRIVATE_KEY", key_pem)?;
        Self::new(chain, key)
    }

    /// The chain, leaf first.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// The leaf's private key. A secret: hand it only to a signer backend.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The chain, dropping (and zeroizing) the key: once a signer holds it.
    pub fn into_chain(self) -> Vec<Certificate> {
        self.chain
    }
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("chain", &self.chain)
            .field("key", &self.key)
            .finish()
    }
}

#[cfg(test)]
pub(crate) mod tests;
