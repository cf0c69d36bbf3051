//! PKCS#12 / PFX (RFC 7292) files as Microsoft.Identity.Web's `Base64Encoded` credential holds
//! them: a certificate (chain) and its private key, decoded from their DER bags straight into a
//! [`ClientCertificate`] (no PEM round trip), the leaf first.
//!
//! The structures and the PKCS#12 key derivation are RustCrypto's `pkcs12` and `cms`, PBES2
//! decryption (PBKDF2 + AES-CBC: what `openssl pkcs12 -export` writes by default, and .NET with
//! AES `PbeParameters`) is `pkcs5`'s, and the MAC is `hmac` + `sha1`/`sha2`.
//! The legacy PKCS#12 PBE schemes (`pbeWithSHAAnd3-KeyTripleDES-CBC`, RC2: `openssl pkcs12
//! -legacy`, older Windows exports) have no RustCrypto implementation and are refused with a
//! clear error rather than re-implemented here.

use alloc::vec::Vec;

use der::asn1::{ContextSpecific, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Reader, SliceReader};
use hmac::{Hmac, Mac};
use pkcs12::kdf::{derive_key, derive_key_utf8, Pkcs12KeyType};
use pkcs12::pfx::Pfx;
use pkcs12::safe_bag::SafeBag;
use pkcs8::spki::AlgorithmIdentifierOwned;
use sha2::Digest;
use zeroize::Zeroizing;

use crate::credentials::certificate::{Certificate, ClientCertificate, PrivateKey};
use crate::error::Error;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
/// `pkcs-12PbeIds` (RFC 7292 Appendix C): the legacy PKCS#12 PBE algorithms.
const PKCS12_PBE_IDS: &str = "1.2.840.113549.1.12.1.";
const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// Opens the DER PFX `pfx` with `password` (empty when none).
///
/// # Errors
/// [`Error::Configuration`] naming `setting` (the key path in `AZURE_AD`) for: not a PFX, a
/// wrong password (MAC or decryption failure), legacy encryption, no private key or more than
/// one, no certificate, a key that is not RSA (or shorter than 2048 bits), or a key that matches
/// none of the certificates. Messages never contain the password or key material.
pub(super) fn open(setting: &str, pfx: &[u8], password: &str) -> Result<ClientCertificate, Error> {
    let bad = |what: &str| Error::configuration(alloc::format!("{setting} {what}"));
    let wrong_password = || bad("cannot be opened: wrong CertificatePassword (or none given)");
    let pfx = Pfx::from_der(pfx).map_err(|_| bad("is not a PKCS#12 (PFX) file"))?;
    if pfx.auth_safe.content_type != ID_DATA {
        return Err(bad(
            "is a PKCS#12 file with public-key integrity, which is not supported",
        ));
    }
    let auth_safe = OctetString::from_der(
        &pfx.auth_safe
            .content
            .to_der()
            .map_err(|_| bad("is not a PKCS#12 (PFX) file"))?,
    )
    .map_err(|_| bad("is not a PKCS#12 (PFX) file"))?;
    if let Some(mac_data) = &pfx.mac_data {
        if !mac_matches(mac_data, auth_safe.as_bytes(), password) {
            return Err(wrong_password());
        }
    }
    let contents = Vec::<cms::content_info::ContentInfo>::from_der(auth_safe.as_bytes())
        .map_err(|_| bad("is not a PKCS#12 (PFX) file"))?;
    let mut certificates: Vec<Vec<u8>> = Vec::new();
    let mut keys: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    for content in contents {
        let bags: Zeroizing<Vec<u8>> = if content.content_type == ID_DATA {
            let octets = content
                .content
                .decode_as::<OctetString>()
                .map_err(|_| bad("has a malformed SafeContents"))?;
            Zeroizing::new(octets.as_bytes().to_vec())
        } else if content.content_type == ID_ENCRYPTED_DATA {
            let data = content
                .content
                .decode_as::<cms::encrypted_data::EncryptedData>()
                .map_err(|_| bad("has a malformed EncryptedData"))?;
            let info = data.enc_content_info;
            refuse_legacy(setting, &info.content_enc_alg.oid)?;
            let algorithm = info
                .content_enc_alg
                .to_der()
                .map_err(|_| bad("has a malformed EncryptedData"))?;
            let scheme = pkcs5::EncryptionScheme::from_der(&algorithm)
                .map_err(|_| bad("uses an encryption scheme edge-token does not support"))?;
            let ciphertext = info
                .encrypted_content
                .ok_or_else(|| bad("has an empty EncryptedData"))?;
            Zeroizing::new(
                scheme
                    .decrypt(password.as_bytes(), ciphertext.as_bytes())
                    .map_err(|_| wrong_password())?,
            )
        } else {
            return Err(bad(
                "holds enveloped (public-key encrypted) content, which is not supported",
            ));
        };
        let bags = Vec::<SafeBag>::from_der(&bags).map_err(|_| wrong_password())?;
        for bag in bags {
            match bag.bag_id {
                pkcs12::PKCS_12_CERT_BAG_OID => {
                    let cert =
                        ContextSpecific::<pkcs12::cert_type::CertBag>::from_der(&bag.bag_value)
                            .map_err(|_| bad("has a malformed certificate bag"))?
                            .value;
                    if cert.cert_id == pkcs12::PKCS_12_X509_CERT_OID {
                        certificates.push(cert.cert_value.as_bytes().to_vec());
                    }
                }
                pkcs12::PKCS_12_KEY_BAG_OID => {
                    let key = ContextSpecific::<der::Any>::from_der(&bag.bag_value)
                        .and_then(|key| key.value.to_der())
                        .map_err(|_| bad("has a malformed key bag"))?;
                    keys.push(Zeroizing::new(key));
                }
                pkcs12::PKCS_12_PKCS8_KEY_BAG_OID => {
                    keys.push(shrouded_key(setting, &bag.bag_value, password)?);
                }
                // CRLs, secrets and nested safe contents carry nothing a client credential uses.
                _ => {}
            }
        }
    }
    let key_der = match keys.as_slice() {
        [key] => key,
        [] => {
            return Err(bad(
                "holds no private key (export the certificate with its key)",
            ))
        }
        _ => return Err(bad("holds more than one private key")),
    };
    let key = PrivateKey::from_pkcs8_der(setting, key_der)?;
    let mut leaf = None;
    let mut others = Vec::new();
    for der in &certificates {
        let certificate = Certificate::from_der(setting, der)?;
        if leaf.is_none() && key.matches(&certificate) {
            leaf = Some(certificate);
        } else {
            others.push(certificate);
        }
    }
    let Some(leaf) = leaf else {
        return Err(if certificates.is_empty() {
            bad("holds no certificate")
        } else {
            bad("holds a private key that matches none of its certificates")
        });
    };
    let mut chain = alloc::vec![leaf];
    chain.extend(others);
    ClientCertificate::new(chain, key)
}

fn refuse_legacy(setting: &str, oid: &ObjectIdentifier) -> Result<(), Error> {
    if alloc::format!("{oid}").starts_with(PKCS12_PBE_IDS) {
        return Err(Error::configuration(alloc::format!(
            "{setting} uses legacy PKCS#12 encryption (3DES/RC2), which edge-token does not \
             support: re-export it with AES-256 (`openssl pkcs12 -export` without `-legacy`) or \
             use the Pem source"
        )));
    }
    Ok(())
}

/// A `pkcs8ShroudedKeyBag`: `[0] EXPLICIT EncryptedPrivateKeyInfo` (RFC 7292 §4.2.2).
fn shrouded_key(setting: &str, bag: &[u8], password: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    let bad = |what: &str| Error::configuration(alloc::format!("{setting} {what}"));
    let inner = ContextSpecific::<der::Any>::from_der(bag)
        .and_then(|wrapped| wrapped.value.to_der())
        .map_err(|_| bad("has a malformed key bag"))?;
    let algorithm = SliceReader::new(&inner)
        .and_then(|mut reader| {
            reader.sequence(|inner| {
                let algorithm = AlgorithmIdentifierOwned::decode(inner)?;
                OctetString::decode(inner)?;
                Ok(algorithm)
            })
        })
        .map_err(|_| bad("has a malformed key bag"))?;
    refuse_legacy(setting, &algorithm.oid)?;
    let info = pkcs8::EncryptedPrivateKeyInfo::from_der(&inner)
        .map_err(|_| bad("uses a key encryption scheme edge-token does not support"))?;
    info.encryption_algorithm
        .decrypt(password.as_bytes(), info.encrypted_data)
        .map(Zeroizing::new)
        .map_err(|_| bad("cannot be opened: wrong CertificatePassword (or none given)"))
}

/// RFC 7292 §5.1 and Appendix B: HMAC over the authenticated safe with a key from the PKCS#12
/// KDF. An empty password is tried both as the empty BMPString with its terminator and as no
/// bytes at all, as implementations differ (OpenSSL accepts both).
fn mac_matches(mac_data: &pkcs12::mac_data::MacData, data: &[u8], password: &str) -> bool {
    let salt = mac_data.mac_salt.as_bytes();
    let rounds = mac_data.iterations;
    let expected = mac_data.mac.digest.as_bytes();
    macro_rules! check {
        ($hash:ty) => {{
            let len = <$hash as Digest>::output_size();
            let utf8 = derive_key_utf8::<$hash>(password, salt, Pkcs12KeyType::Mac, rounds, len)
                .ok()
                .map(Zeroizing::new);
            let verify = |key: &[u8]| {
                <Hmac<$hash> as Mac>::new_from_slice(key).is_ok_and(|mut mac| {
                    mac.update(data);
                    mac.verify_slice(expected).is_ok()
                })
            };
            utf8.is_some_and(|key| verify(&key))
                || (password.is_empty()
                    && verify(&Zeroizing::new(derive_key::<$hash>(
                        &[],
                        salt,
                        Pkcs12KeyType::Mac,
                        rounds,
                        len,
                    ))))
        }};
    }
    match mac_data.mac.algorithm.oid {
        ID_SHA1 => check!(sha1::Sha1),
        ID_SHA256 => check!(sha2::Sha256),
        ID_SHA384 => check!(sha2::Sha384),
        ID_SHA512 => check!(sha2::Sha512),
        _ => false,
    }
}
