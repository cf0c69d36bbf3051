//! Configuration from named settings (Worker vars and secrets, Fastly config/secret stores,
//! Spin variables), parsed once into typed values, shared by every adapter.
//!
//! | setting | meaning |
//! |---|---|
//! | `AUTHORITY` | Entra `https://{host}/{tenant}`, B2C `https://{tenant}.b2clogin.com/{tenant}.onmicrosoft.com/{policy}`, External ID `https://{tenant}.ciamlogin.com/`, AD FS `https://{host}/adfs`, or an OIDC issuer URL |
//! | `AUTHORITY_KIND` | optional `entra` \| `b2c` \| `ciam` \| `adfs` \| `oidc`; default from the URL ([`AuthorityKind::infer`]) |
//! | `AZURE_REGION` | optional, Entra ID only: Azure region (e.g. `westus2`) whose regional token endpoint serves client credentials |
//! | `CLIENT_ID` | the application (client) id |
//! | `CLIENT_SECRET` | credential 1: a client secret |
//! | `CLIENT_AUTH_METHOD` | with a secret: `client_secret_post` (default) \| `client_secret_basic` |
//! | `CLIENT_CERTIFICATE` + `CLIENT_PRIVATE_KEY` | credential 2 (feature `certificate`): PEM certificate (chain) and PEM RSA key |
//! | `CLIENT_ASSERTION_ALG` | with a certificate: `PS256` (default, `x5t#S256`) \| `RS256` (`x5t`); AD FS: `RS256` only (the default there) |
//! | `CLIENT_SEND_X5C` | with a certificate: `true` to send the chain as `x5c` (default `false`) |
//! | `CLIENT_ASSERTION` | credential 3: a signed client assertion (workload identity federation) |
//! | `CLIENT_CAPABILITIES` | optional: client capabilities, e.g. `cp1` (claims challenges, CAE) |
//! | `TOKEN_CACHE_KEY` | optional secret: base64url of 32 random bytes (several: newest first, comma-separated); seals token cache entries in the shared store. Without it `COOKIE_KEY` is used; without both, tokens are cached in memory only |
//! | `LOG_LEVEL` | optional: `off` \| `error` \| `warn` (default) \| `info` \| `debug` ([`log_level`]) |
//! | `AZURE_AD` | optional (feature `azure-ad`): Microsoft.Identity.Web's `AzureAd` section as JSON, mapped onto these names (`azure_ad`) |
//!
//! Exactly one credential must be set. Errors name the setting, never its value. Without the
//! feature `certificate`, a certificate setting is an error naming the feature
//! ([`CERTIFICATE_FEATURE_MISSING`]), never ignored.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use alloc::boxed::Box;
use core::future::Future;
use core::time::Duration;

use crate::acquisition::client::ConfidentialClient;
#[cfg(feature = "certificate")]
use crate::credentials::assertion::CertificateCredential;
#[cfg(feature = "certificate")]
use crate::credentials::certificate::ClientCertificate;
use crate::credentials::certificate::PrivateKey;
use crate::credentials::credential::{AssertionSource, ClientCredential, SecretMethod};
use crate::credentials::signer::{JwsAlgorithm, JwsSigner};
use crate::error::Error;
use crate::protocol::authority::{Authority, AuthorityKind, Region};
use crate::protocol::claims::parse_capabilities;
use crate::seal::RootKeys;
use crate::secret::{ClientAssertion, ClientSecret};

/// A source of named settings. Empty values count as absent.
pub trait Settings {
    /// The value of setting `name`, if set.
    fn get(&self, name: &str) -> Option<String>;

    /// A client certificate this source holds already loaded, in place of the PEM settings
    /// `CLIENT_CERTIFICATE` + `CLIENT_PRIVATE_KEY` (Microsoft.Identity.Web's `Base64Encoded`
    /// PKCS#12 in `AZURE_AD`, opened once by [`AzureAdSettings`]). None by default. Feature
    /// `certificate`.
    #[cfg(feature = "certificate")]
    fn client_certificate(&self) -> Option<ClientCertificate> {
        None
    }
}

/// A map of setting names to values is a [`Settings`] (tests, or settings gathered up front).
impl Settings for alloc::collections::BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        alloc::collections::BTreeMap::get(self, name).cloned()
    }
}

/// Every setting [`ClientConfig::from_settings`] may read, through
/// [`azure_ad::AzureAdSettings`] (hence `AZURE_AD`): who the client is, its credential, the
/// token cache key and `HTTP_TIMEOUT_MS`. Each scenario's list names only what it reads besides
/// these (`DAEMON_SETTING_NAMES`, `WEB_APP_SETTING_NAMES`, `WEB_API_SETTING_NAMES` in
/// [`crate::scenarios`]), for runtimes whose settings must be fetched by name before they are
/// parsed (Spin variables are read asynchronously).
pub const CLIENT_SETTING_NAMES: &[&str] = &[
    "AZURE_AD",
    "AUTHORITY",
    "AUTHORITY_KIND",
    "AZURE_REGION",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "CLIENT_AUTH_METHOD",
    "CLIENT_CERTIFICATE",
    "CLIENT_PRIVATE_KEY",
    "CLIENT_ASSERTION_ALG",
    "CLIENT_SEND_X5C",
    "CLIENT_ASSERTION",
    "CLIENT_CAPABILITIES",
    "HTTP_TIMEOUT_MS",
    "MEMORY_CACHE_SIZE_LIMIT",
    "TOKEN_CACHE_KEY",
    "COOKIE_KEY",
];

/// The error for a certificate setting in a build without the feature `certificate`: the
/// `Error::Configuration` message, naming the settings and the feature (of edge-token, and of
/// the adapter that enables it, e.g. edge-token-cloudflare's `certificate`).
pub const CERTIFICATE_FEATURE_MISSING: &str =
    "CLIENT_CERTIFICATE + CLIENT_PRIVATE_KEY (a certificate credential, also from AZURE_AD) need \
     the `certificate` feature, which this build leaves out: enable it (edge-token-cloudflare: \
     features = [\"certificate\"]) or use CLIENT_SECRET";

/// Reads a required setting.
///
/// # Errors
/// [`Error::Configuration`] "missing setting NAME".
pub fn required(settings: &dyn Settings, name: &str) -> Result<String, Error> {
    optional(settings, name).ok_or_else(|| Error::configuration(format!("missing setting {name}")))
}

/// Reads an optional setting; empty or blank values are `None`.
pub fn optional(settings: &dyn Settings, name: &str) -> Option<String> {
    settings.get(name).filter(|value| !value.trim().is_empty())
}

/// `LOG_LEVEL`: `off`, `error`, `warn` (the default, also for an unknown value), `info` or
/// `debug`: the most detailed `log` records an adapter's logger passes on.
pub fn log_level(settings: &dyn Settings) -> log::LevelFilter {
    match optional(settings, "LOG_LEVEL").as_deref().map(str::trim) {
        Some("off") => log::LevelFilter::Off,
        Some("error") => log::LevelFilter::Error,
        Some("info") => log::LevelFilter::Info,
        Some("debug") => log::LevelFilter::Debug,
        _ => log::LevelFilter::Warn,
    }
}

/// The default `HTTP_TIMEOUT_MS`.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// `HTTP_TIMEOUT_MS`: the time limit of each outgoing request, 100–60000 ms, default
/// [`DEFAULT_HTTP_TIMEOUT`].
///
/// # Errors
/// [`Error::Configuration`] for a value outside the range or not a whole number.
pub fn http_timeout(settings: &dyn Settings) -> Result<Duration, Error> {
    match optional(settings, "HTTP_TIMEOUT_MS") {
        None => Ok(DEFAULT_HTTP_TIMEOUT),
        Some(value) => match value.trim().parse::<u64>() {
            Ok(ms @ 100..=60_000) => Ok(Duration::from_millis(ms)),
            _ => Err(Error::configuration(
                "HTTP_TIMEOUT_MS must be a whole number of milliseconds from 100 to 60000",
            )),
        },
    }
}

/// The accepted `MEMORY_CACHE_SIZE_LIMIT` values, in bytes: 64 KiB to 1 GiB.
pub const MEMORY_CACHE_SIZE_LIMIT_RANGE: core::ops::RangeInclusive<usize> = 65_536..=1_073_741_824;

/// `MEMORY_CACHE_SIZE_LIMIT` (optional): the size limit of the isolate's memory tier of tokens,
/// in bytes, within [`MEMORY_CACHE_SIZE_LIMIT_RANGE`], default
/// [`crate::acquisition::DEFAULT_MEMORY_CACHE_SIZE_LIMIT`] (32 MiB); see
/// [`ConfidentialClient::with_memory_cache_size_limit`] (Microsoft.Identity.Web's in-memory
/// token cache `SizeLimit`).
///
/// # Errors
/// [`Error::Configuration`] for a value outside the range or not a whole number.
pub fn memory_cache_size_limit(settings: &dyn Settings) -> Result<usize, Error> {
    let Some(value) = optional(settings, "MEMORY_CACHE_SIZE_LIMIT") else {
        return Ok(crate::acquisition::DEFAULT_MEMORY_CACHE_SIZE_LIMIT);
    };
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|bytes| MEMORY_CACHE_SIZE_LIMIT_RANGE.contains(bytes))
        .ok_or_else(|| {
            Error::configuration(
                "MEMORY_CACHE_SIZE_LIMIT must be a whole number of bytes from 65536 to 1073741824",
            )
        })
}

/// `AZURE_REGION` (optional): the Azure region whose regional token endpoint (ESTS-R) serves
/// client credentials, checked against the authority (see
/// `crate::protocol::authority::EntraAuthority::regional_token_endpoint`; MSAL's `WithAzureRegion`).
///
/// # Errors
/// [`Error::Configuration`] naming `AZURE_REGION` for a value that is not a region name, or an
/// authority without regional endpoints (B2C, External ID, AD FS, generic OIDC, IP hosts).
pub fn azure_region(
    settings: &dyn Settings,
    authority: &Authority,
) -> Result<Option<Region>, Error> {
    let Some(value) = optional(settings, "AZURE_REGION") else {
        return Ok(None);
    };
    let region = Region::parse("AZURE_REGION", &value)?;
    authority.regional_token_endpoint(&region)?;
    Ok(Some(region))
}

/// The confidential client's identity: authority, client id and credential.
#[derive(Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// `AUTHORITY` (+ `AUTHORITY_KIND`).
    pub authority: Authority,
    /// `CLIENT_ID`.
    pub client_id: String,
    /// The one configured credential.
    pub credential: CredentialConfig,
    /// `CLIENT_CAPABILITIES` (optional; e.g. `cp1` to receive claims challenges): see
    /// `crate::protocol::claims`.
    pub capabilities: Vec<String>,
    /// `AZURE_REGION` (optional, Entra ID): the regional token endpoint for client credentials.
    pub region: Option<Region>,
    /// `TOKEN_CACHE_KEY`, else `COOKIE_KEY` (secret; one or more base64url keys of 32 random
    /// bytes, newest first): seals the token cache entries kept in the shared store
    /// ([`ConfidentialClient::with_token_cache_key`]). `None`: tokens are cached in memory only.
    pub token_cache_key: Option<RootKeys>,
    /// `MEMORY_CACHE_SIZE_LIMIT` (optional): the memory tier's size limit, in bytes
    /// ([`memory_cache_size_limit`]).
    pub memory_cache_size_limit: usize,
}

/// A credential as configured, before an adapter attaches its signer backend to a certificate.
#[derive(Debug)]
#[non_exhaustive]
pub enum CredentialConfig {
    /// `CLIENT_SECRET` (+ `CLIENT_AUTH_METHOD`).
    Secret {
        /// The secret.
        secret: ClientSecret,
        /// Where it is sent.
        method: SecretMethod,
    },
    /// `CLIENT_CERTIFICATE` + `CLIENT_PRIVATE_KEY` (+ `CLIENT_ASSERTION_ALG`, `CLIENT_SEND_X5C`).
    /// Feature `certificate`.
    #[cfg(feature = "certificate")]
    Certificate {
        /// The chain with its leaf's key, loaded once and checked to belong together.
        certificate: ClientCertificate,
        /// The assertion's algorithm.
        algorithm: JwsAlgorithm,
        /// Whether to send `x5c`.
        send_x5c: bool,
    },
    /// `CLIENT_ASSERTION`.
    Assertion(ClientAssertion),
}

impl ClientConfig {
    /// The [`ConfidentialClient`] this configuration describes; `signer` is the adapter's
    /// signer backend for a certificate's key (see [`CredentialConfig::into_credential`]).
    /// With a [`ClientConfig::token_cache_key`] the client's shared store tier is on; without
    /// one it is off and a warning is logged (once per client built).
    ///
    /// # Errors
    /// As [`CredentialConfig::into_credential`] and [`ConfidentialClient::new`].
    pub async fn into_client<F, Fut>(self, signer: F) -> Result<ConfidentialClient, Error>
    where
        F: FnOnce(PrivateKey, JwsAlgorithm) -> Fut,
        Fut: Future<Output = Result<Box<dyn JwsSigner>, Error>>,
    {
        let credential = self.credential.into_credential(signer).await?;
        let mut client = ConfidentialClient::new(self.authority, self.client_id, credential)?
            .with_capabilities(self.capabilities)
            .with_memory_cache_size_limit(self.memory_cache_size_limit);
        match &self.token_cache_key {
            Some(keys) => client = client.with_token_cache_key(keys),
            // Built once per isolate or instance: logged once there.
            None => log::warn!(
                "no TOKEN_CACHE_KEY or COOKIE_KEY: tokens are cached in memory only, never in \
                 the shared store"
            ),
        }
        match self.region {
            Some(region) => client.with_region(region),
            None => Ok(client),
        }
    }

    /// Reads and validates the client settings.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the first missing, malformed or contradictory setting:
    /// no credential or more than one, a certificate without its key (or the reverse), a key
    /// that is not the certificate's, an unknown `AUTHORITY_KIND` / `CLIENT_AUTH_METHOD` /
    /// `CLIENT_ASSERTION_ALG`, `CLIENT_ASSERTION_ALG=PS256` with an AD FS authority, a
    /// non-boolean `CLIENT_SEND_X5C`, a certificate without the feature `certificate`
    /// ([`CERTIFICATE_FEATURE_MISSING`]), a `MEMORY_CACHE_SIZE_LIMIT` out of range, a `TOKEN_CACHE_KEY` (or, without it, a `COOKIE_KEY`)
    /// that is not base64url of 32 bytes.
    pub fn from_settings(settings: &dyn Settings) -> Result<Self, Error> {
        let kind = optional(settings, "AUTHORITY_KIND")
            .map(|value| AuthorityKind::parse("AUTHORITY_KIND", &value))
            .transpose()?;
        let authority = Authority::parse(&required(settings, "AUTHORITY")?, kind)?;
        let client_id = required(settings, "CLIENT_ID")?.trim().to_string();
        let credential = CredentialConfig::from_settings(settings, &authority)?;
        let capabilities = optional(settings, "CLIENT_CAPABILITIES")
            .map(|setting| parse_capabilities(&setting))
            .unwrap_or_default();
        let region = azure_region(settings, &authority)?;
        let token_cache_key = ["TOKEN_CACHE_KEY", "COOKIE_KEY"]
            .into_iter()
            .find_map(|name| optional(settings, name).map(|value| (name, value)))
            .map(|(name, value)| RootKeys::parse(name, &value))
            .transpose()?;
        Ok(Self {
            authority,
            client_id,
            credential,
            capabilities,
            region,
            token_cache_key,
            memory_cache_size_limit: memory_cache_size_limit(settings)?,
        })
    }
}

impl CredentialConfig {
    /// The client credential for this configuration. A certificate's key goes to `signer`,
    /// the adapter's backend (WebCrypto import, pure-Rust signer); do this once per isolate.
    /// Without the feature `certificate`, `signer` is never called.
    ///
    /// # Errors
    /// Whatever `signer` returns ([`Error::Signing`] when the backend refuses the key);
    /// [`Error::Configuration`] when the key is not the certificate's.
    pub async fn into_credential<F, Fut>(self, signer: F) -> Result<ClientCredential, Error>
    where
        F: FnOnce(PrivateKey, JwsAlgorithm) -> Fut,
        Fut: Future<Output = Result<Box<dyn JwsSigner>, Error>>,
    {
        #[cfg(not(feature = "certificate"))]
        let _ = signer; // no certificate, no key to sign with
        Ok(match self {
            Self::Secret { secret, method } => ClientCredential::Secret { secret, method },
            Self::Assertion(assertion) => {
                ClientCredential::Assertion(AssertionSource::Fixed(assertion))
            }
            #[cfg(feature = "certificate")]
            Self::Certificate {
                certificate,
                algorithm,
                send_x5c,
            } => {
                let signer = signer(certificate.key().clone(), algorithm).await?;
                ClientCredential::Certificate(CertificateCredential::new(
                    certificate,
                    signer,
                    send_x5c,
                ))
            }
        })
    }

    fn from_settings(settings: &dyn Settings, authority: &Authority) -> Result<Self, Error> {
        let secret = optional(settings, "CLIENT_SECRET");
        #[cfg(feature = "certificate")]
        let loaded = settings.client_certificate();
        #[cfg(not(feature = "certificate"))]
        let loaded: Option<core::convert::Infallible> = None;
        let certificate = optional(settings, "CLIENT_CERTIFICATE");
        let key = optional(settings, "CLIENT_PRIVATE_KEY");
        let assertion = optional(settings, "CLIENT_ASSERTION");
        let configured = [
            secret.is_some(),
            loaded.is_some(),
            certificate.is_some() || key.is_some(),
            assertion.is_some(),
        ];
        if configured.iter().filter(|set| **set).count() != 1 {
            return Err(Error::configuration(
                "set exactly one credential: CLIENT_SECRET, or CLIENT_CERTIFICATE + CLIENT_PRIVATE_KEY, or CLIENT_ASSERTION",
            ));
        }
        if let Some(secret) = secret {
            let method = match optional(settings, "CLIENT_AUTH_METHOD") {
                Some(value) => SecretMethod::parse("CLIENT_AUTH_METHOD", &value)?,
                None => SecretMethod::default(),
            };
            return Ok(Self::Secret {
                secret: ClientSecret::new(secret),
                method,
            });
        }
        if let Some(assertion) = assertion {
            return Ok(Self::Assertion(ClientAssertion::new(assertion.trim())));
        }
        Self::certificate_from_settings(settings, authority, loaded, certificate, key)
    }

    #[cfg(not(feature = "certificate"))]
    fn certificate_from_settings(
        _: &dyn Settings,
        _: &Authority,
        _: Option<core::convert::Infallible>,
        _: Option<String>,
        _: Option<String>,
    ) -> Result<Self, Error> {
        Err(Error::configuration(CERTIFICATE_FEATURE_MISSING))
    }

    /// The certificate credential: `loaded` (from [`Settings::client_certificate`]), else the
    /// PEM settings `certificate` and `key`.
    #[cfg(feature = "certificate")]
    fn certificate_from_settings(
        settings: &dyn Settings,
        authority: &Authority,
        loaded: Option<ClientCertificate>,
        certificate: Option<String>,
        key: Option<String>,
    ) -> Result<Self, Error> {
        let certificate = match loaded {
            Some(loaded) => loaded,
            None => {
                let certificate = certificate.ok_or_else(|| {
                    Error::configuration(
                        "missing setting CLIENT_CERTIFICATE (CLIENT_PRIVATE_KEY is set)",
                    )
                })?;
                let key = key.ok_or_else(|| {
                    Error::configuration(
                        "missing setting CLIENT_PRIVATE_KEY (CLIENT_CERTIFICATE is set)",
                    )
                })?;
                ClientCertificate::from_pem(&certificate, &key)?
            }
        };
        // AD FS takes only RS256 assertions with an `x5t` (SHA-1) thumbprint (MSAL.NET
        // `AuthorityInfo.IsSha2CredentialSupported`): RS256 is its default and PS256 an error.
        let rs256_only = authority.requires_rs256_assertion();
        let algorithm = match optional(settings, "CLIENT_ASSERTION_ALG") {
            Some(value) => JwsAlgorithm::parse("CLIENT_ASSERTION_ALG", &value)?,
            None if rs256_only => JwsAlgorithm::Rs256,
            None => JwsAlgorithm::Ps256,
        };
        if rs256_only && algorithm != JwsAlgorithm::Rs256 {
            return Err(Error::configuration(
                "CLIENT_ASSERTION_ALG must be RS256 with an AD FS authority (AD FS accepts no PS256 / x5t#S256 client assertion)",
            ));
        }
        let send_x5c = match optional(settings, "CLIENT_SEND_X5C").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                return Err(Error::configuration(
                    "CLIENT_SEND_X5C must be true or false",
                ))
            }
        };
        Ok(Self::Certificate {
            certificate,
            algorithm,
            send_x5c,
        })
    }
}

pub(crate) mod azure_ad;
pub use azure_ad::{AzureAdSettings, AZURE_AD_FEATURE_MISSING};

#[cfg(test)]
mod tests;
