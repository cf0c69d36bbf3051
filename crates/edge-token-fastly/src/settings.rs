//! Settings from a Fastly Config Store, secrets from a Fastly Secret Store.

use alloc::string::String;

use fastly::{ConfigStore, SecretStore};

use edge_token::config::Settings;

/// The Config Store the reference app reads its settings from.
pub const CONFIG_STORE: &str = "edge_token_config";

/// The Secret Store the reference app reads its secrets from.
pub const SECRET_STORE: &str = "edge_token_secrets";

/// Settings that hold secrets. They are read from the Secret Store only, never from the
/// Config Store, so a secret cannot end up in plain configuration by mistake.
pub const SECRET_SETTINGS: &[&str] = &[
    // Microsoft.Identity.Web's `AzureAd` section may hold a client secret or a PFX.
    "AZURE_AD",
    "CLIENT_SECRET",
    "CLIENT_PRIVATE_KEY",
    "CLIENT_ASSERTION",
    "COOKIE_KEY",
    "TOKEN_CACHE_KEY",
];

/// [`Settings`] over a Config Store (plain settings) and a Secret Store (the
/// [`SECRET_SETTINGS`]). A store that is missing, a lookup that fails and a secret that is not
/// UTF-8 all read as an unset setting, so the core's configuration error names the setting.
pub struct StoreSettings {
    config: Option<ConfigStore>,
    secrets: Option<SecretStore>,
}

impl StoreSettings {
    /// Opens the Config Store `config_store` and the Secret Store `secret_store` linked to the
    /// service (e.g. [`CONFIG_STORE`], [`SECRET_STORE`]); either may be absent.
    pub fn open(config_store: &str, secret_store: &str) -> Self {
        Self {
            config: ConfigStore::try_open(config_store).ok(),
            secrets: SecretStore::open(secret_store).ok(),
        }
    }
}

impl Settings for StoreSettings {
    fn get(&self, name: &str) -> Option<String> {
        if SECRET_SETTINGS.contains(&name) {
            let secret = self.secrets.as_ref()?.try_get(name).ok()??;
            let plaintext = secret.try_plaintext().ok()?;
            String::from_utf8(plaintext.to_vec()).ok()
        } else {
            self.config.as_ref()?.try_get(name).ok()?
        }
    }
}
